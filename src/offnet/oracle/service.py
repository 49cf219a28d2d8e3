"""One carrier's oracle: listener, Sonata bridge, chain watcher and report relay in one process.

Data flow (docs/architecture.md has the contract side):

  buyer desk  -> post RFQ on chain -> Sonata POST /quote at each invited seller (+ hub registration)
  seller's own Sonata system -> quote approved -> sign EIP-712 quote -> commit digest on chain
                                                -> signed quote served to the buyer at /offnet/v1/signedQuotes
  buyer: quote approved -> fetch signed quote -> after the deadline rank and award on chain
         -> Sonata POST /productOrder at the seller (quoteItem -> the awarded quote)
  both:  order / trouble-ticket notifications -> GET the resource -> SLA reports -> outbox -> SlaLedger
  seller: every billing period -> performance measurement -> period report -> outbox -> SlaLedger
  both:  reports past their liveness window -> finalize (releases money in OrderEscrow)

Each step is idempotent and keyed by content (event ids, RFQ ids, report ids), so the loops can
be interrupted anywhere and resumed by the next start.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from fastapi import Request
from fastapi.responses import JSONResponse

from offnet.chain.connect import Chain, connect
from offnet.chain.errors import ContractRevert
from offnet.chain.tx import Sender
from offnet.deployment import Manifest, Suite
from offnet.market.escrow import CreditSchedule, OrderTerms
from offnet.market.ledger import LedgerClient
from offnet.market.quotes import Quote, Rfq, SignedQuote, rank_quotes, recover_quote_signer, sign_quote
from offnet.market.registry import RegistryClient
from offnet.market.rfq import RfqClient
from offnet.oracle.codec import rfq_from_json, rfq_to_json, signed_quote_from_json, signed_quote_to_json
from offnet.oracle.config import OracleConfig, PeerConfig
from offnet.oracle.listener import Peer, create_listener_app
from offnet.oracle.performance import FileSource, PerformanceSource, SimulatorSource
from offnet.oracle.relay import ReportRelay, report_to_json, terms_from_json, terms_to_json
from offnet.oracle.store import Store, StoredEvent
from offnet.sla.reports import order_report, period_report, ticket_report
from offnet.sonata.auth import ClientCredentials
from offnet.sonata.buyer import order_accepting_quote
from offnet.sonata.canonical import document_hash
from offnet.sonata.client import SonataClient
from offnet.sonata.models import (
    PRODUCT_ORDER_API,
    QUOTE_API,
    TROUBLE_TICKET_API,
    money_to_units,
    rfc3339_to_unix,
)

log = logging.getLogger("offnet.oracle")

SELF = "self"  # the peer name of our own Sonata system
ORDER_EVENTS = {
    "productOrderStateChangeEvent",
    "productOrderItemStateChangeEvent",
    "productOrderItemExpectedCompletionDateSet",
}
ORDERABLE = "approved.orderable"
TOKEN_DECIMALS = 6


@dataclass
class ReceivedQuote:
    """A seller's signed quote the buyer verified, with the Sonata ids to order it."""

    signed: SignedQuote
    sonata_quote_id: str
    quote_item_id: str
    peer: str


def month_of(timestamp: int, offset: int) -> str:
    """The calendar month `offset` months after the month of `timestamp`, as YYYY-MM (UTC)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    index = moment.year * 12 + moment.month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_end(period: str) -> int:
    """The unix time at which calendar month YYYY-MM ends."""
    year, month = map(int, period.split("-"))
    last_day = calendar.monthrange(year, month)[1]
    return int(datetime(year, month, last_day, tzinfo=UTC).timestamp()) + 86_400


class Oracle:
    """A carrier's relay between its (and its peers') Sonata systems and the offnet contracts."""

    def __init__(
        self, config: OracleConfig, *, chain: Chain | None = None, signer: LocalAccount | None = None
    ):
        self.config = config
        self.member = config.member
        self.store = Store(config.database)
        self.chain = chain or connect(rpc=config.rpc, confirmations=config.confirmations)
        self.suite = Suite.attach(self.chain, Manifest.load(self.chain.chain_id, config.deployments))
        if signer is None:
            from offnet.wallet.signer import resolve_signer

            signer = resolve_signer(
                account=config.account,
                private_key_env=config.private_key_env,
                password_file=config.password_file,
                password_env=config.password_env,
                keystore_dir=config.keystore_dir,
            )
        self.account = signer
        self.sender = Sender(self.chain, signer)
        self.registry = RegistryClient(self.chain, self.suite.registry.address)
        self.ledger = LedgerClient(self.chain, self.suite.ledger)
        self.market = RfqClient(self.chain, self.suite.market)
        self.relay = ReportRelay(
            self.store, self.chain, self.ledger, self.sender, self.member, batch_size=config.batch_size
        )
        peers = [Peer(p.name, p.inbound_token.read()) for p in config.peers]
        if config.seller:
            peers.append(Peer(SELF, config.seller.notification_token.read()))
        self._oracle_peers = [Peer(p.name, (p.oracle_token or p.inbound_token).read()) for p in config.peers]
        self.app = create_listener_app(self.store, peers, health=self._health)
        self._add_offnet_routes()
        self._clients: dict[str, SonataClient] = {}
        self._stop = asyncio.Event()
        self._server = None
        self._rfq_locks: dict[str, asyncio.Lock] = {}
        self._performance_source: PerformanceSource | None = None
        self.errors: list[str] = []

    # --- HTTP: signed quotes for buyers, the buyer desk ----------------------------------------------

    def _peer_for(self, request: Request) -> Peer | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return next(
            (p for p in self._oracle_peers if hmac.compare_digest(p.token.encode(), token.strip().encode())),
            None,
        )

    def _add_offnet_routes(self) -> None:
        app = self.app

        @app.get("/offnet/v1/signedQuotes/{rfq_id}", tags=["offnet"])
        def signed_quote(rfq_id: str, request: Request) -> JSONResponse:
            """The signed quote this seller committed for an RFQ (only to that RFQ's buyer)."""
            peer = self._peer_for(request)
            if peer is None:
                return JSONResponse({"code": "401", "reason": "unknown peer"}, status_code=401)
            if not rfq_id.isdigit():
                return JSONResponse(
                    {"code": "400", "reason": "rfq id must be a decimal integer"}, status_code=400
                )
            stored = self.store.cursor(f"signed:{rfq_id}")
            buyer = self.config.peer(peer.name).member
            if stored is None or to_checksum_address(stored["quote"]["buyer"]) != buyer:
                return JSONResponse(
                    {"code": "404", "reason": f"no signed quote for RFQ {rfq_id}"}, status_code=404
                )
            return JSONResponse(stored)

    def _health(self) -> dict:
        """Chain reachability for /healthz: one quick request, no retries (a probe must answer fast)."""
        block = self.chain.w3.eth.block_number if self.chain.url is None else _probe_block(self.chain.url)
        return {"chainId": self.chain.chain_id, "block": block, "member": self.member}

    # --- Sonata clients -------------------------------------------------------------------------

    def sonata(self, peer_name: str) -> SonataClient:
        """The Sonata client toward a peer's seller API, or toward our own system (peer `self`)."""
        if peer_name not in self._clients:
            if peer_name == SELF:
                seller = self.config.seller
                assert seller is not None
                client = SonataClient(seller.sonata_url, seller.operator_token.read())
            else:
                peer = self.config.peer(peer_name)
                auth: Any = None
                if peer.oauth2:
                    auth = ClientCredentials(
                        peer.oauth2.token_url,
                        peer.oauth2.client_id,
                        peer.oauth2.client_secret.read(),
                        scope=peer.oauth2.scope,
                    )
                elif peer.outbound_token:
                    auth = peer.outbound_token.read()
                client = SonataClient(peer.sonata_url, auth, buyer_id=self.member)
            self._clients[peer_name] = client
        return self._clients[peer_name]

    async def subscribe(self, peer_name: str) -> None:
        """Register our listener at a seller's hubs (once per peer and API, remembered)."""
        for api in (QUOTE_API, PRODUCT_ORDER_API, TROUBLE_TICKET_API):
            key = f"hub:{peer_name}:{api.name}"
            if self.store.cursor(key):
                continue
            subscription = await self.sonata(peer_name).register_hub(api, self.config.callback_url)
            self.store.set_cursor(key, subscription.id)

    # --- buyer: RFQ -> quotes -> award -> Sonata order ------------------------------------------

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
        deadline = rfc3339_to_unix(quote_request["requestedQuoteCompletionDate"])
        rfq = Rfq(
            buyer=self.member,
            deadline=deadline,
            token=to_checksum_address(token),
            request_hash=document_hash(quote_request),
            product_key=product_key,
            location_key=location_key,
            invited=tuple(to_checksum_address(a) for a in invited),
            min_reputation=min_reputation,
        )
        rfq_id, _ = await asyncio.to_thread(self.market.post, self.sender, rfq)
        self.store.set_cursor(
            f"rfq:{rfq_id}",
            {"rfq": rfq_to_json(rfq), "request": quote_request, "state": "open", "quotes": {}},
        )
        for provider in rfq.invited:
            peer = self.config.peer_by_member(provider)
            if peer is None:
                log.warning("no peer configured for invited provider %s", provider)
                continue
            await self.subscribe(peer.name)
            quote = await self.sonata(peer.name).create_quote({**quote_request, "offnetRfqId": str(rfq_id)})
            self.store.set_cursor(f"sonataQuote:{peer.name}:{quote.id}", str(rfq_id))
        return rfq_id

    def _rfq_lock(self, rfq_id: str) -> asyncio.Lock:
        """One lock per RFQ: its stored state is read, changed and written across awaits."""
        return self._rfq_locks.setdefault(str(rfq_id), asyncio.Lock())

    async def _buyer_on_quote(self, peer_name: str, quote: Any) -> None:
        rfq_id = self.store.cursor(f"sonataQuote:{peer_name}:{quote.id}")
        if rfq_id is None or str(quote.state) != ORDERABLE:
            return
        async with self._rfq_lock(rfq_id):
            await self._receive_quote(peer_name, quote, rfq_id)

    async def _receive_quote(self, peer_name: str, quote: Any, rfq_id: str) -> None:
        state = self.store.cursor(f"rfq:{rfq_id}")
        if state is None or peer_name in state["quotes"]:
            return
        peer = self.config.peer(peer_name)
        if not peer.oracle_url:
            raise ValueError(f"peer {peer_name} has no oracle_url to fetch its signed quote from")
        signed = await self._fetch_signed_quote(peer, int(rfq_id))
        rfq = rfq_from_json(state["rfq"])
        signer = recover_quote_signer(signed.quote, signed.signature, self.market.domain)
        if (
            signed.quote.rfq_id != rfq.rfq_id
            or signed.quote.provider != peer.member
            or signed.quote.buyer != self.member
        ):
            raise ValueError(f"signed quote from {peer_name} does not match RFQ {rfq_id}")
        if not await asyncio.to_thread(self.registry.is_quote_signer, peer.member, signer):
            raise ValueError(
                f"signed quote from {peer_name} is signed by {signer}, not one of its quote keys"
            )
        item_id = quote.quoteItem[0].id
        state["quotes"][peer_name] = {
            "signed": signed_quote_to_json(signed),
            "quoteId": quote.id,
            "itemId": item_id,
        }
        self.store.set_cursor(f"rfq:{rfq_id}", state)

    async def _fetch_signed_quote(self, peer: PeerConfig, rfq_id: int) -> SignedQuote:
        import httpx

        headers = {"Authorization": f"Bearer {peer.outbound_token.read()}"} if peer.outbound_token else {}
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(
                f"{peer.oracle_url.rstrip('/')}/offnet/v1/signedQuotes/{rfq_id}", headers=headers
            )
        if response.status_code != 200:
            raise ValueError(f"signed quote for RFQ {rfq_id} from {peer.name}: HTTP {response.status_code}")
        return signed_quote_from_json(response.json())

    def open_rfqs(self) -> list[int]:
        return [
            int(key.split(":")[1])
            for key in self._cursor_keys("rfq:")
            if self.store.cursor(key)["state"] == "open"
        ]

    def _cursor_keys(self, prefix: str) -> list[str]:
        from sqlalchemy import select

        from offnet.oracle.store import cursors

        with self.store.engine.connect() as conn:
            return [
                r[0] for r in conn.execute(select(cursors.c.name).where(cursors.c.name.like(prefix + "%")))
            ]

    async def award_due(self) -> list[bytes]:
        """Award every open RFQ whose deadline passed and that has verified quotes; order them."""
        awarded = []
        now = await asyncio.to_thread(self.chain.now)
        for rfq_id in self.open_rfqs():
            state = self.store.cursor(f"rfq:{rfq_id}")
            rfq = rfq_from_json(state["rfq"])
            if now <= rfq.deadline or not state["quotes"]:
                continue
            order_id = await self.award(rfq_id)
            if order_id:
                awarded.append(order_id)
        return awarded

    async def award(self, rfq_id: int) -> bytes | None:
        """Rank the verified quotes (price and reputation), award the best, place the Sonata order."""
        async with self._rfq_lock(rfq_id):
            return await self._award(rfq_id)

    async def _award(self, rfq_id: int) -> bytes | None:
        state = self.store.cursor(f"rfq:{rfq_id}")
        if state["state"] != "open":
            return None
        rfq = rfq_from_json(state["rfq"])
        received = {peer: signed_quote_from_json(q["signed"]) for peer, q in state["quotes"].items()}
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
            awarded_at = self.chain.w3.eth.get_block(receipt.block_number)["timestamp"]
            terms = choice.quote.quote.order_terms(awarded_at)
            state["state"] = "awarded"
            state["awarded"] = {
                "peer": peer,
                "orderId": "0x" + order_id.hex(),
                "ranking": [r.explanation for r in ranked],
            }
            self.store.set_cursor(f"rfq:{rfq_id}", state)
            self.store.save_order("0x" + order_id.hex(), rfq_id, "buyer", terms_to_json(terms), peer)
            await self._place_order("0x" + order_id.hex(), peer, state["quotes"][peer])
            return order_id
        state["state"] = "unawarded"
        self.store.set_cursor(f"rfq:{rfq_id}", state)
        return None

    async def _place_order(self, order_id: str, peer: str, quote: dict) -> None:
        state = self.store.cursor(f"rfq:{self.store.order(order_id=order_id)['rfq_id']}")
        request = state["request"]
        item = request["quoteItem"][0]
        # MEF-valid: contacts required (those of the RFQ's quote request), offnet's order id in
        # externalId only.
        product_order = order_accepting_quote(
            quote["quoteId"],
            quote["itemId"],
            request.get("relatedContactInformation") or [],
            order_id,
            product=item.get("product"),
            requested_completion_date=item.get("requestedQuoteItemInstallationDate"),
        )
        created = await self.sonata(peer).create_product_order(product_order)
        self.store.update_order(order_id, product_order_id=created.id, state="ordered")

    # --- seller: our own quotes -> signed, committed quotes -------------------------------------

    async def _seller_on_quote(self, quote: Any) -> None:
        data = quote.model_dump(mode="json", by_alias=True, exclude_none=True)
        rfq_id = data.get("offnetRfqId")
        if not rfq_id or str(quote.state) != ORDERABLE:
            return
        async with self._rfq_lock(rfq_id):
            if not self.store.cursor(f"signed:{rfq_id}"):  # checked under the lock: sign and commit once
                await self._sign_and_commit(quote, int(rfq_id))

    async def _sign_and_commit(self, quote: Any, rfq_id: int) -> None:
        rfq = await asyncio.to_thread(self.market.posted, rfq_id)
        seller = self.config.seller
        assert seller is not None
        item = quote.quoteItem[0]
        one_time, monthly = _charges(item)
        interval = item.quoteItemInstallationInterval
        install_days = int(interval.amount) if interval is not None else 30
        credits = CreditSchedule(**seller.credits) if seller.credits else CreditSchedule(*([0] * 11))
        sla_document = {"carrierEthernetSls": _sls(item), "credits": seller.credits}
        now = await asyncio.to_thread(self.chain.now)
        term = _term_months(item)
        offer = Quote(
            rfq_id=rfq_id,
            provider=self.member,
            buyer=rfq.buyer,
            token=rfq.token,
            one_time_charge=one_time,
            monthly_charge=monthly,
            term_months=term,
            install_days=install_days,
            sla_terms_hash=document_hash(sla_document),
            credits=credits,
            prepaid_months=seller.prepaid_months,
            valid_until=now + seller.quote_valid_days * 86_400,
            nonce=secrets.randbits(64),
            epoch=await asyncio.to_thread(self.market.quote_epoch, self.member),
        )
        signed = sign_quote(self.account, offer, self.market.domain)
        await asyncio.to_thread(self.market.commit, self.sender, rfq, signed)
        self.store.set_cursor(f"signed:{rfq_id}", signed_quote_to_json(signed))
        self.store.set_cursor(f"ourQuote:{quote.id}", rfq_id)

    # --- both: Sonata resources -> SLA reports ---------------------------------------------------

    async def handle_event(self, event: StoredEvent) -> list:
        """Turn one stored notification into SLA reports (fetching the resource it is about)."""
        client = self.sonata(event.peer)
        if event.api == QUOTE_API.name:
            quote = await client.get_quote(event.resource_id)
            if event.peer == SELF:
                await self._seller_on_quote(quote)
            else:
                await self._buyer_on_quote(event.peer, quote)
            return []
        if event.api == PRODUCT_ORDER_API.name:
            if event.event_type not in ORDER_EVENTS:
                return []
            product_order = await client.get_product_order(event.resource_id)
            order = await self._order_for(event.peer, product_order)
            if order is None:
                return []
            return self._order_reports(order, product_order, event.event_time)
        if event.api == TROUBLE_TICKET_API.name:
            ticket = await client.get_trouble_ticket(event.resource_id)
            order = await self._ticket_order(event.peer, client, ticket)
            report = ticket_report(bytes.fromhex(order["order_id"][2:]), ticket)
            return [report] if report else []
        return []

    async def _ticket_order(self, peer: str, client: SonataClient, ticket: Any) -> dict:
        """The offnet order a ticket is about; raises (the event is retried) until it is known.

        A ticket's notification can arrive before its product order was linked to the chain (events
        come out of order): the product order is fetched and linked here rather than the ticket dropped.
        """
        related = [e.id for e in (ticket.relatedEntity or [])]
        for product_order_id in related:
            order = self.store.order(product_order_id=product_order_id)
            if order is not None:
                return order
        for product_order_id in related:
            try:
                product_order = await client.get_product_order(product_order_id)
            except Exception:  # not a product order of this seller: try the next related entity
                continue
            order = await self._order_for(peer, product_order)
            if order is not None:
                return order
        raise LookupError(
            f"trouble ticket {ticket.id} relates to no offnet order known yet ({', '.join(related)})"
        )

    async def _order_for(self, peer: str, product_order: Any) -> dict | None:
        order = self.store.order(product_order_id=product_order.id)
        if order is not None:
            return order
        if peer != SELF:
            # An order our staff placed by hand names the offnet order in externalId: link it.
            external = getattr(product_order, "externalId", None) or ""
            if external.startswith("0x") and len(external) == 66:
                if self.store.order(order_id=external) is None:
                    await asyncio.to_thread(self.sync_orders)
                if self.store.order(order_id=external) is not None:
                    self.store.update_order(external, product_order_id=product_order.id)
                    return self.store.order(order_id=external)
            return None
        # Our own Sonata system: link the order to the chain through the quote we signed.
        item = product_order.productOrderItem[0]
        quote_ref = getattr(item, "quoteItem", None)
        rfq_id = self.store.cursor(f"ourQuote:{quote_ref.quoteId}") if quote_ref else None
        if rfq_id is None:
            return None
        order = self.store.order(rfq_id=int(rfq_id), role="seller")
        if order is None:
            await asyncio.to_thread(self.sync_orders)
            order = self.store.order(rfq_id=int(rfq_id), role="seller")
        if order is None:
            raise ValueError(f"product order {product_order.id}: RFQ {rfq_id} not awarded on chain yet")
        self.store.update_order(order["order_id"], product_order_id=product_order.id)
        return self.store.order(order_id=order["order_id"])

    def _order_reports(self, order: dict, product_order: Any, event_time: str) -> list:
        item = product_order.productOrderItem[0]
        expected = getattr(item, "expectedCompletionDate", None)
        committed = order.get("committed_date")
        if expected and not committed:
            committed = expected if isinstance(expected, str) else expected.isoformat()
            self.store.update_order(order["order_id"], committed_date=committed)
        state = str(product_order.state)
        if state == "completed":
            completion = getattr(item, "completionDate", None) or getattr(
                product_order, "completionDate", None
            )
            if completion is not None:
                when = completion if isinstance(completion, str) else completion.isoformat()
                self.store.update_order(
                    order["order_id"], state="completed", completed_at=rfc3339_to_unix(when)
                )
        report = order_report(
            bytes.fromhex(order["order_id"][2:]),
            product_order,
            committed_completion_date=committed,
            event_time=event_time,
        )
        return [report] if report else []

    def sync_orders(self) -> int:
        """Learn the orders opened for us (as seller or buyer) from OrderOpened events."""
        start = self.store.cursor("orders:block", 0)
        latest = self.chain.w3.eth.block_number
        if start > latest:
            return 0
        events = self.suite.escrow.events.OrderOpened().get_logs(from_block=start, to_block=latest)
        learned = 0
        for event in events:
            terms = OrderTerms.from_tuple(event.args.terms)
            role = (
                "seller" if terms.seller == self.member else "buyer" if terms.buyer == self.member else None
            )
            if role is None or self.store.order(order_id="0x" + bytes(event.args.orderId).hex()):
                continue
            counterparty = terms.buyer if role == "seller" else terms.seller
            peer = self.config.peer_by_member(counterparty)
            self.store.save_order(
                "0x" + bytes(event.args.orderId).hex(),
                terms.rfq_id,
                role,
                terms_to_json(terms),
                peer.name if peer else counterparty,
            )
            learned += 1
        self.store.set_cursor("orders:block", latest + 1)
        return learned

    async def process_events(self, concurrency: int = 16) -> int:
        """Handle every due notification; failures retry later with backoff.

        Events about different resources are fetched in parallel; events about the same resource
        run one after another, in order, so two notifications of one quote never race.
        """
        events = self.store.due_events(limit=200)
        groups: dict[tuple[str, str], list[StoredEvent]] = {}
        for event in events:
            groups.setdefault((event.peer, event.resource_id), []).append(event)
        gate = asyncio.Semaphore(concurrency)
        outcomes: dict[int, list | Exception] = {}

        async def run(group: list[StoredEvent]) -> None:
            async with gate:
                for event in group:
                    try:
                        outcomes[event.id] = await self.handle_event(event)
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

    # --- seller: in-life period reports ----------------------------------------------------------

    async def report_periods(self) -> int:
        """Queue the period reports of our delivered orders whose billing months are over."""
        if self.config.seller is None:
            return 0
        now = await asyncio.to_thread(self.chain.now)
        queued = 0
        for order in self.store.all_orders():
            if (
                order["role"] != "seller"
                or not order.get("completed_at")
                or not order.get("product_order_id")
            ):
                continue
            terms = terms_from_json(order["terms"])
            reported = self.store.cursor(f"periods:{order['order_id']}", 0)
            for period in range(reported + 1, terms.term_months + 1):
                month = month_of(order["completed_at"], period)
                if month_end(month) > now:
                    break
                try:
                    measurement = await self._performance(order["product_order_id"], month)
                except LookupError as missing:  # not measured yet: the next pass tries again
                    log.info("period %s of %s waits: %s", period, order["order_id"], missing)
                    break
                report = period_report(bytes.fromhex(order["order_id"][2:]), period, measurement)
                queued += self.store.queue_reports([report_to_json(report)])
                self.store.set_cursor(f"periods:{order['order_id']}", period)
        return queued

    async def _performance(self, product_order_id: str, month: str) -> dict:
        if self._performance_source is None:
            seller = self.config.seller
            assert seller is not None
            if seller.performance.source == "file":
                self._performance_source = FileSource(seller.performance.path)
            else:
                self._performance_source = SimulatorSource(seller.sonata_url, seller.operator_token.read())
        return await self._performance_source.measurement(product_order_id, month)

    # --- the loops -------------------------------------------------------------------------------

    async def tick(self) -> None:
        """One pass of every duty (what the background loop repeats).

        Each duty fails alone: with the RPC down, notifications are still fetched from the sellers
        and their reports queued; with a seller down, the chain side still moves.
        """
        duties = [
            ("sync orders", lambda: asyncio.to_thread(self.sync_orders)),
            ("process events", self.process_events),
        ]
        if self.config.buyer and self.config.auto_award:
            duties.append(("award", self.award_due))
        duties += [
            ("period reports", self.report_periods),
            ("recover outbox", lambda: asyncio.to_thread(self.relay.recover)),
            ("submit reports", lambda: asyncio.to_thread(self.relay.submit_pending)),
            ("finalize reports", lambda: asyncio.to_thread(self.relay.finalize_due)),
        ]
        for name, duty in duties:
            try:
                await duty()
            except Exception as exc:  # logged with its reason; retried on the next tick
                log.warning("%s failed: %s: %s", name, exc.__class__.__name__, exc)
                self.errors.append(f"{name}: {exc.__class__.__name__}: {exc}")

    async def start(self) -> None:
        """Subscribe to our own Sonata system and recover the outbox after a restart."""
        if self.config.seller:
            await self.subscribe(SELF)
        await asyncio.to_thread(self.relay.recover)

    async def run_loop(self) -> None:
        await self.start()
        while not self._stop.is_set():
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.config.poll_interval)

    def stop(self) -> None:
        self._stop.set()

    def request_exit(self) -> None:
        """Stop serving and looping (what SIGTERM does); in-flight work finishes first."""
        self.stop()
        if self._server is not None:
            self._server.should_exit = True

    async def serve(self) -> None:
        """Serve the listener and run the loops until stopped (SIGINT/SIGTERM: graceful)."""
        import uvicorn

        server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=self.config.listen_host,
                port=self.config.listen_port,
                log_level="warning",
                lifespan="off",
            )
        )
        self._server = server
        loop_task = asyncio.create_task(self.run_loop())
        try:
            await server.serve()
        finally:
            self.stop()
            await loop_task
            for client in self._clients.values():
                await client.aclose()


def _probe_block(url: str) -> int:
    import httpx

    response = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}, timeout=2.0
    )
    response.raise_for_status()
    return int(response.json()["result"], 16)


def _term_months(item: Any, default: int = 12) -> int:
    """The commitment term of a quote item in months (Sonata itemTerm / requestedQuoteItemTerm)."""
    data = item.model_dump(mode="json", by_alias=True, exclude_none=True)
    for key in ("quoteItemTerm", "requestedQuoteItemTerm"):
        terms = data.get(key)
        term = terms[0] if isinstance(terms, list) and terms else terms
        duration = (term or {}).get("duration") if isinstance(term, dict) else None
        if duration and duration.get("units") in ("calendarMonths", "months", "MONTH"):
            return int(duration["amount"])
    return default


def _charges(item: Any) -> tuple[int, int]:
    """(one-time, monthly) charges of a Sonata quote item, in token units (6 decimals)."""
    one_time = monthly = 0
    for price in item.quoteItemPrice or []:
        amount = money_to_units(price.price.dutyFreeAmount, TOKEN_DECIMALS)
        if str(price.priceType) == "recurring":
            monthly += amount
        else:
            one_time += amount
    return one_time, monthly


def _sls(item: Any) -> Any:
    product = item.model_dump(mode="json", by_alias=True, exclude_none=True).get("product") or {}
    configuration = product.get("productConfiguration") or {}
    return configuration.get("carrierEthernetSls") or configuration.get("sls") or {}
