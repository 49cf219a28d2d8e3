"""THE mapping from Sonata resources and measurements to SlaLedger reports (see ISlaLedger.sol).

Every SLA fact offnet puts on chain is built here, by the buyer's and the seller's oracles alike, so
two honest oracles relaying the same Sonata resource produce byte-identical reports (and the ledger
finalises them at once). Inputs are plain JSON-like dicts (a pydantic Sonata model is dumped first);
each report carries the keccak-256 of the canonical JSON of what it was derived from.

Facts take their times from the document only, never from the notification's eventTime (which the
notifying peer chooses freely). Every value is checked as the report is built (InvalidInput names the
field): a date before 1970 or beyond the ledger's 40-bit dates is refused, so no report that exists
can block the outbox.

Field use per kind (see contracts/libraries/ReportKinds.sol):

| kind | key | value0 | value1 | metrics |
|---|---|---|---|---|
| ORDER_ACKNOWLEDGED | 0 | when the order was acknowledged (its state change, else orderDate) | 0 | - |
| ORDER_IN_PROGRESS | 0 | committed expectedCompletionDate | 0 | - |
| ORDER_COMPLETED | 0 | committed expectedCompletionDate | completionDate | - |
| ORDER_FAILED | 0 | FailureReason | when (cancellationDate, else the state change) | - |
| PERIOD | billing period (1 = first month) | 0 | 0 | PeriodMetrics |
| TROUBLE_TICKET | ticket_key(ticket id) | time to restore (s) | resolutionDate | - |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from _pysha3 import keccak_256
from pydantic_core import to_jsonable_python

from offnet.exceptions import InvalidInput
from offnet.market.types import FailureReason, PeriodMetrics, ReportKind, SlaReport
from offnet.sla.measurements import Measurement, read_measurement
from offnet.sonata.canonical import document_hash
from offnet.sonata.models import rfc3339_to_unix

_FAILED_STATES = {
    "rejected": FailureReason.REJECTED,
    "failed": FailureReason.FAILED,
    "cancelled": FailureReason.CANCELLED,
}
_RESOLVED_TICKET_STATES = {"resolved", "closed"}
# What a ticket's resolution report reads (the fact, its time to restore and its evidence record).
_TICKET_FACT_FIELDS = frozenset({"id", "status", "issueStartDate", "creationDate", "resolutionDate"})


# --- helpers --------------------------------------------------------------------------------------


def _plain(resource: Any, only: frozenset[str] | None = None) -> dict[str, Any]:
    """A resource as plain JSON data (pydantic models dumped by alias, datetimes as RFC 3339 text);
    `only`: just these top-level fields (a fact that reads a few fields need not dump the rest)."""
    if hasattr(resource, "model_dump"):
        return resource.model_dump(mode="json", by_alias=True, exclude_none=True, include=only)
    if only is not None and isinstance(resource, Mapping):
        resource = {key: value for key, value in resource.items() if key in only}
    return to_jsonable_python(resource)


MAX_DATE = 2**40 - 1  # the ledger's dates are uint40
MAX_RESTORE = 2**32 - 1  # the ledger's time to restore is uint32


def _unix(value: Any, what: str = "date") -> int:
    if not value:
        return 0
    try:
        moment = rfc3339_to_unix(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what}: {exc}") from None
    if not 0 < moment <= MAX_DATE:
        raise InvalidInput(f"{what} {value!r} is outside 1970-01-01 .. 36812-02-20 (the ledger's dates)")
    return moment


# How far ahead of chain time a seller's clock may run before its dates are refused: carriers' clocks
# drift and chain time lags a block or so, but a completion "three days from now" is not a fact.
FUTURE_TOLERANCE = 12 * 3600


def not_in_future(report: SlaReport, now: int, skew: int = FUTURE_TOLERANCE) -> SlaReport:
    """`report`, refused (InvalidInput) when it dates a completion, failure or resolution in the future:
    a fact cannot be true before it happened (`skew` seconds of clock difference are tolerated)."""
    dated = {ReportKind.ORDER_COMPLETED, ReportKind.ORDER_FAILED, ReportKind.TROUBLE_TICKET}
    if report.kind in dated and report.value1 > now + skew:
        raise InvalidInput(
            f"{report.kind.name.lower()} report dated {_iso(report.value1)}, in the future (now "
            f"{_iso(now)}): a fact cannot precede the event it states"
        )
    return report


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ticket_key(ticket_id: str) -> int:
    """The report key of a Sonata trouble ticket id: its whole keccak-256 (no other ticket id can be
    ground to the same key)."""
    if not ticket_id:
        raise InvalidInput("a trouble ticket needs an id")
    return int.from_bytes(keccak_256(ticket_id.encode("utf-8")).digest(), "big")


def _order_item(order: Mapping[str, Any]) -> Mapping[str, Any]:
    items = order.get("productOrderItem") or []
    if len(items) != 1:
        raise InvalidInput(
            f"product order {order.get('id')!r} has {len(items)} items; an offnet order has one"
        )
    return items[0]


# --- Sonata quote -------------------------------------------------------------------------------


def quote_answered_on_time(quote: Mapping[str, Any] | Any) -> bool:
    """True when the seller reached a completion state by the buyer's requestedQuoteCompletionDate."""
    data = _plain(quote)
    requested = data.get("requestedQuoteCompletionDate")
    effective = data.get("effectiveQuoteCompletionDate")
    if not requested or not effective:
        return False
    return rfc3339_to_unix(effective) <= rfc3339_to_unix(requested)


# --- Sonata product order -------------------------------------------------------------------------


def order_report(
    order_id: bytes,
    product_order: Mapping[str, Any] | Any,
    *,
    committed_completion_date: str | None = None,
) -> SlaReport | None:
    """The lifecycle report a product order in its current state gives, or None (nothing to report).

    `committed_completion_date` is the item's FIRST expectedCompletionDate, which the relay keeps:
    the resource only shows the latest revision.
    """
    data = _plain(product_order)
    state = data.get("state")
    item = _order_item(data)
    committed = committed_completion_date or item.get("expectedCompletionDate")
    evidence = document_hash(order_evidence(data, committed))
    if state == "acknowledged":
        return SlaReport(
            order_id,
            ReportKind.ORDER_ACKNOWLEDGED,
            0,
            _unix(_last_change(data.get("stateChange"), state) or data.get("orderDate"), "orderDate"),
            evidence_hash=evidence,
        )
    if state == "inProgress":
        if not committed:
            return None  # the seller has not committed a date yet
        return SlaReport(
            order_id,
            ReportKind.ORDER_IN_PROGRESS,
            0,
            _unix(committed, "expectedCompletionDate"),
            evidence_hash=evidence,
        )
    if state == "completed":
        completed = item.get("completionDate") or data.get("completionDate")
        if not committed or not completed:
            raise InvalidInput(
                f"completed product order {data.get('id')!r} lacks an expected or a completion date"
            )
        return SlaReport(
            order_id,
            ReportKind.ORDER_COMPLETED,
            0,
            _unix(committed, "expectedCompletionDate"),
            _unix(completed, "completionDate"),
            evidence_hash=evidence,
        )
    if state in _FAILED_STATES:
        when = data.get("cancellationDate") or _last_change(data.get("stateChange"), state)
        return SlaReport(
            order_id,
            ReportKind.ORDER_FAILED,
            0,
            int(_FAILED_STATES[state]),
            _unix(when, "failure date"),
            evidence_hash=evidence,
        )
    return None


def _last_change(changes: list[Mapping[str, Any]] | None, state: str) -> str | None:
    dates = [c["changeDate"] for c in changes or [] if c.get("state") == state]
    return dates[-1] if dates else None


# --- Sonata trouble ticket ------------------------------------------------------------------------


def time_to_restore(trouble_ticket: Mapping[str, Any] | Any) -> int:
    """Seconds from issueStartDate (else creationDate) to resolutionDate; the ticket must be resolved."""
    return _time_to_restore(_plain(trouble_ticket))


def _time_to_restore(data: Mapping[str, Any]) -> int:
    start = data.get("issueStartDate") or data.get("creationDate")
    end = data.get("resolutionDate")
    if not start or not end:
        raise InvalidInput(f"trouble ticket {data.get('id')!r} has no start or no resolution date")
    seconds = max(0, _unix(end, "resolutionDate") - _unix(start, "issueStartDate"))
    if seconds > MAX_RESTORE:
        raise InvalidInput(
            f"trouble ticket {data.get('id')!r}: a time to restore of {seconds} s is not possible"
        )
    return seconds


def ticket_report(order_id: bytes, trouble_ticket: Mapping[str, Any] | Any) -> SlaReport | None:
    """The resolution report of a trouble ticket, or None while it is not resolved."""
    data = _plain(trouble_ticket, _TICKET_FACT_FIELDS)
    if data.get("status") not in _RESOLVED_TICKET_STATES or not data.get("resolutionDate"):
        return None
    return SlaReport(
        order_id,
        ReportKind.TROUBLE_TICKET,
        ticket_key(data["id"]),
        _time_to_restore(data),
        _unix(data["resolutionDate"], "resolutionDate"),
        evidence_hash=document_hash(_ticket_evidence(data)),
    )


# --- evidence: what a fact was derived from ---------------------------------------------------------
#
# A report's evidence hash is keccak-256 of the canonical JSON of an *evidence record*: the Sonata
# resource's identity and the fields the fact was derived from, nothing else. The buyer's and the
# seller's oracles fetch a resource at different times, and a resource keeps changing after the
# fact (a resolved ticket is closed a day later, notes and state changes accumulate), so hashing the
# whole document would give the same fact two different contents and defeat matched finality.
# Anyone holding the resource recomputes the record with these functions.


def order_evidence(product_order: Mapping[str, Any], committed_completion_date: str | None = None) -> dict:
    """The evidence record of a product order's lifecycle fact (its id, state and the dates used)."""
    data = _plain(product_order)
    item = _order_item(data)
    record = {
        "@type": "ProductOrder",
        "id": data.get("id"),
        "state": data.get("state"),
        "committedCompletionDate": committed_completion_date or item.get("expectedCompletionDate"),
    }
    if data.get("state") == "completed":
        record["completionDate"] = item.get("completionDate") or data.get("completionDate")
    return {k: v for k, v in record.items() if v is not None}


def ticket_evidence(trouble_ticket: Mapping[str, Any]) -> dict:
    """The evidence record of a trouble ticket's resolution (its id and the dates of its time to restore)."""
    return _ticket_evidence(_plain(trouble_ticket))


def _ticket_evidence(data: Mapping[str, Any]) -> dict:
    record = {
        "@type": "TroubleTicket",
        "id": data.get("id"),
        "issueStartDate": data.get("issueStartDate") or data.get("creationDate"),
        "resolutionDate": data.get("resolutionDate"),
    }
    return {k: v for k, v in record.items() if v is not None}


# --- in-life measurements -------------------------------------------------------------------------


def period_metrics(
    measurement: Mapping[str, Any] | Measurement, trouble_tickets: Iterable[Mapping[str, Any] | Any] = ()
) -> PeriodMetrics:
    """PeriodMetrics from a monthly measurement (checked strictly, see offnet.sla.measurements) and
    its tickets.

    Time to restore is the measurement's own figure, else the longest of the period's resolved
    tickets, else the longest outage of the measurement; outages are its outage list (or count).
    """
    checked = read_measurement(measurement)
    outages = checked.outages
    restores = [time_to_restore(t) for t in trouble_tickets]
    if not restores and isinstance(outages, list):
        restores = [o.durationSeconds for o in outages]
    restore = checked.timeToRestoreSec if checked.timeToRestoreSec is not None else max(restores, default=0)
    return PeriodMetrics(
        availability_ppm=checked.availability_ppm,
        frame_delay_us=checked.frameDelayUs,
        frame_loss_ppm=checked.frame_loss_ppm,
        time_to_restore_sec=min(restore, MAX_RESTORE),
        outages=len(outages) if isinstance(outages, list) else outages,
    )


def period_report(
    order_id: bytes,
    period: int,
    measurement: Mapping[str, Any] | Any,
    trouble_tickets: Iterable[Mapping[str, Any] | Any] = (),
) -> SlaReport:
    """The in-life report of billing period `period` (1 = the first month after delivery)."""
    if period < 1:
        raise InvalidInput(f"billing periods count from 1, got {period}")
    data = _plain(measurement)
    tickets = [_plain(t) for t in trouble_tickets]
    evidence = (
        document_hash({"measurement": data, "troubleTickets": [ticket_evidence(t) for t in tickets]})
        if tickets
        else document_hash(data)
    )
    return SlaReport(
        order_id, ReportKind.PERIOD, period, metrics=period_metrics(data, tickets), evidence_hash=evidence
    )
