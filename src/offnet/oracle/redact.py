"""Secrets never leave the oracle: not in /healthz, not in a log line, not in a stored error.

Error texts from HTTP and RPC libraries quote the URL they called, and an RPC URL often carries an API
key (in its path, its query or its user info). `redact` keeps the scheme and host of every URL and
drops the rest, masks bearer tokens, and replaces every secret value the oracle registered (its
peers' tokens, client secrets). `RedactingFilter` applies it to every log record.
"""

from __future__ import annotations

import logging
import re

_URL = re.compile(r"\b([a-z][a-z0-9+.-]*://)(?:[^/\s@]*@)?([^/\s?#'\"]+)[^\s'\"]*", re.IGNORECASE)
_BEARER = re.compile(r"(bearer\s+)[^\s'\",]+", re.IGNORECASE)
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Mask `value` wherever it would appear (values shorter than 6 characters are refused at start-up)."""
    if value:
        _secrets.add(value)


def redact(text: str) -> str:
    """`text` without URL paths, queries or user info, bearer tokens, or registered secrets."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URL.sub(
        lambda m: f"{m.group(1)}{m.group(2)}/…" if m.group(0) != m.group(1) + m.group(2) else m.group(0), text
    )
    return _BEARER.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with `redact` (arguments are merged first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True
