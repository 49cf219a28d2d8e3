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
