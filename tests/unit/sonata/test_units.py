"""Unit conversions: Sonata values in on-chain units, exactly or refused; UTC calendar months."""

from __future__ import annotations

from typing import Any

import pytest

from offnet.sonata.models import Money
from offnet.sonata.units import (
    duration_to_microseconds,
    interval_to_seconds,
    money_to_units,
    month_bounds,
    month_end,
    month_of,
    percent_to_ppm,
    rfc3339_to_unix,
)


@pytest.mark.parametrize(
    ("percent", "ppm"),
    [
        (99.95, 999_500),
        (0.001, 10),
        (100, 1_000_000),
        (0, 0),
        ("99.999", 999_990),
        (0.00004, 0),
        (0.00005, 0),
        (0.00015, 2),
    ],
)
def test_percent_to_ppm(percent: Any, ppm: int) -> None:
    assert percent_to_ppm(percent) == ppm


@pytest.mark.parametrize("percent", [-0.1, 100.01, float("nan")])
def test_percent_to_ppm__out_of_range__raises(percent: float) -> None:
    with pytest.raises(ValueError, match="percentage must be within 0-100"):
        percent_to_ppm(percent)


@pytest.mark.parametrize(
    ("value", "units", "microseconds"),
    [
        (100, "MS", 100_000),
        (250, "US", 250),
        (1500, "NS", 2),
        (2, "SEC", 2_000_000),
        (1, "DAY", 86_400_000_000),
    ],
)
def test_duration_to_microseconds(value: int, units: str, microseconds: int) -> None:
    assert duration_to_microseconds({"timeDurationValue": value, "timeDurationUnits": units}) == microseconds


def test_duration_to_microseconds__months_have_no_fixed_length() -> None:
    with pytest.raises(ValueError, match="a duration in MONTH has no fixed length"):
        duration_to_microseconds({"timeDurationValue": 1, "timeDurationUnits": "MONTH"})


def test_interval_to_seconds__business_units__raise() -> None:
    assert interval_to_seconds({"amount": 3, "units": "calendarHours"}) == 10_800
    with pytest.raises(ValueError, match="an interval in businessDays has no fixed length"):
        interval_to_seconds({"amount": 3, "units": "businessDays"})


@pytest.mark.parametrize(
    ("text", "unix"),
    [
        ("2026-01-01T00:00:00Z", 1_767_225_600),
        ("2026-01-01T01:00:00+01:00", 1_767_225_600),
        ("2026-01-01T00:00:00.999Z", 1_767_225_600),
        ("1969-12-31T23:59:59.5Z", -1),
    ],
)
def test_rfc3339_to_unix(text: str, unix: int) -> None:
    assert rfc3339_to_unix(text) == unix


@pytest.mark.parametrize("text", ["2026-01-01", "2026-01-01T00:00:00", "1767225600", "01/01/2026 00:00Z"])
def test_rfc3339_to_unix__not_rfc3339__raises(text: str) -> None:
    with pytest.raises(ValueError, match="expected an RFC 3339 date-time"):
        rfc3339_to_unix(text)


def test_money_to_units__refuses_amounts_finer_than_the_token() -> None:
    assert money_to_units(Money(unit="EUR", value=412.5), 6) == 412_500_000
    assert money_to_units(Money(unit="EUR", value=900), 2) == 90_000
    with pytest.raises(ValueError, match=r"412\.125 EUR is finer than 10\^-2"):
        money_to_units(Money(unit="EUR", value=412.125), 2)


def test_months__bounds_end_and_offsets_follow_the_utc_calendar() -> None:
    start, end = month_bounds("2026-12")
    assert (start.isoformat(), end.isoformat()) == ("2026-12-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00")
    assert month_end("2026-02") == rfc3339_to_unix("2026-03-01T00:00:00Z")
    assert month_of(rfc3339_to_unix("2026-01-31T23:59:59Z"), 1) == "2026-02"
    assert month_of(rfc3339_to_unix("2026-11-15T00:00:00Z"), 2) == "2027-01"
    with pytest.raises(ValueError, match="period must be YYYY-MM"):
        month_bounds("2026-13")
