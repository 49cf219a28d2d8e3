"""Billing periods: the one Python mirror of contracts/libraries/BillingCalendar.sol.

Carriers bill calendar months (UTC). Period 1 of an order runs from its delivery (the completion date
the escrow recorded) to the end of that calendar month and costs the monthly charge pro rata, by the
seconds of that month (rounded down); period k > 1 is the (k - 1)-th whole calendar month after the
delivery's month. A period's money moves once it is over; the seller may claim it unreported
REPORT_GRACE after the later of its end and the order's `claims_from` (IOrderEscrow).

This module computes with Python's own calendar (datetime), not the contract's day arithmetic, so the
test that compares both over many dates checks two independent implementations.
"""

from __future__ import annotations

from datetime import UTC, datetime


def month_start(timestamp: int, months_ahead: int = 0) -> int:
    """Unix time of 00:00 UTC on the 1st of the month `months_ahead` months after the month of `timestamp`."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    index = moment.year * 12 + moment.month - 1 + months_ahead
    return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp())


def period_bounds(delivered_at: int, period: int) -> tuple[int, int]:
    """(start, end) of billing period `period` (from 1) of an order delivered at `delivered_at`."""
    if period < 1:
        raise ValueError(f"billing periods count from 1, got {period}")
    start = delivered_at if period == 1 else month_start(delivered_at, period - 1)
    return start, month_start(delivered_at, period)


def period_charge(monthly_charge: int, delivered_at: int, period: int) -> int:
    """What period `period` costs before credits: the monthly charge, pro rata for the first month."""
    if period != 1:
        return monthly_charge
    begins, ends = month_start(delivered_at), month_start(delivered_at, 1)
    return monthly_charge * (ends - delivered_at) // (ends - begins)


def period_month(delivered_at: int, period: int) -> str:
    """The calendar month (YYYY-MM) period `period` lies in: what the performance data is kept by."""
    moment = datetime.fromtimestamp(period_bounds(delivered_at, period)[1] - 1, UTC)
    return f"{moment.year:04d}-{moment.month:02d}"
