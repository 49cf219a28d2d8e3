"""Reputation: arithmetic over many final facts, quote timeliness, and who can never move it."""

from dataclasses import replace

from eth_utils import keccak

from offnet.market.types import FailureReason, PeriodMetrics, ReportKind, ReportStatus, SlaReport
from offnet.testing.world import BAD_MONTH, DAY, GOOD_MONTH, LIVENESS, events


def test_reputation__many_final_facts__aggregate_and_score_as_documented(ledger, gas):
    on_time, late, failed = (ledger.open(rfq_id=i) for i in (1, 2, 3))
    months = [
        GOOD_MONTH,
        BAD_MONTH,
        replace(GOOD_MONTH, availability_ppm=999_000),
    ]  # the third misses availability
    seller_reports = [
        ledger.delivery(on_time),
        ledger.delivery(late, days_late=2.2),  # 3 whole days late, rounded up
        SlaReport(failed.order_id(), ReportKind.ORDER_FAILED, 0, FailureReason.FAILED, on_time.awarded_at),
    ]
    # Deliveries are final first (in-life facts only count for delivered orders), then the months and
    # two trouble tickets, all in one batch per side, after the liveness window, by anyone.
    seller_batch, _ = ledger.submit(ledger.seller, seller_reports)
    ledger.chain.advance_time(LIVENESS + 3 * 31 * DAY)
    for terms, report in zip((on_time, late, failed), seller_reports, strict=True):
        ledger.ledger.finalize(ledger.stranger.sender, terms, report, seller_batch)
    in_life = [ledger.period(on_time, p + 1, m) for p, m in enumerate(months)]
    tickets = [
        SlaReport(
            on_time.order_id(),
            ReportKind.TROUBLE_TICKET,
            key,
            restore,
            ledger.chain.now(),
            evidence_hash=keccak(text=f"ticket {key}"),
        )
        for key, restore in ((7, 3_600), (8, 9_000))
    ]
    buyer_batch, _ = ledger.submit(ledger.buyer, [*in_life, *tickets])
    ledger.chain.advance_time(LIVENESS)
    for report in [*in_life, *tickets]:
        ledger.ledger.finalize(ledger.stranger.sender, on_time, report, buyer_batch)
    for on_time_answer in (True, True, False, True):
        ledger.ledger.record_quote_timeliness(ledger.market.sender, ledger.seller.address, on_time_answer)

    r = ledger.ledger.reputation(ledger.seller.address)

    assert (r.quotes_requested, r.quotes_on_time) == (4, 3)
    assert (r.orders_delivered, r.orders_on_time, r.orders_failed, r.total_days_late) == (2, 1, 1, 3)
    assert (r.periods_reported, r.periods_meeting_objectives) == (3, 1)
    assert r.availability_sum_ppm == sum(m.availability_ppm for m in months)
    assert (r.trouble_tickets, r.total_restore_sec) == (2, 12_600)
    assert r.quote_timeliness_ppm == 750_000
    assert r.on_time_delivery_ppm == 500_000
    assert r.delivery_success_ppm == 666_666
    assert r.average_days_late_milli == 1_500
    assert r.sla_compliance_ppm == 333_333
    assert r.average_availability_ppm == sum(m.availability_ppm for m in months) // 3
    assert r.average_restore_sec == 6_300
    assert r.overall_ppm == (750_000 + 500_000 + 333_333) // 3
    assert r.disputes_lost == 0
    # The buyer's reputation as a provider did not move.
    assert ledger.ledger.reputation(ledger.buyer.address) == ledger.ledger.reputation(ledger.other.address)


def test_reputation__of_a_new_provider__is_all_zero(ledger):
    r = ledger.ledger.reputation(ledger.other.address)
    assert (r.quotes_requested, r.orders_delivered, r.periods_reported, r.overall_ppm) == (0, 0, 0, 0)


def test_record_quote_timeliness__by_the_market__counts_and_emits(ledger, gas):
    receipt = ledger.ledger.record_quote_timeliness(ledger.market.sender, ledger.seller.address, False)
    [recorded] = events(ledger.ledger, receipt, "QuoteTimelinessRecorded")
    assert (recorded.provider, recorded.answeredOnTime) == (ledger.seller.address, False)
    r = ledger.ledger.reputation(ledger.seller.address)
    assert (r.quotes_requested, r.quotes_on_time, r.quote_timeliness_ppm) == (1, 0, 0)
    gas.check("SlaLedger.recordQuoteTimeliness", receipt.gas_used)


def test_record_quote_timeliness__by_the_provider_itself__reverts(ledger):
    ledger.refuse(
        lambda: ledger.ledger.record_quote_timeliness(ledger.seller.sender, ledger.seller.address, True),
        "SlaNotMarket",
        caller=ledger.seller.address,
    )


def test_reputation__made_up_order_with_an_idle_buyer__cannot_be_finalised(ledger):
    # The seller invents terms with a member it never traded with and reports a perfect delivery;
    # the buyer's oracle stays silent. The escrow knows no such order, so finality reverts.
    invented = ledger.terms(rfq_id=99)
    claim = ledger.delivery(invented)
    ledger.refuse_finality(
        invented,
        claim,
        "EscrowUnknownOrder",
        orderId=invented.order_id(),
    )


def test_reputation__trouble_ticket_of_an_undelivered_order__does_not_count(ledger):
    invented = ledger.terms(rfq_id=98)
    ticket = SlaReport(invented.order_id(), ReportKind.TROUBLE_TICKET, 1, 60, ledger.chain.now())
    ledger.refuse_finality(
        invented,
        ticket,
        "SlaOrderNotDelivered",
        orderId=invented.order_id(),
    )


def test_reputation__self_dealing_terms__are_refused(ledger):
    mirror = ledger.terms(buyer=ledger.seller.address)
    ack = SlaReport(mirror.order_id(), ReportKind.ORDER_ACKNOWLEDGED, 0, 1)
    ledger.refuse_finality(
        mirror,
        ack,
        "SlaSelfDealing",
        member=ledger.seller.address,
    )


def test_reputation__a_second_outcome_for_a_delivered_order__takes_no_effect(ledger):
    terms = ledger.open()
    ledger.settle(terms, ledger.delivery(terms))
    before = ledger.state()
    failure = SlaReport(terms.order_id(), ReportKind.ORDER_FAILED, 0, FailureReason.FAILED, 1)
    receipt = ledger.settle(terms, failure)
    # The escrow settled delivery already: the failure moves nothing and counts for nobody.
    assert receipt.raw["logs"] == []
    after = ledger.state()
    assert (after["orders"], after["reputation"], after["balances"]) == (
        before["orders"],
        before["reputation"],
        before["balances"],
    )
    assert ledger.ledger.status(failure) is ReportStatus.NONE


def test_reputation__objectives_not_measured__count_as_met(ledger):
    terms = ledger.open(
        credits=replace(
            ledger.terms().credits,
            availability_objective_ppm=0,
            frame_delay_objective_us=0,
            frame_loss_objective_ppm=0,
            time_to_restore_objective_sec=0,
        )
    )
    ledger.settle(terms, ledger.delivery(terms))
    ledger.chain.advance_time(31 * DAY)
    ledger.settle(terms, ledger.period(terms, 1, PeriodMetrics(500_000, 10**6, 10**5, 10**5, 9)))
    r = ledger.ledger.reputation(ledger.seller.address)
    assert (r.periods_reported, r.periods_meeting_objectives) == (1, 1)
