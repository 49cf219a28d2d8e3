"""The escrow test harness: parties, default terms, and the checks every step goes through
(money conservation after every operation, "nothing changed" after every refusal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract import Contract

from offnet.chain import Chain, Receipt, Sender, decode_revert
from offnet.chain.tx import call
from offnet.exceptions import ContractRevert
from offnet.market.escrow import EscrowClient, OrderView
from offnet.market.types import CreditSchedule, OrderTerms, PeriodMetrics

DAY = 86_400
ONE_TIME = 1_000_000_000  # 1,000 tUSD
MONTHLY = 500_000_000  # 500 tUSD
# A fixed award time (the embedded chain's clock starts here), so calldata and gas never vary.
AWARDED_AT = 1_900_000_000

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


BILLING_PERIOD = 30 * DAY
REPORT_GRACE = 20 * DAY
DELIVERY_GRACE = 30 * DAY
RULING_TIMEOUT = 60 * DAY

GOOD = PeriodMetrics(
    availability_ppm=999_900, frame_delay_us=5_000, frame_loss_ppm=1, time_to_restore_sec=600, outages=0
)
# Misses availability (10 %), frame delay (5 %) and time to restore (10 %): 25 %, under the 30 % cap.
BAD = PeriodMetrics(
    availability_ppm=990_000, frame_delay_us=20_000, frame_loss_ppm=1, time_to_restore_sec=90_000, outages=3
)
# Misses everything: 30 % after the cap.
WORST = PeriodMetrics(
    availability_ppm=900_000, frame_delay_us=20_000, frame_loss_ppm=500, time_to_restore_sec=90_000, outages=9
)


class QuickSender(Sender):
    """A Sender with a fixed gas limit: eth-tester's gas estimation is what makes tests slow.

    Gas used (the snapshot figures) does not depend on the limit, and a refused transaction still
    raises the decoded ContractRevert when it is sent.
    """

    def send(self, tx: dict, *, gas: int | None = None, **options: Any) -> Receipt:
        return super().send(tx, gas=gas or (3_000_000 if "to" in tx else 12_000_000), **options)


@dataclass
class Party:
    """An account and its Sender."""

    account: LocalAccount
    sender: Sender

    @property
    def address(self) -> str:
        return self.account.address


@dataclass
class Escrow:
    """A wired escrow with its parties, and the checks every test step goes through.

    Every operation goes through `act` (which then asserts conservation) or `refuse` (which asserts
    the decoded error, that no tracked state changed, and conservation).
    """

    chain: Chain
    client: EscrowClient
    token: Contract
    registry: Contract
    deployer: Party
    market: Party
    ledger: Party
    buyer: Party
    seller: Party
    outsider: Party
    council: tuple[Party, Party]
    tokens: list[Contract] = field(default_factory=list)
    orders: dict[bytes, OrderTerms] = field(default_factory=dict)

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

    def refuse(self, operation: Callable[[], Any], error: str, **arguments: Any) -> ContractRevert:
        """Run an operation that must revert with `error(arguments)` and change nothing."""
        before = self.state()
        with pytest.raises(ContractRevert) as refused:
            operation()
        assert refused.value.name == error, refused.value.describe()
        if arguments:
            assert refused.value.arguments == arguments
        assert self.state() == before
        self.assert_conserved()
        return refused.value

    # --- the council (the registry executing a 2-of-2 proposal) --------------------------------

    def council_decides(self, fn_call: Any) -> Receipt:
        """Propose `fn_call` on the escrow and have the second council member approve (it executes)."""
        data = fn_call._encode_transaction_data()
        first, second = self.council
        first.sender.transact(self.registry.functions.propose(self.client.address, data))
        proposal = call(self.registry.functions.proposalCount())
        return self.act(lambda: second.sender.transact(self.registry.functions.approve(proposal)))

    def council_refused(self, fn_call: Any, error: str, **arguments: Any) -> ContractRevert:
        """A council decision the escrow refuses: the registry reverts with the escrow's error inside."""
        data = fn_call._encode_transaction_data()
        first, second = self.council
        first.sender.transact(self.registry.functions.propose(self.client.address, data))
        proposal = call(self.registry.functions.proposalCount())
        outer = self.refuse(
            lambda: second.sender.transact(self.registry.functions.approve(proposal)),
            "RegistryProposalCallFailed",
        )
        inner = decode_revert(outer.arguments["returnData"])
        assert inner.name == error, inner.describe()
        if arguments:
            assert inner.arguments == arguments
        return inner

    # --- orders --------------------------------------------------------------------------------

    def terms(self, **overrides: Any) -> OrderTerms:
        """Terms of a 12-month order between buyer and seller (overridable field by field)."""
        base = OrderTerms(
            rfq_id=1,
            buyer=self.buyer.address,
            seller=self.seller.address,
            token=self.token.address,
            one_time_charge=ONE_TIME,
            monthly_charge=MONTHLY,
            term_months=12,
            install_days=30,
            prepaid_months=2,
            awarded_at=AWARDED_AT,
            sla_terms_hash=keccak(text="sla terms"),
            credits=CREDITS,
        )
        return replace(base, **overrides)

    def fund_buyer(self, terms: OrderTerms, amount: int, token: Contract | None = None) -> None:
        """Mint `amount` to the buyer and approve the escrow for it."""
        token = token or self.token_of(terms)
        self.buyer.sender.transact(token.functions.mint(self.buyer.address, amount))
        self.buyer.sender.transact(token.functions.approve(self.client.address, amount))

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

    def order(self, oid: bytes) -> OrderView:
        return self.client.order(oid)

    def end_period(self, terms: OrderTerms, period: int) -> None:
        """Move chain time to the end of billing `period` of a delivered order (no-op when past it)."""
        ends_at = self.order(terms.order_id()).delivered_at + period * BILLING_PERIOD
        if self.chain.now() < ends_at:
            self.chain.advance_time(ends_at - self.chain.now())

    def settle(self, terms: OrderTerms, period: int, metrics: Any) -> Receipt:
        """The ledger's final report of `period`, once the period is over."""
        self.end_period(terms, period)
        return self.act(lambda: self.client.settle_period(self.ledger.sender, terms, period, metrics))

    def withdrawable(self, party: Party, token: Contract | None = None) -> int:
        return self.client.withdrawable((token or self.token).address, party.address)


def delivered(escrow: Escrow, **overrides: Any) -> tuple[OrderTerms, bytes]:
    """An order opened and delivered on time; returns its terms and id."""
    terms, oid, _ = escrow.open(**overrides)
    escrow.deliver(terms)
    return terms, oid
