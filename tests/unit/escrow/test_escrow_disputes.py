"""Disputes: a milestone frozen by a party, settled by the ledger or split by the council's ruling."""

from offnet.market.types import DELIVERY, OrderStatus, Payout
from offnet.testing.world import BILLING_PERIOD, MONTHLY, NO_CREDIT, ONE_TIME, REPORT_GRACE, RULING_TIMEOUT


def test_dispute__by_the_buyer__freezes_the_period_against_the_sellers_claim(escrow, gas):
    terms, oid = escrow.delivered()
    receipt = escrow.act(lambda: escrow.client.dispute(escrow.buyer.sender, terms, 1))
    now = escrow.chain.now()
    assert escrow.client.events(receipt, "DisputeOpened") == [
        {"orderId": oid, "milestone": 1, "by": escrow.buyer.address, "until": now + RULING_TIMEOUT}
    ]
    gas.check("OrderEscrow.dispute", receipt.gas_used, budget=80_000)
    escrow.chain.advance_time(BILLING_PERIOD + REPORT_GRACE)
    with escrow.refuses("EscrowMilestoneFrozen", orderId=oid, milestone=1, until=now + RULING_TIMEOUT):
        escrow.client.claim_period(escrow.seller.sender, terms, 1)


def test_dispute__the_ledgers_final_report_still_settles_the_period(escrow):
    terms, oid = escrow.delivered()
    escrow.act(lambda: escrow.client.dispute(escrow.buyer.sender, terms, 1))
    escrow.settle(terms, 1, NO_CREDIT)
    assert escrow.client.is_period_settled(oid, 1)
    escrow.council_refused(
        escrow.client.rule_call(terms, 1, 5_000), "EscrowPeriodSettled", orderId=oid, period=1
    )


def test_dispute__freeze_lapses_after_the_ruling_timeout(escrow):
    terms, _ = escrow.delivered()
    escrow.act(lambda: escrow.client.dispute(escrow.buyer.sender, terms, 1))
    escrow.chain.advance_time(RULING_TIMEOUT)
    escrow.act(lambda: escrow.client.claim_period(escrow.seller.sender, terms, 1))
    assert escrow.withdrawable(escrow.seller) == ONE_TIME + MONTHLY


def test_dispute__by_an_outsider__reverts(escrow):
    terms, oid = escrow.delivered()
    with escrow.refuses("EscrowNotParty", orderId=oid, caller=escrow.outsider.address):
        escrow.client.dispute(escrow.outsider.sender, terms, 1)


def test_dispute__twice__reverts(escrow):
    terms, oid = escrow.delivered()
    escrow.act(lambda: escrow.client.dispute(escrow.buyer.sender, terms, 1))
    with escrow.refuses("EscrowDisputeExists", orderId=oid, milestone=1):
        escrow.client.dispute(escrow.seller.sender, terms, 1)


def test_dispute__delivery_after_delivery__reverts(escrow):
    terms, oid = escrow.delivered()
    with escrow.refuses("EscrowWrongStatus", orderId=oid, status=OrderStatus.ACTIVE):
        escrow.client.dispute(escrow.buyer.sender, terms, DELIVERY)


def test_dispute__unfunded_period__reverts(escrow):
    terms, oid = escrow.delivered()
    with escrow.refuses("EscrowPeriodNotFunded", orderId=oid, period=5, fundedMonths=2):
        escrow.client.dispute(escrow.buyer.sender, terms, 5)


def test_rule__council_splits_a_disputed_period(escrow):
    terms, oid = escrow.delivered()
    escrow.act(lambda: escrow.client.dispute(escrow.buyer.sender, terms, 2))
    # A ruling cannot pay a period out before it ended either.
    ends_at = escrow.order(oid).delivered_at + 2 * BILLING_PERIOD
    escrow.council_refused(
        escrow.client.rule_call(terms, 2, 3_000), "EscrowPeriodNotOver", orderId=oid, period=2, endsAt=ends_at
    )
    escrow.end_period(terms, 2)
    receipt = escrow.council_decides(escrow.client.rule_call(terms, 2, 3_000))
    assert escrow.client.events(receipt, "DisputeRuled") == [
        {"orderId": oid, "milestone": 2, "buyerShareBps": 3_000}
    ]
    paid = [(e["party"], e["amount"], Payout(e["reason"])) for e in escrow.client.events(receipt, "Paid")]
    assert paid == [
        (escrow.seller.address, MONTHLY * 7 // 10, Payout.RULING),
        (escrow.buyer.address, MONTHLY * 3 // 10, Payout.RULING),
    ]
    assert escrow.client.is_period_settled(oid, 2)
    assert not escrow.client.is_period_settled(oid, 1)


def test_rule__delivery_never_happened__refunds_everything(escrow):
    terms, oid, _ = escrow.open()
    escrow.act(lambda: escrow.client.dispute(escrow.seller.sender, terms, DELIVERY))
    escrow.council_decides(escrow.client.rule_call(terms, DELIVERY, 10_000))
    assert escrow.order(oid).status == OrderStatus.FAILED
    assert escrow.withdrawable(escrow.buyer) == terms.opening_amount


def test_rule__delivery_partly_performed__splits_the_one_time_charge_and_starts_billing(escrow):
    terms, oid, _ = escrow.open()
    escrow.act(lambda: escrow.client.dispute(escrow.buyer.sender, terms, DELIVERY))
    receipt = escrow.council_decides(escrow.client.rule_call(terms, DELIVERY, 4_000))
    state = escrow.order(oid)
    assert state.status == OrderStatus.ACTIVE
    assert state.delivered_at == escrow.chain.w3.eth.get_block(receipt.block_number)["timestamp"]
    assert escrow.withdrawable(escrow.buyer) == ONE_TIME * 4 // 10
    assert escrow.withdrawable(escrow.seller) == ONE_TIME * 6 // 10


def test_rule__without_a_dispute__refused(escrow):
    terms, oid = escrow.delivered()
    escrow.council_refused(
        escrow.client.rule_call(terms, 1, 5_000), "EscrowNoDispute", orderId=oid, milestone=1
    )


def test_rule__share_above_100_percent__refused(escrow):
    terms, _ = escrow.delivered()
    escrow.act(lambda: escrow.client.dispute(escrow.buyer.sender, terms, 1))
    escrow.council_refused(
        escrow.client.rule_call(terms, 1, 10_001), "EscrowInvalidShare", buyerShareBps=10_001
    )


def test_rule__called_directly_by_a_party__reverts(escrow):
    terms, _ = escrow.delivered()
    escrow.act(lambda: escrow.client.dispute(escrow.buyer.sender, terms, 1))
    with escrow.refuses("EscrowNotCouncil", caller=escrow.buyer.address):
        escrow.buyer.sender.transact(escrow.client.rule_call(terms, 1, 10_000))


def test_dispute__of_delivery__the_ledgers_final_delivery_report_settles_it(escrow):
    terms, oid, _ = escrow.open()
    escrow.act(lambda: escrow.client.dispute(escrow.seller.sender, terms, DELIVERY))
    escrow.deliver(terms, days_late=1)
    assert escrow.order(oid).status == OrderStatus.ACTIVE
    assert escrow.withdrawable(escrow.buyer) == ONE_TIME // 100
    escrow.council_refused(
        escrow.client.rule_call(terms, DELIVERY, 0),
        "EscrowWrongStatus",
        orderId=oid,
        status=OrderStatus.ACTIVE,
    )
