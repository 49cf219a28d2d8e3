"""One carrier's oracle: its parts wired together, and the duties that run them.

  listener (oracle.listener)   MEF notifications in -> events table (group commit); signed quotes out
  worker   (oracle.worker)     each event -> oracle.events: GET the resource, check, link, derive -> outbox
  buyer    (oracle.buyer)      RFQ -> Sonata quote requests -> verified signed quotes -> award -> order
  seller   (oracle.seller)     our approved quotes -> signed, committed quotes; monthly period reports
  orders   (oracle.orders)     OrderOpened on chain -> our orders, linked to Sonata product orders
  relay    (oracle.relay)      outbox -> SlaLedger batches (pipelined) -> confirmations -> finalisation

Every duty is supervised (oracle.supervisor): it runs in its own loop, fails alone, retries with
backoff, and /healthz reports its last success. Chain duties never wait on a peer's I/O. Replicas
sharing one database all serve the listener; the duties run only in the one holding the database's
leadership lock (oracle.leader). Each step is idempotent and keyed by content (event ids, RFQ ids,
report ids), so the oracle can be stopped anywhere, even by kill -9, and resumes from its database.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from eth_account.signers.local import LocalAccount

from offnet.chain.connect import Chain, connect
from offnet.chain.tx import Sender
from offnet.deployment import Manifest, Suite
from offnet.oracle.buyer import BuyerDesk
from offnet.oracle.committer import Committer
from offnet.oracle.config import OracleConfig
from offnet.oracle.events import ChainClock, EventHandler
from offnet.oracle.leader import Leader, leader_lock
from offnet.oracle.listener import listener_apps
from offnet.oracle.orders import OrderBook
from offnet.oracle.peers import SELF, PeerClients
from offnet.oracle.redact import redact
from offnet.oracle.relay import ReportRelay
from offnet.oracle.seller import SellerDesk
from offnet.oracle.store import Store
from offnet.oracle.supervisor import Duty, Supervisor
from offnet.oracle.worker import Worker
from offnet.serving import http_server

log = logging.getLogger("offnet.oracle")
COALESCE = 0.02  # seconds between woken passes of the events and submit duties


class Oracle:
    """A carrier's relay between its (and its peers') Sonata systems and the offnet contracts."""

    def __init__(
        self, config: OracleConfig, *, chain: Chain | None = None, signer: LocalAccount | None = None
    ):
        self.config = config
        self.member = config.member
        self.store = Store(config.database)
        self.store.RETRY_BUDGET = int(config.retry_days * 86_400)
        self.committer = Committer(self.store.engine).start()
        self.chain = chain or connect(rpc=config.rpc, confirmations=config.confirmations)
        self.suite = Suite.attach(self.chain, Manifest.load(self.chain.chain_id, config.deployments))
        signer = signer or config.signer()
        self.sender = Sender(self.chain, signer)
        self.peers = PeerClients(config, self.store)
        self.relay = ReportRelay(
            self.store,
            self.chain,
            self.suite.ledger,
            self.sender,
            self.member,
            batch_size=config.batch_size,
            max_in_flight=config.max_in_flight,
            max_wait=config.batch_wait,
        )
        self.orders = OrderBook(config, self.store, self.chain, self.suite.escrow, self.sender)
        suite = self.suite
        self.buyer = BuyerDesk(
            config,
            self.store,
            self.chain,
            self.sender,
            market=suite.market,
            ledger=suite.ledger,
            registry=suite.registry,
            escrow=suite.escrow,
            peers=self.peers,
        )
        self.seller = SellerDesk.of(
            config, self.store, self.chain, self.sender, signer, market=suite.market, escrow=suite.escrow
        )
        handler = EventHandler(self.peers, self.orders, self.buyer, self.seller, ChainClock(self.chain.now))
        self.worker = Worker(
            self.store,
            self.committer,
            handler,
            concurrency=config.concurrency,
            per_peer=config.per_peer_concurrency,
            on_reports=self._reports_queued,
        )
        self.supervisor = Supervisor()
        self._add_duties()
        self.leader = Leader(leader_lock(config.database))
        self.app, self.admin_app = listener_apps(
            config,
            self.store,
            self.committer,
            on_event=lambda: self.supervisor.wake("events"),
            health=self.health,
            signed_quotes=self.seller.signed_quote_for if self.seller else None,
        )
        self._servers: list = []

    def _add_duties(self) -> None:
        """Each job in its own supervised loop; the ones that touch peers apart from the chain's."""
        fast, poll = 0.25, self.config.poll_interval
        chain = asyncio.to_thread
        duties = [
            Duty("events", self.worker.pass_, fast, min_gap=COALESCE),  # peers' Sonata APIs
            Duty("subscriptions", self._subscribe, max(poll, 5.0)),  # our own Sonata system's hubs
            Duty("orders", lambda: chain(self.orders.sync), poll),
            Duty(
                "submit",
                lambda: chain(self.relay.submit_pass),
                min(fast, max(self.config.batch_wait, 0.05)),
                min_gap=COALESCE,
            ),
            Duty("confirm", lambda: chain(self.relay.confirm_pass), fast),
            Duty("finalize", lambda: chain(self.relay.finalize_due), poll),
        ]
        if self.config.buyer and self.config.auto_award:
            duties.append(Duty("award", self.buyer.award_due, poll))
        if self.config.buyer:
            duties.append(Duty("sonata orders", self.buyer.place_orders, poll))  # sellers' Sonata APIs
            duties.append(Duty("close rfqs", self.buyer.close_due, poll))
        if self.seller is not None:
            duties.append(Duty("periods", self.seller.report_periods, poll))
            duties.append(Duty("hold", lambda: chain(self.relay.hold_pass), poll))
        for duty in duties:
            duty.stuck_after = self.config.stuck_after
            self.supervisor.add(duty)

    async def _elected(self) -> None:
        """Taking over: settle what the outbox says was sent, read the key's nonce from the node again,
        then run the duties."""
        self.chain.forget_nonce(self.sender.address)
        try:
            await asyncio.to_thread(self.relay.recover)
        except Exception as exc:  # the confirm duty settles them once the chain answers
            log.warning("recovery of the outbox deferred: %s", redact(f"{exc.__class__.__name__}: {exc}"))
        if self.config.autonomous:
            self.supervisor.start()

    async def _deposed(self) -> None:
        log.error("leadership lost: the duties stop here (another process takes them over)")
        await self.supervisor.stop()
        await self.worker.drain()

    def _reports_queued(self, count: int) -> None:
        self.relay.queued(count)
        self.supervisor.wake("submit")

    async def _subscribe(self) -> None:
        if self.seller is not None:
            await self.peers.subscribe(SELF)

    # --- health -------------------------------------------------------------------------------------

    @property
    def errors(self) -> list[str]:
        """The recent failures of every duty (bounded), secrets redacted."""
        return [f"{name}: {e}" for name, h in self.supervisor.health.items() for e in h.errors]

    async def health(self) -> tuple[bool, dict]:
        """Each duty's last success, the backlog (dead letters included) and the chain's head."""
        healthy, duties = self.supervisor.report()
        if not self.leader.active:  # a standby runs no duty: none of them is stuck
            healthy, duties = True, {}
        report: dict = {"member": self.member, "leader": self.leader.as_dict(), "duties": duties}
        report["backlog"] = await asyncio.to_thread(self.store.counts)
        try:
            report["chain"] = {
                "chainId": self.chain.chain_id,
                "block": await asyncio.to_thread(self.chain.probe_head),
            }
        except Exception as exc:  # the reason, never the RPC URL (it may carry an API key)
            healthy = False
            report["chain"] = {"error": redact(f"{exc.__class__.__name__}: {exc}")}
        return healthy, report

    # --- running ------------------------------------------------------------------------------------

    async def tick(self) -> None:
        """One whole pass of every duty, one after another, each failing alone (the demo's lockstep
        story and the tests): events are handled to the end, the outbox is sent and confirmed. Nothing
        runs unless this process leads the database."""
        if not await self.leader.try_lead(self._elected):
            return
        overrides = {
            "events": self.worker.run_once,
            "submit": lambda: asyncio.to_thread(self.relay.submit_pending),
            "confirm": lambda: asyncio.to_thread(self.relay.confirm_pass),
        }
        order = (
            "subscriptions",
            "orders",
            "events",
            "award",
            "sonata orders",
            "periods",
            "confirm",
            "submit",
        )
        for name in (*order, "finalize"):
            if name in self.supervisor.duties:
                await self.supervisor.attempt(name, overrides.get(name))

    async def serve(self) -> None:
        """Serve the listener (and the admin address) and run the duties until stopped (SIGTERM:
        graceful, the passes under way finish first)."""
        self._servers = [http_server(self.app, self.config.listen_host, self.config.listen_port)]
        if self.admin_app is not None:
            admin = self.config.admin
            self._servers.append(http_server(self.admin_app, admin.listen_host, admin.listen_port))
        # Duties and database calls run on threads: enough of them that a slow chain call never
        # keeps /healthz or the listener's writes waiting for a free one.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(64, thread_name_prefix="offnet-oracle")
        )
        leading = (
            asyncio.create_task(self.leader.run(self._elected, self._deposed), name="leadership")
            if self.config.autonomous
            else None
        )
        try:
            await asyncio.gather(*(server.serve() for server in self._servers))
        finally:
            self.leader.stop()
            if leading is not None:
                await leading
            await self.supervisor.stop()
            await self.worker.drain()
            await self.peers.aclose()
            self.committer.close()
            self.leader.release()

    def request_exit(self) -> None:
        """Stop serving and running duties (what SIGTERM does)."""
        for server in self._servers:
            server.should_exit = True
