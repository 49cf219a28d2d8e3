"""Event handling: what a stored notification means. Events are thin, so the resource it names is
fetched from the peer that sent it, checked, linked to its offnet order, and turned into SLA reports
(or handed to the desk it concerns: quotes).

Every byte a peer sends is hostile until checked: the fetched document must be the one the event
names, it can only touch orders whose product order lives in that peer's system, and every fact
taken from it is range-checked and dated by the document (never by the notification's eventTime),
and never in the future. A document that can never give a fact is a permanent failure (a dead letter
with its reason); anything else (a peer down, an order not linked yet) is retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from offnet.exceptions import InvalidInput, SonataError
from offnet.market.types import SlaReport
from offnet.oracle.buyer import BuyerDesk
from offnet.oracle.orders import OrderBook
from offnet.oracle.peers import SELF, PeerClients
from offnet.oracle.seller import SellerDesk
from offnet.oracle.store import StoredEvent
from offnet.sla.reports import not_in_future, order_report, ticket_report
from offnet.sonata.client import INVALID_ANSWER
from offnet.sonata.models import PRODUCT_ORDER_API, QUOTE_API, TROUBLE_TICKET_API

log = logging.getLogger("offnet.oracle.events")

ORDER_EVENTS = {
    "productOrderStateChangeEvent",
    "productOrderItemStateChangeEvent",
    "productOrderItemExpectedCompletionDateSet",
}


def is_permanent(exc: Exception) -> bool:
    """True for a failure no retry can mend: the peer's document itself is unusable."""
    if isinstance(exc, InvalidInput):
        return True
    return isinstance(exc, SonataError) and exc.code == INVALID_ANSWER


class ChainClock:
    """Chain time, read at most once a second (a fact's date is checked against it)."""

    def __init__(self, read: Callable[[], int], ttl: float = 1.0):
        self._read = read
        self._ttl = ttl
        self._value: tuple[float, int] | None = None

    async def now(self, *, fresh: bool = False) -> int:
        if fresh or self._value is None or time.monotonic() - self._value[0] > self._ttl:
            self._value = (time.monotonic(), await asyncio.to_thread(self._read))
        return self._value[1]


@dataclass(eq=False)
class EventHandler:
    """Fetches what each notification names and derives the SLA reports it gives."""

    peers: PeerClients
    orders: OrderBook
    buyer: BuyerDesk
    seller: SellerDesk | None
    clock: ChainClock

    async def handle(self, event: StoredEvent) -> list[SlaReport]:
        """Turn one stored notification into SLA reports (fetching the resource it is about)."""
        client = self.peers.sonata(event.peer)
        if event.api == QUOTE_API.name:
            quote = _same(await client.get_quote(event.resource_id), event)
            if event.peer == SELF:
                if self.seller is not None:
                    await self.seller.on_quote(quote)
            else:
                await self.buyer.on_quote(event.peer, quote)
            return []
        if event.api == PRODUCT_ORDER_API.name:
            if event.event_type not in ORDER_EVENTS:
                return []
            product_order = _same(await client.get_product_order(event.resource_id), event)
            order = await self.orders.for_product_order(event.peer, product_order)
            if order is None:
                return []
            committed = self.orders.committed_date(order, product_order)
            report = order_report(
                bytes.fromhex(order["order_id"][2:]), product_order, committed_completion_date=committed
            )
            checked = await self._checked(report) if report else None
            self.orders.record_progress(order, product_order, committed)
            return [checked] if checked else []
        if event.api == TROUBLE_TICKET_API.name:
            ticket = _same(await client.get_trouble_ticket(event.resource_id), event)
            order = await self.orders.for_ticket(event.peer, client, ticket)
            report = ticket_report(bytes.fromhex(order["order_id"][2:]), ticket)
            return [await self._checked(report)] if report else []
        return []

    async def _checked(self, report: SlaReport) -> SlaReport:
        """The report, unless it dates a fact in the future (checked against fresh chain time first)."""
        try:
            return not_in_future(report, await self.clock.now())
        except InvalidInput:
            return not_in_future(report, await self.clock.now(fresh=True))


def _same(document, event: StoredEvent):
    """The fetched document, refused unless it is the resource the event names."""
    if getattr(document, "id", None) != event.resource_id:
        raise InvalidInput(
            f"{event.peer} answered with {type(document).__name__} {getattr(document, 'id', None)!r} "
            f"for {event.resource_id!r}"
        )
    return document
