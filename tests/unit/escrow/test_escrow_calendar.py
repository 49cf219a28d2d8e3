"""One billing-period definition on both sides: the contract's calendar (BillingCalendar, days-from-civil)
and offnet.market.periods (Python's own calendar) agree on every date tried: month ends, leap years,
century years, the first second and the last second of a month."""

import random
from datetime import UTC, datetime

from offnet.market import periods
from offnet.testing.world import MONTHLY


def _dates() -> list[int]:
    edges = []
    for year in (2024, 2025, 2028, 2030, 2032, 2038, 2099, 2100, 2104):
        for month in range(1, 13):
            first = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
            edges += [first, first - 1, first + 1, first + 86_399, first + 28 * 86_400 - 1]
    rng = random.Random(20261125)
    spread = [rng.randrange(1_700_000_000, 4_200_000_000) for _ in range(300)]
    return edges + spread


def test_calendar__contract_bounds_and_charges_equal_the_python_mirror(escrow):
    fn = escrow.escrow.fn
    mismatches = []
    for delivered_at in _dates():
        for period in (1, 2, 12, 37):
            expected = periods.period_bounds(delivered_at, period)
            got = tuple(fn.periodBounds(delivered_at, period).call())
            if got != expected:
                mismatches.append(("bounds", delivered_at, period, got, expected))
        for period in (1, 2):
            expected = periods.period_charge(MONTHLY, delivered_at, period)
            got = fn.periodCharge(MONTHLY, delivered_at, period).call()
            if got != expected:
                mismatches.append(("charge", delivered_at, period, got, expected))
    assert not mismatches, mismatches[:5]


def test_calendar__february_of_a_leap_year__has_29_days():
    jan = int(datetime(2028, 1, 15, tzinfo=UTC).timestamp())
    start, end = periods.period_bounds(jan, 2)
    assert (end - start) // 86_400 == 29
    assert periods.period_month(jan, 2) == "2028-02"


def test_calendar__delivered_on_the_first_second_of_a_month__period_1_is_that_whole_month():
    first = int(datetime(2030, 4, 1, tzinfo=UTC).timestamp())
    assert periods.period_bounds(first, 1) == (first, int(datetime(2030, 5, 1, tzinfo=UTC).timestamp()))
    assert periods.period_charge(MONTHLY, first, 1) == MONTHLY
    assert periods.period_month(first, 1) == "2030-04"


def test_calendar__delivered_on_the_last_second__period_1_costs_almost_nothing():
    last = int(datetime(2030, 5, 1, tzinfo=UTC).timestamp()) - 1
    assert periods.period_charge(MONTHLY, last, 1) == MONTHLY * 1 // (30 * 86_400)
    assert periods.period_month(last, 2) == "2030-05"
