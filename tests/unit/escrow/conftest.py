"""The escrow's own topology: an OrderEscrow linked to plain `market` and `ledger` accounts (a test
plays either contract), and a harness whose every step checks that money is conserved."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from web3.contract import Contract

from offnet.chain import Chain, Receipt, load_artifact
from offnet.chain.tx import call
from offnet.exceptions import ContractRevert
from offnet.market.escrow import OrderView
from offnet.market.types import OrderTerms, PeriodMetrics
from offnet.testing.world import (
    BILLING_PERIOD,
    DAY,
    Party,
    Refusal,
    Roles,
    StandaloneEscrow,
    council_decides,
    council_refuses,
    fund,
    order_terms,
    refuses,
)

# A fixed award time (the embedded chain's clock starts here), so calldata and gas never vary.
AWARDED_AT = 1_900_000_000


@pytest.fixture(scope="module")
def world(embedded: Chain, roles: Roles, area: str) -> StandaloneEscrow:
    return StandaloneEscrow.deploy(embedded, roles, area)


@dataclass
class Escrow:
    """The wired escrow with its parties; every operation goes through `act` (which then asserts
    conservation) or `refuse` (which asserts the decoded error, that no tracked state changed, and
    conservation)."""

    chain: Chain
    world: StandaloneEscrow
    roles: Roles
    tokens: list[Contract] = field(default_factory=list)
    orders: dict[bytes, OrderTerms] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tokens.append(self.world.token)
        self.client, self.token, self.registry = self.world.client, self.world.token, self.world.registry
        self.market, self.ledger = self.world.market, self.world.ledger
        r = self.roles
        self.deployer, self.buyer, self.seller, self.outsider = r.deployer, r.buyer, r.seller, r.outsider

    # --- the conservation invariant ------------------------------------------------------------

    @property
    def parties(self) -> list[str]:
        # Only these ever receive payouts in the tests (market and ledger never do).
        return [p.address for p in (self.buyer, self.seller, self.outsider)]

    def assert_conserved(self) -> None:
        """balanceOf(escrow) == sum of open orders' escrowed + sum of withdrawable, per token."""
        esc = self.client
        for token in self.tokens:
            escrowed = sum(
                esc.order(oid).escrowed for oid, t in self.orders.items() if t.token == token.address
            )
            withdrawable = sum(esc.withdrawable(token.address, party) for party in self.parties)
            assert esc.total_escrowed(token.address) == escrowed
            assert esc.total_withdrawable(token.address) == withdrawable
            assert call(token.functions.balanceOf(esc.address)) == escrowed + withdrawable

    def state(self) -> dict[str, Any]:
        """Everything a refused call must leave unchanged."""
        esc = self.client
        return {
            "orders": {oid: esc.order(oid) for oid in self.orders},
            "balances": {
                (token.address, party): (
                    esc.withdrawable(token.address, party),
                    call(token.functions.balanceOf(party)),
                )
                for token in self.tokens
                for party in [*self.parties, esc.address]
            },
        }

    def act(self, operation: Callable[[], Receipt]) -> Receipt:
        """Run one operation, then check conservation."""
        receipt = operation()
        self.assert_conserved()
        return receipt

    @contextmanager
    def refuses(self, error: str, **arguments: Any) -> Iterator[Refusal]:
        """The block must revert with `error(arguments)` and change nothing; money stays conserved."""
        with refuses(error, unchanged=self.state, **arguments) as refused:
            yield refused
        self.assert_conserved()

    # --- the council -----------------------------------------------------------------------------

    def council_decides(self, fn_call: Any) -> Receipt:
        """The council has the registry call `fn_call` on the escrow."""
        return self.act(
            lambda: council_decides(self.registry, [self.roles.council], self.client.address, fn_call)
        )

    def council_refused(self, fn_call: Any, error: str, **arguments: Any) -> ContractRevert:
        """A council decision the escrow refuses with `error(arguments)`, changing nothing."""
        inner = council_refuses(
            self.registry,
            [self.roles.council],
            self.client.address,
            fn_call,
            error,
            unchanged=self.state,
            **arguments,
        )
        self.assert_conserved()
        return inner

    # --- orders --------------------------------------------------------------------------------

    def terms(self, **overrides: Any) -> OrderTerms:
        """Terms of an order between buyer and seller at the default terms, awarded at AWARDED_AT."""
        parties = {"buyer": self.buyer.address, "seller": self.seller.address, "token": self.token.address}
        return order_terms(**{**parties, "awarded_at": AWARDED_AT, **overrides})

    def fund_buyer(self, terms: OrderTerms, amount: int, token: Contract | None = None) -> None:
        """Mint `amount` to the buyer and approve the escrow for it."""
        fund(self.buyer, token or self.token_of(terms), self.client.address, amount)

    def token_of(self, terms: OrderTerms) -> Contract:
        return next(t for t in self.tokens if t.address == terms.token)

    def track(self, terms: OrderTerms) -> bytes:
        oid = terms.order_id()
        self.orders[oid] = terms
        return oid

    def open(self, terms: OrderTerms | None = None, **overrides: Any) -> tuple[OrderTerms, bytes, Receipt]:
        """Fund the buyer, open the order as the market; returns the terms, order id and receipt."""
        terms = terms or self.terms(**overrides)
        self.fund_buyer(terms, terms.opening_amount)
        oid = self.track(terms)
        receipt = self.act(lambda: self.client.open_order(self.market.sender, terms))
        return terms, oid, receipt

    def deliver(self, terms: OrderTerms, days_late: int = 0) -> Receipt:
        """The ledger's final delivery report: completed `days_late` days after the committed date.

        Completion is dated at the award (a fixed time, so calldata and gas never vary); only the
        difference between the two dates counts for the credit.
        """
        completed = terms.awarded_at
        return self.act(
            lambda: self.client.deliver(self.ledger.sender, terms, completed - days_late * DAY, completed)
        )

    def delivered(self, **overrides: Any) -> tuple[OrderTerms, bytes]:
        """An order opened and delivered on time; returns its terms and id."""
        terms, oid, _ = self.open(**overrides)
        self.deliver(terms)
        return terms, oid

    def order(self, oid: bytes) -> OrderView:
        return self.client.order(oid)

    def end_period(self, terms: OrderTerms, period: int) -> None:
        """Move chain time to the end of billing `period` of a delivered order (no-op when past it)."""
        ends_at = self.order(terms.order_id()).delivered_at + period * BILLING_PERIOD
        if self.chain.now() < ends_at:
            self.chain.advance_time(ends_at - self.chain.now())

    def settle(self, terms: OrderTerms, period: int, metrics: PeriodMetrics) -> Receipt:
        """The ledger's final report of `period`, once the period is over."""
        self.end_period(terms, period)
        return self.act(lambda: self.client.settle_period(self.ledger.sender, terms, period, metrics))

    def withdrawable(self, party: Party, token: Contract | None = None) -> int:
        return self.client.withdrawable((token or self.token).address, party.address)


@pytest.fixture
def escrow(world: StandaloneEscrow, roles: Roles, chain: Chain) -> Escrow:
    """The module's escrow world, in this test's snapshot, with a fresh harness."""
    return Escrow(chain, world, roles)


@pytest.fixture
def hostile(escrow: Escrow) -> Callable[[str], Contract]:
    """Factory: deploy a hostile test token by contract name and allow it through the council."""

    def run(name: str) -> Contract:
        token, _ = escrow.deployer.sender.deploy(load_artifact(name))
        escrow.tokens.append(token)
        escrow.council_decides(escrow.client.set_token_allowed_call(token.address, True))
        return token

    return run
