"""The delivery milestone: the seller's acceptance, delivery reports (on time, late, against the signed
installation interval), failures, the buyer's cancellation and the non-delivery timeout."""

from eth_utils import keccak

from offnet.chain.tx import call
from offnet.market.types import (
    DELIVERY,
    FailureReason,
    OrderStatus,
    Payout,
    ReportKind,
    ReportStatus,
    SlaReport,
)
from offnet.testing.world import CANCEL_NOTICE, DAY, DELIVERY_GRACE, MONTHLY, ONE_TIME, RULING_TIMEOUT, events


def _failure(terms, reason: FailureReason) -> SlaReport:
    return SlaReport(
        terms.order_id(),
        ReportKind.ORDER_FAILED,
        0,
        reason,
        terms.awarded_at,
        evidence_hash=keccak(text="failed"),
    )


# --- acceptance ---------------------------------------------------------------------------------------


def test_acknowledge__by_the_sellers_oracle_key__accepts_the_order_and_opens_both_balance_slots(escrow, gas):
    terms = escrow.open(acknowledged=False)
    receipt = escrow.escrow.acknowledge(escrow.seller.oracle_key.sender, terms)
    assert escrow.order(terms).status is OrderStatus.ACKNOWLEDGED
    assert [bytes(e.orderId) for e in events(escrow.escrow, receipt, "OrderAcknowledged")] == [
        terms.order_id()
    ]
    # Nothing is withdrawable yet, but no later settlement creates a balance slot.
    assert escrow.withdrawable(escrow.seller) == escrow.withdrawable(escrow.buyer) == 0
    gas.check("OrderEscrow.acknowledge (first order of the seller and buyer)", receipt.gas_used)


def test_acknowledge__twice__reverts(escrow):
    terms = escrow.open()
    escrow.refuse(
        lambda: escrow.escrow.acknowledge(escrow.seller.sender, terms),
        "EscrowWrongStatus",
        orderId=terms.order_id(),
        status=OrderStatus.ACKNOWLEDGED,
    )


def test_delivery__before_the_seller_acknowledged__waits(escrow):
    terms = escrow.open(acknowledged=False)
    report = escrow.delivery(terms)
    finalize = escrow.reported(terms, report)
    escrow.refuse(finalize, "EscrowNotAcknowledged", orderId=terms.order_id())
    escrow.escrow.acknowledge(escrow.seller.sender, terms)
    finalize()
    assert escrow.order(terms).status is OrderStatus.ACTIVE


# --- delivery -------------------------------------------------------------------------------------------


def test_deliver__on_time__releases_the_one_time_charge_and_starts_the_periods(escrow):
    terms = escrow.open()
    receipt = escrow.deliver(terms)
    order = escrow.order(terms)
    settled_at = escrow.chain.w3.eth.get_block(receipt.block_number)["timestamp"]
    # Period 1 starts at the completion date, never after the delivery became final.
    assert (order.status, order.delivered_at, order.claims_from) == (
        OrderStatus.ACTIVE,
        min(terms.awarded_at + DAY, settled_at),
        settled_at,
    )
    assert order.escrowed == 3 * MONTHLY
    [settled] = events(escrow.escrow, receipt, "MilestoneSettled")
    assert (settled.milestone, settled.toSeller, settled.toBuyer, settled.reason) == (
        DELIVERY,
        ONE_TIME,
        0,
        Payout.RELEASE,
    )
    assert escrow.withdrawable(escrow.seller) == ONE_TIME
    escrow.assert_conserved()


def test_deliver__late__credits_the_buyer_per_whole_day(escrow):
    terms = escrow.open()
    escrow.deliver(terms, days_late=3.5)  # 3 whole days at 100 bps
    assert escrow.withdrawable(escrow.buyer) == ONE_TIME * 300 // 10_000
    assert escrow.withdrawable(escrow.seller) == ONE_TIME - ONE_TIME * 300 // 10_000
    escrow.assert_conserved()


def test_deliver__credit_is_capped(escrow):
    terms = escrow.open()
    escrow.deliver(terms, days_late=40)  # 40 % uncapped, 20 % cap
    assert escrow.withdrawable(escrow.buyer) == ONE_TIME * 2_000 // 10_000


def test_deliver__committed_date_later_than_the_signed_installation_interval__credits_from_the_signed_date(
    escrow,
):
    """The seller reports a committed date 20 days after what it signed (install within 5 days of award):
    lateness is measured from the signed date, which is the earlier."""
    terms = escrow.open(install_days=5)
    completed = terms.awarded_at + 25 * DAY
    escrow.until(completed)
    report = SlaReport(terms.order_id(), ReportKind.ORDER_COMPLETED, 0, completed, completed)  # "on time"
    escrow.settle(terms, report)
    late_days = 20
    assert escrow.withdrawable(escrow.buyer) == ONE_TIME * late_days * 100 // 10_000
    seller = escrow.ledger.reputation(escrow.seller.address)
    assert (seller.orders_on_time, seller.total_days_late) == (0, late_days)


def test_deliver__twice__moves_nothing_the_second_time(escrow):
    terms = escrow.delivered()
    before = escrow.state()
    assert escrow.settle(terms, escrow.delivery(terms, days_late=5, evidence="again")).raw["logs"] == []
    assert escrow.state()["orders"] == before["orders"]


def test_deliver__completion_date_before_the_award__starts_periods_at_the_award(escrow):
    terms = escrow.open()
    report = SlaReport(
        terms.order_id(), ReportKind.ORDER_COMPLETED, 0, terms.awarded_at - DAY, terms.awarded_at - DAY
    )
    escrow.settle(terms, report)
    assert escrow.order(terms).delivered_at == terms.awarded_at


def test_deliver__zero_month_term__completes_the_order(escrow):
    terms = escrow.open(term_months=0, prepaid_months=0)
    escrow.deliver(terms)
    assert escrow.order(terms).status is OrderStatus.COMPLETED


# --- failures -------------------------------------------------------------------------------------------


def test_failed__refunds_everything_escrowed(escrow, gas):
    terms = escrow.open(acknowledged=False)
    receipt = escrow.settle(terms, _failure(terms, FailureReason.REJECTED))
    assert escrow.order(terms).status is OrderStatus.FAILED
    [closed] = events(escrow.escrow, receipt, "OrderClosed")
    assert (closed.status, closed.reason) == (OrderStatus.FAILED, FailureReason.REJECTED)
    # The refund waits in the closed order for its buyer: closing it created no balance slot.
    assert escrow.order(terms).escrowed == terms.opening_amount
    escrow.assert_conserved()
    gas.check(
        "SlaLedger.finalizeMatched(failed, first of order and provider)", receipt.gas_used, budget=90_000
    )
    pulled = escrow.escrow.withdraw_refund(escrow.buyer.sender, terms)
    gas.check("OrderEscrow.withdrawRefund", pulled.gas_used, budget=90_000)
    assert [(e.amount, e.reason) for e in events(escrow.escrow, pulled, "Paid")] == [
        (terms.opening_amount, Payout.REFUND)
    ]
    assert escrow.order(terms).escrowed == 0
    assert call(escrow.token.functions.balanceOf(escrow.buyer.address)) == terms.opening_amount
    escrow.assert_conserved()
    escrow.refuse(
        lambda: escrow.escrow.withdraw_refund(escrow.buyer.sender, terms),
        "EscrowNothingToWithdraw",
        token=escrow.token.address,
        party=escrow.buyer.address,
    )


def test_failed__cancelled_through_sonata_after_acknowledgement__charges_the_cancellation_fee(escrow, gas):
    terms = escrow.open()
    receipt = escrow.settle(terms, _failure(terms, FailureReason.CANCELLED))
    gas.check("SlaLedger.finalizeMatched(cancelled through Sonata, fee)", receipt.gas_used, budget=90_000)
    fee = ONE_TIME // 10
    assert escrow.order(terms).status is OrderStatus.CANCELLED
    assert (escrow.withdrawable(escrow.seller), escrow.order(terms).escrowed) == (
        fee,
        terms.opening_amount - fee,
    )


def test_failed__after_delivery__moves_nothing(escrow):
    terms = escrow.delivered()
    before = escrow.state()["orders"]
    assert escrow.settle(terms, _failure(terms, FailureReason.FAILED)).raw["logs"] == []
    assert escrow.state()["orders"] == before


# --- cancellation ---------------------------------------------------------------------------------------


def test_cancel__before_acknowledgement__refunds_everything_at_once(escrow, gas):
    terms = escrow.open(acknowledged=False)
    receipt = escrow.escrow.cancel(escrow.buyer.sender, terms)
    assert escrow.order(terms).status is OrderStatus.CANCELLED
    assert escrow.order(terms).escrowed == terms.opening_amount  # the buyer pulls it (withdrawRefund)
    escrow.assert_conserved()
    gas.check("OrderEscrow.cancel", receipt.gas_used, budget=90_000)
    escrow.refuse(
        lambda: escrow.escrow.withdraw_refund(escrow.seller.sender, terms),
        "EscrowNotBuyer",
        orderId=terms.order_id(),
        caller=escrow.seller.address,
    )
    escrow.escrow.withdraw_refund(escrow.buyer.sender, terms, escrow.other.address)
    assert call(escrow.token.functions.balanceOf(escrow.other.address)) == terms.opening_amount
    escrow.assert_conserved()


def test_cancel__after_acknowledgement__asks_then_cancels_after_the_notice_with_the_fee(escrow, gas):
    terms = escrow.open()
    asked = escrow.escrow.cancel(escrow.buyer.sender, terms)
    [request] = events(escrow.escrow, asked, "CancellationRequested")
    effective_at = escrow.chain.w3.eth.get_block(asked.block_number)["timestamp"] + CANCEL_NOTICE
    assert request.effectiveAt == effective_at
    assert escrow.order(terms).status is OrderStatus.ACKNOWLEDGED
    escrow.refuse(
        lambda: escrow.escrow.cancel(escrow.buyer.sender, terms),
        "EscrowCancelNoticeRunning",
        orderId=terms.order_id(),
        effectiveAt=effective_at,
    )
    escrow.until(effective_at)
    receipt = escrow.escrow.cancel(escrow.buyer.sender, terms)
    fee = ONE_TIME // 10
    assert escrow.order(terms).status is OrderStatus.CANCELLED
    assert (escrow.withdrawable(escrow.seller), escrow.order(terms).escrowed) == (
        fee,
        terms.opening_amount - fee,
    )
    escrow.assert_conserved()
    gas.check("OrderEscrow.cancel (after the notice)", receipt.gas_used, budget=90_000)


def test_cancel__delivery_reported_during_the_notice__wins(escrow):
    terms = escrow.open()
    escrow.escrow.cancel(escrow.buyer.sender, terms)
    escrow.deliver(terms)
    escrow.until(escrow.chain.now() + CANCEL_NOTICE)
    escrow.refuse(
        lambda: escrow.escrow.cancel(escrow.buyer.sender, terms),
        "EscrowWrongStatus",
        orderId=terms.order_id(),
        status=OrderStatus.ACTIVE,
    )


def test_claim_non_delivery__after_the_deadline__refunds_the_buyer(escrow, gas):
    terms = escrow.open()
    deadline = terms.awarded_at + terms.install_days * DAY + DELIVERY_GRACE
    escrow.until(deadline - 60)
    escrow.refuse(
        lambda: escrow.escrow.claim_non_delivery(escrow.stranger.sender, terms),
        "EscrowTooEarly",
        orderId=terms.order_id(),
        milestone=DELIVERY,
        availableAt=deadline,
    )
    escrow.until(deadline)
    receipt = escrow.escrow.claim_non_delivery(escrow.stranger.sender, terms)
    assert escrow.order(terms).status is OrderStatus.EXPIRED
    assert escrow.order(terms).escrowed == terms.opening_amount
    escrow.assert_conserved()
    gas.check("OrderEscrow.claimNonDelivery", receipt.gas_used, budget=90_000)


def test_claim_non_delivery__completion_report_held__waits_for_it(escrow):
    terms = escrow.open()
    deadline = terms.awarded_at + terms.install_days * DAY + DELIVERY_GRACE
    escrow.until(deadline - DAY)
    report = escrow.delivery(terms, days_late=29)
    batch, _ = escrow.submit(escrow.seller, [report])
    receipt = escrow.ledger.hold(escrow.stranger.sender, terms, report, batch)
    assert escrow.ledger.record(report)[0] is ReportStatus.PENDING
    held_at = escrow.chain.w3.eth.get_block(receipt.block_number)["timestamp"]
    escrow.until(deadline)
    escrow.refuse(
        lambda: escrow.escrow.claim_non_delivery(escrow.stranger.sender, terms),
        "EscrowReportPending",
        orderId=terms.order_id(),
        milestone=DELIVERY,
        until=held_at + RULING_TIMEOUT,
    )
    escrow.until(escrow.chain.now() + 2 * DAY)
    escrow.ledger.finalize(escrow.stranger.sender, terms, report, batch)
    assert escrow.order(terms).status is OrderStatus.ACTIVE
    assert escrow.ledger.record(report)[0] is ReportStatus.NONE  # the hold's slot is cleared


def test_claim_non_delivery__once_delivered__reverts(escrow):
    terms = escrow.delivered()
    escrow.until(terms.awarded_at + 90 * DAY)
    escrow.refuse(
        lambda: escrow.escrow.claim_non_delivery(escrow.stranger.sender, terms),
        "EscrowWrongStatus",
        orderId=terms.order_id(),
        status=OrderStatus.ACTIVE,
    )
