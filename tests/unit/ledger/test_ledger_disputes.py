"""Disputes: by the counterparty within the window, by two conflicting contents, and council rulings."""

import pytest

from offnet.market.types import OrderStatus, ReportStatus
from offnet.testing.world import LIVENESS, events

ZERO = "0x" + "00" * 20


def test_dispute__by_the_buyer_within_the_window__blocks_finality(ledger, gas):
    terms = ledger.open()
    claim = ledger.delivery(terms)  # the seller claims an on-time delivery
    batch, _ = ledger.submit(ledger.seller, [claim])

    receipt = ledger.ledger.dispute(ledger.buyer.oracle_key.sender, terms, claim, batch)

    assert ledger.ledger.status(claim) is ReportStatus.DISPUTED
    [disputed] = events(ledger.ledger, receipt, "ReportDisputed")
    assert (bytes(disputed.reportId), disputed.disputer, bytes(disputed.contentHash)) == (
        claim.report_id,
        ledger.buyer.address,
        claim.content_hash,
    )
    gas.check("SlaLedger.dispute", receipt.gas_used, budget=80_000)
    ledger.chain.advance_time(LIVENESS)
    ledger.refuse(
        lambda: ledger.ledger.finalize(ledger.stranger.sender, terms, claim, batch),
        "SlaReportDisputed",
        reportId=claim.report_id,
    )
    assert ledger.escrow.order(terms.order_id()).status is OrderStatus.ACKNOWLEDGED


# Who may not dispute the seller's delivery claim: (caller, whether the buyer is suspended first,
# the error, its arguments).
NOT_COUNTERPARTIES = {
    "the submitting side": (
        lambda w: w.seller.oracle_key,
        False,
        "SlaNotCounterparty",
        lambda w: {"caller": w.seller.oracle_key.address, "member": w.seller.address},
    ),
    "a member outside the order": (
        lambda w: w.other.oracle_key,
        False,
        "SlaNotCounterparty",
        lambda w: {"caller": w.other.oracle_key.address, "member": w.other.address},
    ),
    "a stranger": (
        lambda w: w.stranger,
        False,
        "SlaNotOracle",
        lambda w: {"key": w.stranger.address, "member": ZERO},
    ),
    "a suspended buyer": (
        lambda w: w.buyer.oracle_key,
        True,
        "SlaNotOracle",
        lambda w: {"key": w.buyer.oracle_key.address, "member": w.buyer.address},
    ),
}


@pytest.mark.parametrize("case", NOT_COUNTERPARTIES, ids=str)
def test_dispute__by_anyone_but_the_active_counterparty__reverts(ledger, case):
    caller, suspend_buyer, error, arguments = NOT_COUNTERPARTIES[case]
    terms, claim, batch = ledger.claimed()
    if suspend_buyer:
        ledger.suspend(ledger.buyer)
    ledger.refuse(
        lambda: ledger.ledger.dispute(caller(ledger).sender, terms, claim, batch), error, **arguments(ledger)
    )


def test_dispute__after_the_window__reverts_and_the_report_finalises(ledger):
    terms, claim, batch = ledger.claimed()
    ended = ledger.ledger.batch_stored(batch).submitted_at + LIVENESS
    ledger.chain.advance_time(LIVENESS)
    ledger.refuse(
        lambda: ledger.ledger.dispute(ledger.buyer.oracle_key.sender, terms, claim, batch),
        "SlaLivenessOver",
        reportId=claim.report_id,
        endedAt=ended,
    )
    ledger.ledger.finalize(ledger.stranger.sender, terms, claim, batch)
    assert ledger.ledger.status(claim) is ReportStatus.FINAL


def test_dispute_conflict__two_contents_for_one_fact__blocks_both(ledger):
    terms = ledger.open()
    seller_says = ledger.delivery(terms)
    buyer_says = ledger.delivery(terms, days_late=5)
    seller_batch, _ = ledger.submit(ledger.seller, [seller_says])
    buyer_batch, _ = ledger.submit(ledger.buyer, [buyer_says])

    receipt = ledger.ledger.dispute_conflict(
        ledger.stranger.sender, terms, seller_says, seller_batch, buyer_says, buyer_batch
    )

    assert ledger.ledger.status(seller_says) is ReportStatus.DISPUTED
    [disputed] = events(ledger.ledger, receipt, "ReportDisputed")
    assert disputed.disputer == ZERO
    ledger.chain.advance_time(LIVENESS)
    for report, batch in ((seller_says, seller_batch), (buyer_says, buyer_batch)):
        ledger.refuse(
            lambda r=report, b=batch: ledger.ledger.finalize(ledger.stranger.sender, terms, r, b),
            "SlaReportDisputed",
            reportId=seller_says.report_id,
        )


# Pairs that are no conflict: (the buyer's report against the seller's delivery claim, the error,
# its arguments).
NO_CONFLICT = {
    "same content": (
        lambda w, terms: w.delivery(terms),
        "SlaNoConflict",
        lambda claim, other: {"reportId": claim.report_id},
    ),
    "different facts": (
        lambda w, terms: w.period(terms, 1),
        "SlaDifferentReports",
        lambda claim, other: {"reportIdA": claim.report_id, "reportIdB": other.report_id},
    ),
}


@pytest.mark.parametrize("case", NO_CONFLICT, ids=str)
def test_dispute_conflict__no_conflict__reverts(ledger, case):
    buyers_report, error, arguments = NO_CONFLICT[case]
    terms = ledger.open()
    claim, other = ledger.delivery(terms), buyers_report(ledger, terms)
    seller_batch, _ = ledger.submit(ledger.seller, [claim])
    buyer_batch, _ = ledger.submit(ledger.buyer, [other])
    ledger.refuse(
        lambda: ledger.ledger.dispute_conflict(
            ledger.stranger.sender, terms, claim, seller_batch, other, buyer_batch
        ),
        error,
        **arguments(claim, other),
    )


def test_resolve__council_rules_for_the_buyer__finalises_its_content_and_the_seller_loses(ledger):
    terms = ledger.open()
    seller_says = ledger.delivery(terms)
    buyer_says = ledger.delivery(terms, days_late=5)
    seller_batch, _ = ledger.submit(ledger.seller, [seller_says])
    ledger.ledger.dispute(ledger.buyer.oracle_key.sender, terms, seller_says, seller_batch)

    receipt = ledger.council(ledger.ledger.resolve_call(terms, buyer_says, ledger.seller.address))

    assert ledger.ledger.status(buyer_says) is ReportStatus.FINAL
    [ruled] = events(ledger.ledger, receipt, "DisputeResolved")
    assert (bytes(ruled.contentHash), ruled.loser) == (buyer_says.content_hash, ledger.seller.address)
    seller = ledger.ledger.reputation(ledger.seller.address)
    assert (seller.disputes_lost, seller.orders_delivered, seller.orders_on_time, seller.total_days_late) == (
        1,
        1,
        0,
        5,
    )
    assert ledger.escrow.order(terms.order_id()).status is OrderStatus.ACTIVE
    assert ledger.ledger.reputation(ledger.buyer.address).disputes_lost == 0


def test_resolve__not_through_the_registry__reverts(ledger):
    terms, claim, batch = ledger.claimed()
    ledger.ledger.dispute(ledger.buyer.oracle_key.sender, terms, claim, batch)
    ruling = ledger.ledger.resolve_call(terms, claim, None)
    ledger.refuse(
        lambda: ledger.arbiter.sender.transact(ruling), "SlaNotCouncil", caller=ledger.arbiter.address
    )


def test_resolve__undisputed_report__is_refused_inside_the_council_call(ledger):
    terms = ledger.open()
    claim = ledger.delivery(terms)
    ledger.submit(ledger.seller, [claim])
    ledger.council_refused(
        ledger.ledger.resolve_call(terms, claim, None), "SlaNotDisputed", reportId=claim.report_id
    )


def test_resolve__loser_outside_the_order__is_refused(ledger):
    terms, claim, batch = ledger.claimed()
    ledger.ledger.dispute(ledger.buyer.oracle_key.sender, terms, claim, batch)
    ledger.council_refused(
        ledger.ledger.resolve_call(terms, claim, ledger.other.address),
        "SlaLoserNotAParty",
        loser=ledger.other.address,
    )


def test_dispute_conflict__late_content_after_the_window__cannot_block_finality(ledger):
    terms = ledger.open()
    seller_says = ledger.delivery(terms)
    seller_batch, _ = ledger.submit(ledger.seller, [seller_says])
    ended = ledger.ledger.batch_stored(seller_batch).submitted_at + LIVENESS
    ledger.chain.advance_time(LIVENESS)
    buyer_says = ledger.delivery(terms, days_late=5)
    buyer_batch, _ = ledger.submit(ledger.buyer, [buyer_says])
    ledger.refuse(
        lambda: ledger.ledger.dispute_conflict(
            ledger.stranger.sender, terms, seller_says, seller_batch, buyer_says, buyer_batch
        ),
        "SlaLivenessOver",
        reportId=seller_says.report_id,
        endedAt=ended,
    )
    ledger.ledger.finalize(ledger.stranger.sender, terms, seller_says, seller_batch)
    assert ledger.ledger.status(seller_says) is ReportStatus.FINAL


def test_hold__a_pending_completion__recorded_once_within_the_dispute_budget(ledger, gas):
    """The seller's oracle holds its completion report while it is in its liveness window: the escrow
    then refuses the buyer's cancellation and non-delivery claim until the report is final or ruled."""
    terms = ledger.open()
    report = ledger.delivery(terms)
    batch, _ = ledger.submit(ledger.seller, [report])
    receipt = ledger.ledger.hold(ledger.seller.oracle_key.sender, terms, report, batch)
    assert [e.reportId for e in events(ledger.ledger, receipt, "ReportHeld")] == [report.report_id]
    again = ledger.ledger.hold(ledger.seller.oracle_key.sender, terms, report, batch)  # changes nothing
    assert events(ledger.ledger, again, "ReportHeld") == []
    gas.check("SlaLedger.hold(completion)", receipt.gas_used, budget=80_000)  # a dispute-class step
