"""What a buyer's integration needs beyond the raw API calls: the MEF-valid product order that
accepts a quote item, offnet's ids carried where MEF puts a buyer's own ids (``externalId``), and
typed readings of quotes and orders that hold for every MEF-valid answer (any item state, an item
without a state, dates present or not)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from offnet.sonata.models import (
    APPROVED_QUOTE_STATES,
    TERMINAL_ORDER_STATES,
    ProductOrder,
    ProductOrderCreate,
    ProductOrderItemState,
    ProductOrderState,
    Quote,
    QuoteItemState,
    QuoteState,
    RelatedContactInformation,
    SonataModel,
    validate,
)

RFQ_EXTERNAL_ID_PREFIX = "offnet-rfq:"
"""A quote request offnet sends for an RFQ carries ``externalId = "offnet-rfq:<rfq id>"``."""

FINAL_QUOTE_STATES = frozenset(
    {
        QuoteState.ACCEPTED,
        QuoteState.CANCELLED,
        QuoteState.DECLINED,
        QuoteState.EXPIRED,
        QuoteState.REJECTED,
        QuoteState.UNABLE_TO_PROVIDE,
    }
)


def rfq_external_id(rfq_id: int) -> str:
    """The ``externalId`` of the quote request offnet sends for RFQ ``rfq_id``."""
    return f"{RFQ_EXTERNAL_ID_PREFIX}{rfq_id}"


def rfq_id_of(document: SonataModel | dict[str, Any]) -> int | None:
    """The RFQ id a quote (request) names in its ``externalId``, or None if it names none."""
    external = (
        document.get("externalId") if isinstance(document, dict) else getattr(document, "externalId", None)
    )
    if not isinstance(external, str) or not external.startswith(RFQ_EXTERNAL_ID_PREFIX):
        return None
    digits = external[len(RFQ_EXTERNAL_ID_PREFIX) :]
    return int(digits) if digits.isdigit() else None


def order_accepting_quote(
    quote_id: str,
    quote_item_id: str,
    contacts: list[RelatedContactInformation | dict[str, Any]],
    external_id: str,
    *,
    product: dict[str, Any] | None = None,
    requested_completion_date: str | datetime | None = None,
    item_id: str = "1",
) -> ProductOrderCreate:
    """The ``POST /productOrder`` body that accepts one quote item (MEF: there is no "accept quote"
    call; an order item referencing the quote item accepts it).

    ``contacts`` are who the seller may contact about the order (MEF requires at least one);
    ``external_id`` is the buyer's own id of the order (offnet's order id). ValueError naming the
    field if the result would not be MEF-valid.
    """
    item: dict[str, Any] = {
        "id": item_id,
        "action": "add",
        "quoteItem": {"id": quote_item_id, "quoteId": quote_id},
    }
    if product:
        item["product"] = product
    if requested_completion_date is not None:
        item["requestedCompletionDate"] = requested_completion_date
    return validate(
        ProductOrderCreate,
        {
            "externalId": external_id,
            "relatedContactInformation": [c.to_json() if isinstance(c, SonataModel) else c for c in contacts],
            "productOrderItem": [item],
        },
    )


@dataclass(frozen=True)
class QuoteReading:
    """What a buyer can act on in a quote."""

    state: QuoteState | None
    orderable_items: tuple[str, ...]  # ids of the items that may be ordered now
    final: bool  # the quote will not change any more
    effective_date: datetime | None

    @property
    def orderable(self) -> bool:
        return bool(self.orderable_items)


def read_quote(quote: Quote) -> QuoteReading:
    """The orderable items of an approved quote, and whether the quote is settled."""
    approved = quote.state in APPROVED_QUOTE_STATES
    items = tuple(
        item.id
        for item in quote.quoteItem
        if approved
        and item.state in (QuoteItemState.APPROVED_ORDERABLE, QuoteItemState.APPROVED_ORDERABLE_ALTERNATE)
    )
    return QuoteReading(
        state=quote.state,
        orderable_items=items,
        final=quote.state in FINAL_QUOTE_STATES,
        effective_date=quote.effectiveQuoteCompletionDate,
    )


@dataclass(frozen=True)
class OrderReading:
    """Where a product order stands, read the same way whatever MEF-valid shape it comes in."""

    state: ProductOrderState
    terminal: bool
    items: dict[str, ProductOrderItemState | None]  # None: the seller gave the item no state
    committed_date: datetime | None  # the earliest expectedCompletionDate the seller gave
    completion_date: datetime | None
    failed_items: tuple[str, ...]

    @property
    def delivered(self) -> bool:
        """Completed, or partial with at least one item completed."""
        return self.state is ProductOrderState.COMPLETED or (
            self.state is ProductOrderState.PARTIAL
            and any(s is ProductOrderItemState.COMPLETED for s in self.items.values())
        )


def read_order(order: ProductOrder) -> OrderReading:
    """The state, dates and failed items of a product order."""
    expected = [i.expectedCompletionDate for i in order.productOrderItem if i.expectedCompletionDate]
    completed = [i.completionDate for i in order.productOrderItem if i.completionDate]
    failed = tuple(
        item.id
        for item in order.productOrderItem
        if item.state
        in (
            ProductOrderItemState.FAILED,
            ProductOrderItemState.REJECTED,
            ProductOrderItemState.REJECTED_VALIDATED,
            ProductOrderItemState.REJECTED_UNASSESSED,
        )
    )
    return OrderReading(
        state=order.state,
        terminal=order.state in TERMINAL_ORDER_STATES,
        items={item.id: item.state for item in order.productOrderItem},
        committed_date=min(expected, default=None),
        completion_date=order.completionDate or max(completed, default=None),
        failed_items=failed,
    )
