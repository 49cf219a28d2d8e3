"""Event handling: every stored notification is fetched (events are thin), linked to its offnet order
and turned into SLA reports in the outbox, or handed to the desk it concerns (quotes).

Events about different resources are fetched in parallel; events about the same resource run one
after another, in order, so two notifications of one resource never race. A failure (the seller,
the chain or the payload) is recorded with its reason and retried later with backoff.
"""

from __future__ import annotations

import asyncio
import logging

from offnet.market.codec import report_to_json
from offnet.market.types import SlaReport
from offnet.oracle.buyer import BuyerDesk
from offnet.oracle.orders import OrderBook
from offnet.oracle.peers import SELF, PeerClients
from offnet.oracle.seller import SellerDesk
from offnet.oracle.store import Store, StoredEvent
from offnet.sla.reports import order_report, ticket_report
from offnet.sonata.models import PRODUCT_ORDER_API, QUOTE_API, TROUBLE_TICKET_API

log = logging.getLogger("offnet.oracle.events")

ORDER_EVENTS = {
    "productOrderStateChangeEvent",
    "productOrderItemStateChangeEvent",
    "productOrderItemExpectedCompletionDateSet",
}


class EventHandler:
    """Fetches what each notification names and derives the SLA reports it gives."""

    def __init__(
        self,
        store: Store,
        peers: PeerClients,
        orders: OrderBook,
        buyer: BuyerDesk,
        seller: SellerDesk | None,
    ):
        self.store = store
        self.peers = peers
        self.orders = orders
        self.buyer = buyer
        self.seller = seller

    async def handle(self, event: StoredEvent) -> list[SlaReport]:
        """Turn one stored notification into SLA reports (fetching the resource it is about)."""
        client = self.peers.sonata(event.peer)
        if event.api == QUOTE_API.name:
            quote = await client.get_quote(event.resource_id)
            if event.peer == SELF:
                if self.seller is not None:
                    await self.seller.on_quote(quote)
            else:
                await self.buyer.on_quote(event.peer, quote)
            return []
        if event.api == PRODUCT_ORDER_API.name:
            if event.event_type not in ORDER_EVENTS:
                return []
            product_order = await client.get_product_order(event.resource_id)
            order = await self.orders.for_product_order(event.peer, product_order)
            if order is None:
                return []
            committed = self.orders.record_progress(order, product_order)
            report = order_report(
                bytes.fromhex(order["order_id"][2:]),
                product_order,
                committed_completion_date=committed,
                event_time=event.event_time,
            )
            return [report] if report else []
        if event.api == TROUBLE_TICKET_API.name:
            ticket = await client.get_trouble_ticket(event.resource_id)
            order = await self.orders.for_ticket(event.peer, client, ticket)
            report = ticket_report(bytes.fromhex(order["order_id"][2:]), ticket)
            return [report] if report else []
        return []

    async def process_due(self, concurrency: int = 16) -> int:
        """Handle every due notification; returns how many were handled (failures retry later)."""
        events = self.store.due_events(limit=200)
        groups: dict[tuple[str, str], list[StoredEvent]] = {}
        for event in events:
            groups.setdefault((event.peer, event.resource_id), []).append(event)
        gate = asyncio.Semaphore(concurrency)
        outcomes: dict[int, list[SlaReport] | Exception] = {}

        async def run(group: list[StoredEvent]) -> None:
            async with gate:
                for event in group:
                    try:
                        outcomes[event.id] = await self.handle(event)
                    except Exception as exc:  # the seller, the chain or the payload: retried later
                        outcomes[event.id] = exc

        await asyncio.gather(*(run(g) for g in groups.values()))
        handled = 0
        for event in events:
            outcome = outcomes[event.id]
            if isinstance(outcome, Exception):
                log.warning("event %s (%s) failed: %s", event.event_id, event.event_type, outcome)
                self.store.retry_event(event.id, f"{outcome.__class__.__name__}: {outcome}")
                continue
            self.store.finish_event(event.id, [report_to_json(r) for r in outcome])
            handled += 1
        return handled
