"""What a Sonata quote item commits the seller to, in chain terms: charges, term, install interval, SLS.

The seller's oracle builds its EIP-712 quote from these; the buyer's tools read the same figures to
compare quotes, so both sides turn one Sonata document into the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from offnet.sonata.canonical import document_hash
from offnet.sonata.models import QuoteItem, money_to_units

MONTH_UNITS = ("calendarMonths", "months", "MONTH")
DEFAULT_TERM_MONTHS = 12
DEFAULT_INSTALL_DAYS = 30


def _plain(item: QuoteItem) -> dict[str, Any]:
    return item.model_dump(mode="json", by_alias=True, exclude_none=True)


def term_months(item: QuoteItem, default: int = DEFAULT_TERM_MONTHS) -> int:
    """The commitment term of a quote item in months (quoteItemTerm, else requestedQuoteItemTerm)."""
    data = _plain(item)
    for key in ("quoteItemTerm", "requestedQuoteItemTerm"):
        terms = data.get(key)
        term = terms[0] if isinstance(terms, list) and terms else terms
        duration = (term or {}).get("duration") if isinstance(term, dict) else None
        if duration and duration.get("units") in MONTH_UNITS:
            return int(duration["amount"])
    return default


def charges(item: QuoteItem, decimals: int) -> tuple[int, int]:
    """(one-time, monthly) charges of a quote item in the token's smallest unit."""
    one_time = monthly = 0
    for price in item.quoteItemPrice or []:
        amount = money_to_units(price.price.dutyFreeAmount, decimals)
        if str(price.priceType) == "recurring":
            monthly += amount
        else:
            one_time += amount
    return one_time, monthly


def install_days(item: QuoteItem, default: int = DEFAULT_INSTALL_DAYS) -> int:
    """The quoted installation interval in days (quoteItemInstallationInterval)."""
    interval = item.quoteItemInstallationInterval
    return int(interval.amount) if interval is not None else default


def service_level_spec(item: QuoteItem) -> dict[str, Any]:
    """The quote item's Carrier Ethernet SLS (`carrierEthernetSls`), or {} when it states none."""
    product = _plain(item).get("product") or {}
    configuration = product.get("productConfiguration") or {}
    return configuration.get("carrierEthernetSls") or configuration.get("sls") or {}


def sla_terms_hash(item: QuoteItem, credits: Mapping[str, int]) -> bytes:
    """The `slaTermsHash` of an offer: keccak-256 of the canonical JSON of its SLS and credit schedule
    (`credits` by CreditSchedule field name, as the seller configured it)."""
    return document_hash({"carrierEthernetSls": service_level_spec(item), "credits": dict(credits)})


# --- what a quote request asks for (plain JSON: the buyer's document as it was hashed on chain) ------

# Credit rates a seller offers when it names none: per day late, per objective missed, monthly cap
# (basis points of the charge). The objectives themselves come from the request's SLS.
DEFAULT_CREDIT_RATES = {
    "late_delivery_bps_per_day": 100,
    "late_delivery_cap_bps": 2_000,
    "availability_credit_bps": 1_000,
    "frame_delay_credit_bps": 500,
    "frame_loss_credit_bps": 500,
    "monthly_credit_cap_bps": 3_000,
}
_MICROSECONDS = {
    "NS": 0.001,
    "US": 1,
    "MS": 1_000,
    "SEC": 1_000_000,
    "MIN": 60_000_000,
    "HOUR": 3_600_000_000,
}


def requested_item(request: Mapping[str, Any]) -> dict[str, Any]:
    """The first quote item of a Sonata quote request (the one an offnet RFQ prices)."""
    items = request.get("quoteItem") or []
    if not items or not isinstance(items[0], dict):
        raise ValueError("the quote request has no quoteItem")
    return items[0]


def requested_term_months(item: Mapping[str, Any]) -> int | None:
    """The requested commitment term in months (requestedQuoteItemTerm), if the request states one."""
    term = item.get("requestedQuoteItemTerm")
    term = term[0] if isinstance(term, list) and term else term
    duration = term.get("duration") if isinstance(term, dict) else None
    if isinstance(duration, dict) and duration.get("units") in MONTH_UNITS:
        return int(duration["amount"])
    return None


def requested_objectives(item: Mapping[str, Any]) -> dict[str, int]:
    """The SLS objectives a quote request asks for, as CreditSchedule fields in on-chain units
    (availability and frame loss in ppm, frame delay in microseconds); the tightest one per metric."""
    configuration = (item.get("product") or {}).get("productConfiguration") or {}
    sls = configuration.get("carrierEthernetSls") or []
    entries = [e for s in (sls if isinstance(sls, list) else [sls]) for e in s.get("slsCosNameEntry", [])]
    availability = [
        m["oneWayAvailabilityObjective"] for e in entries for m in e.get("oneWayAvailabilityPmMetric", [])
    ]
    loss = [m["oneWayFlrObjective"] for e in entries for m in e.get("oneWayFrameLossRatioPmMetric", [])]
    delay = [
        m["oneWayFdObjective"]["timeDurationValue"]
        * _MICROSECONDS[m["oneWayFdObjective"]["timeDurationUnits"]]
        for e in entries
        for m in e.get("oneWayFrameDelayPmMetric", [])
    ]
    found = {}
    if availability:
        found["availability_objective_ppm"] = round(max(availability) * 10_000)
    if loss:
        found["frame_loss_objective_ppm"] = round(min(loss) * 10_000)
    if delay:
        found["frame_delay_objective_us"] = round(min(delay))
    return found


def offered_credits(item: Mapping[str, Any], rates: Mapping[str, int] | None = None) -> dict[str, int]:
    """The credit schedule (CreditSchedule field names) a seller offers against a request: the
    request's objectives, then `rates` (DEFAULT_CREDIT_RATES unless given; a seller's own file may
    also set or tighten objectives). A `<metric>_credit_bps` counts only for a metric with an
    objective: a metric the request does not measure earns no credit."""
    credits = requested_objectives(item)
    rates = dict(DEFAULT_CREDIT_RATES if rates is None else rates)
    credits.update({k: v for k, v in rates.items() if not k.endswith("_credit_bps")})
    for key, value in rates.items():
        metric = key.removesuffix("_credit_bps")
        if key.endswith("_credit_bps") and any(k.startswith(f"{metric}_objective") for k in credits):
            credits[key] = value
    return credits
