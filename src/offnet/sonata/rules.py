"""The JSON-level rules the Sonata models apply before pydantic's own checks: no explicit nulls,
JSON numbers, RFC 3339 date-times, unique array items, and the one tolerated ``l2cp_P`` shape.

They live apart from the models, with no pydantic import, because two judges run them: the models
(``offnet.sonata.models``) and the pre-check that lets ``offnet sonata validate`` answer without
building the models (``offnet.sonata.precheck``). Each raises ValueError to refuse a value.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def not_null(value: Any) -> Any:
    """The schemas type every property without "nullable": an explicit null is invalid, while an
    absent property is fine. (Unknown properties may be anything.)"""
    if value is None:
        raise ValueError("must not be null (leave the property out instead)")
    return value


def check_number(value: Any) -> Any:
    """A JSON number: an int or a finite float, never a bool or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a JSON number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return value


def check_rfc3339(value: Any) -> Any:
    """``value`` if it is a datetime or an RFC 3339 date-time text with an offset, else ValueError."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not RFC3339.match(value):
        raise ValueError(
            f"expected an RFC 3339 date-time with a UTC offset (e.g. 2026-01-31T12:00:00Z), got {value!r}"
        )
    return value


def parse_rfc3339(value: Any) -> Any:
    """An RFC 3339 date-time text with its offset, a leap second read as :59 (Python's datetime
    has none)."""
    check_rfc3339(value)
    if isinstance(value, str) and value[17:19] == "60":
        value = value[:17] + "59" + value[19:]
    return value


def unique(items: Any) -> Any:
    """The schemas' ``uniqueItems``, judged on the items as they came (JSON)."""
    if isinstance(items, list):
        seen: set[str] = set()
        for item in items:
            to_json = getattr(item, "to_json", None)  # a model given in place of its JSON
            key = json.dumps(to_json() if callable(to_json) else item, sort_keys=True, default=str)
            if key in seen:
                raise ValueError("array items must be unique")
            seen.add(key)
    return items


def one_as_list(value: Any) -> Any:
    """A tolerated departure of MEF's own Access E-Line use cases: ``l2cp_P`` as one object."""
    return [value] if isinstance(value, dict) else value
