"""Sonata values in the units offnet stores on chain, and the UTC calendar months carriers bill.

Percentages become parts per million, durations microseconds or seconds, RFC 3339 date-times unix
seconds, money the settlement token's smallest unit. Every conversion is exact or refuses.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

from offnet.sonata.rules import check_rfc3339

PPM_PER_PERCENT = 10_000

F = TypeVar("F", int, Decimal)


_MICROSECONDS = {
    "NS": Decimal("0.001"),
    "US": Decimal(1),
    "MS": Decimal(1_000),
    "SEC": Decimal(1_000_000),
    "MIN": Decimal(60_000_000),
    "HOUR": Decimal(3_600_000_000),
    "DAY": Decimal(86_400_000_000),
    "WEEK": Decimal(604_800_000_000),
}
_VARIABLE_LENGTH = ("MONTH", "YEAR")

_SECONDS = {"calendarMinutes": 60, "calendarHours": 3_600, "calendarDays": 86_400}
_BUSINESS = ("businessDays", "businessHours", "businessMinutes", "calendarMonths")


def format_rfc3339(value: datetime) -> str:
    """The shortest faithful RFC 3339 text: no fraction, milliseconds or microseconds; "Z" for UTC."""
    # Real payloads use these forms, so a parsed document dumps back to the same text and hash.
    text = value.isoformat(
        timespec="seconds"
        if value.microsecond == 0
        else "milliseconds"
        if value.microsecond % 1000 == 0
        else "microseconds"
    )
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def rfc3339_to_unix(value: datetime | str) -> int:
    """An RFC 3339 date-time as unix seconds (fractions truncated toward the past)."""
    if isinstance(value, str):
        check_rfc3339(value)
        value = datetime.fromisoformat(value.replace("z", "Z"))
    if value.tzinfo is None:
        raise ValueError(f"date-time {value.isoformat()} has no UTC offset")
    return math.floor(value.timestamp())


def percent_to_ppm(percent: int | float | str | Decimal) -> int:
    """A percentage (0-100) in parts per million, rounded half-even: 99.95 -> 999500, 0.001 -> 10."""
    value = Decimal(str(percent))
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise ValueError(f"percentage must be within 0-100, got {percent!r}")
    return int((value * PPM_PER_PERCENT).to_integral_value(rounding=ROUND_HALF_EVEN))


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def duration_to_microseconds(duration: Any) -> int:
    """A Carrier Ethernet TimeDuration ``{timeDurationValue, timeDurationUnits}`` in microseconds.

    Months and years have no fixed length and are refused.
    """
    amount, factor = _amount_and_factor(
        duration,
        ("timeDurationValue", "timeDurationUnits"),
        _MICROSECONDS,
        _VARIABLE_LENGTH,
        "a duration in {units} has no fixed length in microseconds",
        "unknown timeDurationUnits {units!r}",
    )
    return int((amount * factor).to_integral_value(rounding=ROUND_HALF_EVEN))


def interval_to_seconds(duration: Any) -> int:
    """A Sonata Duration ``{amount, units}`` in calendar minutes, hours or days, as seconds.

    Business units need the seller's calendar and months vary in length: both are refused.
    """
    amount, seconds = _amount_and_factor(
        duration,
        ("amount", "units"),
        _SECONDS,
        _BUSINESS,
        "an interval in {units} has no fixed length; use calendarMinutes, calendarHours or calendarDays",
        "unknown interval units {units!r}",
    )
    return amount * seconds


def _amount_and_factor(
    duration: Any,
    keys: tuple[str, str],
    factors: dict[str, F],
    unfixed: tuple[str, ...],
    unfixed_error: str,
    unknown_error: str,
) -> tuple[int, F]:
    """The duration's whole, non-negative amount and the factor of its units in ``factors``; units
    in ``unfixed`` (no fixed length) and unknown units are refused with their error text."""
    amount_key, units_key = keys
    amount, units = _field(duration, amount_key), str(_field(duration, units_key))
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"{amount_key} must be an integer >= 0, got {amount!r}")
    factor = factors.get(units)
    if factor is None:
        raise ValueError((unfixed_error if units in unfixed else unknown_error).format(units=units))
    return amount, factor


def money_to_units(money: Any, decimals: int) -> int:
    """A Money ``{unit, value}`` in the settlement token's smallest unit; refuses sub-unit remainders."""
    value = _field(money, "value")
    scaled = Decimal(str(value)) * (Decimal(10) ** decimals)
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"{value} {_field(money, 'unit')} is finer than 10^-{decimals}")
    return int(scaled)


# --- UTC calendar months (carriers bill calendar months) ------------------------------------------


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of calendar month ``YYYY-MM`` in UTC."""
    try:
        start = datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise ValueError(f"period must be YYYY-MM, got {period!r}") from None
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start, end


def month_of(timestamp: int, offset: int = 0) -> str:
    """The calendar month ``offset`` months after the month of unix time ``timestamp``, as YYYY-MM."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    index = moment.year * 12 + moment.month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_end(period: str) -> int:
    """The unix time at which calendar month ``YYYY-MM`` ends."""
    return int(month_bounds(period)[1].timestamp())
