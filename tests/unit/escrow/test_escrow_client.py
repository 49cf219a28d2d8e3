"""The Python side: order ids computed like the chain, constants as documented, money-flow statements."""

from dataclasses import replace

from offnet.chain.tx import call
from offnet.market.types import OrderStatus
from offnet.testing.world import (
    BILLING_PERIOD,
    CREDIT_25_PERCENT,
    DAY,
    DELIVERY_GRACE,
    MONTHLY,
    ONE_TIME,
    REPORT_GRACE,
    RULING_TIMEOUT,
)


def test_order_id__python_equals_chain_and_changes_with_any_field(escrow):
    terms, oid, _ = escrow.open()
    assert terms.order_id() == oid
    assert escrow.order(oid).status == OrderStatus.OPEN
    changed = replace(terms, credits=replace(terms.credits, monthly_credit_cap_bps=2_999))
    assert changed.order_id() != oid
    assert escrow.order(changed.order_id()).status == OrderStatus.NONE


def test_policy_constants__are_the_documented_ones(escrow):
    fn = escrow.client.fn
    assert call(fn.BILLING_PERIOD()) == BILLING_PERIOD
    assert call(fn.REPORT_GRACE()) == REPORT_GRACE
    assert call(fn.DELIVERY_GRACE()) == DELIVERY_GRACE
    assert call(fn.RULING_TIMEOUT()) == RULING_TIMEOUT
    assert call(fn.CANCELLATION_FEE_BPS()) == 1_000


def test_terms_of__recovered_from_the_opening_event(escrow):
    terms, oid, _ = escrow.open()
    assert escrow.client.terms_of(oid) == terms


def test_money_flow__statement_of_a_delivered_order_with_credits_and_withdrawals(escrow):
    terms, oid, _ = escrow.open()
    escrow.deliver(terms, days_late=2)
    escrow.settle(terms, 1, CREDIT_25_PERCENT)
    escrow.fund_buyer(terms, MONTHLY)
    escrow.act(lambda: escrow.client.top_up(escrow.buyer.sender, terms, 1))
    escrow.act(lambda: escrow.client.withdraw(escrow.seller.sender, escrow.token.address))

    flow = escrow.client.money_flow(oid)
    late_credit = ONE_TIME * 200 // 10_000
    sla_credit = MONTHLY * 2_500 // 10_000
    assert flow.escrowed == ONE_TIME + 3 * MONTHLY
    assert flow.credited == late_credit + sla_credit
    assert flow.released == ONE_TIME + MONTHLY - late_credit - sla_credit
    assert flow.refunded == 0
    assert flow.held == 2 * MONTHLY == escrow.order(oid).escrowed
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


def test_money_flow__cancelled_order_shows_the_fee_and_the_refund(escrow):
    terms, oid, _ = escrow.open()
    escrow.act(lambda: escrow.client.acknowledge(escrow.seller.sender, terms))
    escrow.chain.advance_time(DAY)
    escrow.act(lambda: escrow.client.cancel(escrow.buyer.sender, terms))
    flow = escrow.client.money_flow(oid)
    assert (flow.released, flow.refunded, flow.held) == (
        ONE_TIME // 10,
        terms.opening_amount - ONE_TIME // 10,
        0,
    )
