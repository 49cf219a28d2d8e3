"""The suite on a real anvil behind the lean RPC path (fastrpc.py): actors' fast senders, encoded
function factories, snapshots, and a fingerprint of every piece of state a caller could change."""

from __future__ import annotations

from dataclasses import replace

from fastrpc import Call, EventBook, FastRpc, FastSender, Functions, Mined, read_of

from offnet.chain import Chain
from offnet.exceptions import ContractRevert
from offnet.market.ledger import Batch
from offnet.market.notary import seal_contract, sign_contract_commitment
from offnet.market.quotes import SignedQuote
from offnet.market.rfq import Rfq
from offnet.market.types import OrderTerms, ReportKind, SlaReport
from offnet.testing.world import DAY, Party, World


class Harness:
    """What every test or example shares: the world on anvil, fast senders and the base snapshot."""

    def __init__(self, chain: Chain, world: World):
        self.world = world
        self.chain = chain
        self.rpc = FastRpc(chain.url, chain.chain_id)
        book = EventBook([(c.address, c.abi) for c in world.suite.contracts.values()])
        self.senders: dict[str, FastSender] = {}
        for a in [*(key for m in world.members for key in m.keys), world.outsider, world.deployer]:
            self.senders[a.address] = FastSender(self.rpc, a.account, book)
        suite = world.suite
        self.escrow, self.market = Functions(suite.escrow.contract), Functions(suite.market.contract)
        self.ledger, self.notary = Functions(suite.ledger.contract), Functions(suite.notary.contract)
        self.registry, self.token = Functions(suite.registry.contract), Functions(suite.token)
        world.clock = self.rpc.now
        self.base = self.rpc.snapshot()

    def reset(self) -> None:
        """Back to the state right after deployment."""
        self.rpc.revert(self.base)
        self.base = self.rpc.snapshot()
        for address, sender in self.senders.items():
            sender.forget_nonce()
            self.chain.forget_nonce(address)  # the World's web3 Senders share the chain's nonce cache

    def notarise_call(self, terms, commitment: bytes, buyer, seller) -> Call:
        """ContractNotary.notarise of `commitment` for an order, signed by both members' admins."""
        domain = self.world.notary.domain
        return self.notary.notarise(
            terms.to_tuple(),
            commitment,
            sign_contract_commitment(buyer.account, domain, terms, commitment),
            sign_contract_commitment(seller.account, domain, terms, commitment),
        )

    def send(self, actor: str, call: Call) -> Mined | ContractRevert:
        """Send `call` from `actor`: the mined transaction, or the contract's decoded refusal."""
        try:
            return self.senders[actor].transact(call)
        except ContractRevert as refused:
            return refused

    def ok(self, actor: str, call: Call) -> Mined:
        """Send `call` from `actor`, which must be mined."""
        result = self.send(actor, call)
        assert isinstance(result, Mined), result
        return result

    def committed(self, buyer: Party, seller: Party, nonce: int, contract_hash: bytes = bytes(32)):
        """`buyer` posts a fresh RFQ and `seller`'s quote key commits a quote (carrying `contract_hash`)."""
        w = self.world
        rfq = w.rfq(buyer)
        self.ok(buyer.address, self.market.postRfq(rfq.to_tuple()))
        signed = w.sign(
            replace(w.quote(rfq, seller, nonce=nonce), contract_hash=contract_hash), seller.quote_key
        )
        self.ok(
            seller.quote_key.address, self.market.commitQuote(rfq.to_tuple(), seller.address, signed.digest)
        )
        return rfq, signed

    def awarded(self, buyer: Party, seller: Party, rfq: Rfq, signed: SignedQuote) -> tuple[OrderTerms, Mined]:
        """`buyer` awards `seller`'s committed quote (its deadline passed): the order's terms."""
        mined = self.ok(
            buyer.address,
            self.market.award(
                rfq.to_tuple(), signed.quote.to_tuple(), signed.signature, [(seller.address, signed.digest)]
            ),
        )
        return signed.quote.order_terms(mined.timestamp), mined

    def amended_and_reported(
        self, terms: OrderTerms, mined: Mined, buyer: Party, seller: Party, amendment: dict, salt: bytes
    ) -> tuple[SlaReport, Batch]:
        """On an awarded order: a later contract `amendment` notarised with both parties' signatures (a
        stored notary record), and the seller's completion report (five days after the award) submitted
        in a lane of its own."""
        commitment = seal_contract(amendment, salt=salt).commitment
        self.ok(self.world.outsider.address, self.notarise_call(terms, commitment, buyer, seller))
        report = SlaReport(
            terms.order_id(), ReportKind.ORDER_COMPLETED, 0, mined.timestamp + 5 * DAY, mined.timestamp
        )
        batch = Batch.of(seller.address, [report])
        self.ok(seller.oracle_key.address, self.ledger.submit(batch.lane_id, [report.to_tuple()]))
        return report, batch

    def fingerprint(self, order_ids: list[bytes] = (), rfq_ids: list[int] = (), reports: list = ()) -> tuple:
        """Balances, orders, RFQs, reports, members, keys, nonces, epochs, reputation, proposals."""
        w = self.world
        token = w.token.address
        people = [*w.parties, w.escrow.address]
        keys = [a.address for m in w.members for a in m.keys] + [w.outsider.address]
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
            calls += [self.escrow.holdOf(oid, m) for m in range(4)]
        calls += [self.market.rfqState(r) for r in rfq_ids]
        calls += [self.ledger.recordOf(r.report_id) for r in reports]
        return tuple(self.rpc.read_many([read_of(c) for c in calls]))
