"""The credit math: the contract's credits equal the schedule's written rules, for any schedule and measurements."""

from dataclasses import fields

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offnet.chain.tx import call
from offnet.market.types import CreditSchedule, PeriodMetrics

BPS = 10_000


# The rules as the credit schedule states them (the reference the contract is held to).
def _capped(bps: int, cap: int) -> int:
    return min(bps, BPS if cap == 0 or cap > BPS else cap)


def late_delivery_credit_bps(credits: CreditSchedule, committed: int, completed: int) -> int:
    if completed <= committed:
        return 0
    return _capped(
        (completed - committed) // 86_400 * credits.late_delivery_bps_per_day, credits.late_delivery_cap_bps
    )


def period_credit_bps(c: CreditSchedule, m: PeriodMetrics) -> int:
    missed = (
        (
            c.availability_objective_ppm,
            m.availability_ppm < c.availability_objective_ppm,
            c.availability_credit_bps,
        ),
        (c.frame_delay_objective_us, m.frame_delay_us > c.frame_delay_objective_us, c.frame_delay_credit_bps),
        (c.frame_loss_objective_ppm, m.frame_loss_ppm > c.frame_loss_objective_ppm, c.frame_loss_credit_bps),
        (
            c.time_to_restore_objective_sec,
            m.time_to_restore_sec > c.time_to_restore_objective_sec,
            c.time_to_restore_credit_bps,
        ),
    )
    return _capped(
        sum(bps for objective, miss, bps in missed if objective and miss), c.monthly_credit_cap_bps
    )


SMALL = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _uint(bits: int) -> st.SearchStrategy[int]:
    # Mostly small values (near realistic objectives), sometimes anything the type holds.
    return st.one_of(st.integers(0, 20_000), st.integers(0, 2**bits - 1))


def _struct(cls: type) -> st.SearchStrategy:
    return st.builds(cls, *(_uint(int(f.metadata["abi"][4:])) for f in fields(cls)))


@SMALL
@given(credits=_struct(CreditSchedule), metrics=_struct(PeriodMetrics))
def test_period_credit__contract_follows_the_schedule_rules(escrow, credits, metrics):
    terms = escrow.terms(credits=credits)
    on_chain = call(escrow.escrow.fn.periodCreditBps(terms.to_tuple(), metrics.to_tuple()))
    assert on_chain == period_credit_bps(credits, metrics)
    assert on_chain <= 10_000


@SMALL
@given(
    credits=_struct(CreditSchedule), committed=st.integers(0, 2**40 - 1), completed=st.integers(0, 2**40 - 1)
)
def test_late_delivery_credit__contract_follows_the_schedule_rules(escrow, credits, committed, completed):
    terms = escrow.terms(credits=credits)
    on_chain = call(escrow.escrow.fn.lateDeliveryCreditBps(terms.to_tuple(), committed, completed))
    # Lateness counts from the earlier of the reported committed date and the signed installation interval.
    signed = terms.awarded_at + terms.install_days * 86_400
    assert on_chain == late_delivery_credit_bps(credits, min(committed, signed), completed)
    assert on_chain <= 10_000


def test_period_credit__each_missed_objective_adds_its_rate_up_to_the_cap(escrow, credits):
    terms = escrow.terms(credits=credits).to_tuple()

    def on_chain(metrics: PeriodMetrics) -> int:
        return call(escrow.escrow.fn.periodCreditBps(terms, metrics.to_tuple()))

    assert on_chain(PeriodMetrics(999_999, 1, 0, 1, 0)) == 0
    assert on_chain(PeriodMetrics(999_000, 1, 0, 1, 1)) == 1_000
    assert on_chain(PeriodMetrics(999_000, 50_000, 0, 1, 1)) == 1_500
    assert on_chain(PeriodMetrics(0, 50_000, 100, 99_999, 9)) == 3_000  # capped
