"""RfqMarket on eth-tester with the real registry, escrow, ledger and notary: post, commit, award, close."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_utils import keccak, to_checksum_address
from web3.logs import DISCARD

from offnet.chain.permit import sign_permit
from offnet.chain.tx import call
from offnet.exceptions import ContractRevert
from offnet.market.quotes import QuoteDomain, sign_quote
from offnet.market.rfq import AWARD_WINDOW, LogEntry
from offnet.market.types import RfqStatus

DAY = 86_400

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def refused(action) -> ContractRevert:
    with pytest.raises(ContractRevert) as caught:
        action()
    return caught.value


def ledger_timeliness(market, receipt) -> list[tuple[str, bool]]:
    events = market.suite.ledger.contract.events.QuoteTimelinessRecorded().process_receipt(
        receipt.raw, errors=DISCARD
    )
    return [(e["args"]["provider"], e["args"]["answeredOnTime"]) for e in events]


# --- post ---------------------------------------------------------------------------------------------


def test_post__emits_everything_a_provider_needs_and_opens_the_rfq(market, gas):
    rfq = market.new_rfq()
    rfq_id, receipt = market.rfq.post(market.buyer.sender, rfq)
    assert rfq_id == call(market.rfq.fn.rfqIdOf(rfq.to_tuple()))
    [posted] = market.rfq.events(receipt, "RfqPosted")
    assert posted["rfqId"] == rfq_id
    assert bytes(posted["productKey"]) == rfq.product_key and bytes(posted["locationKey"]) == rfq.location_key
    assert market.rfq.posted(rfq_id) == rfq
    assert market.rfq.state(rfq_id).status is RfqStatus.OPEN
    gas.check("RfqMarket.postRfq (3 invited)", receipt.gas_used, budget=70_000)


def test_post__one_invitee__costs_what_the_snapshot_says(market, gas):
    _, receipt = market.rfq.post(market.buyer.sender, market.new_rfq(invited=(market.providers[0].address,)))
    gas.check("RfqMarket.postRfq (1 invited)", receipt.gas_used, budget=70_000)


def test_post__as_many_invitees_as_allowed__within_the_post_budget(market, gas):
    invited = tuple(to_checksum_address(keccak(text=f"invitee-{i}")[-20:]) for i in range(6))
    _, receipt = market.rfq.post(market.buyer.sender, market.new_rfq(invited=invited))
    gas.check("RfqMarket.postRfq (6 invited)", receipt.gas_used, budget=70_000)


def test_post__without_invitees__reverts(market):
    error = refused(lambda: market.rfq.post(market.buyer.sender, market.new_rfq(invited=())))
    assert (error.name, error.arguments) == ("RfqInvitedCount", {"invited": 0, "max": 6})


def test_post__invitees_out_of_order_or_repeated__reverts(market):
    a, b = sorted((p.address for p in market.providers[:2]), key=lambda x: int(x, 16))
    for invited in ((b, a), (a, a)):
        rfq = market.new_rfq()
        fields = list(rfq.to_tuple())
        fields[7] = list(invited)  # bypass the client's sorting: the contract must refuse on its own
        error = refused(lambda f=fields: market.buyer.sender.transact(market.rfq.fn.postRfq(tuple(f))))
        assert (error.name, error.arguments) == ("RfqInviteesNotSorted", {"index": 1})


def test_post__inviting_itself__reverts(market):
    rfq = market.new_rfq(invited=(market.buyer.address, market.providers[0].address))
    error = refused(lambda: market.rfq.post(market.buyer.sender, rfq))
    assert (error.name, error.arguments) == ("RfqInviteeNotEligible", {"invitee": market.buyer.address})


def test_post__by_another_member_for_the_buyer__reverts(market):
    rfq = market.new_rfq()
    error = refused(lambda: market.rfq.post(market.providers[0].sender, rfq))
    assert (error.name, error.arguments) == (
        "RfqNotBuyer",
        {"rfqId": rfq.rfq_id, "caller": market.providers[0].address},
    )
    assert market.rfq.state(rfq.rfq_id).status is RfqStatus.NONE


def test_post__by_a_non_member__reverts(market):
    rfq = replace(market.new_rfq(), buyer=market.stranger.address)
    error = refused(lambda: market.rfq.post(market.stranger.sender, rfq))
    assert (error.name, error.arguments) == ("RfqBuyerInactive", {"buyer": market.stranger.address})


def test_post__deadline_closer_than_the_minimum_quote_window_or_too_far__reverts(market):
    for deadline_in in (-1, DAY - 60, 91 * DAY):
        rfq = market.new_rfq(deadline_in=deadline_in)
        error = refused(lambda r=rfq: market.rfq.post(market.buyer.sender, r))
        assert error.name == "RfqDeadlineOutOfRange" and error.arguments["deadline"] == rfq.deadline


def test_post__token_not_allowed__can_never_be_awarded_and_blames_nobody(market):
    rfq = replace(market.new_rfq(), token=market.stranger.address)
    market.rfq.post(market.buyer.sender, rfq)
    provider = market.providers[0]
    signed = market.sign(market.quote(rfq, provider), provider)
    market.rfq.commit(provider.sender, rfq, signed)
    error = refused(lambda: market.award(rfq, signed))
    assert (error.name, error.arguments) == ("EscrowTokenNotAllowed", {"token": market.stranger.address})
    receipt = market.rfq.close(market.buyer.sender, rfq)
    assert ledger_timeliness(market, receipt) == []


def test_post__same_rfq_twice__reverts(market):
    rfq = market.new_rfq()
    market.rfq.post(market.buyer.sender, rfq)
    error = refused(lambda: market.rfq.post(market.buyer.sender, rfq))
    assert (error.name, error.arguments) == ("RfqAlreadyPosted", {"rfqId": rfq.rfq_id})


def test_post__too_many_invited__reverts(market):
    invited = tuple(to_checksum_address(i.to_bytes(20, "big")) for i in range(1, 8))
    error = refused(lambda: market.rfq.post(market.buyer.sender, market.new_rfq(invited=invited)))
    assert (error.name, error.arguments) == ("RfqInvitedCount", {"invited": 7, "max": 6})


# --- commit and withdraw --------------------------------------------------------------------------------


def test_commit__by_a_quote_key__logs_the_digest_and_costs_what_the_snapshot_says(market, gas):
    rfq = market.new_rfq()
    market.rfq.post(market.buyer.sender, rfq)
    signed = market.sign(market.quote(rfq, market.providers[0]), market.quote_key)
    receipt = market.rfq.commit(market.quote_key.sender, rfq, signed)
    [event] = market.rfq.events(receipt, "QuoteCommitted")
    assert (event["provider"], bytes(event["digest"]), event["index"]) == (
        market.providers[0].address,
        signed.digest,
        0,
    )
    assert market.rfq.log(rfq.rfq_id) == [LogEntry(market.providers[0].address, signed.digest)]
    assert market.rfq.state(rfq.rfq_id).entries == 1
    gas.check("RfqMarket.commitQuote", receipt.gas_used, budget=50_000)


def test_commit__by_a_key_of_another_member__reverts(market):
    rfq = market.new_rfq()
    market.rfq.post(market.buyer.sender, rfq)
    signed = market.sign(market.quote(rfq, market.providers[1]), market.providers[1])
    error = refused(lambda: market.rfq.commit(market.quote_key.sender, rfq, signed))
    assert (error.name, error.arguments) == (
        "QuoteWrongSigner",
        {"provider": market.providers[1].address, "signer": market.quote_key.address},
    )
    assert market.rfq.state(rfq.rfq_id).entries == 0


def test_commit__provider_not_invited__reverts(market):
    rfq = market.new_rfq(invited=(market.providers[0].address,))
    market.rfq.post(market.buyer.sender, rfq)
    signed = market.sign(market.quote(rfq, market.providers[1]), market.providers[1])
    error = refused(lambda: market.rfq.commit(market.providers[1].sender, rfq, signed))
    assert (error.name, error.arguments) == (
        "QuoteProviderNotInvited",
        {"rfqId": rfq.rfq_id, "provider": market.providers[1].address},
    )


def test_commit__by_an_invited_non_member__reverts(market):
    """A non-member is nobody's quote signer, so the caller check refuses it first."""
    rfq = market.new_rfq(invited=(market.stranger.address,))
    market.rfq.post(market.buyer.sender, rfq)
    error = refused(
        lambda: (
            market.rfq.fn.commitQuote(rfq.to_tuple(), market.stranger.address, b"\x01" * 32)
            and market.stranger.sender.transact(
                market.rfq.fn.commitQuote(rfq.to_tuple(), market.stranger.address, b"\x01" * 32)
            )
        )
    )
    assert (error.name, error.arguments) == (
        "QuoteWrongSigner",
        {"provider": market.stranger.address, "signer": market.stranger.address},
    )


def test_commit__after_the_deadline__reverts(market):
    rfq = market.new_rfq()
    market.rfq.post(market.buyer.sender, rfq)
    signed = market.sign(market.quote(rfq, market.providers[0]), market.providers[0])
    market.chain.advance_time(2 * DAY + 1)
    error = refused(lambda: market.rfq.commit(market.providers[0].sender, rfq, signed))
    assert error.name == "QuoteAfterDeadline"
    assert error.arguments["rfqId"] == rfq.rfq_id and error.arguments["deadline"] == rfq.deadline
    assert error.arguments["nowTime"] > rfq.deadline


def test_commit__zero_digest__reverts(market):
    rfq = market.new_rfq()
    market.rfq.post(market.buyer.sender, rfq)
    error = refused(
        lambda: market.providers[0].sender.transact(
            market.rfq.fn.commitQuote(rfq.to_tuple(), market.providers[0].address, bytes(32))
        )
    )
    assert (error.name, error.arguments) == ("QuoteZeroDigest", {})


def test_withdraw__before_the_deadline__makes_the_quote_unawardable(market):
    rfq, signed = market.post_with_commitments(2)
    receipt = market.rfq.withdraw(market.providers[0].sender, rfq, market.providers[0].address)
    assert market.rfq.events(receipt, "QuoteWithdrawn")[0]["index"] == 2
    error = refused(lambda: market.award(rfq, signed[0]))
    assert (error.name, error.arguments) == (
        "QuoteNotCommitted",
        {"rfqId": rfq.rfq_id, "provider": market.providers[0].address, "digest": signed[0].digest},
    )
    assert market.rfq.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_withdraw__by_a_stranger__reverts(market):
    rfq, _ = market.post_with_commitments(1)
    error = refused(lambda: market.rfq.withdraw(market.stranger.sender, rfq, market.providers[0].address))
    assert error.name == "QuoteWrongSigner"
    assert market.rfq.state(rfq.rfq_id).entries == 1


# --- award --------------------------------------------------------------------------------------------


def test_award__post_three_commitments_award__opens_the_order_and_pulls_the_funds(market, gas):
    rfq, signed = market.post_with_commitments(3)
    winner = signed[1]
    before = call(market.token.functions.balanceOf(market.buyer.address))
    order_id, receipt = market.award(rfq, winner)

    terms = winner.quote.order_terms(market.chain.w3.eth.get_block(receipt.block_number)["timestamp"])
    assert order_id == terms.order_id()
    [awarded] = market.rfq.events(receipt, "RfqAwarded")
    assert (awarded["rfqId"], awarded["provider"], bytes(awarded["digest"])) == (
        rfq.rfq_id,
        market.providers[1].address,
        winner.digest,
    )
    opened = market.suite.escrow.contract.events.OrderOpened().process_receipt(receipt.raw, errors=DISCARD)
    assert opened[0]["args"]["escrowed"] == terms.opening_amount
    assert call(market.token.functions.balanceOf(market.buyer.address)) == before - terms.opening_amount
    assert market.rfq.state(rfq.rfq_id).status is RfqStatus.AWARDED
    # Award reads the nonce bitmap but writes nothing there: the RFQ's status stops any replay.
    assert not market.rfq.nonce_used(market.providers[1].address, winner.quote.nonce)
    # The very first order of the escrow writes fresh slots (the order's and the token book's).
    gas.check("RfqMarket.award (first order of escrow and provider)", receipt.gas_used, budget=150_000)


def test_award__in_steady_state__stays_within_the_award_budget(market, gas):
    """The budgeted figure: the escrow already holds funds and the provider's nonce word is in use."""
    earlier, signed = market.post_with_commitments(1)
    market.award(earlier, signed[0])
    rfq = market.new_rfq(request="quote-request-2")
    market.rfq.post(market.buyer.sender, rfq)
    signed = [market.sign(market.quote(rfq, p, nonce=8 + i), p) for i, p in enumerate(market.providers)]
    for provider, quote in zip(market.providers, signed, strict=True):
        market.rfq.commit(provider.sender, rfq, quote)
    _, receipt = market.award(rfq, signed[0])
    gas.check("RfqMarket.award (3 commitments, steady state)", receipt.gas_used, budget=150_000)


def test_award_quote__a_colluding_provider_names_another_buyer__reverts_and_changes_nothing(market):
    """The seeded log proves the RFQ's buyer: a quote naming someone else cannot take the RFQ."""
    rfq, _ = market.post_with_commitments(0)
    provider = market.providers[0]
    accomplice = market.providers[1]  # an active member, so only the log replay can stop it
    hijack = market.sign(replace(market.quote(rfq, provider), buyer=accomplice.address), provider)
    market.rfq.commit(provider.sender, rfq, hijack)
    market.seal(rfq)
    log = [e.to_tuple() for e in market.rfq.log(rfq.rfq_id)]
    error = refused(
        lambda: accomplice.sender.transact(
            market.rfq.fn.awardQuote(hijack.quote.to_tuple(), hijack.signature, log)
        )
    )
    mismatch = {"rfqId": rfq.rfq_id, "entries": 1, "given": 1}
    assert (error.name, error.arguments) == ("QuoteLogMismatch", mismatch)
    assert market.rfq.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award_quote__a_quote_in_another_token__reverts(market):
    rfq, _ = market.post_with_commitments(0)
    provider = market.providers[0]
    other = market.sign(replace(market.quote(rfq, provider), token=market.stranger.address), provider)
    market.rfq.commit(provider.sender, rfq, other)
    market.seal(rfq)
    log = [e.to_tuple() for e in market.rfq.log(rfq.rfq_id)]
    error = refused(
        lambda: market.buyer.sender.transact(
            market.rfq.fn.awardQuote(other.quote.to_tuple(), other.signature, log)
        )
    )
    mismatch = {"rfqId": rfq.rfq_id, "entries": 1, "given": 1}
    assert (error.name, error.arguments) == ("QuoteLogMismatch", mismatch)
    assert market.rfq.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award_quote__by_someone_else_than_the_quotes_buyer__reverts(market):
    rfq, signed = market.post_with_commitments(1)
    log = [e.to_tuple() for e in market.rfq.log(rfq.rfq_id)]
    error = refused(
        lambda: market.stranger.sender.transact(
            market.rfq.fn.awardQuote(signed[0].quote.to_tuple(), signed[0].signature, log)
        )
    )
    assert (error.name, error.arguments) == (
        "RfqNotBuyer",
        {"rfqId": rfq.rfq_id, "caller": market.stranger.address},
    )
    assert market.rfq.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award__a_second_time__reverts(market):
    rfq, signed = market.post_with_commitments(2)
    market.award(rfq, signed[0])
    error = refused(lambda: market.award(rfq, signed[1]))
    assert (error.name, error.arguments) == ("RfqNotOpen", {"rfqId": rfq.rfq_id, "status": RfqStatus.AWARDED})


def test_award__by_someone_else_than_the_buyer__reverts(market):
    rfq, signed = market.post_with_commitments(1)
    error = refused(lambda: market.rfq.award(market.providers[2].sender, rfq, signed[0]))
    assert (error.name, error.arguments) == (
        "RfqNotBuyer",
        {"rfqId": rfq.rfq_id, "caller": market.providers[2].address},
    )


def test_award__expired_quote__reverts(market):
    rfq = market.new_rfq()
    market.rfq.post(market.buyer.sender, rfq)
    signed = market.sign(
        market.quote(rfq, market.providers[0], valid_until=market.chain.now() + 60), market.providers[0]
    )
    market.rfq.commit(market.providers[0].sender, rfq, signed)
    market.chain.advance_time(61)
    error = refused(lambda: market.award(rfq, signed))
    assert error.name == "QuoteExpired" and error.arguments["validUntil"] == signed.quote.valid_until
    assert market.rfq.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award__quote_signed_for_another_chain__reverts_with_the_wrong_signer(market):
    rfq = market.new_rfq()
    market.rfq.post(market.buyer.sender, rfq)
    quote = market.quote(rfq, market.providers[0])
    other_chain = QuoteDomain(market.chain.chain_id + 1, market.rfq.address)
    forged = sign_quote(market.providers[0].account, quote, other_chain)
    honest = market.sign(quote, market.providers[0])
    market.rfq.commit(market.providers[0].sender, rfq, honest)
    error = refused(lambda: market.award(rfq, replace(forged, digest=honest.digest)))
    assert error.name == "QuoteWrongSigner" and error.arguments["provider"] == market.providers[0].address
    assert error.arguments["signer"] != market.providers[0].address


def test_award__quote_signed_by_a_stranger__reverts(market):
    rfq = market.new_rfq()
    market.rfq.post(market.buyer.sender, rfq)
    quote = market.quote(rfq, market.providers[0])
    forged = market.sign(quote, market.stranger)
    market.rfq.commit(market.providers[0].sender, rfq, forged)
    error = refused(lambda: market.award(rfq, forged))
    assert (error.name, error.arguments) == (
        "QuoteWrongSigner",
        {"provider": market.providers[0].address, "signer": market.stranger.address},
    )


def test_award__high_s_signature__reverts(market):
    rfq, signed = market.post_with_commitments(1)
    sig = signed[0].signature
    s = int.from_bytes(sig[32:64], "big")
    malleable = sig[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    error = refused(lambda: market.award(rfq, replace(signed[0], signature=malleable)))
    assert error.name == "ECDSAInvalidSignatureS"


def test_award__price_changed_after_commitment__reverts_uncommitted(market):
    rfq, signed = market.post_with_commitments(1)
    cheaper = market.sign(replace(signed[0].quote, monthly_charge=1), market.providers[0])
    error = refused(lambda: market.award(rfq, cheaper))
    assert (error.name, error.arguments) == (
        "QuoteNotCommitted",
        {"rfqId": rfq.rfq_id, "provider": market.providers[0].address, "digest": cheaper.digest},
    )


def test_award__quote_for_another_rfq__reverts(market):
    rfq, signed = market.post_with_commitments(1)
    other = market.new_rfq(request="quote-request-2")
    market.rfq.post(market.buyer.sender, other)
    error = refused(lambda: market.award(other, signed[0]))
    assert error.name == "QuoteNotForRfq"
    assert (error.arguments["rfqId"], error.arguments["quoteRfqId"]) == (other.rfq_id, rfq.rfq_id)


def test_award__truncated_log__reverts(market):
    rfq, signed = market.post_with_commitments(3)
    short = market.rfq.log(rfq.rfq_id)[:2]
    error = refused(lambda: market.award(rfq, signed[0], log=short))
    assert (error.name, error.arguments) == (
        "QuoteLogMismatch",
        {"rfqId": rfq.rfq_id, "entries": 3, "given": 2},
    )


def test_award__invalidated_nonce__reverts(market):
    rfq, signed = market.post_with_commitments(1)
    market.rfq.invalidate_nonces(
        market.quote_key.sender, market.providers[0].address, [signed[0].quote.nonce]
    )
    error = refused(lambda: market.award(rfq, signed[0]))
    assert (error.name, error.arguments) == (
        "QuoteNonceUsed",
        {"provider": market.providers[0].address, "nonce": signed[0].quote.nonce},
    )


def test_award__the_same_signed_quote_again__reverts_as_replayed(market):
    rfq, signed = market.post_with_commitments(1)
    market.award(rfq, signed[0])
    before = call(market.token.functions.balanceOf(market.buyer.address))
    error = refused(lambda: market.award(rfq, signed[0]))
    assert (error.name, error.arguments) == ("RfqNotOpen", {"rfqId": rfq.rfq_id, "status": RfqStatus.AWARDED})
    assert call(market.token.functions.balanceOf(market.buyer.address)) == before


def test_award__a_quote_signed_for_another_rfq__reverts(market):
    first, signed = market.post_with_commitments(1)
    second = market.new_rfq(request="quote-request-2")
    market.rfq.post(market.buyer.sender, second)
    error = refused(lambda: market.award(second, signed[0]))
    assert error.name == "QuoteNotForRfq"
    assert error.arguments["rfqId"] == second.rfq_id and error.arguments["quoteRfqId"] == first.rfq_id
    assert market.rfq.state(second.rfq_id).status is RfqStatus.OPEN


def test_award__a_fresh_quote_reusing_an_awarded_nonce_for_another_rfq__is_accepted(market):
    """Nonces cancel quotes; they are not spent: the signed rfqId already makes each quote single-use."""
    first, signed = market.post_with_commitments(1)
    market.award(first, signed[0])
    second = market.new_rfq(request="quote-request-2")
    market.rfq.post(market.buyer.sender, second)
    again = market.sign(market.quote(second, market.providers[0]), market.providers[0])  # same nonce 7
    market.rfq.commit(market.providers[0].sender, second, again)
    market.award(second, again)
    assert market.rfq.state(second.rfq_id).status is RfqStatus.AWARDED


def test_award__after_the_provider_bumped_its_epoch__reverts(market):
    rfq, signed = market.post_with_commitments(1)
    market.rfq.bump_epoch(market.providers[0].sender, market.providers[0].address)
    error = refused(lambda: market.award(rfq, signed[0]))
    assert (error.name, error.arguments) == (
        "QuoteEpochStale",
        {"provider": market.providers[0].address, "quoteEpoch": 0, "currentEpoch": 1},
    )


def test_award__provider_suspended_since_commitment__reverts(market):
    rfq, signed = market.post_with_commitments(1)
    market.registry.propose_suspend(market.council.sender, market.providers[0].address)
    assert not market.registry.is_active(market.providers[0].address)
    error = refused(lambda: market.award(rfq, signed[0]))
    assert error.name in ("QuoteWrongSigner", "QuoteProviderInactive")
    assert error.arguments["provider"] == market.providers[0].address


def test_award__buyer_suspended_since_posting__reverts_and_opens_nothing(market):
    rfq, signed = market.post_with_commitments(1)
    market.registry.propose_suspend(market.council.sender, market.buyer.address)
    assert not market.registry.is_active(market.buyer.address)
    error = refused(lambda: market.award(rfq, signed[0]))
    assert (error.name, error.arguments) == ("RfqBuyerInactive", {"buyer": market.buyer.address})
    assert market.rfq.state(rfq.rfq_id).status.name == "OPEN"


def test_award_with_permit__needs_no_prior_approval(market, gas):
    rfq, signed = market.post_with_commitments(1)
    market.buyer.sender.transact(market.token.functions.approve(market.suite.escrow.address, 0))
    amount = signed[0].quote.order_terms(0).opening_amount
    permit = sign_permit(
        market.buyer.account, market.token, market.suite.escrow.address, amount, market.chain.now() + 3 * DAY
    )
    order_id, receipt = market.award(rfq, signed[0], permit=permit)
    assert call(market.suite.escrow.fn.orderState(order_id))[0] == amount
    gas.check("RfqMarket.awardWithPermit", receipt.gas_used)


# --- cancel and close ---------------------------------------------------------------------------------


def test_cancel__by_the_buyer__stops_commitments_and_awards(market):
    rfq, signed = market.post_with_commitments(1)
    receipt = market.rfq.cancel(market.buyer.sender, rfq)
    assert market.rfq.events(receipt, "RfqCancelled") == [{"rfqId": rfq.rfq_id}]
    error = refused(lambda: market.award(rfq, signed[0]))
    assert (error.name, error.arguments) == (
        "RfqNotOpen",
        {"rfqId": rfq.rfq_id, "status": RfqStatus.CANCELLED},
    )


def test_cancel__by_a_provider__reverts(market):
    rfq, _ = market.post_with_commitments(1)
    error = refused(lambda: market.rfq.cancel(market.providers[0].sender, rfq))
    assert error.name == "RfqNotBuyer"
    assert market.rfq.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_close__after_the_deadline__records_who_answered_on_time(market, gas):
    rfq, _ = market.post_with_commitments(2)  # providers 1 and 2 answer, provider 3 stays silent
    market.seal(rfq)
    receipt = market.rfq.close(market.buyer.sender, rfq)
    expected = {
        market.providers[0].address: True,
        market.providers[1].address: True,
        market.providers[2].address: False,
    }
    assert ledger_timeliness(market, receipt) == [(a, expected[a]) for a in rfq.invited]
    assert market.rfq.state(rfq.rfq_id).status is RfqStatus.CLOSED
    gas.check("RfqMarket.closeRfq (3 invited)", receipt.gas_used)


def test_close__an_open_rfq_during_the_award_window__only_the_buyer(market):
    rfq, _ = market.post_with_commitments(1)
    market.seal(rfq)
    error = refused(lambda: market.rfq.close(market.stranger.sender, rfq))
    assert (error.name, error.arguments) == (
        "RfqAwardWindow",
        {"rfqId": rfq.rfq_id, "until": rfq.deadline + AWARD_WINDOW},
    )
    market.chain.advance_time(rfq.deadline + AWARD_WINDOW + 1 - market.chain.now())
    market.rfq.close(market.stranger.sender, rfq)
    assert market.rfq.state(rfq.rfq_id).status is RfqStatus.CLOSED


def test_close__after_the_award__anyone_and_each_invitee_once(market):
    rfq, signed = market.post_with_commitments(1)
    market.award(rfq, signed[0])
    receipt = market.rfq.close(market.stranger.sender, rfq)
    answered = {market.providers[0].address}
    assert ledger_timeliness(market, receipt) == [(a, a in answered) for a in rfq.invited]


def test_close__a_withdrawn_or_replaced_quote__counts_the_last_entry_once(market):
    rfq = market.new_rfq()
    market.rfq.post(market.buyer.sender, rfq)
    p1, p2 = market.providers[0], market.providers[1]
    market.rfq.commit(p1.sender, rfq, market.sign(market.quote(rfq, p1), p1))
    market.rfq.commit(p1.sender, rfq, market.sign(market.quote(rfq, p1, monthly=5), p1))
    market.rfq.commit(p2.sender, rfq, market.sign(market.quote(rfq, p2), p2))
    market.rfq.withdraw(p2.sender, rfq, p2.address)
    market.seal(rfq)
    receipt = market.rfq.close(market.buyer.sender, rfq)
    assert ledger_timeliness(market, receipt) == [(a, a == p1.address) for a in rfq.invited]


def test_close__an_invitee_suspended_since__is_not_counted(market):
    rfq, _ = market.post_with_commitments(0)
    market.registry.propose_suspend(market.council.sender, market.providers[2].address)
    market.seal(rfq)
    receipt = market.rfq.close(market.buyer.sender, rfq)
    assert [a for a, _ in ledger_timeliness(market, receipt)] == [
        a for a in rfq.invited if a != market.providers[2].address
    ]


def test_close__open_rfq_before_its_deadline__reverts(market):
    rfq, _ = market.post_with_commitments(1)
    error = refused(lambda: market.rfq.close(market.stranger.sender, rfq))
    assert (error.name, error.arguments) == (
        "RfqNotClosable",
        {"rfqId": rfq.rfq_id, "status": RfqStatus.OPEN, "deadline": rfq.deadline},
    )
