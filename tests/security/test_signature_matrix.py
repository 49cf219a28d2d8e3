"""Signature matrix: quotes (RfqMarket award), contract commitments (ContractNotary) and SLA report
authentication (SlaLedger), each replayed or forged every way an attacker could: another chain id, another
contract, after expiry, a used or cancelled nonce, a malleable high-s signature, a signer from another
member. Every attempt is refused with the expected custom error and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import SimpleNamespace

import pytest
from eth_keys.constants import SECPK1_N
from fastrpc import Mined
from harness import Harness
from tables import add_table

from offnet.exceptions import ContractRevert
from offnet.market.ledger import Batch
from offnet.market.notary import NotaryDomain, seal_contract, sign_contract_commitment
from offnet.market.quotes import QuoteDomain, sign_quote
from offnet.testing.world import DAY

pytestmark = pytest.mark.anvil

RESULTS: list[tuple[str, str, str, str]] = []


def high_s(signature: bytes) -> bytes:
    """The malleable twin of a 65-byte signature: s -> n - s, v flipped; it recovers the same signer."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECPK1_N - s).to_bytes(32, "big") + bytes([55 - v])


@pytest.fixture(scope="module")
def signed_world(harness: Harness) -> SimpleNamespace:
    """An awarded order (nonce 1 used) with a notarised amendment and a seller's submitted report, two
    awarded orders without a notarised contract, and an open RFQ."""
    h = harness
    h.reset()
    w = h.world
    buyer, seller, other = w.buyers[0], w.sellers[0], w.sellers[1]

    sealed = seal_contract({"monthly": 1_000_000}, salt=b"\x01" * 32)
    first, used = h.committed(buyer, seller, 1, sealed.commitment)
    plain = [h.committed(buyer, seller, 2), h.committed(buyer, seller, 3)]
    last_deadline = max(r.deadline for r, _ in plain)
    h.rpc.advance_time(last_deadline + 1 - h.rpc.now())  # quotes are awarded once sealed
    terms, mined = h.awarded(buyer, seller, first, used)
    fresh_terms, other_terms = (h.awarded(buyer, seller, rfq, signed)[0] for rfq, signed in plain)
    report, _ = h.amended_and_reported(terms, mined, buyer, seller, {"monthly": 900_000}, b"\x03" * 32)
    rfq = w.rfq(buyer)
    h.ok(buyer.address, h.market.postRfq(rfq.to_tuple()))
    return SimpleNamespace(
        h=h,
        w=w,
        buyer=buyer,
        seller=seller,
        other=other,
        rfq=rfq,
        open_rfq=rfq,
        first=first,
        terms=terms,
        fresh_terms=fresh_terms,
        other_terms=other_terms,
        report=report,
        used=used,
        snapshot=h.rpc.snapshot(),
    )


def _fresh(ctx: SimpleNamespace) -> None:
    ctx.rfq = ctx.open_rfq
    ctx.h.rpc.revert(ctx.snapshot)
    ctx.snapshot = ctx.h.rpc.snapshot()
    for sender in ctx.h.senders.values():
        sender.forget_nonce()


def _award_attempt(ctx: SimpleNamespace, make: Callable) -> ContractRevert | Mined:
    """Commit what `make` signs (if it commits), then try to award it as the RFQ's buyer."""
    h, s = ctx.h, ctx.seller
    quote, signature, commit_digest = make(ctx)
    if commit_digest is not None:
        committed = h.send(
            s.quote_key.address, h.market.commitQuote(ctx.rfq.to_tuple(), s.address, commit_digest)
        )
        assert isinstance(committed, Mined), committed
    if ctx.rfq is not ctx.first:
        h.rpc.advance_time(ctx.rfq.deadline + 1 - h.rpc.now())  # sealed: the buyer may award
    log = [(s.address, commit_digest)] if commit_digest is not None else []
    if ctx.rfq is ctx.first:
        log = [(s.address, ctx.used.digest)]
    return h.send(ctx.buyer.address, h.market.award(ctx.rfq.to_tuple(), quote.to_tuple(), signature, log))


def _signed_in(ctx, domain: QuoteDomain, **changes):
    quote = ctx.w.quote(ctx.rfq, ctx.seller, nonce=50, **changes)
    signed = sign_quote(ctx.seller.quote_key.account, quote, domain)
    return quote, signed.signature, ctx.w.market.on_chain_digest(quote)


def _quote_cases() -> dict[str, tuple[Callable, str]]:
    def domain(ctx):
        return ctx.w.market.domain

    def other_member(ctx):
        quote = ctx.w.quote(ctx.rfq, ctx.seller, nonce=51)
        signed = sign_quote(ctx.other.account, quote, domain(ctx))
        return quote, signed.signature, signed.digest

    def malleable(ctx):
        quote = ctx.w.quote(ctx.rfq, ctx.seller, nonce=52)
        signed = sign_quote(ctx.seller.quote_key.account, quote, domain(ctx))
        return quote, high_s(signed.signature), signed.digest

    def expired(ctx):
        quote = ctx.w.quote(ctx.rfq, ctx.seller, nonce=53, valid_for=60)
        signed = sign_quote(ctx.seller.quote_key.account, quote, domain(ctx))
        ctx.h.rpc.advance_time(120)
        return quote, signed.signature, signed.digest

    def replayed_after_award(ctx):
        ctx.rfq = ctx.first  # the very quote that opened the first order, presented again
        return ctx.used.quote, ctx.used.signature, None

    def cancelled_nonce(ctx):
        quote = ctx.w.quote(ctx.rfq, ctx.seller, nonce=54)
        signed = sign_quote(ctx.seller.quote_key.account, quote, domain(ctx))
        done = ctx.h.send(
            ctx.seller.quote_key.address, ctx.h.market.invalidateNonces(ctx.seller.address, 0, 1 << 54)
        )
        assert isinstance(done, Mined), done
        return quote, signed.signature, signed.digest

    def bumped_epoch(ctx):
        quote = ctx.w.quote(ctx.rfq, ctx.seller, nonce=55)
        signed = sign_quote(ctx.seller.quote_key.account, quote, domain(ctx))
        done = ctx.h.send(ctx.seller.address, ctx.h.market.bumpQuoteEpoch(ctx.seller.address))
        assert isinstance(done, Mined), done
        return quote, signed.signature, signed.digest

    def other_rfq(ctx):
        quote = ctx.w.quote(ctx.rfq, ctx.seller, nonce=56, rfq_id=ctx.used.quote.rfq_id)
        signed = sign_quote(ctx.seller.quote_key.account, quote, domain(ctx))
        return quote, signed.signature, None

    def uncommitted(ctx):
        quote = ctx.w.quote(ctx.rfq, ctx.seller, nonce=57)
        signed = sign_quote(ctx.seller.quote_key.account, quote, domain(ctx))
        return quote, signed.signature, None

    def altered_after_signing(ctx):
        quote = ctx.w.quote(ctx.rfq, ctx.seller, nonce=58)
        signed = sign_quote(ctx.seller.quote_key.account, quote, domain(ctx))
        return replace(quote, monthly_charge=quote.monthly_charge // 2), signed.signature, signed.digest

    return {
        "quote signed for another chain id": (
            lambda c: _signed_in(c, QuoteDomain(c.w.chain.chain_id + 1, c.w.market.address)),
            "QuoteWrongSigner",
        ),
        "quote signed for another contract": (
            lambda c: _signed_in(c, QuoteDomain(c.w.chain.chain_id, c.w.escrow.address)),
            "QuoteWrongSigner",
        ),
        "quote signed by another member's admin": (other_member, "QuoteWrongSigner"),
        "quote with a malleable high-s signature": (malleable, "ECDSAInvalidSignatureS"),
        "quote after its validity": (expired, "QuoteExpired"),
        "awarded quote replayed on its RFQ": (replayed_after_award, "RfqNotOpen"),
        "quote with a nonce the provider cancelled": (cancelled_nonce, "QuoteNonceUsed"),
        "quote of an epoch the provider bumped": (bumped_epoch, "QuoteEpochStale"),
        "quote replayed from another RFQ": (other_rfq, "QuoteNotForRfq"),
        "quote never committed": (uncommitted, "QuoteNotCommitted"),
        "quote altered after signing (committed digest)": (altered_after_signing, "QuoteWrongSigner"),
    }


QUOTE_CASES = _quote_cases()


def _assert_refused(contract: str, case: str, error: str, result: object, verb: str) -> None:
    """The attempt reverted with ``error`` (it joins the printed matrix, refused or not)."""
    RESULTS.append((contract, case, error, getattr(result, "name", "ACCEPTED")))
    assert isinstance(result, ContractRevert), f"{case}: {verb}"
    assert result.name == error, result.describe()


@pytest.mark.parametrize("case", list(QUOTE_CASES))
def test_signature_matrix__forged_or_replayed_quote__is_never_awarded(signed_world, case):
    make, error = QUOTE_CASES[case]
    ctx = signed_world
    _fresh(ctx)
    before = ctx.h.fingerprint([ctx.terms.order_id()], [ctx.rfq.rfq_id], [ctx.report])
    result = _award_attempt(ctx, make)
    _assert_refused("RfqMarket.award", case, error, result, "awarded")
    after = ctx.h.fingerprint([ctx.terms.order_id()], [ctx.rfq.rfq_id], [ctx.report])
    # Only the attacker-independent setup may differ (a commitment, a cancelled nonce, a bumped epoch).
    assert after[:6] == before[:6], "money, totals, proposals or wiring changed"
    assert ctx.h.rpc.read_many([]) == []


def _notary_cases() -> dict[str, tuple[Callable, str]]:
    commitment = seal_contract({"deal": "x"}, salt=b"\x02" * 32).commitment

    def sigs(ctx, terms, domain, buyer=None, seller=None, tamper=lambda s: s, signed_for=None):
        b = sign_contract_commitment(buyer or ctx.buyer.account, domain, signed_for or terms, commitment)
        s = sign_contract_commitment(
            seller or ctx.seller.quote_key.account, domain, signed_for or terms, commitment
        )
        return ctx.h.notary.notarise(terms.to_tuple(), commitment, tamper(b), s)

    def fresh_order(ctx):
        return ctx.fresh_terms

    def domain(ctx, chain_id=None, contract=None):
        return NotaryDomain(chain_id or ctx.w.chain.chain_id, contract or ctx.w.notary.address)

    return {
        "commitment signed for another chain id": (
            lambda c: sigs(c, fresh_order(c), domain(c, chain_id=c.w.chain.chain_id + 1)),
            "NotaryWrongSigner",
        ),
        "commitment signed for another contract": (
            lambda c: sigs(c, fresh_order(c), domain(c, contract=c.w.market.address)),
            "NotaryWrongSigner",
        ),
        "commitment signed by another member": (
            lambda c: sigs(c, fresh_order(c), domain(c), seller=c.other.account),
            "NotaryWrongSigner",
        ),
        "commitment with a malleable high-s signature": (
            lambda c: sigs(c, fresh_order(c), domain(c), tamper=high_s),
            "ECDSAInvalidSignatureS",
        ),
        "commitment replayed over a notarised order": (
            lambda c: sigs(c, c.terms, domain(c)),
            "NotaryAlreadyNotarised",
        ),
        "commitment signed for another order of the same parties": (
            lambda c: sigs(c, c.other_terms, domain(c), signed_for=fresh_order(c)),
            "NotaryWrongSigner",
        ),
    }


NOTARY_CASES = _notary_cases()


@pytest.mark.parametrize("case", list(NOTARY_CASES))
def test_signature_matrix__forged_or_replayed_commitment__is_never_notarised(signed_world, case):
    build, error = NOTARY_CASES[case]
    ctx = signed_world
    _fresh(ctx)
    orders = [t.order_id() for t in (ctx.terms, ctx.fresh_terms, ctx.other_terms)]
    before = ctx.h.fingerprint(orders)
    result = ctx.h.send(ctx.w.outsider.address, build(ctx))
    _assert_refused("ContractNotary.notarise", case, error, result, "notarised")
    assert ctx.h.fingerprint(orders) == before


def _report_cases() -> dict[str, tuple[Callable, str, str]]:
    """SLA reports carry no signature of their own: the submitting oracle key and the batch's Merkle root
    authenticate them. Each row replays that authentication somewhere it does not belong."""

    def batch(ctx):
        return Batch.of(ctx.seller.address, [ctx.report])

    def other_order(ctx):
        terms = replace(ctx.terms, monthly_charge=ctx.terms.monthly_charge + 1)
        b = batch(ctx)
        return ctx.h.ledger.finalize(terms.to_tuple(), ctx.report.to_tuple(), b.ref, b.proof(ctx.report))

    def other_content(ctx):
        forged = replace(ctx.report, value1=ctx.report.value0 + 30 * DAY)
        b = batch(ctx)
        return ctx.h.ledger.finalize(ctx.terms.to_tuple(), forged.to_tuple(), b.ref, b.proof(ctx.report))

    def non_party(ctx):
        foreign = Batch.of(ctx.w.council.address, [ctx.report])
        done = ctx.h.send(
            ctx.w.council.oracle_key.address, ctx.h.ledger.submit(foreign.lane_id, [ctx.report.to_tuple()])
        )
        assert isinstance(done, Mined), done
        ctx.h.rpc.advance_time(3 * DAY)
        return ctx.h.ledger.finalize(
            ctx.terms.to_tuple(), ctx.report.to_tuple(), foreign.ref, foreign.proof(ctx.report)
        )

    def unknown_root(ctx):
        empty_lane = (ctx.seller.address, 12_345)
        return ctx.h.ledger.finalize(ctx.terms.to_tuple(), ctx.report.to_tuple(), empty_lane, [])

    def revoked_key(ctx):
        done = ctx.h.send(ctx.seller.address, ctx.h.registry.revokeKey(ctx.seller.oracle_key.address))
        assert isinstance(done, Mined), done
        return ctx.h.ledger.submit(0, [ctx.report.to_tuple()])

    return {
        "report proof replayed for another order": (other_order, "SlaOrderMismatch", "outsider"),
        "report content changed under a valid proof": (other_content, "SlaInvalidProof", "outsider"),
        "report from a member that is not a party": (non_party, "SlaNotAParty", "outsider"),
        "report under a lane never used": (unknown_root, "SlaUnknownBatch", "outsider"),
        "report from a revoked oracle key": (revoked_key, "SlaNotOracle", "seller_oracle"),
    }


REPORT_CASES = _report_cases()


@pytest.mark.parametrize("case", list(REPORT_CASES))
def test_signature_matrix__replayed_report_authentication__is_refused(signed_world, case):
    build, error, who = REPORT_CASES[case]
    ctx = signed_world
    _fresh(ctx)
    actor = ctx.w.outsider.address if who == "outsider" else ctx.seller.oracle_key.address
    call = build(ctx)
    before = ctx.h.fingerprint([ctx.terms.order_id()], reports=[ctx.report])
    result = ctx.h.send(actor, call)
    _assert_refused("SlaLedger", case, error, result, "accepted")
    assert ctx.h.fingerprint([ctx.terms.order_id()], reports=[ctx.report]) == before


def test_signature_matrix__table_is_printed_at_the_end_of_the_session():
    add_table(
        "signature matrix: every replay and forgery refused",
        ("contract", "attempt", "expected", "observed"),
        RESULTS,
    )
    assert RESULTS
