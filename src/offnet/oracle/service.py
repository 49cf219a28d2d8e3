"""One carrier's oracle: its parts wired together, and the loop that runs their duties.

  listener (oracle.listener)   MEF notifications in -> events table; signed quotes out to buyers
  events   (oracle.events)     each event -> GET the resource -> link the order -> SLA reports -> outbox
  buyer    (oracle.buyer)      RFQ -> Sonata quote requests -> verified signed quotes -> award -> order
  seller   (oracle.seller)     our approved quotes -> signed, committed quotes; monthly period reports
  orders   (oracle.orders)     OrderOpened on chain -> our orders, linked to Sonata product orders
  relay    (oracle.relay)      outbox -> SlaLedger batches -> confirmations -> finalisation

Each step is idempotent and keyed by content (event ids, RFQ ids, report ids), so the loop can be
interrupted anywhere and resumed by the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from eth_account.signers.local import LocalAccount

from offnet.chain.connect import Chain, connect
from offnet.chain.tx import Sender
from offnet.deployment import Manifest, Suite
from offnet.oracle.buyer import BuyerDesk
from offnet.oracle.config import OracleConfig
from offnet.oracle.events import EventHandler
from offnet.oracle.listener import Peer, create_listener_app
from offnet.oracle.orders import OrderBook
from offnet.oracle.peers import SELF, PeerClients
from offnet.oracle.relay import ReportRelay
from offnet.oracle.seller import SellerDesk
from offnet.oracle.store import Store

log = logging.getLogger("offnet.oracle")


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
        self.peers = PeerClients(config, self.store)
        self.relay = ReportRelay(
            self.store, self.chain, self.suite.ledger, self.sender, self.member, batch_size=config.batch_size
        )
        self.orders = OrderBook(config, self.store, self.chain, self.suite.escrow)
        self.buyer = BuyerDesk(
            config,
            self.store,
            self.chain,
            self.sender,
            market=self.suite.market,
            ledger=self.suite.ledger,
            registry=self.suite.registry,
            peers=self.peers,
        )
        self.seller = SellerDesk.of(
            config, self.store, self.chain, self.sender, signer, market=self.suite.market
        )
        self.events = EventHandler(self.store, self.peers, self.orders, self.buyer, self.seller)
        notifiers = [Peer(p.name, p.inbound_token.read(), p.member) for p in config.peers]
        if config.seller:
            notifiers.append(Peer(SELF, config.seller.notification_token.read()))
        self.app = create_listener_app(
            self.store,
            notifiers,
            health=self._health,
            oracle_peers=[
                Peer(p.name, (p.oracle_token or p.inbound_token).read(), p.member) for p in config.peers
            ],
            signed_quotes=self.seller.signed_quote_for if self.seller else None,
        )
        self._stop = asyncio.Event()
        self._server = None
        self.errors: list[str] = []

    def _health(self) -> dict:
        """Chain reachability for /healthz: one quick request, no retries (a probe must answer fast)."""
        block = self.chain.w3.eth.block_number if self.chain.url is None else _probe_block(self.chain.url)
        return {"chainId": self.chain.chain_id, "block": block, "member": self.member}

    # --- the loop ------------------------------------------------------------------------------------

    async def tick(self) -> None:
        """One pass of every duty (what the background loop repeats).

        Each duty fails alone: with the RPC down, notifications are still fetched from the sellers
        and their reports queued; with a seller down, the chain side still moves.
        """
        duties = []
        if self.seller is not None:
            # Until it succeeds (a seller's API may fail for a while): our own Sonata system's events.
            duties.append(("subscribe to our Sonata system", lambda: self.peers.subscribe(SELF)))
        duties += [
            ("sync orders", lambda: asyncio.to_thread(self.orders.sync)),
            ("process events", self.events.process_due),
        ]
        if self.config.buyer and self.config.auto_award:
            duties.append(("award", self.buyer.award_due))
        if self.seller is not None:
            duties.append(("period reports", self.seller.report_periods))
        duties += [
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
        """Recover the outbox after a restart (the subscription to our own Sonata system is a duty of
        every pass, so a seller API failing at start-up delays it instead of stopping the loop)."""
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
            await self.peers.aclose()


def _probe_block(url: str) -> int:
    import httpx

    response = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}, timeout=2.0
    )
    response.raise_for_status()
    return int(response.json()["result"], 16)
