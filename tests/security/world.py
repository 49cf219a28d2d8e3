"""The whole offnet suite with every role the security tests need: buyers, sellers (with quote and oracle
keys), a one-seat council, and a hostile outsider; helpers to build quotes, orders, reports and council
rulings, and a fingerprint of everything a caller could change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.logs import DISCARD

from offnet.chain import Chain, Receipt, Sender
from offnet.chain.tx import call
from offnet.deployment import Suite, SuiteConfig, deploy_suite
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import LedgerClient
from offnet.market.notary import NotaryClient
from offnet.market.quotes import Quote, SignedQuote, sign_quote
from offnet.market.registry import ACCESS_ELINE, RegistryClient, Role, location_key
from offnet.market.rfq import Rfq, RfqClient
from offnet.market.types import CreditSchedule, OrderTerms
from offnet.sonata.canonical import document_hash

DAY = 86_400
FUNDS = 10**15
ONE_TIME = 3_000_000
MONTHLY = 1_000_000
TERM_MONTHS = 3
INSTALL_DAYS = 5
CREDITS = CreditSchedule(100, 1_000, 999_500, 500, 10_000, 200, 100, 200, 4 * 3600, 300, 3_000)
ZERO = "0x" + "00" * 20


@dataclass
class Actor:
    """An account with its Sender and the role it plays."""

    name: str
    account: LocalAccount
    sender: Sender

    @property
    def address(self) -> str:
        return self.account.address


@dataclass
class Member:
    """A registry member: its admin and its operational keys."""

    admin: Actor
    quote_key: Actor
    oracle_key: Actor

    @property
    def name(self) -> str:
        return self.admin.name

    @property
    def address(self) -> str:
        return self.admin.address

    @property
    def sender(self) -> Sender:
        return self.admin.sender


@dataclass
class World:
    """The deployed, linked suite and its actors."""

    chain: Chain
    suite: Suite
    registry: RegistryClient
    market: RfqClient
    escrow: EscrowClient
    ledger: LedgerClient
    notary: NotaryClient
    deployer: Actor
    council: Member
    buyers: list[Member]
    sellers: list[Member]
    outsider: Actor
    rfq_counter: list[int] = field(default_factory=lambda: [0])
    clock: Callable[[], int] | None = None  # a faster chain clock than web3's (the anvil harness sets one)
    _domain: Any = None

    def now(self) -> int:
        """Timestamp of the latest block."""
        return self.clock() if self.clock else self.chain.now()

    @property
    def token(self) -> Any:
        return self.suite.token

    @property
    def members(self) -> list[Member]:
        return [self.council, *self.buyers, *self.sellers]

    @property
    def parties(self) -> list[str]:
        """Every address that can hold an escrow balance."""
        return [m.address for m in self.members] + [self.outsider.address]

    # --- building blocks --------------------------------------------------------------------------

    def new_rfq(
        self, buyer: Member, invited: tuple[str, ...] | None = None, deadline_in: int = 2 * DAY
    ) -> Rfq:
        """A fresh RFQ of `buyer` inviting both sellers unless told otherwise (a counter keeps every RFQ
        id distinct)."""
        self.rfq_counter[0] += 1
        if invited is None:
            invited = tuple(s.address for s in self.sellers if s.address != buyer.address)
        return Rfq(
            buyer=buyer.address,
            deadline=self.now() + deadline_in,
            token=self.token.address,
            request_hash=document_hash({"externalId": f"rfq-{self.rfq_counter[0]}"}),
            product_key=ACCESS_ELINE,
            location_key=location_key("FR-PAR"),
            invited=invited,
        )

    def quote(
        self, rfq: Rfq, seller: Member, *, nonce: int, valid_for: int = 30 * DAY, **changes: Any
    ) -> Quote:
        """A quote of `seller` for `rfq`: three months, one prepaid."""
        base = Quote(
            rfq_id=rfq.rfq_id,
            provider=seller.address,
            buyer=rfq.buyer,
            token=rfq.token,
            one_time_charge=ONE_TIME,
            monthly_charge=MONTHLY,
            term_months=TERM_MONTHS,
            install_days=INSTALL_DAYS,
            sla_terms_hash=keccak(text="sla"),
            credits=CREDITS,
            prepaid_months=1,
            valid_until=self.now() + valid_for,
            nonce=nonce,
            epoch=0,
        )
        return replace(base, **changes)

    def sign(self, quote: Quote, signer: LocalAccount) -> SignedQuote:
        if self._domain is None:
            self._domain = self.market.domain  # chain id and market address: fixed per deployment
        return sign_quote(signer, quote, self._domain)

    def seal(self, rfq: Rfq) -> None:
        """Move past the RFQ's deadline: quotes are sealed until then, and only then awarded."""
        now = self.now()
        if now <= rfq.deadline:
            self.chain.advance_time(rfq.deadline + 1 - now)

    def award_order(
        self, buyer: Member, seller: Member, nonce: int = 1, *, acknowledge: bool = True
    ) -> tuple[Rfq, SignedQuote, OrderTerms, Receipt]:
        """Post, commit and (after the deadline) award one order of `buyer` with `seller`, which
        acknowledges it unless told otherwise; returns the order terms."""
        rfq = self.new_rfq(buyer)
        self.market.post(buyer.sender, rfq)
        signed = self.sign(self.quote(rfq, seller, nonce=nonce), seller.quote_key.account)
        self.market.commit(seller.quote_key.sender, rfq, signed)
        self.seal(rfq)
        _, receipt = self.market.award(buyer.sender, rfq, signed)
        terms = signed.quote.order_terms(self.chain.w3.eth.get_block(receipt.block_number)["timestamp"])
        if acknowledge:
            self.escrow.acknowledge(seller.oracle_key.sender, terms)
        return rfq, signed, terms, receipt

    def council_execute(self, target: str, data: bytes) -> Receipt:
        """The one-seat council proposes (and so executes) a call of `target`."""
        _, receipt = self.registry.propose(self.council.sender, target, data)
        return receipt

    def council_suspend(self, member: str) -> Receipt:
        return self.registry.propose_suspend(self.council.sender, member)[1]

    def council_reinstate(self, member: str) -> Receipt:
        return self.registry.propose_reinstate(self.council.sender, member)[1]

    def events(self, contract: Any, receipt: Receipt, name: str) -> list[Any]:
        """Decoded `name` events that `contract` emitted in a transaction."""
        return [e.args for e in getattr(contract.events, name)().process_receipt(receipt.raw, errors=DISCARD)]

    # --- what anyone could change -------------------------------------------------------------------

    def fingerprint(self, orders: list[OrderTerms] = (), rfqs: list[Rfq] = (), extra: tuple = ()) -> tuple:
        """Every balance, event-derived total, order, RFQ, membership and reputation the tests watch."""
        token = self.token
        people = self.parties
        return (
            call(token.functions.balanceOf(self.escrow.address)),
            tuple(call(token.functions.balanceOf(p)) for p in people),
            self.escrow.book(token.address),
            tuple(self.escrow.withdrawable(token.address, p) for p in people),
            tuple(tuple(call(self.escrow.fn.orderState(t.order_id()))) for t in orders),
            tuple(tuple(call(self.market.fn.rfqState(r.rfq_id))) for r in rfqs),
            tuple(self.registry.is_active(m.address) for m in self.members),
            tuple(call(self.ledger.fn.reputation(m.address))[0] for m in self.sellers),
            tuple(call(self.market.fn.nonceBitmap(m.address, 0)) for m in self.sellers),
            self.registry.proposal_count(),
            *extra,
        )


def build_world(chain: Chain, account: Callable[[str], LocalAccount], prefix: str = "sec") -> World:
    """Deploy the suite with two buyers, two sellers, a council member and an outsider."""

    def actor(label: str) -> Actor:
        acct = account(f"{prefix}-{label}")
        return Actor(label, acct, Sender(chain, acct))

    def member(label: str) -> Member:
        return Member(actor(label), actor(f"{label}-quote-key"), actor(f"{label}-oracle-key"))

    deployer = actor("deployer")
    council = member("council")
    buyers = [member(f"buyer-{i}") for i in range(2)]
    sellers = [member(f"seller-{i}") for i in range(2)]
    outsider = actor("outsider")
    everyone = [council, *buyers, *sellers]
    config = SuiteConfig(
        founders=[m.address for m in everyone],
        council=[council.address],
        council_threshold=1,
        sponsors_required=1,
        liveness_window=2 * DAY,
    )
    suite = deploy_suite(chain, deployer.sender, config)
    registry = suite.registry
    for m in everyone:
        registry.add_key(m.sender, m.quote_key.address, Role.QUOTE)
        registry.add_key(m.sender, m.oracle_key.address, Role.ORACLE)
    token = suite.token
    for m in buyers:
        m.sender.transact(token.functions.mint(m.address, FUNDS))
        m.sender.transact(token.functions.approve(suite.escrow.address, FUNDS))
    outsider.sender.transact(token.functions.mint(outsider.address, FUNDS))
    outsider.sender.transact(token.functions.approve(suite.escrow.address, FUNDS))
    return World(
        chain=chain,
        suite=suite,
        registry=registry,
        market=suite.market,
        escrow=suite.escrow,
        ledger=suite.ledger,
        notary=suite.notary,
        deployer=deployer,
        council=council,
        buyers=buyers,
        sellers=sellers,
        outsider=outsider,
    )


# Tables the security tests print at the end of the session (conftest's pytest_terminal_summary).
TABLES: list[tuple[str, list[str]]] = []


def add_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    """Queue a plain-text table for the terminal summary."""
    cells = [tuple(str(c) for c in header), *[tuple(str(c) for c in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    TABLES.append((title, lines))
