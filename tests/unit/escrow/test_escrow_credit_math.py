"""The credit math: Python's mirror agrees with the contract's, for any schedule and measurements."""

from dataclasses import fields

from escrow_support import CREDITS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offnet.chain.tx import call
from offnet.market.escrow import (
    CreditSchedule,
    PeriodMetrics,
    late_delivery_credit_bps,
    period_credit_bps,
)

SMALL = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _uint(bits: int) -> st.SearchStrategy[int]:
    # Mostly small values (near realistic objectives), sometimes anything the type holds.
    return st.one_of(st.integers(0, 20_000), st.integers(0, 2**bits - 1))


def _struct(cls: type) -> st.SearchStrategy:
    return st.builds(cls, *(_uint(int(f.metadata["abi"][4:])) for f in fields(cls)))


@SMALL
@given(credits=_struct(CreditSchedule), metrics=_struct(PeriodMetrics))
def test_period_credit__python_mirror_equals_the_contract(escrow, credits, metrics):
    terms = escrow.terms(credits=credits)
    on_chain = call(escrow.client.fn.periodCreditBps(terms.to_tuple(), metrics.to_tuple()))
    assert on_chain == period_credit_bps(credits, metrics)
    assert on_chain <= 10_000


@SMALL
@given(
    credits=_struct(CreditSchedule), committed=st.integers(0, 2**40 - 1), completed=st.integers(0, 2**40 - 1)
)
def test_late_delivery_credit__python_mirror_equals_the_contract(escrow, credits, committed, completed):
    terms = escrow.terms(credits=credits)
    on_chain = call(escrow.client.fn.lateDeliveryCreditBps(terms.to_tuple(), committed, completed))
    assert on_chain == late_delivery_credit_bps(credits, committed, completed)
    assert on_chain <= 10_000


def test_period_credit__each_missed_objective_adds_its_rate_up_to_the_cap():
    met = PeriodMetrics(999_999, 1, 0, 1, 0)
    assert period_credit_bps(CREDITS, met) == 0
    assert period_credit_bps(CREDITS, PeriodMetrics(999_000, 1, 0, 1, 1)) == 1_000
    assert period_credit_bps(CREDITS, PeriodMetrics(999_000, 50_000, 0, 1, 1)) == 1_500
    assert period_credit_bps(CREDITS, PeriodMetrics(0, 50_000, 100, 99_999, 9)) == 3_000  # capped
