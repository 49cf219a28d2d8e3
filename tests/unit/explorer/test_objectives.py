"""check_objectives judges a month as ReputationMath.meetsObjectives does on chain."""

from __future__ import annotations

from offnet.market.types import CreditSchedule, PeriodMetrics, check_objectives

SCHEDULE = CreditSchedule(100, 2000, 999_500, 1000, 100_000, 500, 10, 500, 14_400, 500, 3000)


def verdicts(metrics: PeriodMetrics, schedule: CreditSchedule = SCHEDULE) -> dict[str, bool | None]:
    return {c.name: c.met for c in check_objectives(metrics, schedule)}


def test_objectives__at_the_objective_is_met_on_each_side():
    exactly = PeriodMetrics(999_500, 100_000, 10, 14_400, 3)
    assert set(verdicts(exactly).values()) == {True}


def test_objectives__availability_below_and_the_others_above_are_missed():
    assert verdicts(PeriodMetrics(999_499, 100_001, 11, 14_401, 0)) == {
        "availability": False,
        "frame delay": False,
        "frame loss": False,
        "time to restore": False,
    }


def test_objectives__a_zero_objective_is_not_measured():
    free = CreditSchedule.none()
    assert set(verdicts(PeriodMetrics(0, 10**9, 10**6, 10**9, 9), free).values()) == {None}
