"""The Python side: constants as documented, money-flow statements rebuilt from the events."""

from offnet.chain.tx import call
from offnet.market import periods
from offnet.testing.world import (
    BAD_MONTH,
    CANCEL_NOTICE,
    CREDITS,
    DAY,
    DELIVERY_GRACE,
    MONTHLY,
    ONE_TIME,
    REPORT_GRACE,
    RULING_TIMEOUT,
)


def test_policy_constants__are_the_documented_ones(escrow):
    fn = escrow.escrow.fn
    assert call(fn.REPORT_GRACE()) == REPORT_GRACE
    assert call(fn.DELIVERY_GRACE()) == DELIVERY_GRACE
    assert call(fn.RULING_TIMEOUT()) == RULING_TIMEOUT
    assert call(fn.CANCEL_NOTICE()) == CANCEL_NOTICE
    assert call(fn.CANCELLATION_FEE_BPS()) == 1_000


def test_terms_of__recovered_from_the_opening_event(escrow):
    terms = escrow.open()
    assert escrow.escrow.terms_of(terms.order_id()) == terms


def test_money_flow__statement_of_a_delivered_order_with_credits_and_withdrawals(escrow):
    terms = escrow.open()
    oid = terms.order_id()
    escrow.deliver(terms, days_late=2)
    escrow.settle_period(terms, 1, BAD_MONTH)
    escrow.fund(MONTHLY)
    escrow.escrow.top_up(escrow.buyer.sender, terms, 1)
    escrow.escrow.withdraw(escrow.seller.sender, escrow.token.address)

    flow = escrow.escrow.money_flow(oid)
    charge = periods.period_charge(MONTHLY, escrow.order(terms).delivered_at, 1)
    late_credit = ONE_TIME * 200 // 10_000
    sla_credit = charge * CREDITS.monthly_credit_cap_bps // 10_000
    unused = MONTHLY - charge
    assert flow.escrowed == ONE_TIME + 4 * MONTHLY
    assert flow.credited == late_credit + sla_credit + unused
    assert flow.released == ONE_TIME - late_credit + charge - sla_credit
    assert flow.refunded == 0
    assert flow.held == 3 * MONTHLY == escrow.order(terms).escrowed
    assert flow.withdrawn_by_seller == flow.released
    assert flow.withdrawn_by_buyer == 0
    assert [(m.kind, m.party) for m in flow.events] == [
        ("escrowed", escrow.buyer.address),
        ("release", escrow.seller.address),
        ("credit", escrow.buyer.address),
        ("release", escrow.seller.address),
        ("credit", escrow.buyer.address),
        ("escrowed", escrow.buyer.address),
    ]


def test_money_flow__cancelled_order_shows_the_fee_then_the_pulled_refund(escrow):
    terms = escrow.open()
    escrow.escrow.cancel(escrow.buyer.sender, terms)
    escrow.chain.advance_time(CANCEL_NOTICE + DAY)
    escrow.escrow.cancel(escrow.buyer.sender, terms)
    flow = escrow.escrow.money_flow(terms.order_id())
    fee = ONE_TIME // 10
    assert (flow.released, flow.refunded, flow.held) == (fee, 0, terms.opening_amount - fee)
    escrow.escrow.withdraw_refund(escrow.buyer.sender, terms)
    flow = escrow.escrow.money_flow(terms.order_id())
    assert (flow.released, flow.refunded, flow.held, flow.withdrawn_by_buyer) == (
        fee,
        terms.opening_amount - fee,
        0,
        terms.opening_amount - fee,
    )
    escrow.assert_conserved()
