"""RFQ fixtures: the whole wired suite, a buyer and three providers (founders), quotes to sign."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from offnet.chain import Chain, Sender
from offnet.deployment import Suite, SuiteConfig, deploy_suite
from offnet.market.quotes import Quote, SignedQuote, sign_quote
from offnet.market.registry import ACCESS_ELINE, RegistryClient, Role, location_key
from offnet.market.rfq import Rfq, RfqClient
from offnet.market.types import CreditSchedule
from offnet.sonata.canonical import document_hash
from offnet.testing.accounts import funded_account

DAY = 86_400
MODULE_TIME = 1_950_000_000
FUNDS = 1_000_000 * 10**6
CREDITS = CreditSchedule(100, 1_000, 999_500, 500, 10_000, 200, 100, 200, 4 * 3600, 300, 3_000)


@dataclass
class Party:
    """A member account with its Sender."""

    account: LocalAccount
    sender: Sender

    @property
    def address(self) -> str:
        return self.account.address


@dataclass
class Market:
    """The deployed suite seen from the RFQ market."""

    chain: Chain
    suite: Suite
    rfq: RfqClient
    registry: RegistryClient
    buyer: Party
    providers: list[Party]
    quote_key: Party  # a quote key of providers[0]
    stranger: Party
    council: Party  # the one-seat council

    @property
    def token(self):
        return self.suite.token

    def new_rfq(
        self,
        *,
        invited: tuple[str, ...] | None = None,
        deadline_in: int = 2 * DAY,
        request: str = "quote-request-1",
    ) -> Rfq:
        """An RFQ of the buyer for an Access E-Line in Paris (all three providers invited by default)."""
        invited = tuple(p.address for p in self.providers) if invited is None else invited
        return Rfq(
            buyer=self.buyer.address,
            deadline=self.chain.now() + deadline_in,
            token=self.token.address,
            request_hash=document_hash({"externalId": request}),
            product_key=ACCESS_ELINE,
            location_key=location_key("FR-PAR"),
            invited=invited,
            min_reputation=0,
        )

    def quote(self, rfq: Rfq, provider: Party, *, monthly: int = 1_000 * 10**6, **changes) -> Quote:
        """A quote of `provider` for `rfq`: 36 months, one prepaid, valid 30 days."""
        base = Quote(
            rfq_id=rfq.rfq_id,
            provider=provider.address,
            buyer=rfq.buyer,
            token=rfq.token,
            one_time_charge=2_000 * 10**6,
            monthly_charge=monthly,
            term_months=36,
            install_days=30,
            sla_terms_hash=keccak(text="sla-terms"),
            credits=CREDITS,
            prepaid_months=1,
            valid_until=self.chain.now() + 30 * DAY,
            nonce=7,
            epoch=0,
        )
        return replace(base, **changes)

    def sign(self, quote: Quote, signer: Party) -> SignedQuote:
        return sign_quote(signer.account, quote, self.rfq.domain)

    def seal(self, rfq: Rfq) -> None:
        """Move past the RFQ's deadline: commitments are sealed, the buyer may award."""
        if self.chain.now() <= rfq.deadline:
            self.chain.advance_time(rfq.deadline + 1 - self.chain.now())

    def award(self, rfq: Rfq, signed: SignedQuote, **options) -> tuple[bytes, Any]:
        """The buyer awards `signed` once the deadline passed."""
        self.seal(rfq)
        return self.rfq.award(self.buyer.sender, rfq, signed, **options)

    def post_with_commitments(self, count: int = 3) -> tuple[Rfq, list[SignedQuote]]:
        """Post an RFQ and commit one signed quote of each of the first `count` providers."""
        rfq = self.new_rfq()
        self.rfq.post(self.buyer.sender, rfq)
        signed = []
        for i, provider in enumerate(self.providers[:count]):
            s = self.sign(self.quote(rfq, provider, monthly=(1_000 + 100 * i) * 10**6), provider)
            self.rfq.commit(provider.sender, rfq, s)
            signed.append(s)
        return rfq, signed


def build_market(chain: Chain, make_account: Callable[..., LocalAccount], prefix: str = "rfq") -> Market:
    """Deploy and wire the suite with deterministic accounts; fund and approve the buyer."""

    def party(label: str) -> Party:
        account = make_account(f"{prefix}-{label}")
        return Party(account, Sender(chain, account))

    deployer, buyer = party("deployer"), party("buyer")
    providers = [party(f"provider-{i}") for i in range(1, 4)]
    quote_key, stranger, council = party("quote-key-1"), party("stranger"), party("council")
    members = [buyer.address, *(p.address for p in providers), council.address]
    config = SuiteConfig(
        founders=members, council=[council.address], council_threshold=1, sponsors_required=1
    )
    suite = deploy_suite(chain, deployer.sender, config)
    registry = suite.registry
    registry.add_key(providers[0].sender, quote_key.address, Role.QUOTE)
    buyer.sender.transact(suite.token.functions.mint(buyer.address, FUNDS))
    buyer.sender.transact(suite.token.functions.approve(suite.escrow.address, FUNDS))
    rfq = suite.market
    return Market(chain, suite, rfq, registry, buyer, providers, quote_key, stranger, council)


@pytest.fixture(scope="module")
def deployed_market(embedded: Chain) -> Iterator[Market]:
    """The suite deployed once per test module (deploying five contracts per test is slow), removed after."""
    before = embedded.snapshot()
    # A fixed clock per module, whatever ran before: deadlines in calldata, hence gas, never drift.
    embedded.advance_time(MODULE_TIME - embedded.now())
    yield build_market(embedded, lambda label: funded_account(embedded, label))
    embedded.revert(before)


@pytest.fixture
def chain(embedded: Chain, deployed_market: Market) -> Iterator[Chain]:
    """The embedded chain with the module's suite deployed, returned to that state after each test."""
    snapshot = embedded.snapshot()
    yield embedded
    embedded.revert(snapshot)


@pytest.fixture
def market(chain: Chain, deployed_market: Market) -> Market:
    """The deployed market; every test starts from the same state (the `chain` fixture reverts it)."""
    return deployed_market
