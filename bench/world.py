"""One anvil with the offnet suite deployed and a small cast of members; helpers every measure shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import count

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from offnet.chain import Chain, Receipt, Sender
from offnet.chain.anvil import Anvil
from offnet.chain.connect import connect
from offnet.deployment import Suite, SuiteConfig, deploy_suite
from offnet.exceptions import AnvilError
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import LedgerClient
from offnet.market.notary import NotaryClient, SealedContract, financial_contract, seal_contract
from offnet.market.quotes import Quote, QuoteDomain, SignedQuote, sign_quote
from offnet.market.registry import ACCESS_ELINE, RegistryClient, location_key
from offnet.market.rfq import Rfq, RfqClient
from offnet.market.types import CreditSchedule, OrderTerms, PeriodMetrics, ReportKind, SlaReport

DAY = 86_400
GAS_LIMIT = 2_000_000_000  # block gas limit of the bench anvil: room for a 10,000-founder registry
CREDITS = CreditSchedule(100, 2_000, 999_500, 1_000, 100_000, 500, 10, 500, 4 * 3600, 500, 3_000)
GOOD_MONTH = PeriodMetrics(999_950, 4_200, 2, 1_800, 1)
ONE_TIME = 2_000 * 10**6
MONTHLY = 800 * 10**6


def start_anvil(attempts: int = 3) -> Chain:
    """A fresh anvil (automine) with a large block gas limit, connected over HTTP.

    A start is retried on another port: the free port may be taken by someone else before anvil binds it.
    """
    for attempt in range(attempts):
        try:
            node = Anvil(extra_args=("--gas-limit", str(GAS_LIMIT), "--disable-code-size-limit")).start()
            break
        except AnvilError:
            if attempt + 1 == attempts:
                raise
    chain = connect(rpc=node.url)
    chain.anvil = node  # stopped by chain.close()
    return chain


def funded(chain: Chain, label: str) -> LocalAccount:
    """A deterministic account (from `label`) with 10,000 ether on the bench anvil."""
    account = Account.from_key(keccak(text=f"offnet bench account: {label}"))
    chain.w3.provider.make_request("anvil_setBalance", [account.address, hex(10_000 * 10**18)])
    return account


@dataclass
class Order:
    """An awarded order and what it took."""

    rfq: Rfq
    signed: SignedQuote
    terms: OrderTerms
    receipts: dict[str, Receipt]
    sealed: SealedContract | None = None  # the financial contract whose hash the quote carried

    @property
    def order_id(self) -> bytes:
        return self.terms.order_id()


@dataclass
class World:
    """The suite on anvil; a buyer, three providers and a one-seat council, all founders."""

    chain: Chain
    suite: Suite
    deployer: Sender
    buyer: LocalAccount
    providers: list[LocalAccount]
    council: LocalAccount
    founders: list[str]
    _nonce: count = field(default_factory=lambda: count(1))
    sealed: dict[bytes, SealedContract] = field(default_factory=dict)  # quote digest -> its contract

    @property
    def market(self) -> RfqClient:
        return self.suite.market

    @property
    def escrow(self) -> EscrowClient:
        return self.suite.escrow

    @property
    def ledger(self) -> LedgerClient:
        return self.suite.ledger

    @property
    def notary(self) -> NotaryClient:
        return self.suite.notary

    @property
    def registry(self) -> RegistryClient:
        return self.suite.registry

    @property
    def token(self):
        return self.suite.token

    def send(self, account: LocalAccount) -> Sender:
        return Sender(self.chain, account)

    def rfq(self, tag: str, invited: Sequence[str] | None = None, *, now: int | None = None) -> Rfq:
        """A fresh RFQ of the buyer (three invited providers unless told); `now` saves a block read."""
        chosen = [p.address for p in self.providers] if invited is None else list(invited)
        return Rfq(
            self.buyer.address,
            (self.chain.now() if now is None else now) + 7 * DAY,
            self.token.address,
            keccak(text=f"quote request {tag}"),
            ACCESS_ELINE,
            location_key("FR-PAR"),
            tuple(chosen),
        )

    def quote(
        self,
        rfq: Rfq,
        provider: LocalAccount,
        i: int,
        *,
        prepaid: int = 3,
        term: int = 12,
        now: int | None = None,
        domain: QuoteDomain | None = None,
        sealed: bool = False,
    ) -> SignedQuote:
        """`provider`'s signed quote for `rfq` (`now` and `domain` save node reads when given); with
        `sealed`, the quote carries the hash of its financial contract (`self.sealed[digest]`)."""
        quote = Quote(
            rfq.rfq_id,
            provider.address,
            self.buyer.address,
            self.token.address,
            ONE_TIME,
            MONTHLY - i * 10**6,
            term,
            30,
            keccak(text=f"sla {i}"),
            CREDITS,
            prepaid,
            (self.chain.now() if now is None else now) + 30 * DAY,
            nonce=next(self._nonce),
        )
        contract = None
        if sealed:
            contract = seal_contract(financial_contract(quote))
            quote = replace(quote, contract_hash=contract.commitment)
        signed = sign_quote(provider, quote, domain or self.market.domain)
        if contract is not None:
            self.sealed[signed.digest] = contract
        return signed

    def award(self, tag: str, *, seal: bool = True, prepaid: int = 3, term: int = 12) -> Order:
        """Post an RFQ to the three providers, commit three quotes, award the first (notarised if `seal`)."""
        market, buyer = self.market, self.send(self.buyer)
        rfq = self.rfq(tag)
        receipts = {"post": market.post(buyer, rfq)[1]}
        # Every provider seals its financial contract into its quote when `seal`.
        quotes = [
            self.quote(rfq, p, i, prepaid=prepaid, term=term, sealed=seal)
            for i, p in enumerate(self.providers)
        ]
        for i, (p, q) in enumerate(zip(self.providers, quotes, strict=True)):
            receipts[f"commit{i}"] = market.commit(self.send(p), rfq, q)
        best = quotes[0]
        order_id, receipts["award"] = market.award(buyer, rfq, best)
        return Order(rfq, best, self.escrow.terms_of(order_id), receipts, self.sealed.get(best.digest))

    def both_report(
        self, terms: OrderTerms, report: SlaReport, lane: int | None = None
    ) -> dict[str, Receipt]:
        """Seller's and buyer's oracles each submit `report` alone (in `lane` of each, or a fresh lane);
        anyone finalises the matched pair."""
        ledger = self.ledger
        seller_batch, by_seller = ledger.submit(self.send(self.providers[0]), terms.seller, [report], lane)
        buyer_batch, by_buyer = ledger.submit(self.send(self.buyer), terms.buyer, [report], lane)
        final = ledger.finalize_matched(self.send(self.council), terms, report, seller_batch, buyer_batch)
        return {"seller submit": by_seller, "buyer submit": by_buyer, "finalize matched": final}


def delivery_report(terms: OrderTerms, completed: int) -> SlaReport:
    return SlaReport(
        terms.order_id(),
        ReportKind.ORDER_COMPLETED,
        0,
        completed,
        completed,
        evidence_hash=keccak(text="product order completed"),
    )


def period_report(terms: OrderTerms, period: int, metrics: PeriodMetrics = GOOD_MONTH) -> SlaReport:
    return SlaReport(
        terms.order_id(),
        ReportKind.PERIOD,
        period,
        metrics=metrics,
        evidence_hash=keccak(text=f"performance report {period}"),
    )


def build_world(chain: Chain, *, extra_founders: Sequence[str] = ()) -> World:
    """Deploy the suite (liveness window 2 days, two sponsors admit) and fund the buyer."""
    deployer = Sender(chain, funded(chain, "deployer"))
    buyer = funded(chain, "buyer")
    providers = [funded(chain, f"provider {i}") for i in range(3)]
    council = funded(chain, "council")
    founders = [buyer.address, *(p.address for p in providers), council.address, *extra_founders]
    config = SuiteConfig(
        founders=founders,
        council=[council.address],
        council_threshold=1,
        sponsors_required=2,
        liveness_window=2 * DAY,
    )
    suite = deploy_suite(chain, deployer, config)
    world = World(chain, suite, deployer, buyer, providers, council, founders)
    pay = world.send(buyer)
    pay.transact(suite.token.functions.mint(buyer.address, 10**18))
    pay.transact(suite.token.functions.approve(suite.escrow.address, 2**255))
    return world
