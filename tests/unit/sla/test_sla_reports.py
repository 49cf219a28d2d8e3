"""Building on-chain SLA reports from Sonata resources (the example payloads) and measurements."""

import copy

import pytest
from eth_abi import encode
from eth_utils import keccak

from offnet.market.types import REPORT_ABI, FailureReason, PeriodMetrics, ReportKind, SlaReport
from offnet.sla.reports import (
    order_report,
    period_report,
    quote_answered_on_time,
    ticket_evidence,
    ticket_key,
    ticket_report,
    time_to_restore,
)
from offnet.sonata.canonical import document_hash
from offnet.sonata.examples import load_example
from offnet.sonata.models import ProductOrder, TroubleTicket, rfc3339_to_unix

ORDER_ID = keccak(text="terms of PO-51E90B")


def order_in(state: str, **changes) -> dict:
    order = copy.deepcopy(load_example("product_order"))
    order["state"] = state
    order["productOrderItem"][0].update(changes)
    return order


def test_order_report__completed__carries_committed_and_completion_dates_and_evidence():
    order = load_example("product_order")
    report = order_report(ORDER_ID, order)
    assert report == SlaReport(
        ORDER_ID,
        ReportKind.ORDER_COMPLETED,
        0,
        rfc3339_to_unix("2026-02-26T00:00:00Z"),
        rfc3339_to_unix("2026-02-27T11:05:00Z"),
        evidence_hash=document_hash(
            {
                "@type": "ProductOrder",
                "id": order["id"],
                "state": "completed",
                "committedCompletionDate": "2026-02-26T00:00:00Z",
                "completionDate": "2026-02-27T11:05:00Z",
            }
        ),
    )


def test_order_report__later_changes_to_the_order__keep_the_same_evidence():
    """Buyer and seller fetch the order at different times: the fact's content must not change."""
    order = load_example("product_order")
    later = copy.deepcopy(order)
    later["note"] = [{"text": "customer informed", "date": "2026-03-01T09:00:00Z"}]
    later["stateChange"] = [
        *order.get("stateChange", []),
        {"state": "completed", "changeDate": "2026-03-01T09:00:00Z"},
    ]
    assert order_report(ORDER_ID, later) == order_report(ORDER_ID, order)


def test_order_report__the_relays_first_expected_date__wins_over_a_revised_one():
    report = order_report(
        ORDER_ID, load_example("product_order"), committed_completion_date="2026-02-20T00:00:00Z"
    )
    assert report.value0 == rfc3339_to_unix("2026-02-20T00:00:00Z")


def test_order_report__pydantic_model_and_dict__give_the_same_report():
    order = load_example("product_order")
    assert (
        order_report(ORDER_ID, ProductOrder.model_validate(order)).content_hash
        == order_report(
            ORDER_ID,
            ProductOrder.model_validate(order).model_dump(mode="json", by_alias=True, exclude_none=True),
        ).content_hash
    )


def test_order_report__acknowledged_and_in_progress__dated_by_the_document_not_the_notification():
    acknowledged = order_in("acknowledged")
    acknowledged["stateChange"] = [{"state": "acknowledged", "changeDate": "2026-02-02T08:30:00Z"}]
    ack = order_report(ORDER_ID, acknowledged)
    assert (ack.kind, ack.value0) == (ReportKind.ORDER_ACKNOWLEDGED, rfc3339_to_unix("2026-02-02T08:30:00Z"))
    progress = order_in("inProgress", completionDate=None)
    report = order_report(ORDER_ID, progress)
    assert (report.kind, report.value0) == (
        ReportKind.ORDER_IN_PROGRESS,
        rfc3339_to_unix("2026-02-26T00:00:00Z"),
    )


def test_order_report__in_progress_without_a_committed_date__reports_nothing_yet():
    order = order_in("inProgress")
    del order["productOrderItem"][0]["expectedCompletionDate"]
    assert order_report(ORDER_ID, order) is None


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("rejected", FailureReason.REJECTED),
        ("failed", FailureReason.FAILED),
        ("cancelled", FailureReason.CANCELLED),
    ],
)
def test_order_report__terminal_failures__carry_the_reason(state, reason):
    order = order_in(state)
    order["stateChange"].append({"state": state, "changeDate": "2026-02-05T10:00:00Z"})
    report = order_report(ORDER_ID, order)
    assert (report.kind, report.value0, report.value1) == (
        ReportKind.ORDER_FAILED,
        reason,
        rfc3339_to_unix("2026-02-05T10:00:00Z"),
    )


def test_order_report__non_reporting_states__give_none_and_incomplete_completion_is_refused():
    assert order_report(ORDER_ID, order_in("held.assessingCharge")) is None
    order = order_in("completed", completionDate=None)
    del order["completionDate"]
    with pytest.raises(ValueError, match="lacks"):
        order_report(ORDER_ID, order)


def test_ticket_report__resolved_ticket__time_to_restore_from_issue_start():
    ticket = load_example("trouble_ticket")
    report = ticket_report(ORDER_ID, ticket)
    restore = rfc3339_to_unix("2026-03-14T05:02:00Z") - rfc3339_to_unix("2026-03-14T03:12:00Z")
    assert report == SlaReport(
        ORDER_ID,
        ReportKind.TROUBLE_TICKET,
        ticket_key("TT-0C11"),
        restore,
        rfc3339_to_unix("2026-03-14T05:02:00Z"),
        evidence_hash=document_hash(ticket_evidence(ticket)),
    )
    assert ticket_evidence(ticket) == {
        "@type": "TroubleTicket",
        "id": "TT-0C11",
        "issueStartDate": "2026-03-14T03:12:00Z",
        "resolutionDate": "2026-03-14T05:02:00Z",
    }
    # Closed a day after it was resolved: the same fact, the same evidence.
    closed = {**ticket, "status": "closed", "lastUpdate": "2026-03-15T05:02:00Z"}
    assert ticket_report(ORDER_ID, closed) == report
    assert ticket_key("TT-0C11") == int.from_bytes(keccak(text="TT-0C11"), "big")


@pytest.mark.parametrize(
    ("changes", "as_dict", "as_model"),
    [
        ({}, "85706e4ef3bb8169", "85706e4ef3bb8169"),
        (
            {
                "id": "TT-\u00fc-1",
                "issueStartDate": "2026-03-14T05:12:00.250+02:00",
                "resolutionDate": "2026-03-14T05:02:00.5Z",
            },
            "a8c94ca037af7110",
            "2a18144e3a7cbdd2",
        ),
        ({"issueStartDate": None}, "0ece3ae1faa543a4", "0ece3ae1faa543a4"),
    ],
)
def test_ticket_report__evidence_hash__is_pinned_for_documents_and_models(changes, as_dict, as_model):
    """The evidence hash is what buyer and seller oracles must agree on: these values were computed
    for these documents once and must never move (a ticket's other fields, notes, contacts and state
    changes, play no part)."""
    ticket = {**load_example("trouble_ticket"), **changes}
    ticket = {k: v for k, v in ticket.items() if v is not None}
    model = TroubleTicket.model_validate(ticket)
    assert ticket_report(ORDER_ID, ticket).evidence_hash.hex()[:16] == as_dict
    assert ticket_report(ORDER_ID, model).evidence_hash.hex()[:16] == as_model
    noisy = {
        **ticket,
        "note": [{"author": "NOC", "date": "2026-03-15T00:00:00Z", "source": "seller", "text": "x"}],
    }
    assert ticket_report(ORDER_ID, noisy) == ticket_report(ORDER_ID, ticket)


def test_ticket_report__open_ticket__reports_nothing_and_start_falls_back_to_creation():
    ticket = copy.deepcopy(load_example("trouble_ticket"))
    ticket["status"] = "inProgress"
    assert ticket_report(ORDER_ID, ticket) is None
    del ticket["issueStartDate"]
    assert time_to_restore(ticket) == rfc3339_to_unix("2026-03-14T05:02:00Z") - rfc3339_to_unix(
        "2026-03-14T03:20:41Z"
    )


def test_period_report__from_percent_fields_and_outages_of_the_measurement():
    measurement = {
        "orderId": "PO-51E90B",
        "period": "2026-04",
        "availabilityPercent": 99.95,
        "frameDelayUs": 8200,
        "frameLossRatioPercent": 0.001,
        "outages": [
            {"start": "2026-04-03T01:00:00Z", "end": "2026-04-03T01:20:00Z", "durationSeconds": 1200}
        ],
    }
    report = period_report(ORDER_ID, 2, measurement)
    assert report == SlaReport(
        ORDER_ID,
        ReportKind.PERIOD,
        2,
        metrics=PeriodMetrics(999_500, 8200, 10, 1200, 1),
        evidence_hash=document_hash(measurement),
    )


def test_period_report__time_to_restore_comes_from_the_tickets_when_given():
    measurement = {"availabilityPpm": 999_000, "frameDelayUs": 9000, "frameLossRatioPpm": 3, "outages": 2}
    ticket = load_example("trouble_ticket")
    report = period_report(ORDER_ID, 1, measurement, [ticket])
    assert report.metrics == PeriodMetrics(999_000, 9000, 3, time_to_restore(ticket), 2)
    assert report.evidence_hash == document_hash(
        {"measurement": measurement, "troubleTickets": [ticket_evidence(ticket)]}
    )
    with pytest.raises(ValueError, match="count from 1"):
        period_report(ORDER_ID, 0, measurement)


def test_quote_answered_on_time__compares_effective_with_requested_completion():
    quote = load_example("quote")
    assert quote_answered_on_time(quote)
    late = {**quote, "effectiveQuoteCompletionDate": "2026-02-04T00:00:00Z"}
    assert not quote_answered_on_time(late)
    assert not quote_answered_on_time({**quote, "effectiveQuoteCompletionDate": None})


def test_report__ids_hashes_and_leaves_follow_the_contract_encoding():
    report = order_report(ORDER_ID, load_example("product_order"))
    assert report.report_id == keccak(encode(["bytes32", "uint8", "uint32"], [ORDER_ID, 3, 0]))
    assert report.content_hash == keccak(encode([REPORT_ABI], [report.to_tuple()]))
    member = "0x" + "11" * 20
    assert report.leaf(member) == keccak(
        bytes(12) + bytes.fromhex("11" * 20) + encode([REPORT_ABI], [report.to_tuple()])
    )
    assert SlaReport.from_tuple(report.to_tuple()) == report
