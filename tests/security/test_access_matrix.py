"""Access-control matrix: every external state-changing function of every contract of the suite (read from
the packaged ABIs), called by every role that must be refused, on a real anvil with a live order, an open
RFQ, a submitted report and a suspended member. Each refusal must be the expected custom error and leave
every balance, order, RFQ, report, membership, key, nonce and reputation unchanged. The generated table
is printed at the end of the session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from types import SimpleNamespace

import pytest
from fastrpc import Call
from harness import Harness
from tables import add_table

from offnet.chain import load_artifact
from offnet.exceptions import ContractRevert
from offnet.market.notary import seal_contract
from offnet.market.registry import ACCESS_ELINE, country_code
from offnet.market.types import ReportKind
from offnet.testing.world import DAY

pytestmark = pytest.mark.anvil

SUITE = ("CarrierRegistry", "OrderEscrow", "SlaLedger", "ContractNotary", "RfqMarket")
PROFILE = ("Intruder", "https://intruder.example/sonata", [ACCESS_ELINE], [country_code("FR")], [])


@dataclass(frozen=True)
class Row:
    """One refusal to prove: `role` (an actor name of the context) calls `build(ctx)`; `error` is expected."""

    function: str
    role: str
    build: Callable[[SimpleNamespace], Call]
    error: str


def _rows() -> list[Row]:
    rows: list[Row] = []

    def add(function: str, build: Callable, *refusals: tuple[str, str]) -> None:
        rows.extend(Row(function, role, build, error) for role, error in refusals)

    # CarrierRegistry: the council executes through proposals only; members administer only themselves.
    for fn, build in {
        "admit": lambda c: c.h.registry.admit(c.outsider),
        "suspend": lambda c: c.h.registry.suspend(c.seller),
        "reinstate": lambda c: c.h.registry.reinstate(c.suspended),
        "expel": lambda c: c.h.registry.expel(c.seller),
        "setCouncilSeat": lambda c: c.h.registry.setCouncilSeat(c.buyer, True),
        "setCouncilThreshold": lambda c: c.h.registry.setCouncilThreshold(2),
        "setSponsorsRequired": lambda c: c.h.registry.setSponsorsRequired(2),
    }.items():
        add(
            f"CarrierRegistry.{fn}",
            build,
            ("stranger", "RegistryOnlyCouncilExecution"),
            ("council member, directly", "RegistryOnlyCouncilExecution"),
        )
    add(
        "CarrierRegistry.propose",
        lambda c: c.h.registry.propose(c.registry_address, b""),
        ("stranger", "RegistryNotCouncil"),
        ("member, not council", "RegistryNotCouncil"),
        ("council member's quote key", "RegistryNotCouncil"),
    )
    add(
        "CarrierRegistry.approve",
        lambda c: c.h.registry.approve(1, b""),
        ("stranger", "RegistryNotCouncil"),
        ("member, not council", "RegistryNotCouncil"),
    )
    add(
        "CarrierRegistry.execute",
        lambda c: c.h.registry.execute(1, b""),
        ("stranger", "RegistryNotCouncil"),
        ("member, not council", "RegistryNotCouncil"),
    )
    for fn, build in {
        "addKey": lambda c: c.h.registry.addKey(c.outsider_key, 1),
        "revokeKey": lambda c: c.h.registry.revokeKey(c.seller_quote_key),
        "rotateKey": lambda c: c.h.registry.rotateKey(c.seller_quote_key, c.outsider_key),
        "proposeAdmin": lambda c: c.h.registry.proposeAdmin(c.outsider_key),
        "updateProfile": lambda c: c.h.registry.updateProfile(PROFILE),
        "leave": lambda c: c.h.registry.leave(),
    }.items():
        add(
            f"CarrierRegistry.{fn}",
            build,
            ("stranger", "RegistryNotMemberAdmin"),
            ("seller's quote key", "RegistryNotMemberAdmin"),
            ("seller's oracle key", "RegistryNotMemberAdmin"),
        )
    add(
        "CarrierRegistry.sponsor",
        lambda c: c.h.registry.sponsor(c.outsider),
        ("stranger", "RegistryNotMemberAdmin"),
        ("suspended member", "RegistryMemberNotActive"),
    )
    add(
        "CarrierRegistry.acceptAdmin",
        lambda c: c.h.registry.acceptAdmin(c.seller),
        ("stranger", "RegistryNotPendingAdmin"),
        ("seller's quote key", "RegistryNotPendingAdmin"),
    )
    add(
        "CarrierRegistry.applyToJoin",
        lambda c: c.h.registry.applyToJoin(PROFILE),
        ("member (already admitted)", "RegistryCannotApply"),
        ("suspended member", "RegistryCannotApply"),
    )

    # OrderEscrow: council calls through the registry, market and ledger pushes (links are immutable).
    add(
        "OrderEscrow.setToken",
        lambda c: c.h.escrow.setToken(c.outsider, True, 1),
        ("stranger", "EscrowNotCouncil"),
        ("council member, directly", "EscrowNotCouncil"),
    )
    add(
        "OrderEscrow.rule",
        lambda c: c.h.escrow.rule(c.terms, 0, 10_000),
        ("stranger", "EscrowNotCouncil"),
        ("council member, directly", "EscrowNotCouncil"),
        ("buyer", "EscrowNotCouncil"),
    )
    add(
        "OrderEscrow.openOrder",
        lambda c: c.h.escrow.openOrder(c.terms),
        ("stranger", "EscrowNotMarket"),
        ("buyer", "EscrowNotMarket"),
    )
    add(
        "OrderEscrow.onDelivered",
        lambda c: c.h.escrow.onDelivered(c.oid, c.terms, c.now, c.now),
        ("stranger", "EscrowNotLedger"),
        ("seller", "EscrowNotLedger"),
        ("seller's oracle key", "EscrowNotLedger"),
    )
    add(
        "OrderEscrow.onPeriod",
        lambda c: c.h.escrow.onPeriod(c.oid, c.terms, 1, (999_999, 1, 0, 0, 0)),
        ("stranger", "EscrowNotLedger"),
        ("seller", "EscrowNotLedger"),
    )
    add(
        "OrderEscrow.onOrderFailed",
        lambda c: c.h.escrow.onOrderFailed(c.oid, c.terms, 2),
        ("stranger", "EscrowNotLedger"),
        ("buyer", "EscrowNotLedger"),
    )
    add(
        "OrderEscrow.topUp",
        lambda c: c.h.escrow.topUp(c.terms, 1),
        ("stranger", "EscrowNotBuyer"),
        ("seller", "EscrowNotBuyer"),
        ("other buyer", "EscrowNotBuyer"),
    )
    add(
        "OrderEscrow.topUpWithPermit",
        lambda c: c.h.escrow.topUpWithPermit(c.terms, 1, c.now + DAY, 27, bytes(32), bytes(32)),
        ("stranger", "EscrowNotBuyer"),
        ("seller", "EscrowNotBuyer"),
    )
    add(
        "OrderEscrow.acknowledge",
        lambda c: c.h.escrow.acknowledge(c.terms),
        ("stranger", "EscrowNotSeller"),
        ("buyer", "EscrowNotSeller"),
        ("buyer's oracle key", "EscrowNotSeller"),
    )
    add(
        "OrderEscrow.cancel",
        lambda c: c.h.escrow.cancel(c.terms),
        ("stranger", "EscrowNotBuyer"),
        ("seller", "EscrowNotBuyer"),
        ("other buyer", "EscrowNotBuyer"),
    )
    add(
        "OrderEscrow.dispute",
        lambda c: c.h.escrow.dispute(c.terms, 0),
        ("stranger", "EscrowNotParty"),
        ("other buyer", "EscrowNotParty"),
    )
    add(
        "OrderEscrow.claimNonDelivery",
        lambda c: c.h.escrow.claimNonDelivery(c.terms),
        ("stranger, before the deadline", "EscrowTooEarly"),
    )
    add(
        "OrderEscrow.claimPeriod",
        lambda c: c.h.escrow.claimPeriod(c.terms, 1),
        ("stranger, before delivery", "EscrowWrongStatus"),
    )
    add(
        "OrderEscrow.withdrawRefund",
        lambda c: c.h.escrow.withdrawRefund(c.terms, c.outsider),
        ("stranger", "EscrowNotBuyer"),
        ("seller", "EscrowNotBuyer"),
    )
    add(
        "OrderEscrow.withdraw",
        lambda c: c.h.escrow.withdraw(c.token),
        ("stranger (nothing owed)", "EscrowNothingToWithdraw"),
        ("other buyer", "EscrowNothingToWithdraw"),
    )
    add(
        "OrderEscrow.withdrawTo",
        lambda c: c.h.escrow.withdrawTo(c.token, c.outsider),
        ("stranger (nothing owed)", "EscrowNothingToWithdraw"),
    )

    # SlaLedger: oracle keys of active members submit; counterparties dispute; the council resolves.
    add(
        "SlaLedger.submit",
        lambda c: c.h.ledger.submit(c.batch.lane_id, [c.report.to_tuple()]),
        ("stranger", "SlaNotOracle"),
        ("suspended member", "SlaNotOracle"),
        ("suspended member's oracle key", "SlaNotOracle"),
        ("seller's quote key", "SlaNotOracle"),
    )
    add(
        "SlaLedger.dispute",
        lambda c: c.h.ledger.dispute(c.terms, *c.proven),
        ("stranger", "SlaNotOracle"),
        ("seller (the author)", "SlaNotCounterparty"),
        ("member, not a party", "SlaNotCounterparty"),
        ("suspended member's oracle key", "SlaNotOracle"),
    )
    add(
        "SlaLedger.hold",
        lambda c: c.h.ledger.hold(c.terms, c.ticket.to_tuple(), c.batch.ref, c.batch.proof(c.report)),
        ("stranger, a ticket report", "SlaNotHoldable"),
    )
    add(
        "SlaLedger.openRecord",
        lambda c: c.h.ledger.openRecord(c.seller),
        ("stranger", "SlaNotEscrow"),
        ("seller", "SlaNotEscrow"),
    )
    add(
        "SlaLedger.resolve",
        lambda c: c.h.ledger.resolve(c.terms, c.report.to_tuple(), c.seller),
        ("stranger", "SlaNotCouncil"),
        ("council member, directly", "SlaNotCouncil"),
    )
    add(
        "SlaLedger.recordQuoteTimeliness",
        lambda c: c.h.ledger.recordQuoteTimeliness(c.seller, True),
        ("stranger", "SlaNotMarket"),
        ("seller", "SlaNotMarket"),
    )
    add(
        "SlaLedger.finalize",
        lambda c: c.h.ledger.finalize(c.terms, *c.proven),
        ("stranger, within the liveness window", "SlaLivenessRunning"),
    )
    add(
        "SlaLedger.finalizeMatched",
        lambda c: c.h.ledger.finalizeMatched(c.terms, *c.proven, *c.proven[1:]),
        ("stranger, one party's batch twice", "SlaSameParty"),
    )
    add(
        "SlaLedger.disputeConflict",
        lambda c: c.h.ledger.disputeConflict(c.terms, *c.proven, *c.proven),
        ("stranger, no conflict", "SlaNoConflict"),
    )

    # ContractNotary: the award binds the contract hash in the terms; later contracts need both
    # parties' signatures; copies come from a party only.
    add(
        "ContractNotary.publishAwardCopy",
        lambda c: c.h.notary.publishAwardCopy(c.terms, b"x", b"y"),
        ("stranger", "NotaryNotParty"),
        ("member, not a party", "NotaryNotParty"),
    )
    add(
        "ContractNotary.revealAward",
        lambda c: c.h.notary.revealAward(c.terms, b"\x07" * 32, b'{"price":"forged"}'),
        ("stranger, wrong document", "NotaryRevealMismatch"),
    )
    add(
        "ContractNotary.notarise",
        lambda c: c.h.notary.notarise(c.terms, b"\x01" * 32, c.stranger_sig, c.stranger_sig),
        ("stranger, over a sealed order", "NotaryAlreadyNotarised"),
    )
    add(
        "ContractNotary.notarise",
        lambda c: c.h.notary.notarise(c.unnotarised_terms, b"\x01" * 32, c.stranger_sig, c.stranger_sig),
        ("stranger, own signatures", "NotaryWrongSigner"),
    )
    add(
        "ContractNotary.notarise",
        lambda c: c.h.notary.notarise(c.unawarded_terms, b"\x01" * 32, c.stranger_sig, c.stranger_sig),
        ("stranger, an order never awarded", "NotaryNoSuchOrder"),
    )
    add(
        "ContractNotary.publishCopy",
        lambda c: c.h.notary.publishCopy(c.oid, b"x", b"y"),
        ("stranger", "NotaryNotParty"),
        ("member, not a party", "NotaryNotParty"),
    )
    add(
        "ContractNotary.reveal",
        lambda c: c.h.notary.reveal(c.oid, bytes(32), b"forged"),
        ("stranger, wrong document", "NotaryRevealMismatch"),
    )

    # RfqMarket: buyers act on their own RFQs; providers' admin or quote keys act for them.
    add(
        "RfqMarket.postRfq",
        lambda c: c.h.market.postRfq(c.fresh_rfq_of_suspended),
        ("suspended member", "RfqBuyerInactive"),
    )
    add(
        "RfqMarket.postRfq",
        lambda c: c.h.market.postRfq(c.open_rfq_again),
        ("stranger posting for the buyer", "RfqNotBuyer"),
    )
    add(
        "RfqMarket.cancelRfq",
        lambda c: c.h.market.cancelRfq(c.open_rfq),
        ("stranger", "RfqNotBuyer"),
        ("other buyer", "RfqNotBuyer"),
        ("seller", "RfqNotBuyer"),
    )
    add(
        "RfqMarket.closeRfq",
        lambda c: c.h.market.closeRfq(c.open_rfq),
        ("stranger, before the deadline", "RfqNotClosable"),
        ("buyer, before the deadline", "RfqNotClosable"),
    )
    add(
        "RfqMarket.closeRfq",
        lambda c: c.h.market.closeRfq(c.expired_rfq),
        ("stranger, in the buyer's award window", "RfqAwardWindow"),
        ("seller, in the buyer's award window", "RfqAwardWindow"),
    )
    add(
        "RfqMarket.commitQuote",
        lambda c: c.h.market.commitQuote(c.open_rfq, c.seller, b"\x01" * 32),
        ("stranger", "QuoteWrongSigner"),
        ("seller's oracle key", "QuoteWrongSigner"),
        ("other member's quote key", "QuoteWrongSigner"),
    )
    add(
        "RfqMarket.commitQuote",
        lambda c: c.h.market.commitQuote(c.open_rfq, c.suspended, b"\x01" * 32),
        ("suspended member", "QuoteProviderInactive"),
    )
    add(
        "RfqMarket.withdrawQuote",
        lambda c: c.h.market.withdrawQuote(c.open_rfq, c.seller),
        ("stranger", "QuoteWrongSigner"),
        ("seller's oracle key", "QuoteWrongSigner"),
    )
    add(
        "RfqMarket.invalidateNonces",
        lambda c: c.h.market.invalidateNonces(c.seller, 0, 2**255),
        ("stranger", "QuoteWrongSigner"),
        ("buyer", "QuoteWrongSigner"),
    )
    add(
        "RfqMarket.bumpQuoteEpoch",
        lambda c: c.h.market.bumpQuoteEpoch(c.seller),
        ("stranger", "QuoteWrongSigner"),
        ("seller's oracle key", "QuoteWrongSigner"),
    )
    add(
        "RfqMarket.award",
        lambda c: c.h.market.award(c.open_rfq, c.open_quote, c.open_sig, c.open_log),
        ("stranger", "RfqNotBuyer"),
        ("other buyer", "RfqNotBuyer"),
        ("seller", "RfqNotBuyer"),
    )
    add(
        "RfqMarket.awardQuote",
        lambda c: c.h.market.awardQuote(c.open_quote, c.open_sig, c.open_log),
        ("stranger", "RfqNotBuyer"),
        ("other buyer", "RfqNotBuyer"),
        ("seller", "RfqNotBuyer"),
    )
    add(
        "RfqMarket.awardWithPermit",
        lambda c: c.h.market.awardWithPermit(
            c.open_rfq,
            c.open_quote,
            c.open_sig,
            c.open_log,
            (1, c.now + DAY, 27, bytes(32), bytes(32)),
        ),
        ("stranger", "RfqNotBuyer"),
        ("other buyer", "RfqNotBuyer"),
    )
    return rows


ROWS = _rows()
RESULTS: list[tuple[str, str, str, str]] = []


def _state_changing(contract: str) -> set[str]:
    return {
        e["name"]
        for e in load_artifact(contract).abi
        if e.get("type") == "function" and e["stateMutability"] not in ("view", "pure")
    }


def test_matrix__covers_every_state_changing_function_of_the_suite():
    expected = {f"{c}.{name}" for c in SUITE for name in _state_changing(c)}
    covered = {row.function for row in ROWS}
    assert expected - covered == set(), "functions without a refusal row"
    assert covered - expected == set(), "rows for functions the ABI no longer has"


@pytest.fixture(scope="module")
def context(harness: Harness) -> SimpleNamespace:
    """A live order (buyer 0, seller 0) with a notarised amendment and a seller report, a second order
    without one, an open RFQ with a committed quote, an RFQ past its deadline in the buyer's award window,
    seller 1 suspended; and the address of every role."""
    h = harness
    h.reset()
    w = h.world
    buyer, seller, other_seller, other_buyer = w.buyers[0], w.sellers[0], w.sellers[1], w.buyers[1]

    sealed = seal_contract({"price": "secret"}, salt=b"\x07" * 32)
    rfq, signed = h.committed(buyer, seller, 1, sealed.commitment)
    plain_rfq, plain_signed = h.committed(buyer, seller, 3)
    expired_rfq = w.rfq(buyer)
    h.ok(buyer.address, h.market.postRfq(expired_rfq.to_tuple()))
    h.rpc.advance_time(expired_rfq.deadline + 1 - h.rpc.now())  # quotes are awarded once sealed
    terms, mined = h.awarded(buyer, seller, rfq, signed)
    plain_terms, _ = h.awarded(buyer, seller, plain_rfq, plain_signed)
    report, batch = h.amended_and_reported(terms, mined, buyer, seller, {"price": "amended"}, b"\x08" * 32)
    open_rfq = w.rfq(buyer)
    h.ok(buyer.address, h.market.postRfq(open_rfq.to_tuple()))
    open_signed = w.sign(w.quote(open_rfq, seller, nonce=2), seller.quote_key.account)
    h.ok(
        seller.quote_key.address,
        h.market.commitQuote(open_rfq.to_tuple(), seller.address, open_signed.digest),
    )
    h.ok(
        w.council.address,
        h.registry.propose(
            w.registry.address, bytes.fromhex(h.registry.suspend(other_seller.address).data[2:])
        ),
    )
    suspended_rfq = w.rfq(other_seller)
    stranger_sig = w.outsider.account.unsafe_sign_hash(b"\x11" * 32).signature
    c = SimpleNamespace(
        h=h,
        now=h.rpc.now(),
        token=w.token.address,
        registry_address=w.registry.address,
        buyer=buyer.address,
        seller=seller.address,
        suspended=other_seller.address,
        outsider=w.outsider.address,
        outsider_key=w.outsider.address,
        seller_quote_key=seller.quote_key.address,
        terms=terms.to_tuple(),
        oid=terms.order_id(),
        report=report,
        ticket=replace(report, kind=ReportKind.TROUBLE_TICKET),
        batch=batch,
        unnotarised_terms=plain_terms.to_tuple(),
        unawarded_terms=replace(plain_terms, awarded_at=plain_terms.awarded_at + 1).to_tuple(),
        expired_rfq=expired_rfq.to_tuple(),
        # The seller's report as the ledger's calls take it: content, its batch and Merkle proof.
        proven=(report.to_tuple(), batch.ref, batch.proof(report)),
        open_rfq=open_rfq.to_tuple(),
        open_rfq_again=w.rfq(buyer).to_tuple(),
        open_quote=open_signed.quote.to_tuple(),
        open_sig=open_signed.signature,
        open_log=[(seller.address, open_signed.digest)],
        fresh_rfq_of_suspended=suspended_rfq.to_tuple(),
        stranger_sig=bytes(stranger_sig),
        order_ids=[terms.order_id(), plain_terms.order_id()],
        rfq_ids=[rfq.rfq_id, open_rfq.rfq_id, expired_rfq.rfq_id],
        reports=[report],
    )
    c.actors = {
        "stranger": w.outsider.address,
        "council member, directly": w.council.address,
        "member, not council": buyer.address,
        "council member's quote key": w.council.quote_key.address,
        "seller's quote key": seller.quote_key.address,
        "seller's oracle key": seller.oracle_key.address,
        "buyer's oracle key": buyer.oracle_key.address,
        "suspended member": other_seller.address,
        "suspended member's oracle key": other_seller.oracle_key.address,
        "member (already admitted)": buyer.address,
        "buyer": buyer.address,
        "seller": seller.address,
        "other buyer": other_buyer.address,
        "seller (the author)": seller.oracle_key.address,
        "member, not a party": w.council.oracle_key.address,
        "other member's quote key": other_seller.quote_key.address,
    }
    c.snapshot = h.rpc.snapshot()
    return c


def _actor(context: SimpleNamespace, role: str) -> str:
    """The address playing `role` ("stranger, before the deadline" is the stranger)."""
    if role in context.actors:
        return context.actors[role]
    base = role.split(",")[0].split(" (")[0]
    return context.actors[base if base in context.actors else role.split(" ")[0]]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.function}[{r.role}]" for r in ROWS])
def test_matrix__role_that_must_be_refused__gets_custom_error_and_changes_nothing(context, row):
    h = context.h
    h.rpc.revert(context.snapshot)
    context.snapshot = h.rpc.snapshot()
    for sender in h.senders.values():
        sender.forget_nonce()
    before = h.fingerprint(context.order_ids, context.rfq_ids, context.reports)
    result = h.send(_actor(context, row.role), row.build(context))
    outcome = result.describe() if isinstance(result, ContractRevert) else "ACCEPTED"
    RESULTS.append((row.function, row.role, row.error, outcome.split("(")[0]))
    assert isinstance(result, ContractRevert), f"{row.function} accepted from {row.role}"
    assert result.name == row.error, result.describe()
    assert h.fingerprint(context.order_ids, context.rfq_ids, context.reports) == before


def test_matrix__table_is_printed_at_the_end_of_the_session():
    """Queue the generated table (runs after the matrix in file order)."""
    add_table(
        "access-control matrix: every refusal the suite must give",
        ("function", "caller", "expected", "observed"),
        RESULTS,
    )
    assert RESULTS, "the matrix ran no row"
