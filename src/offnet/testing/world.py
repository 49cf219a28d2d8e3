"""One world for offnet's tests and benchmarks: roles, terms, the deployed suite, and what they do.

Roles are deterministic funded accounts with their Senders (`Party`): a deployer, buyers, sellers,
a council and an outsider. Members may hold a quote key and an oracle key of their own. The world
keeps the one credit schedule and the default terms every order and quote starts from, deploys the
suite with the roles as founders (`World`), and builds what tests and benchmarks do again and again:
RFQs, signed quotes, awarded orders, SLA reports and their batches, council decisions, refusals
that must change nothing. `wait_until` is the one way to wait for what another thread or process does.

Account labels are part of the calldata: a gas-measured test keeps the labels (hence the addresses)
it was measured with, so each area names its accounts with a prefix of its own (`cast(chain, "escrow")`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.logs import DISCARD

from offnet.chain import Chain, Receipt, Sender, decode_revert, load_artifact, predict_deployments
from offnet.chain.tx import call
from offnet.deployment import Suite, SuiteConfig, deploy_suite
from offnet.exceptions import ContractRevert
from offnet.market import periods
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import Batch, LedgerClient
from offnet.market.notary import SealedContract, financial_contract, seal_contract
from offnet.market.quotes import Quote, QuoteDomain, SignedQuote, sign_quote
from offnet.market.registry import ACCESS_ELINE, Profile, RegistryClient, Role, location_key
from offnet.market.rfq import Rfq
from offnet.market.types import CreditSchedule, OrderTerms, PeriodMetrics, ReportKind, SlaReport
from offnet.sonata.canonical import document_hash
from offnet.testing.accounts import funded_account

T = TypeVar("T")

DAY = 86_400

# --- the one credit schedule and the default terms ---------------------------------------------------

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
ONE_TIME = 1_000 * 10**6  # 1,000 tUSD installation
MONTHLY = 500 * 10**6  # 500 tUSD a month
TERM_MONTHS = 12
INSTALL_DAYS = 30
PREPAID_MONTHS = 2
SLA_TERMS = keccak(text="sla terms")
FUNDS = 10**15  # test tokens each buyer holds, approved for the escrow
LIVENESS = 2 * DAY  # the ledger's liveness window
APPLICATION_TTL = 14 * DAY  # how long an application to the registry stays open

# OrderEscrow's policy (its constants; periods are calendar months: offnet.market.periods).
REPORT_GRACE = 20 * DAY
DELIVERY_GRACE = 30 * DAY
RULING_TIMEOUT = 60 * DAY
CANCEL_NOTICE = 7 * DAY

# Months measured against CREDITS.
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
# Credit cases: every objective met (no credit); availability, frame delay and time to restore missed
# (10 + 5 + 10 = 25 %, under the cap); everything missed (35 %, capped at 30 %).
NO_CREDIT = PeriodMetrics(
    availability_ppm=999_900, frame_delay_us=5_000, frame_loss_ppm=1, time_to_restore_sec=600, outages=0
)
CREDIT_25_PERCENT = PeriodMetrics(
    availability_ppm=990_000, frame_delay_us=20_000, frame_loss_ppm=1, time_to_restore_sec=90_000, outages=3
)
CREDIT_CAPPED = PeriodMetrics(
    availability_ppm=900_000, frame_delay_us=20_000, frame_loss_ppm=500, time_to_restore_sec=90_000, outages=9
)


def order_terms(**fields: Any) -> OrderTerms:
    """Order terms at the default terms; `fields` give the parties, token and award time, and may
    override any other field."""
    defaults = {
        "rfq_id": 1,
        "one_time_charge": ONE_TIME,
        "monthly_charge": MONTHLY,
        "term_months": TERM_MONTHS,
        "install_days": INSTALL_DAYS,
        "prepaid_months": PREPAID_MONTHS,
        "sla_terms_hash": SLA_TERMS,
        "credits": CREDITS,
    }
    return OrderTerms(**{**defaults, **fields})


def sample_profile(name: str = "Carrier Example", countries: tuple[str, ...] = ("FR", "DE")) -> Profile:
    """The profile of an Access E-Line provider in `countries`, its Sonata API at sonata.<name>.example."""
    return Profile(
        name=name,
        sonata_url=f"https://sonata.{name.lower().replace(' ', '-')}.example",
        products=(ACCESS_ELINE,),
        countries=countries,
    )


def new_rfq(
    buyer: str,
    token: str,
    deadline: int,
    invited: Sequence[str] = (),
    *,
    request: str = "quote-request-1",
    location: str = "FR-PAR",
) -> Rfq:
    """An RFQ of `buyer` for an Access E-Line at `location`; `request` names its Sonata quote request."""
    return Rfq(
        buyer=buyer,
        deadline=deadline,
        token=token,
        request_hash=document_hash({"externalId": request}),
        product_key=ACCESS_ELINE,
        location_key=location_key(location),
        invited=tuple(invited),
    )


def new_quote(rfq: Rfq, provider: str, *, valid_until: int, nonce: int = 1, **overrides: Any) -> Quote:
    """`provider`'s quote for `rfq` at the default terms (overridable field by field)."""
    base = Quote(
        rfq_id=rfq.rfq_id,
        provider=provider,
        buyer=rfq.buyer,
        token=rfq.token,
        one_time_charge=ONE_TIME,
        monthly_charge=MONTHLY,
        term_months=TERM_MONTHS,
        install_days=INSTALL_DAYS,
        sla_terms_hash=SLA_TERMS,
        credits=CREDITS,
        prepaid_months=PREPAID_MONTHS,
        valid_until=valid_until,
        nonce=nonce,
    )
    return replace(base, **overrides)


def delivery_report(
    terms: OrderTerms, completed: int, *, days_late: float = 0, evidence: str = "order"
) -> SlaReport:
    """The completed-order report: done at `completed`, `days_late` days after the committed date."""
    return SlaReport(
        terms.order_id(),
        ReportKind.ORDER_COMPLETED,
        0,
        completed - int(days_late * DAY),
        completed,
        evidence_hash=keccak(text=evidence),
    )


def period_report(terms: OrderTerms, period: int, metrics: PeriodMetrics = GOOD_MONTH) -> SlaReport:
    """The in-life report of billing `period`."""
    return SlaReport(
        terms.order_id(),
        ReportKind.PERIOD,
        period,
        metrics=metrics,
        evidence_hash=keccak(text=f"period {period}"),
    )


# --- roles -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """One role: an account, its Sender, and the operational keys it registered (if a member)."""

    name: str
    account: LocalAccount
    sender: Sender
    quote_key: Party | None = None
    oracle_key: Party | None = None

    @property
    def address(self) -> str:
        return self.account.address

    @property
    def keys(self) -> list[Party]:
        """The party and its operational keys."""
        return [self, *(k for k in (self.quote_key, self.oracle_key) if k is not None)]


def party(
    chain: Chain, name: str, *, prefix: str = "", keys: bool = False, sender: type[Sender] = Sender
) -> Party:
    """The funded throwaway account labelled `<prefix>-<name>`, with its Sender (of class `sender`;
    and with `keys`, a quote key and an oracle key of its own, to register)."""
    label = f"{prefix}-{name}" if prefix else name
    account = funded_account(chain, label)
    if not keys:
        return Party(name, account, sender(chain, account))
    return Party(
        name,
        account,
        sender(chain, account),
        quote_key=party(chain, f"{name}-quote-key", prefix=prefix, sender=sender),
        oracle_key=party(chain, f"{name}-oracle-key", prefix=prefix, sender=sender),
    )


class UnestimatedSender(Sender):
    """The real Sender, minus gas estimation, which eth-tester does by bisection (about ten EVM runs
    per transaction, most of a unit test's time). Every transaction gets a fixed allowance; gas_used
    is unaffected and refusals are still decoded, from the replay of the failed transaction."""

    ALLOWANCE = 3_000_000

    def _estimate(self, tx: dict) -> int:
        return self.ALLOWANCE


@dataclass(frozen=True)
class Roles:
    """The five roles every area starts from."""

    deployer: Party
    buyer: Party
    seller: Party
    council: Party
    outsider: Party


ROLES = ("deployer", "buyer", "seller", "council", "outsider")


def cast(chain: Chain, prefix: str, **names: str) -> Roles:
    """The five roles, funded, labelled `<prefix>-<role>` (or `<prefix>-<names[role]>`)."""
    return Roles(*(party(chain, names.get(r, r), prefix=prefix) for r in ROLES))


def set_clock(chain: Chain, timestamp: int) -> None:
    """Move chain time to `timestamp` (mining a block): tests whose calldata carries chain times
    (deadlines, award times), hence whose gas, start from the same clock whatever their setup took."""
    chain.advance_time(timestamp - chain.now())
    assert chain.now() == timestamp, f"chain time is {chain.now()}, past {timestamp}"


def fund(buyer: Party, token: Any, spender: str, amount: int) -> None:
    """Mint `amount` test tokens to `buyer` and approve `spender` for them."""
    buyer.sender.transact(token.functions.mint(buyer.address, amount))
    buyer.sender.transact(token.functions.approve(spender, amount))


# --- council decisions and refusals -----------------------------------------------------------------


def events(client: Any, receipt: Receipt, name: str) -> list[Any]:
    """The decoded `name` events a contract (or a client's contract) emitted in a transaction."""
    contract = getattr(client, "contract", client)
    event = getattr(contract.events, name)()
    return [
        e.args for e in event.process_receipt(receipt.raw, errors=DISCARD) if e.address == contract.address
    ]


def _calldata(call: Any) -> bytes | str:
    return call if isinstance(call, bytes | str) else call._encode_transaction_data()


def council_decides(registry: RegistryClient, council: Sequence[Party], target: str, call: Any) -> Receipt:
    """The council has the registry call `call` (a web3 function call or calldata) on `target`: the
    first seat proposes, the next seats approve up to the threshold; returns the executing receipt."""
    proposal, receipt = registry.propose(council[0].sender, target, _calldata(call))
    for seat in council[1:]:
        receipt = registry.approve(seat.sender, proposal)
    return receipt


class Refusal:
    """What `refuses` caught: `value` is the decoded ContractRevert."""

    value: ContractRevert


@contextmanager
def refuses(error: str, *, unchanged: Callable[[], Any] | None = None, **arguments: Any) -> Iterator[Refusal]:
    """The block must revert with the custom error `error` (with `arguments`, when given) and leave
    what `unchanged()` reads as it was (`with refuses("EscrowNotParty", caller=...): ...`)."""
    before = unchanged() if unchanged else None
    refusal = Refusal()
    try:
        yield refusal
    except ContractRevert as revert:
        refusal.value = revert
    else:
        raise AssertionError(f"expected {error}, but the call went through")
    revert = refusal.value
    assert revert.name == error, revert.describe()
    if arguments:
        assert revert.arguments == arguments, revert.describe()
    if unchanged:
        assert unchanged() == before, f"{error}: the refused call changed state"


def council_refuses(
    registry: RegistryClient,
    council: Sequence[Party],
    target: str,
    call: Any,
    error: str,
    *,
    unchanged: Callable[[], Any] | None = None,
    **arguments: Any,
) -> ContractRevert:
    """A council decision `target` refuses: the registry reverts with `target`'s error inside, which
    must be `error` (with `arguments`, when given); returns that inner error."""
    with refuses("RegistryProposalCallFailed", unchanged=unchanged) as outer:
        council_decides(registry, council, target, call)
    assert outer.value.arguments["target"] == target, outer.value.describe()
    inner = decode_revert(outer.value.arguments["returnData"])
    assert inner.name == error, inner.describe()
    if arguments:
        assert inner.arguments == arguments, inner.describe()
    return inner


# --- the deployed suite ------------------------------------------------------------------------------


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
    """The suite deployed with its roles as founders: buyers, sellers and the council are members
    (each with a quote key and an oracle key when deployed with `keys`); the buyers hold FUNDS."""

    chain: Chain
    suite: Suite
    deployer: Party
    buyers: list[Party]
    sellers: list[Party]
    council: Party
    outsider: Party
    clock: Callable[[], int] | None = None  # a faster chain clock than web3's, when a test has one
    sealed: dict[bytes, SealedContract] = field(default_factory=dict)  # quote digest -> its contract
    quote_terms: dict[str, Any] = field(
        default_factory=dict
    )  # where its quotes differ from the default terms
    fresh_requests: bool = False  # each RFQ names a quote request of its own (`rfq-1`, `rfq-2`, ...)
    _requests: int = 0
    _domain: QuoteDomain | None = None

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        deployer: Party,
        buyers: Sequence[Party],
        sellers: Sequence[Party],
        council: Party,
        outsider: Party,
        *,
        extra_founders: Sequence[str] = (),
        quote_terms: dict[str, Any] | None = None,
        fresh_requests: bool = False,
        **config: Any,
    ) -> World:
        """Deploy the suite with the buyers, sellers and council as founders (the council alone on
        it, one sponsor admitting, unless `config` says otherwise), register the keys they hold,
        and fund the buyers. `quote_terms` and `fresh_requests`: see the fields."""
        members = [council, *buyers, *sellers]
        settings = {"council_threshold": 1, "sponsors_required": 1, **config}
        suite = deploy_suite(
            chain,
            deployer.sender,
            SuiteConfig(
                founders=[m.address for m in members] + list(extra_founders),
                council=[council.address],
                **settings,
            ),
        )
        for member in members:
            if member.quote_key:
                suite.registry.add_key(member.sender, member.quote_key.address, Role.QUOTE)
            if member.oracle_key:
                suite.registry.add_key(member.sender, member.oracle_key.address, Role.ORACLE)
        for buyer in buyers:
            fund(buyer, suite.token, suite.escrow.address, FUNDS)
        return cls(
            chain,
            suite,
            deployer,
            list(buyers),
            list(sellers),
            council,
            outsider,
            quote_terms=dict(quote_terms or {}),
            fresh_requests=fresh_requests,
        )

    @classmethod
    def create(
        cls,
        chain: Chain,
        prefix: str,
        *,
        buyers: Sequence[str] = ("buyer",),
        sellers: Sequence[str] = ("seller",),
        keys: bool = True,
        **options: Any,
    ) -> World:
        """Fund the named buyers and sellers, a council (each member with its own quote and oracle key
        when `keys`), a deployer and an outsider, all labelled `<prefix>-<name>`; deploy (see `deploy`)."""

        def member(name: str) -> Party:
            return party(chain, name, prefix=prefix, keys=keys)

        return cls.deploy(
            chain,
            party(chain, "deployer", prefix=prefix),
            [member(name) for name in buyers],
            [member(name) for name in sellers],
            member("council"),
            party(chain, "outsider", prefix=prefix),
            **options,
        )

    # --- who is who --------------------------------------------------------------------------------

    def __post_init__(self) -> None:
        suite = self.suite
        self.token, self.registry, self.market = suite.token, suite.registry, suite.market
        self.escrow, self.ledger, self.notary = suite.escrow, suite.ledger, suite.notary
        self.buyer, self.seller = self.buyers[0], self.sellers[0]
        self.members = [self.council, *self.buyers, *self.sellers]
        self.parties = [m.address for m in self.members] + [self.outsider.address]  # may hold escrow balances

    @property
    def domain(self) -> QuoteDomain:
        """The market's EIP-712 domain (fixed per deployment: read once)."""
        if self._domain is None:
            self._domain = self.suite.market.domain
        return self._domain

    def now(self) -> int:
        """Timestamp of the latest block."""
        return self.clock() if self.clock else self.chain.now()

    # --- building blocks -----------------------------------------------------------------------------

    def rfq(
        self,
        buyer: Party | None = None,
        invited: Sequence[str] | None = None,
        *,
        deadline_in: int = 2 * DAY,
        request: str | None = None,
        now: int | None = None,
    ) -> Rfq:
        """An RFQ of `buyer` (the first by default) inviting every other seller unless told, for the
        quote request `request` (default: see `fresh_requests`); `now` saves a block read."""
        buyer = buyer or self.buyer
        if request is None:
            self._requests += 1
            request = f"rfq-{self._requests}" if self.fresh_requests else "quote-request-1"
        return new_rfq(
            buyer.address,
            self.token.address,
            (self.now() if now is None else now) + deadline_in,
            [s.address for s in self.sellers if s.address != buyer.address] if invited is None else invited,
            request=request,
        )

    def quote(
        self, rfq: Rfq, seller: Party, *, valid_for: int = 30 * DAY, now: int | None = None, **overrides: Any
    ) -> Quote:
        """`seller`'s quote for `rfq` at this world's terms (`quote_terms` over the default terms),
        valid `valid_for` seconds (or until `valid_until`, when that is given)."""
        overrides = {**self.quote_terms, **overrides}
        if "valid_until" not in overrides:
            overrides["valid_until"] = (self.now() if now is None else now) + valid_for
        return new_quote(rfq, seller.address, **overrides)

    def sign(self, quote: Quote, signer: Party | LocalAccount) -> SignedQuote:
        return sign_quote(getattr(signer, "account", signer), quote, self.domain)

    def seal(self, rfq: Rfq) -> None:
        """Move past the RFQ's deadline: quotes are sealed until then, and only then awarded."""
        now = self.now()
        if now <= rfq.deadline:
            self.chain.advance_time(rfq.deadline + 1 - now)

    def award(
        self, rfq: Rfq, signed: SignedQuote, buyer: Party | None = None, **options: Any
    ) -> tuple[bytes, Receipt]:
        """The buyer (the first by default) awards `signed` once the deadline passed."""
        self.seal(rfq)
        return self.suite.market.award((buyer or self.buyer).sender, rfq, signed, **options)

    def post_rfq(self, buyer: Party | None = None, **options: Any) -> Rfq:
        """Post an RFQ (see `rfq`) and return it."""
        buyer = buyer or self.buyer
        rfq = self.rfq(buyer, **options)
        self.suite.market.post(buyer.sender, rfq)
        return rfq

    def commit_quotes(
        self,
        rfq: Rfq,
        sellers: Sequence[Party],
        *,
        by_key: bool = False,
        seal: bool = False,
        **overrides: Any,
    ) -> tuple[list[SignedQuote], dict[str, Receipt]]:
        """Each of `sellers` signs and commits a quote for `rfq` (the i-th `i` tUSD a month dearer, so
        that no two are alike); `by_key`: signed and sent by its quote key; `seal`: carrying its
        financial contract's hash (kept in `self.sealed`)."""
        signed, receipts = [], {}
        for i, seller in enumerate(sellers):
            quote = self.quote(rfq, seller, **overrides)
            if "monthly_charge" not in overrides:
                quote = replace(quote, monthly_charge=quote.monthly_charge + i * 10**6)
            if seal:
                sealed = seal_contract(financial_contract(quote))
                quote = replace(quote, contract_hash=sealed.commitment)
            signer = seller.quote_key if by_key and seller.quote_key else seller
            signed.append(self.sign(quote, signer))
            if seal:
                self.sealed[signed[-1].digest] = sealed
            receipts[f"commit{i}"] = self.suite.market.commit(signer.sender, rfq, signed[-1])
        return signed, receipts

    def post_with_quotes(
        self, sellers: Sequence[Party] | None = None, **options: Any
    ) -> tuple[Rfq, list[SignedQuote]]:
        """Post an RFQ of the buyer to every seller and commit the quotes of `sellers` (default: all)."""
        rfq = self.post_rfq()
        signed, _ = self.commit_quotes(rfq, self.sellers if sellers is None else sellers, **options)
        return rfq, signed

    def open_order(
        self,
        buyer: Party | None = None,
        sellers: Sequence[Party] | None = None,
        *,
        invited: Sequence[str] | None = None,
        request: str | None = None,
        acknowledge: bool = False,
        **options: Any,
    ) -> Order:
        """Post an RFQ of `buyer` to `sellers` (the first seller by default; `invited` overrides whom
        it invites, `request` names it), commit each one's quote (see `commit_quotes`), and award the
        first once the deadline has passed (the market awards sealed commitments only); with
        `acknowledge`, the seller's oracle key (or the seller) acknowledges the order."""
        buyer, sellers = buyer or self.buyer, sellers or [self.seller]
        invited = [s.address for s in sellers] if invited is None else invited
        rfq = self.rfq(buyer, invited, request=request)
        _, post = self.suite.market.post(buyer.sender, rfq)
        quotes, receipts = self.commit_quotes(rfq, sellers, **options)
        _, award = self.award(rfq, quotes[0], buyer)
        awarded_at = self.chain.w3.eth.get_block(award.block_number)["timestamp"]
        terms = quotes[0].quote.order_terms(awarded_at)
        if acknowledge:
            self.suite.escrow.acknowledge((sellers[0].oracle_key or sellers[0]).sender, terms)
        return Order(
            rfq,
            quotes[0],
            terms,
            {"post": post, **receipts, "award": award},
            self.sealed.get(quotes[0].digest),
        )

    def submit_batch(
        self, member: Party, reports: Sequence[SlaReport], lane: int | None = None
    ) -> tuple[Batch, Receipt]:
        """`member`'s oracle key (or the member itself) submits `reports` as one batch."""
        oracle = member.oracle_key or member
        return self.suite.ledger.submit(oracle.sender, member.address, reports, lane)

    def both_report(
        self, terms: OrderTerms, report: SlaReport, lane: int | None = None
    ) -> dict[str, Receipt]:
        """The seller's and the buyer's oracles each submit `report` (in `lane`, or a lane of its own);
        anyone (the outsider) makes the matched pair final."""
        seller, buyer = self.member(terms.seller), self.member(terms.buyer)
        seller_batch, by_seller = self.submit_batch(seller, [report], lane)
        buyer_batch, by_buyer = self.submit_batch(buyer, [report], lane)
        final = self.suite.ledger.finalize_matched(
            self.outsider.sender, terms, report, seller_batch, buyer_batch
        )
        return {"seller submit": by_seller, "buyer submit": by_buyer, "finalize matched": final}

    def council_decides(self, target: str, call: Any) -> Receipt:
        """The one-seat council has the registry call `call` on `target`."""
        return council_decides(self.suite.registry, [self.council], target, call)

    def member(self, address: str) -> Party:
        """The member whose admin address is `address`."""
        return next(m for m in self.members if m.address == address)


# --- the escrow and ledger alone, the market played by an account -------------------------------------


@dataclass
class EscrowWorld:
    """A real registry (buyer, seller, an unrelated member `other`, the `arbiter` alone on the council;
    each member with an oracle key), a real OrderEscrow linked to a real SlaLedger, and the market
    played by a plain account that opens orders directly: outcomes reach the escrow the only way they
    can, reports of both parties' oracles finalised by the ledger.

    Every refusal goes through `refuse`, which checks the decoded error AND that nothing the ledger or
    the escrow tracks changed; every step that moves money can be followed by `assert_conserved`."""

    chain: Chain
    ledger: LedgerClient
    escrow: EscrowClient
    registry: RegistryClient
    token: Any
    deployer: Party
    market: Party
    arbiter: Party
    buyer: Party
    seller: Party
    other: Party
    stranger: Party
    tracked: dict[bytes, SlaReport] = field(default_factory=dict)
    tracked_orders: dict[bytes, OrderTerms] = field(default_factory=dict)
    extra_tokens: dict[str, Any] = field(default_factory=dict)  # allow-listed by a test (hostile tokens)

    @classmethod
    def deploy(cls, chain: Chain, prefix: str = "suite") -> EscrowWorld:
        """Registry (buyer, seller, other, arbiter founders), token, escrow and ledger, linked."""

        def member(name: str, *, oracle: bool = False) -> Party:
            made = party(chain, name, prefix=prefix, sender=UnestimatedSender)
            if not oracle:
                return made
            return replace(made, oracle_key=member(f"{name}-oracle"))

        deployer, market, arbiter = member("deployer"), member("market"), member("arbiter")
        buyer, seller, other = (member(name, oracle=True) for name in ("buyer", "seller", "other"))
        registry, _ = RegistryClient.deploy(
            deployer.sender,
            [buyer.address, seller.address, other.address, arbiter.address],
            [arbiter.address],
            council_threshold=1,
            sponsors_required=1,
            application_ttl=7 * DAY,
        )
        for m in (buyer, seller, other):
            registry.add_key(m.sender, m.oracle_key.address, Role.ORACLE)
        token, _ = deployer.sender.deploy(load_artifact("TestStablecoin"))
        at_escrow, at_ledger = predict_deployments(deployer.address, chain.peek_nonce(deployer.address), 2)
        escrow, _ = EscrowClient.deploy(
            deployer.sender, registry.address, market.address, at_ledger, [token.address]
        )
        ledger, _ = LedgerClient.deploy(
            deployer.sender, registry.address, at_escrow, market.address, LIVENESS
        )
        assert (escrow.address, ledger.address) == (at_escrow, at_ledger)
        return cls(
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
            member("stranger"),
        )

    def reset(self) -> None:
        """Forget what the last test tracked (its chain state is reverted by the caller)."""
        self.tracked.clear()
        self.tracked_orders.clear()
        self.extra_tokens.clear()

    # --- orders --------------------------------------------------------------------------------

    def terms(self, **overrides: Any) -> OrderTerms:
        """Terms of an order from seller to buyer awarded now, three months prepaid (overridable)."""
        return order_terms(
            **{
                "buyer": self.buyer.address,
                "seller": self.seller.address,
                "token": self.token.address,
                "prepaid_months": 3,
                "awarded_at": self.chain.now(),
                **overrides,
            }
        )

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
        fund(self.buyer, token or self.token, self.escrow.address, amount)

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

    def delivered(self, **overrides: Any) -> OrderTerms:
        """An order opened (see `open`) and delivered on time, settled by both parties' reports."""
        terms = self.open(**overrides)
        self.deliver(terms)
        return terms

    def order(self, terms: OrderTerms) -> Any:
        return self.escrow.order(terms.order_id())

    # --- reports -------------------------------------------------------------------------------

    def delivery(self, terms: OrderTerms, days_late: float = 0, evidence: str = "order") -> SlaReport:
        """The completed-order report: done a day after award, `days_late` days after the committed date."""
        return delivery_report(terms, terms.awarded_at + DAY, days_late=days_late, evidence=evidence)

    def period(self, terms: OrderTerms, period: int, metrics: PeriodMetrics = GOOD_MONTH) -> SlaReport:
        return period_report(terms, period, metrics)

    def submit(self, member: Party, reports: Sequence[SlaReport]) -> tuple[Batch, Receipt]:
        """Submit `reports` from the member's oracle key; their ids are tracked for `refuse`."""
        self.tracked.update((r.report_id, r) for r in reports)
        return self.ledger.submit(member.oracle_key.sender, member.address, reports)

    def claimed(self) -> tuple[OrderTerms, SlaReport, Batch]:
        """An order opened, and the seller's oracle alone claims its on-time delivery: the terms, the
        claim and its batch."""
        terms = self.open()
        claim = self.delivery(terms)
        batch, _ = self.submit(self.seller, [claim])
        return terms, claim, batch

    def refuse_finality(
        self, terms: OrderTerms, report: SlaReport, error: str, *, by: Party | None = None, **arguments: Any
    ) -> ContractRevert:
        """`by` (the seller by default) alone submits `report`; once its liveness window is over,
        making it final under `terms` must revert with `error(arguments)` and change nothing."""
        batch, _ = self.submit(by or self.seller, [report])
        self.chain.advance_time(LIVENESS)
        return self.refuse(
            lambda: self.ledger.finalize(self.stranger.sender, terms, report, batch), error, **arguments
        )

    def reported(self, terms: OrderTerms, report: SlaReport) -> Callable[[], Receipt]:
        """Both parties report the same fact; returns the call that finalises it at once (for a test
        that expects it to wait first)."""
        buyer_batch, _ = self.submit(self.buyer, [report])
        seller_batch, _ = self.submit(self.seller, [report])
        return lambda: self.ledger.finalize_matched(
            self.stranger.sender, terms, report, seller_batch, buyer_batch
        )

    def settle(self, terms: OrderTerms, report: SlaReport) -> Receipt:
        """Both parties report the same fact and anyone finalises it at once."""
        return self.reported(terms, report)()

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

    def withdrawable(self, member: Party, token: Any = None) -> int:
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

    def council(self, fn_call: Any) -> Receipt:
        """The one-seat council has the registry make a call, at once."""
        return council_decides(self.registry, [self.arbiter], fn_call.address, fn_call)

    def suspend(self, member: Party) -> None:
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
        with refuses(error, unchanged=lambda: self.state(ids), **arguments) as refused:
            operation()
        return refused.value

    def council_refused(self, fn_call: Any, error: str, **arguments: Any) -> None:
        """A council call its target refuses: the registry reverts with the target's error inside."""
        council_refuses(
            self.registry, [self.arbiter], fn_call.address, fn_call, error, unchanged=self.state, **arguments
        )


# --- waiting -----------------------------------------------------------------------------------------


def wait_until(
    condition: Callable[[], T],
    what: str,
    *,
    seconds: float = 300,
    step: Callable[[], None] | None = None,
    interval: float = 0.2,
) -> T:
    """Poll `condition` (running `step` between polls, e.g. to move chain time) until it returns
    something true, and return that; raise TimeoutError naming `what` after `seconds`. A condition
    that raises LookupError or TypeError (a row not there yet) has not come true yet."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = condition()
        except (LookupError, TypeError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        if step:
            step()
        time.sleep(interval)
