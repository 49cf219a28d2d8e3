"""The test world's suite on a real anvil behind the lean RPC path (fastrpc.py): every party's fast
sender, encoded function factories, snapshots, the short orders the campaign can see to their end,
and a fingerprint of every piece of state a caller could change; the tables printed at the end."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import count
from typing import Any

from fastrpc import Call, EventBook, FastRpc, FastSender, Functions, Mined, read_of

from offnet.chain import Chain
from offnet.exceptions import ContractRevert
from offnet.market.ledger import Batch
from offnet.market.notary import seal_contract, sign_contract_commitment
from offnet.market.quotes import Quote, SignedQuote
from offnet.market.rfq import Rfq
from offnet.market.types import OrderTerms, ReportKind, SlaReport
from offnet.testing.world import DAY, FUNDS, Order, Party, World, fund

# Orders short enough for a campaign of 50 steps to see them delivered, billed and completed.
SHORT_TERMS = {
    "one_time_charge": 3_000_000,
    "monthly_charge": 1_000_000,
    "term_months": 3,
    "install_days": 5,
    "prepaid_months": 1,
}


def security_world(chain: Chain, prefix: str) -> World:
    """Two buyers and two sellers, each with a quote and an oracle key, a one-seat council, and an
    outsider who holds test tokens too (to try anything a buyer could)."""
    world = World.create(chain, prefix, buyers=("buyer-0", "buyer-1"), sellers=("seller-0", "seller-1"))
    fund(world.outsider, world.token, world.escrow.address, FUNDS)
    return world


@dataclass(frozen=True)
class Staged:
    """An order awarded, notarised again and reported on (see Harness.stage_order)."""

    rfq: Rfq
    signed: SignedQuote
    terms: OrderTerms
    report: SlaReport
    batch: Batch


class Harness:
    """What every test or example shares: the world on anvil, fast senders and the base snapshot."""

    def __init__(self, chain: Chain, world: World):
        self.world = world
        self.chain = chain
        self.rpc = FastRpc(chain.url, chain.chain_id)
        book = EventBook([(c.address, c.abi) for c in world.suite.contracts.values()])
        parties = [*(k for m in world.members for k in m.keys), world.outsider, world.deployer]
        self.senders = {p.address: FastSender(self.rpc, p.account, book) for p in parties}
        suite = world.suite
        self.escrow, self.market = Functions(suite.escrow.contract), Functions(suite.market.contract)
        self.ledger, self.notary = Functions(suite.ledger.contract), Functions(suite.notary.contract)
        self.registry, self.token = Functions(suite.registry.contract), Functions(suite.token)
        world.clock = self.rpc.now
        self._rfqs = count(1)
        self.base = self.rpc.snapshot()

    def reset(self) -> None:
        """Back to the state right after deployment."""
        self.rpc.revert(self.base)
        self.base = self.rpc.snapshot()
        for address, sender in self.senders.items():
            sender.forget_nonce()
            self.chain.forget_nonce(address)  # the World's web3 Senders share the chain's nonce cache

    def new_rfq(self, buyer: Party, invited: tuple[str, ...] = (), deadline_in: int = 2 * DAY) -> Rfq:
        """A fresh RFQ of `buyer`, open to any member unless it invites (a counter keeps ids distinct)."""
        return self.world.rfq(buyer, invited, deadline_in=deadline_in, request=f"rfq-{next(self._rfqs)}")

    def quote(self, rfq: Rfq, seller: Party, *, nonce: int, **changes: Any) -> Quote:
        """`seller`'s quote for `rfq` on the short terms."""
        return self.world.quote(rfq, seller, nonce=nonce, **{**SHORT_TERMS, **changes})

    def open_order(self, buyer: Party, seller: Party) -> Order:
        """An order of `buyer` on the short terms, awarded from `seller`'s quote (signed and committed
        by its quote key) for an RFQ open to any member."""
        return self.world.open_order(buyer, [seller], invited=(), by_key=True, **SHORT_TERMS)

    def notarise_call(self, order_id: bytes, commitment: bytes, buyer, seller) -> Call:
        """ContractNotary.notarise of `commitment` for an order, signed by both members' admins."""
        domain = self.world.notary.domain
        return self.notary.notarise(
            order_id,
            commitment,
            buyer.address,
            seller.address,
            sign_contract_commitment(buyer.account, domain, order_id, commitment),
            sign_contract_commitment(seller.account, domain, order_id, commitment),
        )

    def ok(self, actor: str, call: Call) -> Mined:
        """Send `call` from `actor`; it must be mined."""
        result = self.send(actor, call)
        assert isinstance(result, Mined), result
        return result

    def stage_order(self, buyer: Party, seller: Party) -> Staged:
        """On the fast path: `buyer` posts an RFQ and awards `seller`'s quote (nonce 1, signed and
        committed by its quote key, carrying the hash of a sealed contract); an amendment is notarised
        with both parties' signatures; the seller's oracle reports the delivery."""
        w = self.world
        rfq = self.new_rfq(buyer)
        self.ok(buyer.address, self.market.postRfq(rfq.to_tuple()))
        sealed = seal_contract({"price": "secret"}, salt=b"\x07" * 32)
        signed = w.sign(
            replace(self.quote(rfq, seller, nonce=1), contract_hash=sealed.commitment), seller.quote_key
        )
        self.ok(
            seller.quote_key.address, self.market.commitQuote(rfq.to_tuple(), seller.address, signed.digest)
        )
        log = [(seller.address, signed.digest)]
        award = self.market.award(rfq.to_tuple(), signed.quote.to_tuple(), signed.signature, log)
        awarded_at = self.ok(buyer.address, award).timestamp
        terms = signed.quote.order_terms(awarded_at)
        amendment = seal_contract({"price": "amended"}, salt=b"\x08" * 32).commitment
        self.ok(w.outsider.address, self.notarise_call(terms.order_id(), amendment, buyer, seller))
        report = SlaReport(terms.order_id(), ReportKind.ORDER_COMPLETED, 0, awarded_at + 5 * DAY, awarded_at)
        batch = Batch.of(seller.address, [report])
        self.ok(seller.oracle_key.address, self.ledger.submit(batch.lane_id, [report.to_tuple()]))
        return Staged(rfq, signed, terms, report, batch)

    def send(self, actor: str, call: Call) -> Mined | ContractRevert:
        """Send `call` from `actor`: the mined transaction, or the contract's decoded refusal."""
        try:
            return self.senders[actor].transact(call)
        except ContractRevert as refused:
            return refused

    def fingerprint(self, order_ids: list[bytes] = (), rfq_ids: list[int] = (), reports: list = ()) -> tuple:
        """Balances, orders, RFQs, reports, members, keys, nonces, epochs, reputation, proposals."""
        w = self.world
        token = w.token.address
        people = [*w.parties, w.escrow.address]
        keys = [k.address for m in w.members for k in m.keys] + [w.outsider.address]
        calls = [
            self.registry.proposalCount(),
            self.registry.parameters(),
            self.escrow.isTokenAllowed(token),
            self.escrow.market(),
            self.escrow.ledger(),
            self.ledger.links(),
            self.notary.escrow(),
        ]
        calls += [self.token.balanceOf(p) for p in people]
        calls += [self.escrow.withdrawable(token, p) for p in people]
        calls += [self.registry.memberInfo(p) for p in w.parties]
        calls += [self.registry.isCouncil(p) for p in w.parties]
        calls += [self.registry.applicationOf(p) for p in w.parties]
        calls += [self.registry.keyOf(k) for k in keys]
        calls += [self.ledger.reputation(m.address) for m in w.members]
        calls += [self.market.nonceBitmap(m.address, 0) for m in w.members]
        calls += [self.market.quoteEpoch(m.address) for m in w.members]
        for oid in order_ids:
            calls += [self.escrow.orderState(oid), self.notary.recordOf(oid)]
            calls += [self.escrow.disputedAt(oid, m) for m in range(4)]
        calls += [self.market.rfqState(r) for r in rfq_ids]
        calls += [self.ledger.reportStatus(bytes(r.order_id), int(r.kind), r.key) for r in reports]
        return tuple(self.rpc.read_many([read_of(c) for c in calls]))


# Tables the security tests print at the end of the session (conftest's pytest_terminal_summary).
TABLES: list[tuple[str, list[str]]] = []


def add_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    """Queue a plain-text table for the terminal summary."""
    cells = [tuple(str(c) for c in header), *[tuple(str(c) for c in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    TABLES.append((title, lines))
