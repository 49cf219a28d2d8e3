"""Before and at delivery: the delivery milestone, acknowledgement, cancellation, failure, non-delivery."""

from offnet.market.types import DELIVERY, OrderStatus, Payout, Skip
from offnet.testing.world import DAY, DELIVERY_GRACE, MONTHLY, ONE_TIME


def paid(escrow, receipt):
    """The Paid events of a transaction as (party, amount, reason, milestone)."""
    return [
        (e["party"], e["amount"], Payout(e["reason"]), e["milestone"])
        for e in escrow.client.events(receipt, "Paid")
    ]


def test_delivered_on_time__releases_the_one_time_charge_to_the_seller(escrow, gas):
    terms, oid, _ = escrow.open()
    receipt = escrow.deliver(terms)
    assert paid(escrow, receipt) == [(escrow.seller.address, ONE_TIME, Payout.RELEASE, DELIVERY)]
    state = escrow.order(oid)
    assert (state.status, state.escrowed, state.delivered_at) == (
        OrderStatus.ACTIVE,
        2 * MONTHLY,
        terms.awarded_at,
    )
    assert escrow.client.events(receipt, "OrderDelivered") == [
        {"orderId": oid, "deliveredAt": terms.awarded_at}
    ]
    gas.check("OrderEscrow.onDelivered", receipt.gas_used, budget=90_000)


def test_delivered_three_days_late__credits_three_days_to_the_buyer(escrow, gas):
    terms, oid, _ = escrow.open()
    receipt = escrow.deliver(terms, days_late=3)
    credit = ONE_TIME * 300 // 10_000
    assert paid(escrow, receipt) == [
        (escrow.seller.address, ONE_TIME - credit, Payout.RELEASE, DELIVERY),
        (escrow.buyer.address, credit, Payout.CREDIT, DELIVERY),
    ]
    assert escrow.client.events(receipt, "MilestoneSettled") == [
        {"orderId": oid, "milestone": 0, "creditBps": 300}
    ]
    # Over the 90k release budget only because both parties' balance slots are created here
    # (2 x 22.1k); with existing balances the same settlement costs what onDelivered does + ~8k.
    gas.check("OrderEscrow.onDelivered.late", receipt.gas_used, budget=105_000)


def test_delivered_a_month_late__credit_is_capped(escrow):
    terms, _, _ = escrow.open()
    escrow.deliver(terms, days_late=30)
    assert escrow.withdrawable(escrow.buyer) == ONE_TIME * 2_000 // 10_000
    assert escrow.withdrawable(escrow.seller) == ONE_TIME * 8_000 // 10_000


def test_delivered__twice__second_outcome_is_ignored_and_moves_nothing(escrow):
    terms, oid, _ = escrow.open()
    escrow.deliver(terms)
    receipt = escrow.deliver(terms, days_late=5)
    assert escrow.client.events(receipt, "OutcomeIgnored") == [
        {"orderId": oid, "milestone": 0, "why": Skip.ORDER_NOT_AWAITING_DELIVERY}
    ]
    assert escrow.client.events(receipt, "Paid") == []
    assert escrow.withdrawable(escrow.seller) == ONE_TIME


def test_delivered__one_time_only_order__completes(escrow):
    terms, oid, _ = escrow.open(term_months=0, prepaid_months=0)
    receipt = escrow.deliver(terms)
    assert escrow.order(oid).status == OrderStatus.COMPLETED
    assert escrow.client.events(receipt, "OrderClosed") == [
        {"orderId": oid, "status": OrderStatus.COMPLETED, "reason": 0}
    ]


def test_delivered__reported_by_anyone_but_the_ledger__reverts(escrow):
    terms, _, _ = escrow.open()
    with escrow.refuses("EscrowNotLedger", caller=escrow.seller.address):
        escrow.client.deliver(escrow.seller.sender, terms, 0, 0)


def test_delivered__unknown_order__reverts(escrow):
    terms = escrow.terms()
    with escrow.refuses("EscrowUnknownOrder", orderId=terms.order_id()):
        escrow.client.deliver(escrow.ledger.sender, terms, 0, 0)


def test_acknowledge__by_the_seller__marks_the_order_started(escrow):
    terms, oid, _ = escrow.open()
    receipt = escrow.act(lambda: escrow.client.acknowledge(escrow.seller.sender, terms))
    assert escrow.client.events(receipt, "OrderAcknowledged") == [{"orderId": oid}]
    assert escrow.order(oid).status == OrderStatus.ACKNOWLEDGED
    with escrow.refuses("EscrowWrongStatus", orderId=oid, status=OrderStatus.ACKNOWLEDGED):
        escrow.client.acknowledge(escrow.seller.sender, terms)


def test_acknowledge__by_the_buyer__reverts(escrow):
    terms, oid, _ = escrow.open()
    with escrow.refuses("EscrowNotSeller", orderId=oid, caller=escrow.buyer.address):
        escrow.client.acknowledge(escrow.buyer.sender, terms)


def test_cancel__before_acknowledgement__refunds_everything(escrow, gas):
    terms, oid, _ = escrow.open()
    receipt = escrow.act(lambda: escrow.client.cancel(escrow.buyer.sender, terms))
    assert paid(escrow, receipt) == [(escrow.buyer.address, terms.opening_amount, Payout.REFUND, DELIVERY)]
    assert escrow.order(oid).status == OrderStatus.CANCELLED
    assert escrow.order(oid).escrowed == 0
    gas.check("OrderEscrow.cancel", receipt.gas_used, budget=90_000)


def test_cancel__after_acknowledgement__pays_the_seller_the_cancellation_fee(escrow):
    terms, oid, _ = escrow.open()
    escrow.act(lambda: escrow.client.acknowledge(escrow.seller.sender, terms))
    receipt = escrow.act(lambda: escrow.client.cancel(escrow.buyer.sender, terms))
    fee = ONE_TIME // 10
    assert paid(escrow, receipt) == [
        (escrow.seller.address, fee, Payout.CANCELLATION_FEE, DELIVERY),
        (escrow.buyer.address, terms.opening_amount - fee, Payout.REFUND, DELIVERY),
    ]
    assert escrow.client.events(receipt, "OrderClosed") == [
        {"orderId": oid, "status": OrderStatus.CANCELLED, "reason": 0}
    ]


def test_cancel__by_the_seller__reverts(escrow):
    terms, oid, _ = escrow.open()
    with escrow.refuses("EscrowNotBuyer", orderId=oid, caller=escrow.seller.address):
        escrow.client.cancel(escrow.seller.sender, terms)


def test_cancel__after_delivery__reverts(escrow):
    terms, oid, _ = escrow.open()
    escrow.deliver(terms)
    with escrow.refuses("EscrowWrongStatus", orderId=oid, status=OrderStatus.ACTIVE):
        escrow.client.cancel(escrow.buyer.sender, terms)


def test_cancel__delivery_disputed_by_the_seller__reverts_while_frozen(escrow):
    terms, oid, _ = escrow.open()
    receipt = escrow.act(lambda: escrow.client.dispute(escrow.seller.sender, terms, DELIVERY))
    [opened] = escrow.client.events(receipt, "DisputeOpened")
    with escrow.refuses("EscrowMilestoneFrozen", orderId=oid, milestone=0, until=opened["until"]):
        escrow.client.cancel(escrow.buyer.sender, terms)


def test_order_failed__refunds_everything_to_the_buyer(escrow, gas):
    terms, oid, _ = escrow.open()
    escrow.act(lambda: escrow.client.acknowledge(escrow.seller.sender, terms))
    receipt = escrow.act(lambda: escrow.client.fail(escrow.ledger.sender, terms, 2))
    assert paid(escrow, receipt) == [(escrow.buyer.address, terms.opening_amount, Payout.REFUND, DELIVERY)]
    assert escrow.client.events(receipt, "OrderClosed") == [
        {"orderId": oid, "status": OrderStatus.FAILED, "reason": 2}
    ]
    gas.check("OrderEscrow.onOrderFailed", receipt.gas_used, budget=90_000)


def test_order_failed__after_delivery__is_ignored(escrow):
    terms, oid, _ = escrow.open()
    escrow.deliver(terms)
    receipt = escrow.act(lambda: escrow.client.fail(escrow.ledger.sender, terms, 2))
    assert escrow.client.events(receipt, "OutcomeIgnored") == [
        {"orderId": oid, "milestone": 0, "why": Skip.ORDER_NOT_AWAITING_DELIVERY}
    ]
    assert escrow.order(oid).status == OrderStatus.ACTIVE


def test_order_failed__reported_by_anyone_but_the_ledger__reverts(escrow):
    terms, _, _ = escrow.open()
    with escrow.refuses("EscrowNotLedger", caller=escrow.buyer.address):
        escrow.client.fail(escrow.buyer.sender, terms, 2)


def test_non_delivery__before_the_deadline__reverts(escrow):
    terms, oid, _ = escrow.open()
    deadline = terms.awarded_at + terms.install_days * DAY + DELIVERY_GRACE
    with escrow.refuses("EscrowTooEarly", orderId=oid, milestone=0, availableAt=deadline):
        escrow.client.claim_non_delivery(escrow.outsider.sender, terms)


def test_non_delivery__after_the_deadline__anyone_refunds_the_buyer(escrow, gas):
    terms, oid, _ = escrow.open()
    escrow.chain.advance_time(terms.install_days * DAY + DELIVERY_GRACE)
    receipt = escrow.act(lambda: escrow.client.claim_non_delivery(escrow.outsider.sender, terms))
    assert paid(escrow, receipt) == [(escrow.buyer.address, terms.opening_amount, Payout.REFUND, DELIVERY)]
    assert escrow.order(oid).status == OrderStatus.EXPIRED
    gas.check("OrderEscrow.claimNonDelivery", receipt.gas_used, budget=90_000)
    # A delivery report that finalises afterwards moves nothing.
    late = escrow.deliver(terms)
    assert escrow.client.events(late, "Paid") == []


def test_non_delivery__disputed_delivery__frozen_until_the_ruling_timeout_then_refunds(escrow):
    terms, oid, _ = escrow.open()
    receipt = escrow.act(lambda: escrow.client.dispute(escrow.seller.sender, terms, DELIVERY))
    [opened] = escrow.client.events(receipt, "DisputeOpened")
    escrow.chain.advance_time(
        terms.awarded_at + terms.install_days * DAY + DELIVERY_GRACE - escrow.chain.now()
    )
    with escrow.refuses("EscrowMilestoneFrozen", orderId=oid, milestone=0, until=opened["until"]):
        escrow.client.claim_non_delivery(escrow.buyer.sender, terms)
    escrow.chain.advance_time(opened["until"] - escrow.chain.now())
    escrow.act(lambda: escrow.client.claim_non_delivery(escrow.buyer.sender, terms))
    assert escrow.withdrawable(escrow.buyer) == terms.opening_amount
