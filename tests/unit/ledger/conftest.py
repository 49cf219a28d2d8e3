"""The ledger's own topology: a real CarrierRegistry (buyer, seller and an unrelated member `other`,
each with an oracle key; the council alone on it), a real OrderEscrow linked to the SlaLedger and to a
plain `market` account, and a harness whose `refuse` checks the decoded error AND that nothing the
ledger or the escrow tracks changed."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from offnet.chain import Chain, Receipt, load_artifact, predict_deployments
from offnet.exceptions import ContractRevert
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import Batch, LedgerClient
from offnet.market.registry import RegistryClient, Role
from offnet.market.types import OrderTerms, PeriodMetrics, SlaReport
from offnet.testing.world import (
    DAY,
    GOOD_MONTH,
    LIVENESS,
    Party,
    Refusal,
    Roles,
    council_decides,
    council_refuses,
    delivery_report,
    fund,
    order_terms,
    party,
    period_report,
    refuses,
)

# The ledger's calldata carries award times (its orders are awarded "now"): its setup mines a fixed
# number of blocks, so that every test starts at this clock and the gas it measures never drifts.
CLOCK = 1_900_000_017


@dataclass(frozen=True)
class LedgerWorld:
    registry: RegistryClient
    token: Any
    escrow: EscrowClient
    ledger: LedgerClient
    market: Party
    members: dict[str, Party]  # buyer, seller, other: each with its oracle key


@pytest.fixture(scope="module")
def world(embedded: Chain, roles: Roles, area: str) -> LedgerWorld:
    def member(p: Party) -> Party:
        return replace(p, oracle_key=party(embedded, f"{p.name}-oracle", prefix=area))

    market = party(embedded, "market", prefix=area)
    members = {
        "buyer": member(roles.buyer),
        "seller": member(roles.seller),
        "other": member(party(embedded, "other", prefix=area)),
    }
    deployer = roles.deployer.sender
    founders = [m.address for m in members.values()] + [roles.council.address]
    registry, _ = RegistryClient.deploy(
        deployer,
        founders,
        [roles.council.address],
        council_threshold=1,
        sponsors_required=1,
        application_ttl=7 * DAY,
    )
    for m in members.values():
        registry.add_key(m.sender, m.oracle_key.address, Role.ORACLE)
    token, _ = deployer.deploy(load_artifact("TestStablecoin"))
    at_escrow, at_ledger = predict_deployments(deployer.address, embedded.peek_nonce(deployer.address), 2)
    escrow, _ = EscrowClient.deploy(deployer, registry.address, market.address, at_ledger, [token.address])
    ledger, _ = LedgerClient.deploy(deployer, registry.address, at_escrow, market.address, LIVENESS)
    assert (escrow.address, ledger.address) == (at_escrow, at_ledger)
    assert embedded.now() == CLOCK, f"the ledger's setup ends at {embedded.now()}, not at {CLOCK}"
    return LedgerWorld(registry, token, escrow, ledger, market, members)


@dataclass
class Ledger:
    """The wired ledger, its counterparts, and helpers that keep each test to its point."""

    chain: Chain
    world: LedgerWorld
    roles: Roles
    tracked: dict[bytes, SlaReport] = field(default_factory=dict)
    tracked_orders: dict[bytes, OrderTerms] = field(default_factory=dict)

    def __post_init__(self) -> None:
        w = self.world
        self.client, self.escrow, self.registry, self.token = w.ledger, w.escrow, w.registry, w.token
        self.market, self.deployer = w.market, self.roles.deployer
        self.buyer, self.seller, self.other = w.members["buyer"], w.members["seller"], w.members["other"]
        self.council, self.outsider = self.roles.council, self.roles.outsider

    # --- orders --------------------------------------------------------------------------------

    def terms(self, **overrides: Any) -> OrderTerms:
        """Terms of an order from seller to buyer, awarded now, three months prepaid."""
        parties = {"buyer": self.buyer.address, "seller": self.seller.address, "token": self.token.address}
        return order_terms(**{**parties, "prepaid_months": 3, "awarded_at": self.chain.now(), **overrides})

    def open(self, **overrides: Any) -> OrderTerms:
        """Open an order in the real escrow as the wired market (the buyer's funds are pulled)."""
        terms = self.terms(**overrides)
        fund(self.buyer, self.token, self.escrow.address, terms.opening_amount)
        self.escrow.open_order(self.market.sender, terms)
        self.tracked_orders[terms.order_id()] = terms
        return terms

    # --- reports -------------------------------------------------------------------------------

    def delivery(self, terms: OrderTerms, days_late: float = 0, evidence: str = "order") -> SlaReport:
        """The completed-order report: done a day after award, `days_late` days after the committed date."""
        return delivery_report(terms, terms.awarded_at + DAY, days_late=days_late, evidence=evidence)

    def period(self, terms: OrderTerms, period: int, metrics: PeriodMetrics = GOOD_MONTH) -> SlaReport:
        return period_report(terms, period, metrics)

    def claimed(self, by: Party | None = None) -> tuple[OrderTerms, SlaReport, Batch]:
        """An order opened and its delivery reported (on time) by `by`, the seller by default."""
        terms = self.open()
        report = self.delivery(terms)
        batch, _ = self.submit(by or self.seller, [report])
        return terms, report, batch

    def submit(self, member: Party, reports: Sequence[SlaReport]) -> tuple[Batch, Receipt]:
        """Submit `reports` from the member's oracle key; their ids are tracked for `refuse`."""
        self.tracked.update((r.report_id, r) for r in reports)
        return self.client.submit(member.oracle_key.sender, member.address, reports)

    def both_submit(self, seller_says: SlaReport, buyer_says: SlaReport | None = None) -> tuple[Batch, Batch]:
        """The seller's and then the buyer's oracle submit their report of one fact (the same by
        default); returns their batches."""
        seller_batch, _ = self.submit(self.seller, [seller_says])
        buyer_batch, _ = self.submit(self.buyer, [buyer_says or seller_says])
        return seller_batch, buyer_batch

    def match_refused(
        self, terms: OrderTerms, report: SlaReport, error: str, **arguments: Any
    ) -> ContractRevert:
        """Both parties submit `report`; anyone's finalize_matched of it reverts with `error(arguments)`
        and changes nothing."""
        batches = self.both_submit(report)
        with self.refuses(error, **arguments) as refused:
            self.client.finalize_matched(self.outsider.sender, terms, report, *batches)
        return refused.value

    def settle(self, terms: OrderTerms, report: SlaReport) -> Receipt:
        """Both parties report the same fact and anyone finalises it at once."""
        buyer_batch, _ = self.submit(self.buyer, [report])
        seller_batch, _ = self.submit(self.seller, [report])
        return self.client.finalize_matched(self.outsider.sender, terms, report, seller_batch, buyer_batch)

    # --- the council -----------------------------------------------------------------------------

    def council_decides(self, fn_call: Any) -> Receipt:
        """The one-seat council has the registry call `fn_call` on the ledger."""
        return council_decides(self.registry, [self.council], self.client.address, fn_call)

    def suspend(self, member: Party) -> None:
        self.registry.propose_suspend(self.council.sender, member.address)

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

    def refuses(self, error: str, **arguments: Any) -> AbstractContextManager[Refusal]:
        """The block must revert with `error(arguments)` and change nothing the ledger or escrow tracks."""
        ids = sorted(self.tracked)
        return refuses(error, unchanged=lambda: self.state(ids), **arguments)

    def finality_refused(
        self, terms: OrderTerms, report: SlaReport, batch: Batch, error: str, **arguments: Any
    ) -> ContractRevert:
        """Once the liveness window is over, anyone's finalize of `report` reverts with `error(arguments)`
        and changes nothing."""
        self.chain.advance_time(LIVENESS)
        with self.refuses(error, **arguments) as refused:
            self.client.finalize(self.outsider.sender, terms, report, batch)
        return refused.value

    def council_refused(self, fn_call: Any, error: str, **arguments: Any) -> ContractRevert:
        """A council ruling the ledger refuses: the registry reverts with the ledger's error inside."""
        return council_refuses(
            self.registry,
            [self.council],
            self.client.address,
            fn_call,
            error,
            unchanged=self.state,
            **arguments,
        )


@pytest.fixture
def ledger(world: LedgerWorld, roles: Roles, chain: Chain) -> Ledger:
    """The module's wired ledger, inside this test's snapshot."""
    return Ledger(chain, world, roles)
