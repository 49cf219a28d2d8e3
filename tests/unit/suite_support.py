"""The world of the escrow and ledger unit tests: a real CarrierRegistry (buyer, seller, an unrelated
member, a one-seat council), oracle keys, a real OrderEscrow wired to a real SlaLedger, and the market
played by a plain account (it opens orders directly). Outcomes reach the escrow the only way they can:
reports of both parties' oracles, finalised by the ledger.

Every refusal goes through `refuse`, which checks the decoded error AND that nothing the ledger or the
escrow tracks changed; every step that moves money can be followed by `assert_conserved`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.logs import DISCARD

from offnet.chain import Chain, Receipt, Sender, decode_revert, load_artifact, predict_deployments
from offnet.chain.tx import call
from offnet.exceptions import ContractRevert
from offnet.market import periods
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import Batch, LedgerClient
from offnet.market.registry import RegistryClient, Role
from offnet.market.types import CreditSchedule, OrderTerms, PeriodMetrics, ReportKind, SlaReport
from offnet.testing.accounts import funded_account

DAY = 86_400
LIVENESS = 2 * DAY
ONE_TIME = 1_000_000_000  # 1,000 tUSD
MONTHLY = 500_000_000  # 500 tUSD
REPORT_GRACE = 20 * DAY  # IOrderEscrow.REPORT_GRACE
DELIVERY_GRACE = 30 * DAY  # IOrderEscrow.DELIVERY_GRACE
RULING_TIMEOUT = 60 * DAY  # IOrderEscrow.RULING_TIMEOUT
CANCEL_NOTICE = 7 * DAY  # IOrderEscrow.CANCEL_NOTICE

CREDITS = CreditSchedule(
    late_delivery_bps_per_day=100,
    late_delivery_cap_bps=2_000,
    availability_objective_ppm=999_500,
    availability_credit_bps=1_000,
    frame_delay_objective_us=10_000,
    frame_delay_credit_bps=500,
    frame_loss_objective_ppm=10,
    frame_loss_credit_bps=500,
    time_to_restore_objective_sec=4 * 3600,
    time_to_restore_credit_bps=1_000,
    monthly_credit_cap_bps=3_000,
)
GOOD_MONTH = PeriodMetrics(
    availability_ppm=999_900, frame_delay_us=8_000, frame_loss_ppm=5, time_to_restore_sec=3_600, outages=1
)
# Misses availability (10 %), frame delay (5 %), frame loss (5 %) and time to restore (10 %): capped at 30 %.
BAD_MONTH = PeriodMetrics(
    availability_ppm=998_000,
    frame_delay_us=12_000,
    frame_loss_ppm=50,
    time_to_restore_sec=6 * 3600,
    outages=3,
)


def events(client: Any, receipt: Receipt, name: str) -> list[Any]:
    """The decoded `name` events a client's contract emitted in a transaction."""
    event = getattr(client.contract.events, name)()
    return [e.args for e in event.process_receipt(receipt.raw, errors=DISCARD) if e.address == client.address]


class UnestimatedSender(Sender):
    """The real Sender, minus gas estimation, which eth-tester does by bisection (about ten EVM runs
    per transaction, three quarters of these tests' time). Every transaction gets a fixed allowance;
    gas_used is unaffected and refusals are still decoded, from the replay of the failed transaction."""

    ALLOWANCE = 3_000_000

    def _estimate(self, tx: dict) -> int:
        return self.ALLOWANCE


@dataclass
class Party:
    """An account and its Sender."""

    account: LocalAccount
    sender: Sender

    @property
    def address(self) -> str:
        return self.account.address


@dataclass
class Member:
    """A registry member: its admin (the member address) and its oracle key."""

    admin: Party
    oracle: Party

    @property
    def address(self) -> str:
        return self.admin.address

    @property
    def sender(self) -> Sender:
        return self.admin.sender

    @property
    def account(self) -> LocalAccount:
        return self.admin.account


@dataclass
class SuiteWorld:
    """The wired escrow and ledger, their counterparts, and helpers that keep each test to its point."""

    chain: Chain
    ledger: LedgerClient
    escrow: EscrowClient
    registry: RegistryClient
    token: Any
    deployer: Party
    market: Party
    arbiter: Party
    buyer: Member
    seller: Member
    other: Member
    stranger: Party
    tracked: dict[bytes, SlaReport] = field(default_factory=dict)
    tracked_orders: dict[bytes, OrderTerms] = field(default_factory=dict)
    extra_tokens: dict[str, Any] = field(default_factory=dict)  # allow-listed by a test (hostile tokens)

    # --- orders --------------------------------------------------------------------------------

    def terms(self, **overrides: Any) -> OrderTerms:
        """Terms of a 12-month order from seller to buyer awarded now (overridable field by field)."""
        base = OrderTerms(
            rfq_id=1,
            buyer=self.buyer.address,
            seller=self.seller.address,
            token=self.token.address,
            one_time_charge=ONE_TIME,
            monthly_charge=MONTHLY,
            term_months=12,
            install_days=30,
            prepaid_months=3,
            awarded_at=self.chain.now(),
            sla_terms_hash=keccak(text="sla terms"),
            credits=CREDITS,
        )
        return replace(base, **overrides)

    def token_of(self, address: str) -> Any:
        return self.extra_tokens.get(address, self.token)

    def allow(self, name: str) -> Any:
        """Deploy a test token by contract name (e.g. a hostile one) and allow it through the council."""
        token, _ = self.deployer.sender.deploy(load_artifact(name))
        self.council(self.escrow.set_token_call(token.address, True))
        self.extra_tokens[token.address] = token
        return token

    def fund(self, amount: int, token: Any = None) -> None:
        """Mint `amount` to the buyer and approve the escrow for it."""
        token = token or self.token
        buyer = self.buyer.sender
        buyer.transact(token.functions.mint(self.buyer.address, amount))
        buyer.transact(token.functions.approve(self.escrow.address, amount))

    def open(self, *, acknowledged: bool = True, **overrides: Any) -> OrderTerms:
        """Open an order in the escrow as the market (the buyer's funds are pulled) and, unless told
        otherwise, have the seller acknowledge it (a delivery settles only once it did)."""
        terms = self.terms(**overrides)
        self.fund(terms.opening_amount, self.token_of(terms.token))
        self.escrow.open_order(self.market.sender, terms)
        self.tracked_orders[terms.order_id()] = terms
        if acknowledged:
            self.escrow.acknowledge(self.seller.sender, terms)
        return terms

    def order(self, terms: OrderTerms) -> Any:
        return self.escrow.order(terms.order_id())

    # --- reports -------------------------------------------------------------------------------

    def delivery(self, terms: OrderTerms, days_late: float = 0, evidence: str = "order") -> SlaReport:
        """The completed-order report: done a day after award, `days_late` days after the committed date."""
        completed = terms.awarded_at + DAY
        return SlaReport(
            terms.order_id(),
            ReportKind.ORDER_COMPLETED,
            0,
            completed - int(days_late * DAY),
            completed,
            evidence_hash=keccak(text=evidence),
        )

    def period(self, terms: OrderTerms, period: int, metrics: PeriodMetrics = GOOD_MONTH) -> SlaReport:
        return SlaReport(
            terms.order_id(),
            ReportKind.PERIOD,
            period,
            metrics=metrics,
            evidence_hash=keccak(text=f"period {period}"),
        )

    def submit(self, member: Member, reports: Sequence[SlaReport]) -> tuple[Batch, Receipt]:
        """Submit `reports` from the member's oracle key; their ids are tracked for `refuse`."""
        self.tracked.update((r.report_id, r) for r in reports)
        return self.ledger.submit(member.oracle.sender, member.address, reports)

    def settle(self, terms: OrderTerms, report: SlaReport) -> Receipt:
        """Both parties report the same fact and anyone finalises it at once."""
        buyer_batch, _ = self.submit(self.buyer, [report])
        seller_batch, _ = self.submit(self.seller, [report])
        return self.ledger.finalize_matched(self.stranger.sender, terms, report, seller_batch, buyer_batch)

    def reported(self, terms: OrderTerms, report: SlaReport) -> Callable[[], Receipt]:
        """Both parties report the same fact; returns the call that finalises it at once (for a test
        that expects it to wait first)."""
        buyer_batch, _ = self.submit(self.buyer, [report])
        seller_batch, _ = self.submit(self.seller, [report])
        return lambda: self.ledger.finalize_matched(
            self.stranger.sender, terms, report, seller_batch, buyer_batch
        )

    def deliver(self, terms: OrderTerms, days_late: float = 0) -> Receipt:
        """Delivery reported by both parties and settled at once."""
        return self.settle(terms, self.delivery(terms, days_late))

    def period_end(self, terms: OrderTerms, period: int) -> int:
        """When billing period `period` of the delivered order ends (offnet.market.periods)."""
        return periods.period_bounds(self.order(terms).delivered_at, period)[1]

    def until(self, moment: int) -> None:
        """Move chain time to `moment` (no-op when past it)."""
        if self.chain.now() < moment:
            self.chain.advance_time(moment - self.chain.now())

    def settle_period(self, terms: OrderTerms, period: int, metrics: PeriodMetrics = GOOD_MONTH) -> Receipt:
        """Move to the end of the period, then both parties report it and it settles at once."""
        self.until(self.period_end(terms, period))
        return self.settle(terms, self.period(terms, period, metrics))

    # --- money ---------------------------------------------------------------------------------

    def withdrawable(self, member: Member | Party, token: Any = None) -> int:
        return self.escrow.withdrawable((token or self.token).address, member.address)

    def assert_conserved(self) -> None:
        """Per token, balanceOf(escrow) == the orders' escrowed + the parties' withdrawable, from state
        and from the events."""
        parties = [self.buyer, self.seller, self.other, self.stranger]
        for token in [self.token, *self.extra_tokens.values()]:
            escrowed = sum(
                self.escrow.order(oid).escrowed
                for oid, t in self.tracked_orders.items()
                if t.token == token.address
            )
            withdrawable = sum(self.withdrawable(p, token) for p in parties)
            assert self.escrow.book(token.address) == (escrowed, withdrawable)
            assert call(token.functions.balanceOf(self.escrow.address)) == escrowed + withdrawable

    # --- the council -----------------------------------------------------------------------------

    def council(self, fn_call: Any, target: str | None = None) -> Receipt:
        """The one-seat council proposes a call, which the registry executes at once."""
        data = fn_call._encode_transaction_data()
        return self.arbiter.sender.transact(
            self.registry.contract.functions.propose(target or fn_call.address, data)
        )

    def suspend(self, member: Member) -> None:
        self.registry.propose_suspend(self.arbiter.sender, member.address)

    # --- refusals --------------------------------------------------------------------------------

    def state(self, ids: Sequence[bytes] | None = None) -> dict[str, Any]:
        """Everything a refused call must leave unchanged (the status of the reports of `ids`,
        default: every report submitted through `submit`)."""
        ids = sorted(self.tracked) if ids is None else ids
        parties = [self.buyer, self.seller, self.stranger]
        return {
            "statuses": {rid: self.ledger.record(self.tracked[rid]) for rid in ids},
            "reputation": {m: self.ledger.reputation(m) for m in (self.buyer.address, self.seller.address)},
            "orders": {oid: self.escrow.order(oid) for oid in self.tracked_orders},
            "holds": {(oid, m): self.escrow.hold(oid, m) for oid in self.tracked_orders for m in range(3)},
            "balances": {p.address: self.withdrawable(p) for p in parties},
            "escrow": call(self.token.functions.balanceOf(self.escrow.address)),
        }

    def refuse(self, operation: Callable[[], Any], error: str, **arguments: Any) -> ContractRevert:
        """Run an operation that must revert with `error(arguments)`, and check nothing changed."""
        ids = sorted(self.tracked)
        before = self.state(ids)
        with pytest.raises(ContractRevert) as refused:
            operation()
        assert refused.value.name == error, refused.value.describe()
        if arguments:
            assert refused.value.arguments == arguments, refused.value.describe()
        assert self.state(ids) == before
        return refused.value

    def council_refused(self, fn_call: Any, error: str, **arguments: Any) -> None:
        """A council call its target refuses: the registry reverts with the target's error inside."""
        before = self.state()
        with pytest.raises(ContractRevert) as refused:
            self.council(fn_call)
        assert refused.value.name == "RegistryProposalCallFailed", refused.value.describe()
        inner = decode_revert(refused.value.arguments["returnData"])
        assert inner.name == error, inner.describe()
        if arguments:
            assert inner.arguments == arguments
        assert self.state() == before


def deploy_world(chain: Chain, label: str = "suite") -> SuiteWorld:
    """Registry (buyer, seller, other, arbiter founders; arbiter alone on the council), token, escrow
    (the market is a plain account), ledger."""

    def party(name: str) -> Party:
        account = funded_account(chain, f"{label}-{name}")
        return Party(account, UnestimatedSender(chain, account))

    deployer, market, arbiter = party("deployer"), party("market"), party("arbiter")
    buyer = Member(party("buyer"), party("buyer-oracle"))
    seller = Member(party("seller"), party("seller-oracle"))
    other = Member(party("other"), party("other-oracle"))
    founders = [buyer.address, seller.address, other.address, arbiter.address]
    registry, _ = RegistryClient.deploy(
        deployer.sender,
        founders,
        [arbiter.address],
        council_threshold=1,
        sponsors_required=1,
        application_ttl=7 * DAY,
    )
    for member in (buyer, seller, other):
        registry.add_key(member.admin.sender, member.oracle.address, Role.ORACLE)
    token, _ = deployer.sender.deploy(load_artifact("TestStablecoin"))
    at_escrow, at_ledger = predict_deployments(deployer.address, chain.peek_nonce(deployer.address), 2)
    escrow, _ = EscrowClient.deploy(
        deployer.sender, registry.address, market.address, at_ledger, [token.address]
    )
    ledger, _ = LedgerClient.deploy(deployer.sender, registry.address, at_escrow, market.address, LIVENESS)
    assert (escrow.address, ledger.address) == (at_escrow, at_ledger)
    return SuiteWorld(
        chain,
        ledger,
        escrow,
        registry,
        token,
        deployer,
        market,
        arbiter,
        buyer,
        seller,
        other,
        party("stranger"),
    )
