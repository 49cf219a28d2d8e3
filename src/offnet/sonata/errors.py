"""MEF error bodies: what a Sonata endpoint answers when it refuses a request.

Every body is a MEF ``Error``: a ``code`` from the status's code list, a ``reason`` of at most 255
characters, the whole ``message``; a 422 is an array of ``Error422`` entries, each naming the
property at fault with a JSON pointer. The reference seller and the oracle listener both answer
through these functions, and the Sonata client reads them back with ``read_errors``.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import ValidationError
from starlette.responses import JSONResponse

from offnet.exceptions import SonataRefusal
from offnet.sonata.models.common import Error422Code

REASON_MAX = 255
MEDIA_TYPE = "application/json;charset=utf-8"

# The codes MEF allows for each status (Error400Code, Error401Code, ..., Error422Code).
CODES: dict[int, frozenset[str]] = {
    400: frozenset({"missingQueryParameter", "missingQueryValue", "invalidQuery", "invalidBody"}),
    401: frozenset({"missingCredentials", "invalidCredentials"}),
    403: frozenset({"accessDenied", "forbiddenRequester", "tooManyUsers"}),
    404: frozenset({"notFound"}),
    408: frozenset({"timeOut"}),
    409: frozenset({"conflict"}),
    422: frozenset(get_args(Error422Code)),
    500: frozenset({"internalError"}),
    501: frozenset({"notImplemented"}),
}


def refusal_body(refusal: SonataRefusal) -> dict[str, Any] | list[dict[str, Any]]:
    """The MEF body of a refusal: an Error object, or the array of Error422 for a 422."""
    if refusal.status != 422:
        return error_body(refusal.status, refusal.code, refusal.message)
    entries = []
    for code, pointer, reason in refusal.issues:
        entry = error_body(422, code, reason)
        if pointer:
            entry["propertyPath"] = pointer
        entries.append(entry)
    return entries


def refusal_response(refusal: SonataRefusal, headers: dict[str, str] | None = None) -> JSONResponse:
    """The HTTP answer to a refused request (``WWW-Authenticate`` is added to a 401)."""
    if refusal.status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="sonata"', **(headers or {})}
    return JSONResponse(
        refusal_body(refusal), status_code=refusal.status, headers=headers, media_type=MEDIA_TYPE
    )


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """A MEF ``Error`` body; ValueError if ``code`` is not one MEF allows for ``status``."""
    allowed = CODES.get(status)
    if allowed is not None and code not in allowed:
        raise ValueError(f"{code!r} is not a MEF error code for HTTP {status}; allowed: {sorted(allowed)}")
    return {"code": code, "reason": _reason(message), "message": message}


def issues_from(exc: ValidationError, *, root: str = "") -> tuple[tuple[str, str, str], ...]:
    """The 422 issues of a pydantic failure: ``missingProperty``, ``invalidFormat`` for dates, else
    ``invalidValue``, each with the JSON pointer of the property."""
    result = []
    for error in exc.errors(include_url=False):
        pointer = root + "".join("/" + _escape_pointer(str(part)) for part in error["loc"])
        message = error["msg"].replace("\n", " ")
        if error["type"] == "missing":
            code, message = "missingProperty", "required property missing"
        elif "RFC 3339" in message or error["type"].startswith(("datetime", "timezone")):
            code = "invalidFormat"
        else:
            code = "invalidValue"
        where = pointer or "/"
        result.append((code, where, f"{where}: {message}"))
    return tuple(result)


def read_errors(body: Any, *, with_code: bool = True) -> list[str]:
    """The reasons of a MEF error body as one line each (a 422 array gives one per issue)."""
    entries = body if isinstance(body, list) else [body]
    lines = []
    for entry in entries:
        if not isinstance(entry, dict):
            lines.append(str(entry))
            continue
        text = str(entry.get("message") or entry.get("reason") or entry.get("detail") or "")
        code = entry.get("code")
        path = entry.get("propertyPath")
        if path and path not in text:
            text = f"{path}: {text}"
        lines.append(f"{code}: {text}" if code and with_code else text)
    return lines


def _reason(message: str) -> str:
    line = " ".join(message.split())
    return line if len(line) <= REASON_MAX else line[: REASON_MAX - 3] + "..."


def _escape_pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")
