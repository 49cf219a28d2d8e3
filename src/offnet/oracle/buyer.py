"""The buyer desk: post an RFQ and send its Sonata quote request to every invited seller, keep each
seller's verified signed quote, award the best-ranked one after the deadline, and place the Sonata
ProductOrder that accepts the awarded quote item.

  post_rfq -> RfqPosted on chain, POST /quote at each invited seller (+ hub registration)
  a seller's quote approved -> GET its signed quote from the seller's oracle -> verify -> keep
  deadline passed -> rank (price and reputation) -> award on chain (the award and the intent to
  order stored together) -> POST /productOrder, until the seller has it (idempotent by externalId)
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import KW_ONLY, dataclass, field

from eth_utils import to_checksum_address

from offnet.chain.connect import Chain
from offnet.chain.tx import Sender
from offnet.exceptions import ContractRevert, InvalidInput
from offnet.market.codec import (
    rfq_from_json,
    rfq_to_json,
    signed_quote_from_json,
    signed_quote_to_json,
    terms_to_json,
    to_hex,
)
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import LedgerClient
from offnet.market.quotes import rank_quotes, recover_quote_signer
from offnet.market.registry import RegistryClient
from offnet.market.rfq import AWARD_WINDOW, Rfq, RfqClient
from offnet.market.types import RfqStatus
from offnet.oracle.config import OracleConfig
from offnet.oracle.peers import PeerClients
from offnet.oracle.redact import redact
from offnet.oracle.store import Store
from offnet.sonata.buyer import order_accepting_quote, read_quote, rfq_external_id
from offnet.sonata.canonical import document_hash
from offnet.sonata.models import ProductOrderCreate, Quote, rfc3339_to_unix

log = logging.getLogger("offnet.oracle.buyer")


@dataclass(eq=False)
class BuyerDesk:
    """What a carrier's oracle does as a buyer."""

    config: OracleConfig
    store: Store
    chain: Chain
    sender: Sender
    _: KW_ONLY
    market: RfqClient
    ledger: LedgerClient
    registry: RegistryClient
    escrow: EscrowClient
    peers: PeerClients
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict, init=False)

    @property
    def member(self) -> str:
        return self.config.member

    def _lock(self, rfq_id: int) -> asyncio.Lock:
        """One lock per RFQ: its quotes and award are read and written across awaits."""
        return self._locks.setdefault(int(rfq_id), asyncio.Lock())

    # --- RFQ ---------------------------------------------------------------------------------------

    async def post_rfq(
        self,
        quote_request: dict,
        invited: list[str],
        *,
        token: str,
        product_key: bytes,
        location_key: bytes,
        min_reputation: int = 0,
    ) -> int:
        """Post an RFQ for a Sonata quote request and send the request to every invited seller."""
        rfq = Rfq(
            buyer=self.member,
            deadline=rfc3339_to_unix(quote_request["requestedQuoteCompletionDate"]),
            token=to_checksum_address(token),
            request_hash=document_hash(quote_request),
            product_key=product_key,
            location_key=location_key,
            invited=tuple(to_checksum_address(a) for a in invited),
            min_reputation=min_reputation,
        )
        rfq_id, _ = await asyncio.to_thread(self.market.post, self.sender, rfq)
        self.store.save_rfq(rfq_id, rfq_to_json(rfq), quote_request)
        for provider in rfq.invited:
            peer = self.config.peer_by_member(provider)
            if peer is None:
                log.warning("no peer configured for invited provider %s", provider)
                continue
            await self.peers.subscribe(peer.name)
            quote = await self.peers.sonata(peer.name).create_quote(
                {**quote_request, "externalId": rfq_external_id(rfq_id)}
            )
            self.store.save_quote_request(peer.name, quote.id, rfq_id)
        return rfq_id

    # --- quotes received ---------------------------------------------------------------------------

    async def on_quote(self, peer_name: str, quote: Quote) -> None:
        """A seller's Sonata quote changed: once orderable, fetch and verify its signed quote."""
        rfq_id = self.store.rfq_of_quote_request(peer_name, quote.id)
        if rfq_id is None or not read_quote(quote).orderable:
            return
        async with self._lock(rfq_id):
            await self._receive(peer_name, quote, rfq_id)

    async def _receive(self, peer_name: str, quote: Quote, rfq_id: int) -> None:
        stored = self.store.rfq(rfq_id)
        if stored is None or peer_name in self.store.received_quotes(rfq_id):
            return
        peer = self.config.peer(peer_name)
        signed = await self.peers.signed_quote(peer, rfq_id)
        rfq = rfq_from_json(stored["rfq"])
        signer = recover_quote_signer(signed.quote, signed.signature, self.market.domain)
        if (
            signed.quote.rfq_id != rfq.rfq_id
            or signed.quote.provider != peer.member
            or signed.quote.buyer != self.member
        ):
            raise InvalidInput(f"signed quote from {peer_name} does not match RFQ {rfq_id}")
        if not await asyncio.to_thread(self.registry.is_quote_signer, peer.member, signer):
            raise InvalidInput(
                f"signed quote from {peer_name} is signed by {signer}, not one of its quote keys"
            )
        self.store.add_received_quote(
            rfq_id, peer_name, signed_quote_to_json(signed), quote.id, read_quote(quote).orderable_items[0]
        )

    # --- award ---------------------------------------------------------------------------------------

    async def award_due(self) -> list[bytes]:
        """Award every open RFQ whose deadline passed and that has verified quotes (chain work only:
        the Sonata orders are placed by `place_orders`)."""
        awarded = []
        now = await asyncio.to_thread(self.chain.now)
        for rfq_id in self.store.open_rfqs():
            rfq = rfq_from_json(self.store.rfq(rfq_id)["rfq"])
            if now <= rfq.deadline:
                continue
            if not self.store.received_quotes(rfq_id):
                # Quotes are committed before the deadline; one not fetched by half the award window
                # (a seller's oracle down) is given up, leaving the buyer time to close the RFQ itself.
                if now > rfq.deadline + AWARD_WINDOW // 2:
                    self.store.give_up_rfq(rfq_id)
                continue
            order_id = await self.award(rfq_id)
            if order_id:
                awarded.append(order_id)
        return awarded

    async def award(self, rfq_id: int) -> bytes | None:
        """Rank the verified quotes (price and reputation) and award the best; record the award and
        the intent to place its Sonata order together."""
        async with self._lock(rfq_id):
            return await self._award(rfq_id)

    async def _award(self, rfq_id: int) -> bytes | None:
        stored = self.store.rfq(rfq_id)
        if stored is None or stored["state"] != "open":
            return None
        if await self._recover_award(rfq_id):  # awarded on chain before a crash: record it, once
            return None
        rfq = rfq_from_json(stored["rfq"])
        quotes = self.store.received_quotes(rfq_id)
        received = {peer: signed_quote_from_json(q["signed"]) for peer, q in quotes.items()}
        reputation = {}
        for signed in received.values():
            rep = await asyncio.to_thread(self.ledger.reputation, signed.quote.provider)
            reputation[signed.quote.provider] = rep.on_time_delivery_ppm / 1e6
        ranked = rank_quotes(list(received.values()), reputation)
        for choice in ranked:
            peer = next(p for p, s in received.items() if s == choice.quote)
            try:
                order_id, receipt = await asyncio.to_thread(self.market.award, self.sender, rfq, choice.quote)
            except ContractRevert as refused:
                log.warning("award of RFQ %s to %s refused: %s", rfq_id, peer, refused.describe())
                continue
            block = await asyncio.to_thread(self.chain.w3.eth.get_block, receipt.block_number)
            awarded_at = block["timestamp"]
            terms = choice.quote.quote.order_terms(awarded_at)
            self.store.record_award(
                rfq_id, to_hex(order_id), peer, [r.explanation for r in ranked], terms_to_json(terms)
            )
            return order_id
        self.store.give_up_rfq(rfq_id)
        return None

    async def _recover_award(self, rfq_id: int) -> bool:
        """True when the chain says the RFQ is awarded already (the oracle stopped between the award
        transaction and recording it): the award is recorded from the chain instead of sent again."""
        state = await asyncio.to_thread(self.market.state, rfq_id)
        if state.status != RfqStatus.AWARDED:
            return False
        awarded = await asyncio.to_thread(self.market.logs, "RfqAwarded", rfqId=rfq_id)
        if not awarded:
            return False
        order_id = bytes(awarded[0]["args"]["orderId"])
        terms = await asyncio.to_thread(self.escrow.terms_of, order_id)
        peer = self.config.peer_by_member(terms.seller)
        self.store.record_award(
            rfq_id, to_hex(order_id), peer.name if peer else terms.seller, None, terms_to_json(terms)
        )
        log.info("RFQ %s was awarded on chain before a restart: order %s recorded", rfq_id, to_hex(order_id))
        return True

    async def close_due(self) -> int:
        """Close our RFQs that are awarded or given up, so the ledger records each invitee's quote
        timeliness (during the award window only the buyer may close an unawarded RFQ)."""
        closed = 0
        for rfq_id in self.store.rfqs_to_close():
            state = await asyncio.to_thread(self.market.state, rfq_id)
            if state.status in (RfqStatus.OPEN, RfqStatus.AWARDED):
                rfq = rfq_from_json(self.store.rfq(rfq_id)["rfq"])
                try:
                    await asyncio.to_thread(self.market.close, self.sender, rfq)
                except ContractRevert as refused:  # e.g. closed by someone else meanwhile: re-read next pass
                    log.warning("closing RFQ %s refused: %s", rfq_id, refused.describe())
                    continue
                closed += 1
            self.store.mark_rfq_closed(rfq_id)
        return closed

    # --- the Sonata order ----------------------------------------------------------------------------

    async def place_orders(self) -> int:
        """Place the Sonata order of every award that has none yet, idempotently: an order the seller
        already holds under our externalId is linked, not placed twice. Returns how many were placed."""
        placed = 0
        for order in self.store.orders_to_place():
            try:
                await self._place(order)
            except Exception as exc:  # the seller down or refusing: tried again on the next pass
                self.store.update_order(
                    order["order_id"],
                    order_attempts=order["order_attempts"] + 1,
                    last_error=redact(str(exc))[:500],
                )
                log.warning(
                    "Sonata order for %s at %s not placed yet: %s",
                    order["order_id"],
                    order["peer"],
                    redact(str(exc)),
                )
                continue
            placed += 1
        return placed

    async def _place(self, order: dict) -> None:
        peer, order_id = order["peer"], order["order_id"]
        client = self.peers.sonata(peer)
        existing = await client.find_product_orders(external_id=order_id)
        if existing:
            product_order_id = existing[0]
        else:
            stored = self.store.rfq(order["rfq_id"])
            quote = self.store.received_quotes(int(order["rfq_id"])).get(peer)
            if stored is None or quote is None:
                raise LookupError(f"order {order_id}: no RFQ request or quote of {peer} kept to order from")
            created = await client.create_product_order(
                self._product_order(order_id, stored["request"], quote)
            )
            product_order_id = created.id
        self.store.link_product_order(order_id, product_order_id)
        self.store.update_order(order_id, state="ordered", to_order=False, last_error=None)

    def _product_order(self, order_id: str, request: dict, quote: dict) -> ProductOrderCreate:
        # MEF-valid: contacts required (configured, else those of the RFQ's quote request), offnet's
        # order id in externalId only.
        item = request["quoteItem"][0]
        return order_accepting_quote(
            quote["sonata_quote_id"],
            quote["quote_item_id"],
            self.config.contacts or request.get("relatedContactInformation") or [],
            order_id,
            product=item.get("product"),
            requested_completion_date=item.get("requestedQuoteItemInstallationDate"),
        )
