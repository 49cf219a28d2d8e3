"""Ledger fixtures: a real CarrierRegistry (buyer, seller, an unrelated member, a one-seat council),
oracle keys, a real OrderEscrow wired to the SlaLedger, and a harness whose `refuse` checks the decoded
error AND that nothing the ledger or the escrow tracks changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from ledger_support import CREDITS, DAY, GOOD_MONTH, LIVENESS, MONTHLY, ONE_TIME, UnestimatedSender

from offnet.chain import Chain, Receipt, Sender, decode_revert, load_artifact, predict_deployments
from offnet.exceptions import ContractRevert
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import Batch, LedgerClient
from offnet.market.registry import RegistryClient, Role
from offnet.market.types import OrderTerms, PeriodMetrics, ReportKind, SlaReport
from offnet.testing.accounts import funded_account


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


@dataclass
class Ledger:
    """The wired ledger, its counterparts, and helpers that keep each test to its point."""

    chain: Chain
    client: LedgerClient
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

    # --- orders --------------------------------------------------------------------------------

    def terms(self, **overrides: Any) -> OrderTerms:
        """Terms of a 12-month order from seller to buyer (overridable field by field)."""
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

    def open(self, **overrides: Any) -> OrderTerms:
        """Open an order in the real escrow as the wired market (the buyer's funds are pulled)."""
        terms = self.terms(**overrides)
        buyer = self.buyer.admin.sender
        buyer.transact(self.token.functions.mint(self.buyer.address, terms.opening_amount))
        buyer.transact(self.token.functions.approve(self.escrow.address, terms.opening_amount))
        self.escrow.open_order(self.market.sender, terms)
        self.tracked_orders[terms.order_id()] = terms
        return terms

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
        return self.client.submit(member.oracle.sender, member.address, reports)

    def settle(self, terms: OrderTerms, report: SlaReport) -> Receipt:
        """Both parties report the same fact and anyone finalises it at once."""
        buyer_batch, _ = self.submit(self.buyer, [report])
        seller_batch, _ = self.submit(self.seller, [report])
        return self.client.finalize_matched(self.stranger.sender, terms, report, seller_batch, buyer_batch)

    # --- the council -----------------------------------------------------------------------------

    def council(self, fn_call: Any) -> Receipt:
        """The one-seat council proposes a call on the ledger, which the registry executes at once."""
        data = fn_call._encode_transaction_data()
        return self.arbiter.sender.transact(
            self.registry.contract.functions.propose(self.client.address, data)
        )

    def suspend(self, member: Member) -> None:
        self.registry.propose_suspend(self.arbiter.sender, member.address)

    # --- refusals --------------------------------------------------------------------------------

    def state(self, ids: Sequence[bytes] | None = None) -> dict[str, Any]:
        """Everything a refused call must leave unchanged (the status of the reports of `ids`,
        default: every report submitted through `submit`)."""
        ids = sorted(self.tracked) if ids is None else ids
        return {
            "statuses": {rid: self.client.status(self.tracked[rid]) for rid in ids},
            "reputation": {m: self.client.reputation(m) for m in (self.buyer.address, self.seller.address)},
            "orders": {oid: self.escrow.order(oid) for oid in self.tracked_orders},
        }

    def refuse(self, operation: Callable[[], Any], error: str, **arguments: Any) -> ContractRevert:
        """Run an operation that must revert with `error(arguments)`, and check nothing changed."""
        ids = sorted(self.tracked)
        before = self.state(ids)
        with pytest.raises(ContractRevert) as refused:
            operation()
        assert refused.value.name == error, refused.value.describe()
        assert refused.value.arguments == arguments, refused.value.describe()
        assert self.state(ids) == before
        return refused.value

    def council_refused(self, fn_call: Any, error: str, **arguments: Any) -> None:
        """A council ruling the ledger refuses: the registry reverts with the ledger's error inside."""
        before = self.state()
        with pytest.raises(ContractRevert) as refused:
            self.council(fn_call)
        assert refused.value.name == "RegistryProposalCallFailed", refused.value.describe()
        assert refused.value.arguments["target"] == self.client.address
        inner = decode_revert(refused.value.arguments["returnData"])
        assert inner.name == error, inner.describe()
        assert inner.arguments == arguments
        assert self.state() == before


@pytest.fixture
def party(ledger: Ledger) -> Callable[[str], Party]:
    """Factory: a funded party with a fixed label, inside the test's snapshot (see `ledger`)."""

    def run(label: str) -> Party:
        account = funded_account(ledger.chain, f"ledger-{label}")
        return Party(account, UnestimatedSender(ledger.chain, account))

    return run


@pytest.fixture(scope="module")
def deployed(embedded: Chain) -> Iterator[Ledger]:
    """Registry (buyer, seller, other, arbiter founders; arbiter alone on the council), escrow, ledger.

    Deployed once per test module on top of a snapshot that is restored when the module ends, so
    every module starts from the same chain (and measures the same gas) whatever ran before it.
    """
    snapshot = embedded.snapshot()

    def party(label: str) -> Party:
        account = funded_account(embedded, f"ledger-{label}")
        return Party(account, UnestimatedSender(embedded, account))

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
    at_escrow, at_ledger = predict_deployments(deployer.address, embedded.peek_nonce(deployer.address), 2)
    escrow, _ = EscrowClient.deploy(
        deployer.sender, registry.address, market.address, at_ledger, [token.address]
    )
    client, _ = LedgerClient.deploy(deployer.sender, registry.address, at_escrow, market.address, LIVENESS)
    assert (escrow.address, client.address) == (at_escrow, at_ledger)
    yield Ledger(
        embedded,
        client,
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
    embedded.revert(snapshot)


@pytest.fixture
def ledger(deployed: Ledger) -> Iterator[Ledger]:
    """The module's wired ledger, inside a snapshot restored after the test.

    The ledger tests never use the shared `chain` fixture: pytest would snapshot it before the
    module's deployment and its revert would wipe that deployment after the first test.
    """
    snapshot = deployed.chain.snapshot()
    deployed.tracked.clear()
    deployed.tracked_orders.clear()
    yield deployed
    deployed.chain.revert(snapshot)
