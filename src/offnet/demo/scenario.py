"""The demo's story: a circle of trust, six carriers, RFQs to paid months, a ticket, a dispute, payouts.

Everything runs for real: anvil (or the embedded chain), one reference Sonata seller and one oracle
per carrier over HTTP. The scenario only does what people would do by hand (found the circle,
apply and sponsor, ask for quotes, open a trouble ticket, dispute a report, rule as the council,
withdraw) and moves chain time; the oracles do the rest. It drives the oracles' duty cycle itself
(one pass of every oracle after each move of time) so a seed always tells the same story.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from offnet.chain.connect import EMBEDDED, Chain, connect
from offnet.chain.tx import Sender
from offnet.demo.cast import CITIES, CarrierSpec, Wallets, carrier_specs, demo_key
from offnet.demo.chainwatch import ChainEvent, ChainWatch
from offnet.deployment import Suite, SuiteConfig, deploy_suite
from offnet.exceptions import ContractRevert, DemoFailure
from offnet.indexer import EventIndexer, IndexStore
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import Batch, LedgerClient, Reputation
from offnet.market.notary import financial_contract, public_key_of, seal_contract, sign_contract_commitment
from offnet.market.registry import ACCESS_ELINE, Profile, location_key
from offnet.market.types import OrderTerms, ReportKind, ReportStatus, SlaReport
from offnet.sonata.examples import load_example
from offnet.sonata.models import PRODUCT_ORDER_API, TROUBLE_TICKET_API
from offnet.sonata.seller.profiles import get_profile
from offnet.testing.carriers import Carrier, TestMarket, running_market

DAY = 86_400
HOUR = 3_600
QUOTE_WINDOW = 2 * DAY  # an RFQ's deadline after it is posted
WAVE_GAP = 35 * DAY  # later RFQ waves are posted once earlier orders were delivered (reputations exist)
LIVENESS = 3 * DAY
QUOTE_STEP = 8 * HOUR  # sellers answer within hours; the deadline is two days away
IDLE_STEP = 6 * DAY  # deliveries, months, liveness: days long; each step ends with the oracles caught up
FUNDING = 1_000_000 * 10**6  # test stablecoin units (6 decimals) minted to each carrier
FOUNDERS = 3
COUNCIL_THRESHOLD = 2


@dataclass(frozen=True)
class DemoConfig:
    """How big the demo is and where it runs."""

    rfqs: int = 12
    carriers: int = 6
    months: int = 3
    seed: int = 1
    chain: str = "anvil"
    rpc: str | None = None
    out: Path = Path("out")
    waves: int = 2

    def check(self) -> DemoConfig:
        if self.rfqs < 1:
            raise ValueError("--rfqs must be at least 1")
        if not 1 <= self.months <= 12:
            raise ValueError("--months must be between 1 and 12")
        return self


@dataclass
class Feed:
    """Where the scenario tells what happens (the console shows it; tests may ignore it)."""

    phase: Callable[[str], None] = lambda _text: None
    event: Callable[[str], None] = lambda _text: None
    progress: Callable[[str, int, int], None] = lambda _name, _done, _total: None


@dataclass
class RfqPlan:
    """One RFQ of the story: who buys, where, and when it is posted."""

    index: int
    buyer: str
    country: str
    post_at: int
    rfq_id: int | None = None
    invited: tuple[str, ...] = ()


@dataclass
class DemoState:
    """Everything the report needs, gathered while the story runs."""

    started_wall: float
    chain_kind: str = ""
    first_block: int = 0
    start_time: int = 0
    rfqs: list[RfqPlan] = field(default_factory=list)
    reputation_before: dict[str, Reputation] = field(default_factory=dict)
    reputation_after: dict[str, Reputation] = field(default_factory=dict)
    reputation_samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    ticket: dict[str, Any] | None = None
    dispute: dict[str, Any] | None = None
    contract: dict[str, Any] | None = None  # the financial contract notarised after an award
    non_delivery_claims: list[str] = field(default_factory=list)
    withdrawals: dict[str, int] = field(default_factory=dict)
    oracle_errors: list[str] = field(default_factory=list)
    steps: int = 0
    cycle_seconds: float = 0.0


def _lock_provider(chain: Chain) -> None:
    """Serialise every request to an in-process chain (sellers and oracles call it from threads)."""
    provider = chain.w3.provider
    lock = threading.RLock()
    request = provider.make_request

    def locked(method, params):
        with lock:
            return request(method, params)

    provider.make_request = locked


class DemoRun:
    """One run of the demo: call `run()`; it returns the state and the chain objects for the report."""

    def __init__(self, config: DemoConfig, feed: Feed | None = None):
        self.config = config.check()
        self.feed = feed or Feed()
        self.rng = random.Random(f"offnet demo {config.seed}")
        self.state = DemoState(started_wall=time.monotonic())
        self.specs: list[CarrierSpec] = carrier_specs(config.carriers, config.seed)
        self.chain: Chain | None = None
        self.suite: Suite | None = None
        self.watch: ChainWatch | None = None
        self.market: TestMarket | None = None
        self.index: IndexStore | None = None  # the event index discovery reads (out/index.db)
        self.founders: list[LocalAccount] = []

    # --- the whole story --------------------------------------------------------------------------

    def run(self, finish: Callable[[DemoRun], Any] | None = None) -> Any:
        """Run the story end to end, then `finish(self)` while the chain still answers (the report).

        Everything started (anvil, sellers, oracles) is stopped again, whatever happens.
        """
        out = self.config.out
        out.mkdir(parents=True, exist_ok=True)
        for stale in (
            out / "oracles",
            out / "deployments",
            out / "contracts",
        ):  # an earlier demo's state is not this one's
            shutil.rmtree(stale, ignore_errors=True)
        (out / "oracles").mkdir()
        (out / "index.db").unlink(missing_ok=True)
        self.index = IndexStore(f"sqlite:///{out / 'index.db'}")
        self.feed.phase(f"starting the chain ({self.config.rpc or self.config.chain})")
        self.chain = connect(self.config.chain, rpc=self.config.rpc)
        try:
            if not self.chain.is_local:
                raise DemoFailure(
                    "the demo moves chain time: it needs a local development chain (anvil, embedded)"
                )
            if self.chain.kind == EMBEDDED:
                _lock_provider(self.chain)
            self.state.chain_kind = self.chain.kind
            self.feed.phase(
                f"chain {self.chain.kind} {self.chain.url or '(in process)'}, id {self.chain.chain_id}"
            )
            self.state.first_block = self.chain.w3.eth.block_number
            wallets = Wallets.create(out / "keystores")
            carriers = self._found_circle(wallets)
            self.feed.phase("starting sellers and oracles")
            with running_market(
                self.chain,
                carriers,
                out / "oracles",
                out / "deployments",
                seed=self.config.seed,
                on_sellers_started=self._join,
                poll_interval=3600.0,
                autonomous=False,  # the story moves in lockstep: each pass is the demo's tick()
                seller_overrides={"prepaid_months": self.config.months},
            ) as market:
                self.market = market
                self._trade()
                self._drain()
                self._settle()
            # The explorer serves this index once the chain is gone: it holds the whole story.
            EventIndexer.of(self.suite, self.index).sync()
            return finish(self) if finish else self
        finally:
            self.index.close()
            self.chain.close()

    # --- the circle of trust -------------------------------------------------------------------------

    def _found_circle(self, wallets: Wallets) -> list[Carrier]:
        chain = self.chain
        assert chain is not None
        self.feed.phase("creating encrypted keystores")
        self.founders = [
            wallets.add(f"founder-{i + 1}", demo_key(self.config.seed, f"founder-{i + 1}"))
            for i in range(FOUNDERS)
        ]
        deployer = wallets.add("deployer", demo_key(self.config.seed, "deployer"))
        accounts = {
            spec.name: wallets.add(spec.name, demo_key(self.config.seed, spec.name)) for spec in self.specs
        }
        for account in [deployer, *self.founders, *accounts.values()]:
            chain.fund(account.address, 100 * 10**18)
        self.feed.phase("deploying the suite and founding the circle of trust")
        founders = [f.address for f in self.founders]
        self.suite = deploy_suite(
            chain,
            Sender(chain, deployer),
            SuiteConfig(
                founders=founders,
                council=founders,
                council_threshold=COUNCIL_THRESHOLD,
                sponsors_required=2,
                liveness_window=LIVENESS,
            ),
        )
        self.suite.manifest.save(self.config.out / "deployments")
        for i, founder in enumerate(self.founders):  # named, so the council reads as people
            self.suite.registry.update_profile(
                Sender(chain, founder), Profile(f"founder-{i + 1}", f"https://founder-{i + 1}.demo.invalid")
            )
        names = {f.address: f"founder-{i + 1}" for i, f in enumerate(self.founders)}
        names.update({a.address: name for name, a in accounts.items()})
        names[deployer.address] = "deployer"
        self.watch = ChainWatch(chain, self.suite, names, next_block=self.state.first_block)
        return [Carrier(spec.name, accounts[spec.name], spec.profile) for spec in self.specs]

    def _join(self, market: TestMarket) -> None:
        """Once the sellers serve: each carrier applies with its Sonata URL and two founders sponsor it."""
        chain, suite = self.chain, self.suite
        assert chain is not None and suite is not None
        self.feed.phase("carriers join by sponsorship")
        registry = suite.registry
        token = suite.token
        assert token is not None
        for index, spec in enumerate(self.specs):
            carrier = market[spec.name]
            sender = Sender(chain, carrier.account)
            registry.apply(sender, Profile(spec.name, carrier.seller_url, (ACCESS_ELINE,), spec.countries))
            for k in range(2):
                registry.sponsor(Sender(chain, self.founders[(index + k) % FOUNDERS]), carrier.address)
            if not registry.is_active(carrier.address):
                raise DemoFailure(f"{spec.name} was not admitted after two sponsorships")
            sender.transact(token.functions.mint(carrier.address, FUNDING))
            sender.transact(token.functions.approve(suite.escrow.address, 2**256 - 1))
            self._feed_chain()
        for spec in self.specs:
            self.state.reputation_before[spec.name] = self._ledger().reputation(market[spec.name].address)

    # --- trading ------------------------------------------------------------------------------------

    def _ledger(self) -> LedgerClient:
        assert self.chain is not None and self.suite is not None
        return self.suite.ledger

    def _escrow(self) -> EscrowClient:
        assert self.chain is not None and self.suite is not None
        return self.suite.escrow

    def _plan_rfqs(self) -> None:
        assert self.chain is not None
        start = self.chain.now()
        self.state.start_time = start
        waves = max(1, min(self.config.waves, self.config.rfqs))
        for index in range(self.config.rfqs):
            buyer = self.specs[index % len(self.specs)]
            # A country some other carrier sells in (the buyer's own coverage does not help it).
            sold = sorted({c for s in self.specs if s.name != buyer.name for c in s.countries})
            wave = index * waves // self.config.rfqs
            self.state.rfqs.append(RfqPlan(index, buyer.name, self.rng.choice(sold), start + wave * WAVE_GAP))

    def _trade(self) -> None:
        chain, market = self.chain, self.market
        assert chain is not None and market is not None
        self._plan_rfqs()
        months = self.config.months
        last_post = max(p.post_at for p in self.state.rfqs)
        # Delivery (install interval + slip) within ~60 days, then the months, then liveness.
        horizon = last_post + QUOTE_WINDOW + 60 * DAY + (months + 1) * 31 * DAY + 2 * LIVENESS
        self.feed.phase(f"trading: {self.config.rfqs} RFQs, {months} months of service")
        time.sleep(0.3)  # the oracles' first duty cycle (at start) is over
        while True:
            now = chain.now()
            for plan in self.state.rfqs:
                if plan.rfq_id is None and plan.post_at <= now:
                    self._post_rfq(plan)
            self._cycle()
            if self._quoting(now):
                self._catch_up()
            self._maybe_open_ticket()
            self._maybe_notarise()
            self._maybe_dispute()
            self._claim_undelivered()
            self._sample_reputation()
            self._report_progress()
            if self._all_orders_closed() or now > horizon:
                break
            chain.advance_time(self._step(now))
            self.state.steps += 1
            time.sleep(0.12)  # the sellers' clocks tick every 0.1 s: due transitions and notifications go out

    def _quoting(self, now: int) -> bool:
        """True while some RFQ is open for quotes (or just closed and about to be awarded)."""
        return any(p.rfq_id is not None and now < p.post_at + QUOTE_WINDOW + HOUR for p in self.state.rfqs)

    def _catch_up(self, limit: float = 5.0) -> None:
        """Before time moves on, let the notifications being retried (e.g. a signed quote fetched a
        moment before its seller committed it) be handled: a seed then replays the same awards."""
        assert self.market is not None
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            waiting = sum(
                c.oracle.store.counts().get("events_received", 0) for c in self.market.carriers.values()
            )
            if not waiting:
                return
            time.sleep(0.4)
            self._cycle()

    def _step(self, now: int) -> int:
        """How far to move time: hours while quotes are being answered, days otherwise."""
        quoting = self._quoting(now)
        upcoming = [p.post_at for p in self.state.rfqs if p.rfq_id is None]
        step = QUOTE_STEP if quoting else IDLE_STEP
        if upcoming:
            step = max(HOUR, min(step, min(upcoming) - now))
        return step

    def _post_rfq(self, plan: RfqPlan) -> None:
        """Discovery through the registry directory, then the buyer's oracle posts and sends the RFQ."""
        chain, suite, market = self.chain, self.suite, self.market
        assert chain is not None and suite is not None and market is not None and self.index is not None
        EventIndexer.of(suite, self.index).sync()
        buyer = market[plan.buyer]
        sellers = [
            p.address for p in self.index.providers(ACCESS_ELINE, plan.country) if p.address != buyer.address
        ]
        if not sellers:
            raise DemoFailure(f"no seller found in the directory for {plan.country}")
        now = datetime.fromtimestamp(chain.now(), UTC)
        request = load_example("quote_create")
        request["externalId"] = f"DEMO-{self.config.seed}-RFQ-{plan.index + 1:03d}"
        request["description"] = (
            f"Access E-Line 200 Mb/s in {CITIES[plan.country]}, {self.config.months} months"
        )
        request["requestedQuoteCompletionDate"] = _rfc3339(now + timedelta(seconds=QUOTE_WINDOW))
        item = request["quoteItem"][0]
        item["product"]["place"][0].update({"city": CITIES[plan.country], "country": plan.country})
        item["requestedQuoteItemTerm"]["duration"]["amount"] = self.config.months
        item["requestedQuoteItemTerm"]["name"] = f"{self.config.months} months"
        plan.invited = tuple(sellers)
        plan.rfq_id = buyer.call(
            buyer.oracle.buyer.post_rfq(
                request,
                sellers,
                token=suite.token.address,
                product_key=ACCESS_ELINE,
                location_key=location_key(f"{plan.country}-{CITIES[plan.country].upper()}"),
            )
        )

    def _cycle(self) -> None:
        """One duty pass of every oracle; another when the first moved something (one oracle's work
        often wakes another: a committed quote, a delivered order)."""
        market = self.market
        assert market is not None
        began = time.monotonic()
        for _ in range(2):
            before = self._backlog()
            carriers = list(market.carriers.values())
            if self.state.chain_kind == EMBEDDED:
                results = [_outcome(lambda c=c: c.call(c.oracle.tick(), timeout=120)) for c in carriers]
            else:
                futures = [asyncio.run_coroutine_threadsafe(c.oracle.tick(), c.loop) for c in carriers]
                try:
                    results = [_outcome(lambda f=f: f.result(120)) for f in futures]
                except BaseException:  # Ctrl-C: the passes still running are cancelled, not orphaned
                    for future in futures:
                        future.cancel()
                    raise
            for carrier, error in zip(carriers, results, strict=True):
                if error:
                    self.state.oracle_errors.append(f"{carrier.name}: {error}")
            self._feed_chain()
            if self._backlog() == before:
                break  # no notification arrived meanwhile: nobody has anything new to do
        self.state.cycle_seconds += time.monotonic() - began

    def _backlog(self) -> int:
        """Notifications received by all oracles so far (new ones mean another pass is worth it)."""
        assert self.market is not None
        return sum(
            sum(c.oracle.store.counts().get(k, 0) for k in ("events_received", "events_done"))
            for c in self.market.carriers.values()
        )

    def _feed_chain(self) -> list[ChainEvent]:
        assert self.watch is not None
        fresh = self.watch.poll()
        for event in fresh:
            line = self.watch.describe(event)
            if line:
                self.feed.event(line)
        return fresh

    # --- the trouble ticket, the dispute, the claims ---------------------------------------------------

    def _orders(self) -> list[ChainEvent]:
        assert self.watch is not None
        return self.watch.of("OrderOpened")

    def _carrier_of(self, address: str) -> Carrier:
        assert self.market is not None
        return next(c for c in self.market.carriers.values() if c.address == address)

    def _maybe_open_ticket(self) -> None:
        """The first delivered order of a seller that keeps its buyers informed gets a trouble ticket."""
        if self.state.ticket is not None or self.watch is None:
            return
        delivered = {bytes(e.args["orderId"]) for e in self.watch.of("OrderDelivered")}
        for opened in self._orders():
            order_id = bytes(opened.args["orderId"])
            terms = opened.args["terms"]
            seller = self._carrier_of(terms["seller"])
            if order_id not in delivered or get_profile(seller.profile).silent_probability > 0:
                continue
            buyer = self._carrier_of(terms["buyer"])
            stored = buyer.oracle.store.order(order_id="0x" + order_id.hex())
            if not stored or not stored.get("product_order_id"):
                continue
            now = datetime.fromtimestamp(self.chain.now(), UTC)
            ticket = load_example("trouble_ticket_create")
            ticket["externalId"] = f"DEMO-{self.config.seed}-TT-1"
            ticket["issueStartDate"] = _rfc3339(now - timedelta(hours=2))
            ticket["relatedEntity"][0]["id"] = stored["product_order_id"]
            created = buyer.call(buyer.oracle.peers.sonata(stored["peer"]).create_trouble_ticket(ticket))
            self.state.ticket = {
                "order": "0x" + order_id.hex(),
                "buyer": buyer.name,
                "seller": seller.name,
                "ticket": created.id,
                "opened_at": int(now.timestamp()),
            }
            self.feed.event(f"{buyer.name} opened trouble ticket {created.id} at {seller.name}")
            return

    def _maybe_notarise(self) -> None:
        """The parties of the first order agree its financial contract after the award: both sign
        the commitment, notarise it and publish the encrypted copies; the document and its salt are
        written to out/contracts/ (what the explorer's contract check takes)."""
        if self.state.contract is not None or self.watch is None or not self._orders():
            return
        chain, suite = self.chain, self.suite
        assert chain is not None and suite is not None
        opened = self._orders()[0]
        order_id = bytes(opened.args["orderId"])
        terms = OrderTerms.from_tuple(opened.args["terms"])
        buyer, seller = self._carrier_of(terms.buyer), self._carrier_of(terms.seller)
        salt = keccak(text=f"offnet demo {self.config.seed} contract 0x{order_id.hex()}")
        sealed = seal_contract(financial_contract(terms), salt)
        notary = suite.notary
        signatures = [
            sign_contract_commitment(party.account, notary.domain, order_id, sealed.commitment)
            for party in (buyer, seller)
        ]
        notary.notarise(
            Sender(chain, buyer.account),
            order_id,
            sealed.commitment,
            buyer.address,
            seller.address,
            *signatures,
        )
        notary.publish_copy(
            Sender(chain, seller.account),
            order_id,
            sealed,
            public_key_of(buyer.account),
            public_key_of(seller.account),
        )
        key = "0x" + order_id.hex()
        folder = self.config.out / "contracts"
        folder.mkdir(exist_ok=True)
        path = folder / f"{key}.json"
        path.write_text(
            json.dumps(
                {"order": key, "salt": "0x" + sealed.salt.hex(), "document": sealed.document.decode()},
                indent=2,
            )
            + "\n"
        )
        self.state.contract = {
            "order": key,
            "buyer": buyer.name,
            "seller": seller.name,
            "commitment": "0x" + sealed.commitment.hex(),
            "file": str(path),
        }
        self.feed.event(f"{buyer.name} and {seller.name} notarised the contract of order {key[:10]}")
        self._feed_chain()

    def _maybe_dispute(self) -> None:
        """The buyer disputes the first period report a seller relays; the council upholds it."""
        if self.state.dispute is not None or self.watch is None:
            return
        batches = {
            bytes(e.args["root"]): (e.args["member"], e.args["lane"]) for e in self.watch.of("BatchSubmitted")
        }
        for submitted in self.watch.of("ReportSubmitted"):
            if submitted.args["kind"] != ReportKind.PERIOD:
                continue
            root = bytes(submitted.args["root"])
            terms = self._escrow().terms_of(bytes(submitted.args["orderId"]))
            member, lane = batches.get(root, (None, None))
            if member != terms.seller:
                continue
            report = _report(submitted)
            ledger = self._ledger()
            if ledger.status(report) != ReportStatus.NONE:
                continue
            batch = Batch.of(
                terms.seller,
                [_report(e) for e in self.watch.of("ReportSubmitted") if bytes(e.args["root"]) == root],
                lane,
            )
            buyer = self._carrier_of(terms.buyer)
            self._dispute(buyer, terms, report, batch)
            return

    def _dispute(self, buyer: Carrier, terms: OrderTerms, report: SlaReport, batch: Batch) -> None:
        chain, suite = self.chain, self.suite
        assert chain is not None and suite is not None
        ledger = self._ledger()
        ledger.dispute(Sender(buyer.oracle.chain, buyer.account), terms, report, batch)
        self._feed_chain()
        registry = suite.registry
        ruling = ledger.resolve_call(terms, report, terms.buyer)  # the seller's measurement stands
        proposal, _ = registry.propose(
            Sender(chain, self.founders[0]), ledger.address, ruling._encode_transaction_data()
        )
        registry.approve(Sender(chain, self.founders[1]), proposal)
        self._feed_chain()
        if ledger.status(report) != ReportStatus.FINAL:
            raise DemoFailure(
                f"the council's ruling on report {report.report_id.hex()} did not make it final"
            )
        self.state.dispute = {
            "order": "0x" + bytes(report.order_id).hex(),
            "period": report.key,
            "buyer": buyer.name,
            "seller": self._carrier_of(terms.seller).name,
            "proposal": proposal,
            "loser": buyer.name,
            "approvals": ["founder-1", "founder-2"],
        }

    def _order_sets(self) -> tuple[set[bytes], set[bytes]]:
        """(delivered, closed) order ids, from the escrow's events."""
        assert self.watch is not None
        delivered = {bytes(e.args["orderId"]) for e in self.watch.of("OrderDelivered")}
        closed = {bytes(e.args["orderId"]) for e in self.watch.of("OrderClosed")}
        return delivered, closed

    def _claim_undelivered(self) -> None:
        """A buyer whose order was never reported delivered claims its money back after the grace."""
        escrow = self._escrow()
        now = self.chain.now()
        delivered, closed = self._order_sets()
        for opened in self._orders():
            order_id = bytes(opened.args["orderId"])
            key = "0x" + order_id.hex()
            if key in self.state.non_delivery_claims or order_id in delivered or order_id in closed:
                continue
            terms = OrderTerms.from_tuple(opened.args["terms"])
            if now < terms.awarded_at + terms.install_days * DAY + 30 * DAY:
                continue
            buyer = self._carrier_of(terms.buyer)
            try:
                escrow.claim_non_delivery(Sender(buyer.oracle.chain, buyer.account), terms)
            except ContractRevert as refused:
                self.state.oracle_errors.append(f"non-delivery claim {key}: {refused.describe()}")
                continue
            self.state.non_delivery_claims.append(key)
            self._feed_chain()

    def _all_orders_closed(self) -> bool:
        if any(p.rfq_id is None for p in self.state.rfqs):
            return False
        assert self.market is not None and self.watch is not None
        awarded = {e.args["rfqId"] for e in self.watch.of("RfqAwarded")}
        now = self.chain.now()
        # An RFQ nobody answered stays open: it no longer holds the story up a day after its deadline.
        if any(p.rfq_id not in awarded and now <= p.post_at + QUOTE_WINDOW + DAY for p in self.state.rfqs):
            return False
        _, closed = self._order_sets()
        if any(bytes(e.args["orderId"]) not in closed for e in self._orders()):
            return False
        # Every report the oracles queued is final (the last releases happen at finalisation).
        return not any(self._outbox_open(c) for c in self.market.carriers.values())

    @staticmethod
    def _outbox_open(carrier: Carrier) -> int:
        counts = carrier.oracle.store.counts()
        return sum(
            n for k, n in counts.items() if k in ("reports_pending", "reports_submitted", "reports_confirmed")
        )

    def _sample_reputation(self) -> None:
        assert self.chain is not None and self.market is not None
        now = self.chain.now()
        day = (now - self.state.start_time) / DAY
        if self.state.reputation_samples and day - self.state.reputation_samples[-1][0] < 4:
            return
        ledger = self._ledger()
        self.state.reputation_samples.append(
            (
                round(day, 2),
                {c.name: ledger.reputation(c.address).overall_ppm for c in self.market.carriers.values()},
            )
        )

    def _report_progress(self) -> None:
        assert self.watch is not None
        total = len(self.state.rfqs)
        self.feed.progress("RFQs posted", sum(p.rfq_id is not None for p in self.state.rfqs), total)
        orders = len(self._orders())
        self.feed.progress("orders awarded", orders, total)
        self.feed.progress("orders delivered", len(self.watch.of("OrderDelivered")), max(orders, 1))
        self.feed.progress(
            "months settled",
            len([e for e in self.watch.of("MilestoneSettled") if e.args["milestone"] > 0]),
            max(orders, 1) * self.config.months,
        )
        self.feed.progress(
            "chain days",
            int((self.chain.now() - self.state.start_time) / DAY),
            int((max(p.post_at for p in self.state.rfqs) - self.state.start_time) / DAY)
            + 60
            + self.config.months * 31,
        )

    def _drain(self, limit: float = 20.0) -> None:
        """Let the oracles finish the notifications they are still retrying (a few seconds at most)."""
        assert self.market is not None
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            waiting = sum(len(unrelayed(c)) for c in self.market.carriers.values()) + sum(
                n
                for c in self.market.carriers.values()
                for k, n in c.oracle.store.counts().items()
                if k in ("reports_pending", "reports_submitted")
            )
            if not waiting:
                return
            time.sleep(0.5)
            self.chain.advance_time(HOUR)
            self._cycle()

    # --- settlement ---------------------------------------------------------------------------------

    def _settle(self) -> None:
        """Every party withdraws what the escrow owes it; final reputations are read."""
        chain, suite, market = self.chain, self.suite, self.market
        assert chain is not None and suite is not None and market is not None
        self.feed.phase("settlement: every party withdraws")
        escrow = self._escrow()
        token = suite.token.address
        for carrier in market.carriers.values():
            owed = escrow.withdrawable(token, carrier.address)
            if owed:
                escrow.withdraw(Sender(carrier.oracle.chain, carrier.account), token)
            self.state.withdrawals[carrier.name] = owed
        self._feed_chain()
        ledger = self._ledger()
        for carrier in market.carriers.values():
            self.state.reputation_after[carrier.name] = ledger.reputation(carrier.address)
        self._sample_reputation_final()

    def _sample_reputation_final(self) -> None:
        assert self.chain is not None and self.market is not None
        day = (self.chain.now() - self.state.start_time) / DAY
        self.state.reputation_samples.append(
            (round(day, 2), {n: r.overall_ppm for n, r in self.state.reputation_after.items()})
        )


def unrelayed(carrier: Carrier) -> list[str]:
    """The order and trouble-ticket notifications an oracle has not turned into reports (yet or ever).

    Quote notifications produce no SLA report: one about a quote too late for its RFQ may stay
    unhandled without anything owed to the ledger.
    """
    pending = carrier.oracle.store.unfinished_events((PRODUCT_ORDER_API.name, TROUBLE_TICKET_API.name))
    return [f"{e.event_type} ({e.status}: {e.last_error or 'not handled yet'})" for e in pending]


def _outcome(wait: Callable[[], Any]) -> str | None:
    """Run `wait`; the failure as text (an oracle pass that failed is retried by the next one)."""
    try:
        wait()
    except Exception as exc:  # the oracle's own loop logs and carries on the same way
        return f"{exc.__class__.__name__}: {' '.join(str(exc).split())[:200]}"
    return None


def _report(event: ChainEvent) -> SlaReport:
    a = event.args
    metrics = a["metrics"]
    values = tuple(metrics.values()) if hasattr(metrics, "keys") else tuple(metrics)
    return SlaReport.from_tuple(
        (a["orderId"], a["kind"], a["key"], a["value0"], a["value1"], values, a["evidenceHash"])
    )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
