"""Disputes: by the counterparty within the window, by two conflicting contents, and council rulings."""

import pytest

from offnet.market.types import OrderStatus, ReportStatus
from offnet.testing.world import LIVENESS

ZERO = "0x" + "00" * 20


def test_dispute__by_the_buyer_within_the_window__blocks_finality(ledger, gas):
    terms = ledger.open()
    claim = ledger.delivery(terms)  # the seller claims an on-time delivery
    batch, _ = ledger.submit(ledger.seller, [claim])

    receipt = ledger.client.dispute(ledger.buyer.oracle_key.sender, terms, claim, batch)

    assert ledger.client.status(claim) is ReportStatus.DISPUTED
    [disputed] = ledger.client.events(receipt, "ReportDisputed")
    assert (bytes(disputed["reportId"]), disputed["disputer"], bytes(disputed["contentHash"])) == (
        claim.report_id,
        ledger.buyer.address,
        claim.content_hash,
    )
    gas.check("SlaLedger.dispute", receipt.gas_used, budget=80_000)
    ledger.finality_refused(terms, claim, batch, "SlaReportDisputed", reportId=claim.report_id)
    assert ledger.escrow.order(terms.order_id()).status is OrderStatus.OPEN


@pytest.mark.parametrize(
    "disputer", ["the submitting side", "a member outside the order", "a stranger", "the buyer, suspended"]
)
def test_dispute__by_anyone_but_the_active_counterparty__reverts(ledger, disputer):
    terms, claim, batch = ledger.claimed()
    seller, other, buyer, outsider = ledger.seller, ledger.other, ledger.buyer, ledger.outsider
    key, error, arguments = {
        "the submitting side": (
            seller.oracle_key,
            "SlaNotCounterparty",
            {"caller": seller.oracle_key.address, "member": seller.address},
        ),
        "a member outside the order": (
            other.oracle_key,
            "SlaNotCounterparty",
            {"caller": other.oracle_key.address, "member": other.address},
        ),
        "a stranger": (outsider, "SlaNotOracle", {"key": outsider.address, "member": ZERO}),
        "the buyer, suspended": (
            buyer.oracle_key,
            "SlaNotOracle",
            {"key": buyer.oracle_key.address, "member": buyer.address},
        ),
    }[disputer]
    if disputer == "the buyer, suspended":
        ledger.suspend(buyer)
    with ledger.refuses(error, **arguments):
        ledger.client.dispute(key.sender, terms, claim, batch)


def test_dispute__after_the_window__reverts_and_the_report_finalises(ledger):
    terms, claim, batch = ledger.claimed()
    ended = ledger.client.batch_stored(batch).submitted_at + LIVENESS
    ledger.chain.advance_time(LIVENESS)
    with ledger.refuses("SlaLivenessOver", reportId=claim.report_id, endedAt=ended):
        ledger.client.dispute(ledger.buyer.oracle_key.sender, terms, claim, batch)
    ledger.client.finalize(ledger.outsider.sender, terms, claim, batch)
    assert ledger.client.status(claim) is ReportStatus.FINAL


def test_dispute_conflict__two_contents_for_one_fact__blocks_both(ledger):
    terms = ledger.open()
    seller_says = ledger.delivery(terms)
    buyer_says = ledger.delivery(terms, days_late=5)
    seller_batch, buyer_batch = ledger.both_submit(seller_says, buyer_says)

    receipt = ledger.client.dispute_conflict(
        ledger.outsider.sender, terms, seller_says, seller_batch, buyer_says, buyer_batch
    )

    assert ledger.client.status(seller_says) is ReportStatus.DISPUTED
    [disputed] = ledger.client.events(receipt, "ReportDisputed")
    assert disputed["disputer"] == ZERO
    ledger.chain.advance_time(LIVENESS)
    for report, batch in ((seller_says, seller_batch), (buyer_says, buyer_batch)):
        with ledger.refuses("SlaReportDisputed", reportId=seller_says.report_id):
            ledger.client.finalize(ledger.outsider.sender, terms, report, batch)


def test_dispute_conflict__same_content__reverts(ledger):
    terms = ledger.open()
    claim = ledger.delivery(terms)
    seller_batch, buyer_batch = ledger.both_submit(claim)
    with ledger.refuses("SlaNoConflict", reportId=claim.report_id):
        ledger.client.dispute_conflict(ledger.outsider.sender, terms, claim, seller_batch, claim, buyer_batch)


def test_dispute_conflict__different_facts__reverts(ledger):
    terms = ledger.open()
    delivery = ledger.delivery(terms)
    month = ledger.period(terms, 1)
    seller_batch, buyer_batch = ledger.both_submit(delivery, month)
    with ledger.refuses("SlaDifferentReports", reportIdA=delivery.report_id, reportIdB=month.report_id):
        ledger.client.dispute_conflict(
            ledger.outsider.sender, terms, delivery, seller_batch, month, buyer_batch
        )


def test_resolve__council_rules_for_the_buyer__finalises_its_content_and_the_seller_loses(ledger):
    terms = ledger.open()
    seller_says = ledger.delivery(terms)
    buyer_says = ledger.delivery(terms, days_late=5)
    seller_batch, _ = ledger.submit(ledger.seller, [seller_says])
    ledger.client.dispute(ledger.buyer.oracle_key.sender, terms, seller_says, seller_batch)

    receipt = ledger.council_decides(ledger.client.resolve_call(terms, buyer_says, ledger.seller.address))

    assert ledger.client.status(buyer_says) is ReportStatus.FINAL
    [ruled] = ledger.client.events(receipt, "DisputeResolved")
    assert (bytes(ruled["contentHash"]), ruled["loser"]) == (buyer_says.content_hash, ledger.seller.address)
    seller = ledger.client.reputation(ledger.seller.address)
    assert (seller.disputes_lost, seller.orders_delivered, seller.orders_on_time, seller.total_days_late) == (
        1,
        1,
        0,
        5,
    )
    assert ledger.escrow.order(terms.order_id()).status is OrderStatus.ACTIVE
    assert ledger.client.reputation(ledger.buyer.address).disputes_lost == 0


def test_resolve__not_through_the_registry__reverts(ledger):
    terms, claim, batch = ledger.claimed()
    ledger.client.dispute(ledger.buyer.oracle_key.sender, terms, claim, batch)
    ruling = ledger.client.resolve_call(terms, claim, None)
    with ledger.refuses("SlaNotCouncil", caller=ledger.council.address):
        ledger.council.sender.transact(ruling)


def test_resolve__undisputed_report__is_refused_inside_the_council_call(ledger):
    terms = ledger.open()
    claim = ledger.delivery(terms)
    ledger.submit(ledger.seller, [claim])
    ledger.council_refused(
        ledger.client.resolve_call(terms, claim, None), "SlaNotDisputed", reportId=claim.report_id
    )


def test_resolve__loser_outside_the_order__is_refused(ledger):
    terms, claim, batch = ledger.claimed()
    ledger.client.dispute(ledger.buyer.oracle_key.sender, terms, claim, batch)
    ledger.council_refused(
        ledger.client.resolve_call(terms, claim, ledger.other.address),
        "SlaLoserNotAParty",
        loser=ledger.other.address,
    )


def test_dispute_conflict__late_content_after_the_window__cannot_block_finality(ledger):
    terms = ledger.open()
    seller_says = ledger.delivery(terms)
    seller_batch, _ = ledger.submit(ledger.seller, [seller_says])
    ended = ledger.client.batch_stored(seller_batch).submitted_at + LIVENESS
    ledger.chain.advance_time(LIVENESS)
    buyer_says = ledger.delivery(terms, days_late=5)
    buyer_batch, _ = ledger.submit(ledger.buyer, [buyer_says])
    with ledger.refuses("SlaLivenessOver", reportId=seller_says.report_id, endedAt=ended):
        ledger.client.dispute_conflict(
            ledger.outsider.sender, terms, seller_says, seller_batch, buyer_says, buyer_batch
        )
    ledger.client.finalize(ledger.outsider.sender, terms, seller_says, seller_batch)
    assert ledger.client.status(seller_says) is ReportStatus.FINAL
