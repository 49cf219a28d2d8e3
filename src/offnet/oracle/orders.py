"""The orders this oracle is party to: learned from the chain (OrderOpened), linked to Sonata orders.

A peer is hostile until checked: an event of peer P can only touch an order whose Sonata product
order lives in P's system (`sonata_peer`), and an order is linked to one product order once, never
relinked. As seller, our order is linked through the quote we signed (the product order's item
references our Sonata quote); as buyer, by the id the seller returned when we placed the order, or
by the offnet order id our staff put in `externalId` when ordering from that same seller by hand.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from offnet.chain import Sender
from offnet.chain.connect import Chain
from offnet.exceptions import ContractRevert
from offnet.market.codec import terms_from_json, terms_to_json, to_hex
from offnet.market.escrow import EscrowClient
from offnet.market.types import OrderStatus, OrderTerms
from offnet.oracle.config import OracleConfig
from offnet.oracle.peers import SELF
from offnet.oracle.store import Store
from offnet.sonata.buyer import read_order
from offnet.sonata.client import SonataClient
from offnet.sonata.models import ProductOrder, TroubleTicket, rfc3339_to_unix

log = logging.getLogger("offnet.oracle.orders")

WATCHER = "orders"  # the chain cursor of OrderOpened events
ORDER_ID_LENGTH = 66


@dataclass(eq=False)
class OrderBook:
    """Our orders on chain and their link to Sonata product orders."""

    config: OracleConfig
    store: Store
    chain: Chain
    escrow: EscrowClient
    sender: Sender | None = None
    _accepted: set[str] = field(default_factory=set, init=False)  # our sales the escrow knows we acknowledged
    # (peer, product order id) -> order id: a link is made once and never changes, so a ticket about
    # an order seen before costs no database read (tickets come by the thousand).
    _linked: dict[tuple[str, str], str] = field(default_factory=dict, init=False)

    @property
    def member(self) -> str:
        return self.config.member

    def sync(self) -> int:
        """Learn the orders opened for us (as seller or buyer) from OrderOpened events."""
        start = self.store.next_block(WATCHER)
        latest = self.chain.w3.eth.block_number
        if start > latest:
            return 0
        learned = 0
        for event in self.escrow.logs("OrderOpened", from_block=start, to_block=latest):
            terms = OrderTerms.from_tuple(event.args.terms)
            role = (
                "seller" if terms.seller == self.member else "buyer" if terms.buyer == self.member else None
            )
            if role is None:
                continue
            counterparty = terms.buyer if role == "seller" else terms.seller
            peer = self.config.peer_by_member(counterparty)
            name = peer.name if peer else counterparty
            learned += self.store.save_order(
                to_hex(event.args.orderId),
                terms.rfq_id,
                role,
                terms_to_json(terms),
                name,
                sonata_peer=SELF if role == "seller" else name,
            )
        self.store.set_next_block(WATCHER, latest + 1)
        self.acknowledge_sales()
        return learned

    def acknowledge_sales(self) -> int:
        """Acknowledge on chain our sales the escrow still holds as open: a delivery settles only once
        its seller accepted the order (IOrderEscrow.acknowledge). Refusals are retried next pass."""
        if self.sender is None:
            return 0
        acknowledged = 0
        for order in self.store.all_orders():
            if order["role"] != "seller" or order["order_id"] in self._accepted:
                continue
            terms = terms_from_json(order["terms"])
            if self.escrow.order(terms.order_id()).status == OrderStatus.OPEN:
                try:
                    self.escrow.acknowledge(self.sender, terms)
                except ContractRevert as refused:
                    log.warning("acknowledging %s refused: %s", order["order_id"], refused.describe())
                    continue
                acknowledged += 1
            self._accepted.add(order["order_id"])
        return acknowledged

    async def for_product_order(self, peer: str, product_order: ProductOrder) -> dict | None:
        """The offnet order a product order of `peer`'s Sonata system is, linking it on first sight;
        None when it is none of ours (or a link the peer may not make)."""
        order = self.store.order(sonata_peer=peer, product_order_id=product_order.id)
        if order is not None:
            return order
        if peer == SELF:
            return await self._link_our_sale(product_order)
        # An order our staff placed by hand names the offnet order in externalId: link it, but only
        # an order bought from this very peer and not linked yet (a peer cannot claim another's order).
        external = product_order.externalId or ""
        if not (external.startswith("0x") and len(external) == ORDER_ID_LENGTH):
            return None
        if self.store.order(order_id=external) is None:
            await asyncio.to_thread(self.sync)
        order = self.store.order(order_id=external)
        if order is None or order["role"] != "buyer" or order["sonata_peer"] != peer:
            log.warning(
                "peer %s named order %s in externalId: not an order bought from it, ignored", peer, external
            )
            return None
        if not self.store.link_product_order(external, product_order.id):
            log.warning("peer %s: order %s is linked already, %s ignored", peer, external, product_order.id)
            return None
        return self.store.order(order_id=external)

    async def _link_our_sale(self, product_order: ProductOrder) -> dict | None:
        """Our own Sonata system's order: linked to the chain through the quote we signed."""
        item = product_order.productOrderItem[0]
        quote_ref = item.quoteItem
        rfq_id = self.store.rfq_of_signed_quote(quote_ref.quoteId) if quote_ref else None
        if rfq_id is None:
            return None
        order = self.store.order(rfq_id=rfq_id, role="seller")
        if order is None:
            await asyncio.to_thread(self.sync)
            order = self.store.order(rfq_id=rfq_id, role="seller")
        if order is None:
            raise LookupError(f"product order {product_order.id}: RFQ {rfq_id} not awarded on chain yet")
        if not self.store.link_product_order(order["order_id"], product_order.id):
            log.warning(
                "our order %s is linked already; product order %s ignored",
                order["order_id"],
                product_order.id,
            )
            return None
        return self.store.order(order_id=order["order_id"])

    async def for_ticket(self, peer: str, client: SonataClient, ticket: TroubleTicket) -> dict:
        """The offnet order a ticket is about (its `order_id` at least): one of `peer`'s product orders
        that is ours. Raises
        LookupError (the event is retried) until it is known.

        A ticket's notification can arrive before its product order was linked to the chain (events
        come out of order): the product order is fetched from the same peer and linked here.
        """
        related = [e.id for e in (ticket.relatedEntity or [])]
        for product_order_id in related:
            known = self._linked.get((peer, product_order_id))
            if known is not None:
                return {"order_id": known}
        for product_order_id in related:
            order = await asyncio.to_thread(
                self.store.order, sonata_peer=peer, product_order_id=product_order_id
            )
            if order is not None:
                self._remember(peer, product_order_id, order)
                return order
        for product_order_id in related:
            try:
                product_order = await client.get_product_order(product_order_id)
            except Exception:  # not a product order of this seller: try the next related entity
                continue
            if product_order.id != product_order_id:
                continue  # the peer answered with another document than the one asked for
            order = await self.for_product_order(peer, product_order)
            if order is not None:
                self._remember(peer, product_order_id, order)
                return order
        raise LookupError(
            f"trouble ticket {ticket.id} relates to no offnet order of {peer} known yet ({', '.join(related)})"
        )

    def _remember(self, peer: str, product_order_id: str, order: dict) -> None:
        if len(self._linked) > 100_000:
            self._linked.clear()
        self._linked[(peer, product_order_id)] = order["order_id"]

    @staticmethod
    def committed_date(order: dict, product_order: ProductOrder) -> str | None:
        """The FIRST committed date the seller gave for the order: the one kept, else this document's
        (read the same way for every MEF-valid shape: any item state, an item without one)."""
        if order.get("committed_date"):
            return order["committed_date"]
        committed = read_order(product_order).committed_date
        return committed.isoformat() if committed is not None else None

    def record_progress(self, order: dict, product_order: ProductOrder, committed: str | None) -> None:
        """Keep the committed date and the completion of a product order, once the report that states
        them passed its checks (a refused document leaves nothing behind to poison the next one)."""
        reading = read_order(product_order)
        if committed and not order.get("committed_date"):
            self.store.update_order(order["order_id"], committed_date=committed)
        if reading.delivered and reading.completion_date is not None:
            self.store.update_order(
                order["order_id"], state="completed", completed_at=rfc3339_to_unix(reading.completion_date)
            )
