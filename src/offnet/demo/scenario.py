"""The demo's story: a circle of trust, six carriers, RFQs to paid months, a ticket, a dispute, payouts.

Everything runs for real: anvil (or the embedded chain), one reference Sonata seller and one oracle
per carrier over HTTP. The scenario only does what people would do by hand (found the circle,
apply and sponsor, ask for quotes, open a trouble ticket, dispute a report, rule as the council,
withdraw) and moves chain time; the oracles do the rest. It drives the oracles' duty cycle itself
(one pass of every oracle after each move of time) so a seed always tells the same story.
"""

from __future__ import annotations

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
from offnet.market.rfq import MAX_INVITED
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
ETHER = 10 * 10**18  # gas money of each demo account (a run spends well under 1 ether each)
FOUNDERS = 3
COUNCIL_THRESHOLD = 2
# The chain the demo starts runs a fixed clock from this time (2026-01-05T00:00:00Z), one second per
# block, moved only by the story: every run of a seed mines the same timestamps.
DEMO_EPOCH = 1_767_571_200
CIRCUIT_MBPS = 200  # the bandwidth every RFQ asks for
MAX_PASSES = 8  # oracle passes in one cycle before time moves on regardless
# The SLA credits every demo seller offers: 1 % of the installation a day late (20 % at most); of a
# month, 10 % under 99.95 % availability, 5 % over 100 ms frame delay or 10 ppm frame loss, 5 % over
# four hours to restore; 30 % a month at most.
CREDITS = {
    "late_delivery_bps_per_day": 100,
    "late_delivery_cap_bps": 2_000,
    "availability_objective_ppm": 999_500,
    "availability_credit_bps": 1_000,
    "frame_delay_objective_us": 100_000,
    "frame_delay_credit_bps": 500,
    "frame_loss_objective_ppm": 10,
    "frame_loss_credit_bps": 500,
    "time_to_restore_objective_sec": 4 * 3600,
    "time_to_restore_credit_bps": 500,
    "monthly_credit_cap_bps": 3_000,
}


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
    refused_awards: list[str] = field(default_factory=list)  # the buyers' oracles' refused awards
    # Reputation as the last wave's buyers saw it when they ranked quotes (at the start when one wave).
    reputation_before: dict[str, Reputation] = field(default_factory=dict)
    reputation_before_day: float = 0.0
    reputation_after: dict[str, Reputation] = field(default_factory=dict)
    # (chain day, carrier -> overall reputation ppm, None while the carrier has no history yet)
    reputation_samples: list[tuple[float, dict[str, int | None]]] = field(default_factory=list)
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
        self._pending_ruling: tuple[OrderTerms, SlaReport] | None = None  # a dispute the council rules on

    # --- the whole story --------------------------------------------------------------------------

    def run(self, finish: Callable[..., Any] | None = None) -> Any:
        """Run the story end to end, then `finish(self)` while the chain still answers (the report).

        A story that breaks on the way (a refused award, nothing traded) raises DemoFailure, after
        `finish(self, failure)` recorded what happened so far. Everything started (anvil, sellers,
        oracles) is stopped again, whatever happens.
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
        fixed_clock = None if self.config.rpc or self.config.chain == EMBEDDED else DEMO_EPOCH
        self.chain = connect(self.config.chain, rpc=self.config.rpc, genesis_time=fixed_clock)
        try:
            if not self.chain.is_local:
                raise DemoFailure(
                    "the demo moves chain time: it needs a local development chain (anvil, Ganache, embedded)"
                )
            if self.chain.kind == EMBEDDED:
                _lock_provider(self.chain)
            self.state.chain_kind = self.chain.kind
            self.feed.phase(
                f"chain {self.chain.kind} {self.chain.url or '(in process)'}, id {self.chain.chain_id}, "
                f"{self.chain.evm} build"
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
                seller_overrides={"prepaid_months": self.config.months, "credits": CREDITS},
                seller_tick_seconds=0,  # sellers move only when the story settles them: one replay per seed
            ) as market:
                self.market = market
                try:
                    self._trade()
                    self._drain()
                    self._settle()
                except DemoFailure as failure:
                    if finish and self.watch is not None:
                        self._feed_chain()
                        finish(self, failure)
                    raise
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
        actors = [deployer, *self.founders, *accounts.values()]
        self._check_funding(len(actors))
        for account in actors:
            chain.fund(account.address, ETHER)
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

    def _check_funding(self, accounts: int) -> None:
        """Refuse at once, in one line, when the node's dev accounts cannot fund the demo's actors."""
        assert self.chain is not None
        needed = accounts * ETHER
        # Each transfer comes from one dev account that can afford it (offnet.chain.Chain.fund).
        affordable = sum(balance // (ETHER + 10**17) for _, balance in self.chain.dev_accounts())
        if affordable < accounts:
            total = sum(balance for _, balance in self.chain.dev_accounts())
            raise DemoFailure(
                f"funding is short: the demo gives {accounts} accounts {ETHER // 10**18} ETH each "
                f"({needed // 10**18} ETH), the node's dev accounts hold {total / 10**18:,.2f} ETH "
                f"and can make {affordable} such transfers"
            )

    def _join(self, market: TestMarket) -> None:
        """Once the sellers serve: each carrier applies with its Sonata URL and two founders sponsor it."""
        self.market = market
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
        self._snapshot_reputation()

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

    def _snapshot_reputation(self) -> None:
        """Every carrier's reputation now: the "before" of the report."""
        assert self.market is not None and self.chain is not None
        for spec in self.specs:
            self.state.reputation_before[spec.name] = self._ledger().reputation(
                self.market[spec.name].address
            )
        start = self.state.start_time or self.chain.now()
        self.state.reputation_before_day = round((self.chain.now() - start) / DAY, 1)

    def _trade(self) -> None:
        chain, market = self.chain, self.market
        assert chain is not None and market is not None
        self._plan_rfqs()
        months = self.config.months
        last_post = max(p.post_at for p in self.state.rfqs)
        # Delivery (install interval + slip) within ~60 days, then the months, then liveness.
        horizon = last_post + QUOTE_WINDOW + 60 * DAY + (months + 1) * 31 * DAY + 2 * LIVENESS
        self.feed.phase(f"trading: {self.config.rfqs} RFQs, {months} months of service")
        while True:
            now = chain.now()
            due = [p for p in self.state.rfqs if p.rfq_id is None and p.post_at <= now]
            if due and due[0].post_at > self.state.start_time:  # a later wave: what its buyers see
                self._snapshot_reputation()
            for plan in due:
                self._post_rfq(plan)
            self._cycle()
            if self._quoting(now):
                self._catch_up()
            self._maybe_open_ticket()
            self._maybe_notarise()
            self._maybe_dispute()
            self._rule()
            self._claim_undelivered()
            self._sample_reputation()
            self._report_progress()
            self._check_something_traded(now)
            if self._all_orders_closed() or now > horizon:
                break
            chain.advance_time(self._step(now))
            self.state.steps += 1

    def _check_something_traded(self, now: int) -> None:
        """Every RFQ posted, every deadline a day behind, and no order: the market did not trade."""
        if self._orders() or any(p.rfq_id is None for p in self.state.rfqs):
            return
        if now > max(p.post_at for p in self.state.rfqs) + QUOTE_WINDOW + DAY:
            assert self.watch is not None
            quotes = len(self.watch.of("QuoteCommitted"))
            raise DemoFailure(
                f"nothing traded: {len(self.state.rfqs)} RFQs and {quotes} sealed quotes gave no order "
                "a day after the last deadline"
            )

    def _quoting(self, now: int) -> bool:
        """True while some RFQ is open for quotes (or just closed and about to be awarded)."""
        return any(p.rfq_id is not None and now < p.post_at + QUOTE_WINDOW + HOUR for p in self.state.rfqs)

    def _catch_up(self, cycles: int = 3) -> None:
        """Before time moves on, let the notifications being retried (e.g. a signed quote fetched a
        moment before its seller committed it) be handled: a seed then replays the same awards."""
        assert self.market is not None
        for _ in range(cycles):
            waiting = sum(
                c.oracle.store.counts().get("events_received", 0) for c in self.market.carriers.values()
            )
            if not waiting:
                return
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
        ][:MAX_INVITED]
        if not sellers:
            raise DemoFailure(f"no seller found in the directory for {plan.country}")
        now = datetime.fromtimestamp(chain.now(), UTC)
        request = load_example("quote_create")
        request["externalId"] = f"DEMO-{self.config.seed}-RFQ-{plan.index + 1:03d}"
        request["description"] = (
            f"Access E-Line {CIRCUIT_MBPS} Mb/s in {CITIES[plan.country]}, {self.config.months} months"
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
        """Oracle passes until nothing new happens: before each carrier's pass every seller is brought
        up to the chain's clock with its notifications delivered, and the carriers take their turns one
        after the other in name order, so a seed replays the same requests, ids and transactions."""
        market = self.market
        assert market is not None
        began = time.monotonic()
        carriers = sorted(market.carriers.values(), key=lambda c: c.name)
        for _ in range(MAX_PASSES):
            before = (self._backlog(), self.chain.w3.eth.block_number)
            for carrier in carriers:
                market.settle_sellers()
                error = _outcome(lambda c=carrier: c.call(c.oracle.tick(), timeout=120))
                if error:
                    self.state.oracle_errors.append(f"{carrier.name}: {error}")
            market.settle_sellers()
            self._feed_chain()
            if self.state.refused_awards:
                raise DemoFailure(f"an award failed: {self.state.refused_awards[0]}")
            if (self._backlog(), self.chain.w3.eth.block_number) == before:
                break  # a pass that received nothing and sent nothing: everyone is caught up
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
            sign_contract_commitment(party.account, notary.domain, terms, sealed.commitment)
            for party in (buyer, seller)
        ]
        # Each party sends through its oracle's connection: one nonce sequence per account.
        notary.notarise(Sender(buyer.oracle.chain, buyer.account), terms, sealed.commitment, *signatures)
        notary.publish_copy(
            Sender(seller.oracle.chain, seller.account),
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
        """The buyer disputes the report; the council rules once the month is over (`_rule`)."""
        ledger = self._ledger()
        ledger.dispute(Sender(buyer.oracle.chain, buyer.account), terms, report, batch)
        self._feed_chain()
        self.state.dispute = {
            "order": "0x" + bytes(report.order_id).hex(),
            "period": report.key,
            "buyer": buyer.name,
            "seller": self._carrier_of(terms.seller).name,
            "proposal": None,
            "loser": buyer.name,
            "approvals": ["founder-1", "founder-2"],
        }
        self._pending_ruling = (terms, report)
        self._rule()

    def _rule(self) -> None:
        """The council rules on the disputed report (the seller's measurement stands, the buyer loses)
        once the month is over: a ruling settles the month's money, which never moves before then."""
        if self._pending_ruling is None:
            return
        chain, suite = self.chain, self.suite
        assert chain is not None and suite is not None and self.state.dispute is not None
        terms, report = self._pending_ruling
        ends = self._escrow().period_end(bytes(report.order_id), report.key)
        if ends is None or ends > chain.now():
            return
        ledger, registry = self._ledger(), suite.registry
        ruling = ledger.resolve_call(terms, report, terms.buyer)
        proposal, _ = registry.propose(
            Sender(chain, self.founders[0]), ledger.address, ruling._encode_transaction_data()
        )
        registry.approve(Sender(chain, self.founders[1]), proposal)
        self._feed_chain()
        if ledger.status(report) != ReportStatus.FINAL:
            raise DemoFailure(
                f"the council's ruling on report {report.report_id.hex()} did not make it final"
            )
        self.state.dispute["proposal"] = proposal
        self._pending_ruling = None

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
                {c.name: _score(ledger.reputation(c.address)) for c in self.market.carriers.values()},
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

    def _drain(self, rounds: int = 40) -> None:
        """Let the oracles finish the notifications they are still retrying, an hour of chain time a
        round (a bounded number of rounds)."""
        assert self.market is not None
        for _ in range(rounds):
            waiting = sum(len(unrelayed(c)) for c in self.market.carriers.values()) + sum(
                n
                for c in self.market.carriers.values()
                for k, n in c.oracle.store.counts().items()
                if k in ("reports_pending", "reports_submitted")
            )
            if not waiting:
                return
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
            (round(day, 2), {n: _score(r) for n, r in self.state.reputation_after.items()})
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


def _score(reputation: Reputation) -> int | None:
    """The overall score, None for a carrier without history (whose 0 % means nothing yet)."""
    return None if reputation.new else reputation.overall_ppm


def _report(event: ChainEvent) -> SlaReport:
    a = event.args
    metrics = a["metrics"]
    values = tuple(metrics.values()) if hasattr(metrics, "keys") else tuple(metrics)
    return SlaReport.from_tuple(
        (a["orderId"], a["kind"], a["key"], a["value0"], a["value1"], values, a["evidenceHash"])
    )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
