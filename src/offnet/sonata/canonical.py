"""Canonical JSON of Sonata documents and its keccak-256: the one hash every part of offnet uses.

Canonical form: keys sorted, no insignificant whitespace, UTF-8 (non-ASCII kept as is), NaN and
infinities refused. Numbers are written as Python's json writes them, so two carriers hashing the
same parsed document always agree.
"""

from __future__ import annotations

import json
from typing import Any

# safe-pysha3's C keccak, imported directly: its `sha3` wrapper also loads OpenSSL through hashlib,
# a few milliseconds that `offnet sonata validate` does not need.
from _pysha3 import keccak_256


def canonical_json(document: Any) -> bytes:
    """The canonical UTF-8 bytes of a JSON-compatible document (pydantic models are dumped by alias)."""
    if hasattr(document, "model_dump"):
        document = document.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def document_hash(document: Any) -> bytes:
    """keccak-256 of the canonical JSON of `document` (32 bytes)."""
    return keccak_256(canonical_json(document)).digest()
