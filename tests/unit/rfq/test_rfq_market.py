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


def ledger_timeliness(world, receipt) -> list[tuple[str, bool]]:
    events = world.suite.ledger.contract.events.QuoteTimelinessRecorded().process_receipt(
        receipt.raw, errors=DISCARD
    )
    return [(e["args"]["provider"], e["args"]["answeredOnTime"]) for e in events]


# --- post ---------------------------------------------------------------------------------------------


def test_post__emits_everything_a_provider_needs_and_opens_the_rfq(world, gas):
    rfq = world.rfq()
    rfq_id, receipt = world.market.post(world.buyer.sender, rfq)
    assert rfq_id == call(world.market.fn.rfqIdOf(rfq.to_tuple()))
    [posted] = world.market.events(receipt, "RfqPosted")
    assert posted["rfqId"] == rfq_id
    assert bytes(posted["productKey"]) == rfq.product_key and bytes(posted["locationKey"]) == rfq.location_key
    assert world.market.posted(rfq_id) == rfq
    assert world.market.state(rfq_id).status is RfqStatus.OPEN
    gas.check("RfqMarket.postRfq (3 invited)", receipt.gas_used, budget=70_000)


def test_post__one_invitee__costs_what_the_snapshot_says(world, gas):
    _, receipt = world.market.post(world.buyer.sender, world.rfq(invited=(world.sellers[0].address,)))
    gas.check("RfqMarket.postRfq (1 invited)", receipt.gas_used, budget=70_000)


def test_post__as_many_invitees_as_allowed__within_the_post_budget(world, gas):
    invited = tuple(to_checksum_address(keccak(text=f"invitee-{i}")[-20:]) for i in range(6))
    _, receipt = world.market.post(world.buyer.sender, world.rfq(invited=invited))
    gas.check("RfqMarket.postRfq (6 invited)", receipt.gas_used, budget=70_000)


def test_post__without_invitees__reverts(world):
    error = refused(lambda: world.market.post(world.buyer.sender, world.rfq(invited=())))
    assert (error.name, error.arguments) == ("RfqInvitedCount", {"invited": 0, "max": 6})


def test_post__invitees_out_of_order_or_repeated__reverts(world):
    a, b = sorted((p.address for p in world.sellers[:2]), key=lambda x: int(x, 16))
    for invited in ((b, a), (a, a)):
        rfq = world.rfq()
        fields = list(rfq.to_tuple())
        fields[7] = list(invited)  # bypass the client's sorting: the contract must refuse on its own
        error = refused(lambda f=fields: world.buyer.sender.transact(world.market.fn.postRfq(tuple(f))))
        assert (error.name, error.arguments) == ("RfqInviteesNotSorted", {"index": 1})


def test_post__inviting_itself__reverts(world):
    rfq = world.rfq(invited=(world.buyer.address, world.sellers[0].address))
    error = refused(lambda: world.market.post(world.buyer.sender, rfq))
    assert (error.name, error.arguments) == ("RfqInviteeNotEligible", {"invitee": world.buyer.address})


def test_post__by_another_member_for_the_buyer__reverts(world):
    rfq = world.rfq()
    error = refused(lambda: world.market.post(world.sellers[0].sender, rfq))
    assert (error.name, error.arguments) == (
        "RfqNotBuyer",
        {"rfqId": rfq.rfq_id, "caller": world.sellers[0].address},
    )
    assert world.market.state(rfq.rfq_id).status is RfqStatus.NONE


def test_post__by_a_non_member__reverts(world):
    rfq = replace(world.rfq(), buyer=world.outsider.address)
    error = refused(lambda: world.market.post(world.outsider.sender, rfq))
    assert (error.name, error.arguments) == ("RfqBuyerInactive", {"buyer": world.outsider.address})


def test_post__deadline_closer_than_the_minimum_quote_window_or_too_far__reverts(world):
    for deadline_in in (-1, DAY - 60, 91 * DAY):
        rfq = world.rfq(deadline_in=deadline_in)
        error = refused(lambda r=rfq: world.market.post(world.buyer.sender, r))
        assert error.name == "RfqDeadlineOutOfRange" and error.arguments["deadline"] == rfq.deadline


def test_post__token_not_allowed__can_never_be_awarded_and_blames_nobody(world):
    rfq = replace(world.rfq(), token=world.outsider.address)
    world.market.post(world.buyer.sender, rfq)
    provider = world.sellers[0]
    signed = world.sign(world.quote(rfq, provider), provider)
    world.market.commit(provider.sender, rfq, signed)
    error = refused(lambda: world.award(rfq, signed))
    assert (error.name, error.arguments) == ("EscrowTokenNotAllowed", {"token": world.outsider.address})
    receipt = world.market.close(world.buyer.sender, rfq)
    assert ledger_timeliness(world, receipt) == []


def test_post__same_rfq_twice__reverts(world):
    rfq = world.rfq()
    world.market.post(world.buyer.sender, rfq)
    error = refused(lambda: world.market.post(world.buyer.sender, rfq))
    assert (error.name, error.arguments) == ("RfqAlreadyPosted", {"rfqId": rfq.rfq_id})


def test_post__too_many_invited__reverts(world):
    invited = tuple(to_checksum_address(i.to_bytes(20, "big")) for i in range(1, 8))
    error = refused(lambda: world.market.post(world.buyer.sender, world.rfq(invited=invited)))
    assert (error.name, error.arguments) == ("RfqInvitedCount", {"invited": 7, "max": 6})


# --- commit and withdraw --------------------------------------------------------------------------------


def test_commit__by_a_quote_key__logs_the_digest_and_costs_what_the_snapshot_says(world, gas):
    rfq = world.rfq()
    world.market.post(world.buyer.sender, rfq)
    signed = world.sign(world.quote(rfq, world.sellers[0]), world.seller.quote_key)
    receipt = world.market.commit(world.seller.quote_key.sender, rfq, signed)
    [event] = world.market.events(receipt, "QuoteCommitted")
    assert (event["provider"], bytes(event["digest"]), event["index"]) == (
        world.sellers[0].address,
        signed.digest,
        0,
    )
    assert world.market.log(rfq.rfq_id) == [LogEntry(world.sellers[0].address, signed.digest)]
    assert world.market.state(rfq.rfq_id).entries == 1
    gas.check("RfqMarket.commitQuote", receipt.gas_used, budget=50_000)


def test_commit__by_a_key_of_another_member__reverts(world):
    rfq = world.rfq()
    world.market.post(world.buyer.sender, rfq)
    signed = world.sign(world.quote(rfq, world.sellers[1]), world.sellers[1])
    error = refused(lambda: world.market.commit(world.seller.quote_key.sender, rfq, signed))
    assert (error.name, error.arguments) == (
        "QuoteWrongSigner",
        {"provider": world.sellers[1].address, "signer": world.seller.quote_key.address},
    )
    assert world.market.state(rfq.rfq_id).entries == 0


def test_commit__provider_not_invited__reverts(world):
    rfq = world.rfq(invited=(world.sellers[0].address,))
    world.market.post(world.buyer.sender, rfq)
    signed = world.sign(world.quote(rfq, world.sellers[1]), world.sellers[1])
    error = refused(lambda: world.market.commit(world.sellers[1].sender, rfq, signed))
    assert (error.name, error.arguments) == (
        "QuoteProviderNotInvited",
        {"rfqId": rfq.rfq_id, "provider": world.sellers[1].address},
    )


def test_commit__by_an_invited_non_member__reverts(world):
    """A non-member is nobody's quote signer, so the caller check refuses it first."""
    rfq = world.rfq(invited=(world.outsider.address,))
    world.market.post(world.buyer.sender, rfq)
    error = refused(
        lambda: (
            world.market.fn.commitQuote(rfq.to_tuple(), world.outsider.address, b"\x01" * 32)
            and world.outsider.sender.transact(
                world.market.fn.commitQuote(rfq.to_tuple(), world.outsider.address, b"\x01" * 32)
            )
        )
    )
    assert (error.name, error.arguments) == (
        "QuoteWrongSigner",
        {"provider": world.outsider.address, "signer": world.outsider.address},
    )


def test_commit__after_the_deadline__reverts(world):
    rfq = world.rfq()
    world.market.post(world.buyer.sender, rfq)
    signed = world.sign(world.quote(rfq, world.sellers[0]), world.sellers[0])
    world.chain.advance_time(2 * DAY + 1)
    error = refused(lambda: world.market.commit(world.sellers[0].sender, rfq, signed))
    assert error.name == "QuoteAfterDeadline"
    assert error.arguments["rfqId"] == rfq.rfq_id and error.arguments["deadline"] == rfq.deadline
    assert error.arguments["nowTime"] > rfq.deadline


def test_commit__zero_digest__reverts(world):
    rfq = world.rfq()
    world.market.post(world.buyer.sender, rfq)
    error = refused(
        lambda: world.sellers[0].sender.transact(
            world.market.fn.commitQuote(rfq.to_tuple(), world.sellers[0].address, bytes(32))
        )
    )
    assert (error.name, error.arguments) == ("QuoteZeroDigest", {})


def test_withdraw__before_the_deadline__makes_the_quote_unawardable(world):
    rfq, signed = world.post_with_commitments(2)
    receipt = world.market.withdraw(world.sellers[0].sender, rfq, world.sellers[0].address)
    assert world.market.events(receipt, "QuoteWithdrawn")[0]["index"] == 2
    error = refused(lambda: world.award(rfq, signed[0]))
    assert (error.name, error.arguments) == (
        "QuoteNotCommitted",
        {"rfqId": rfq.rfq_id, "provider": world.sellers[0].address, "digest": signed[0].digest},
    )
    assert world.market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_withdraw__by_a_stranger__reverts(world):
    rfq, _ = world.post_with_commitments(1)
    error = refused(lambda: world.market.withdraw(world.outsider.sender, rfq, world.sellers[0].address))
    assert error.name == "QuoteWrongSigner"
    assert world.market.state(rfq.rfq_id).entries == 1


# --- award --------------------------------------------------------------------------------------------


def test_award__post_three_commitments_award__opens_the_order_and_pulls_the_funds(world, gas):
    rfq, signed = world.post_with_commitments(3)
    winner = signed[1]
    before = call(world.token.functions.balanceOf(world.buyer.address))
    order_id, receipt = world.award(rfq, winner)

    terms = winner.quote.order_terms(world.chain.w3.eth.get_block(receipt.block_number)["timestamp"])
    assert order_id == terms.order_id()
    [awarded] = world.market.events(receipt, "RfqAwarded")
    assert (awarded["rfqId"], awarded["provider"], bytes(awarded["digest"])) == (
        rfq.rfq_id,
        world.sellers[1].address,
        winner.digest,
    )
    opened = world.suite.escrow.contract.events.OrderOpened().process_receipt(receipt.raw, errors=DISCARD)
    assert opened[0]["args"]["escrowed"] == terms.opening_amount
    assert call(world.token.functions.balanceOf(world.buyer.address)) == before - terms.opening_amount
    assert world.market.state(rfq.rfq_id).status is RfqStatus.AWARDED
    # Award reads the nonce bitmap but writes nothing there: the RFQ's status stops any replay.
    assert not world.market.nonce_used(world.sellers[1].address, winner.quote.nonce)
    # The very first order of the escrow writes fresh slots (the order's and the token book's).
    gas.check("RfqMarket.award (first order of escrow and provider)", receipt.gas_used, budget=150_000)


def test_award__in_steady_state__stays_within_the_award_budget(world, gas):
    """The budgeted figure: the escrow already holds funds and the provider's nonce word is in use."""
    earlier, signed = world.post_with_commitments(1)
    world.award(earlier, signed[0])
    rfq = world.rfq(request="quote-request-2")
    world.market.post(world.buyer.sender, rfq)
    signed = [world.sign(world.quote(rfq, p, nonce=8 + i), p) for i, p in enumerate(world.sellers)]
    for provider, quote in zip(world.sellers, signed, strict=True):
        world.market.commit(provider.sender, rfq, quote)
    _, receipt = world.award(rfq, signed[0])
    gas.check("RfqMarket.award (3 commitments, steady state)", receipt.gas_used, budget=150_000)


# A committed quote rewritten so that another party could award it: (the changed field, its value,
# who sends the award).
REWRITTEN_QUOTES = {
    # A colluding provider names another buyer (an active member, so only the log replay can stop it).
    "names another buyer": ("buyer", lambda w: w.sellers[1].address, lambda w: w.sellers[1]),
    "in another token": ("token", lambda w: w.outsider.address, lambda w: w.buyer),
}


@pytest.mark.parametrize("case", REWRITTEN_QUOTES, ids=str)
def test_award_quote__a_rewritten_quote__reverts_and_changes_nothing(world, case):
    """The seeded log proves the RFQ's buyer and token: a quote naming others cannot take the RFQ."""
    field, value, sender = REWRITTEN_QUOTES[case]
    rfq, _ = world.post_with_commitments(0)
    provider = world.sellers[0]
    rewritten = world.sign(replace(world.quote(rfq, provider), **{field: value(world)}), provider)
    world.market.commit(provider.sender, rfq, rewritten)
    world.seal(rfq)
    log = [e.to_tuple() for e in world.market.log(rfq.rfq_id)]
    error = refused(
        lambda: sender(world).sender.transact(
            world.market.fn.awardQuote(rewritten.quote.to_tuple(), rewritten.signature, log)
        )
    )
    mismatch = {"rfqId": rfq.rfq_id, "entries": 1, "given": 1}
    assert (error.name, error.arguments) == ("QuoteLogMismatch", mismatch)
    assert world.market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award_quote__by_someone_else_than_the_quotes_buyer__reverts(world):
    rfq, signed = world.post_with_commitments(1)
    log = [e.to_tuple() for e in world.market.log(rfq.rfq_id)]
    error = refused(
        lambda: world.outsider.sender.transact(
            world.market.fn.awardQuote(signed[0].quote.to_tuple(), signed[0].signature, log)
        )
    )
    assert (error.name, error.arguments) == (
        "RfqNotBuyer",
        {"rfqId": rfq.rfq_id, "caller": world.outsider.address},
    )
    assert world.market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award__a_second_time__reverts(world):
    rfq, signed = world.post_with_commitments(2)
    world.award(rfq, signed[0])
    error = refused(lambda: world.award(rfq, signed[1]))
    assert (error.name, error.arguments) == ("RfqNotOpen", {"rfqId": rfq.rfq_id, "status": RfqStatus.AWARDED})


def test_award__by_someone_else_than_the_buyer__reverts(world):
    rfq, signed = world.post_with_commitments(1)
    error = refused(lambda: world.market.award(world.sellers[2].sender, rfq, signed[0]))
    assert (error.name, error.arguments) == (
        "RfqNotBuyer",
        {"rfqId": rfq.rfq_id, "caller": world.sellers[2].address},
    )


def test_award__expired_quote__reverts(world):
    rfq = world.rfq()
    world.market.post(world.buyer.sender, rfq)
    signed = world.sign(
        world.quote(rfq, world.sellers[0], valid_until=world.chain.now() + 60), world.sellers[0]
    )
    world.market.commit(world.sellers[0].sender, rfq, signed)
    world.chain.advance_time(61)
    error = refused(lambda: world.award(rfq, signed))
    assert error.name == "QuoteExpired" and error.arguments["validUntil"] == signed.quote.valid_until
    assert world.market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award__quote_signed_for_another_chain__reverts_with_the_wrong_signer(world):
    rfq = world.rfq()
    world.market.post(world.buyer.sender, rfq)
    quote = world.quote(rfq, world.sellers[0])
    other_chain = QuoteDomain(world.chain.chain_id + 1, world.market.address)
    forged = sign_quote(world.sellers[0].account, quote, other_chain)
    honest = world.sign(quote, world.sellers[0])
    world.market.commit(world.sellers[0].sender, rfq, honest)
    error = refused(lambda: world.award(rfq, replace(forged, digest=honest.digest)))
    assert error.name == "QuoteWrongSigner" and error.arguments["provider"] == world.sellers[0].address
    assert error.arguments["signer"] != world.sellers[0].address


def test_award__quote_signed_by_a_stranger__reverts(world):
    rfq = world.rfq()
    world.market.post(world.buyer.sender, rfq)
    quote = world.quote(rfq, world.sellers[0])
    forged = world.sign(quote, world.outsider)
    world.market.commit(world.sellers[0].sender, rfq, forged)
    error = refused(lambda: world.award(rfq, forged))
    assert (error.name, error.arguments) == (
        "QuoteWrongSigner",
        {"provider": world.sellers[0].address, "signer": world.outsider.address},
    )


def test_award__high_s_signature__reverts(world):
    rfq, signed = world.post_with_commitments(1)
    sig = signed[0].signature
    s = int.from_bytes(sig[32:64], "big")
    malleable = sig[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    error = refused(lambda: world.award(rfq, replace(signed[0], signature=malleable)))
    assert error.name == "ECDSAInvalidSignatureS"


def test_award__price_changed_after_commitment__reverts_uncommitted(world):
    rfq, signed = world.post_with_commitments(1)
    cheaper = world.sign(replace(signed[0].quote, monthly_charge=1), world.sellers[0])
    error = refused(lambda: world.award(rfq, cheaper))
    assert (error.name, error.arguments) == (
        "QuoteNotCommitted",
        {"rfqId": rfq.rfq_id, "provider": world.sellers[0].address, "digest": cheaper.digest},
    )


def test_award__truncated_log__reverts(world):
    rfq, signed = world.post_with_commitments(3)
    short = world.market.log(rfq.rfq_id)[:2]
    error = refused(lambda: world.award(rfq, signed[0], log=short))
    assert (error.name, error.arguments) == (
        "QuoteLogMismatch",
        {"rfqId": rfq.rfq_id, "entries": 3, "given": 2},
    )


def test_award__invalidated_nonce__reverts(world):
    rfq, signed = world.post_with_commitments(1)
    world.market.invalidate_nonces(
        world.seller.quote_key.sender, world.sellers[0].address, [signed[0].quote.nonce]
    )
    error = refused(lambda: world.award(rfq, signed[0]))
    assert (error.name, error.arguments) == (
        "QuoteNonceUsed",
        {"provider": world.sellers[0].address, "nonce": signed[0].quote.nonce},
    )


def test_award__the_same_signed_quote_again__reverts_as_replayed(world):
    rfq, signed = world.post_with_commitments(1)
    world.award(rfq, signed[0])
    before = call(world.token.functions.balanceOf(world.buyer.address))
    error = refused(lambda: world.award(rfq, signed[0]))
    assert (error.name, error.arguments) == ("RfqNotOpen", {"rfqId": rfq.rfq_id, "status": RfqStatus.AWARDED})
    assert call(world.token.functions.balanceOf(world.buyer.address)) == before


def test_award__a_quote_signed_for_another_rfq__reverts(world):
    first, signed = world.post_with_commitments(1)
    second = world.rfq(request="quote-request-2")
    world.market.post(world.buyer.sender, second)
    error = refused(lambda: world.award(second, signed[0]))
    assert error.name == "QuoteNotForRfq"
    assert error.arguments["rfqId"] == second.rfq_id and error.arguments["quoteRfqId"] == first.rfq_id
    assert world.market.state(second.rfq_id).status is RfqStatus.OPEN


def test_award__a_fresh_quote_reusing_an_awarded_nonce_for_another_rfq__is_accepted(world):
    """Nonces cancel quotes; they are not spent: the signed rfqId already makes each quote single-use."""
    first, signed = world.post_with_commitments(1)
    world.award(first, signed[0])
    second = world.rfq(request="quote-request-2")
    world.market.post(world.buyer.sender, second)
    again = world.sign(world.quote(second, world.sellers[0]), world.sellers[0])  # same nonce 7
    world.market.commit(world.sellers[0].sender, second, again)
    world.award(second, again)
    assert world.market.state(second.rfq_id).status is RfqStatus.AWARDED


def test_award__after_the_provider_bumped_its_epoch__reverts(world):
    rfq, signed = world.post_with_commitments(1)
    world.market.bump_epoch(world.sellers[0].sender, world.sellers[0].address)
    error = refused(lambda: world.award(rfq, signed[0]))
    assert (error.name, error.arguments) == (
        "QuoteEpochStale",
        {"provider": world.sellers[0].address, "quoteEpoch": 0, "currentEpoch": 1},
    )


def test_award__provider_suspended_since_commitment__reverts(world):
    rfq, signed = world.post_with_commitments(1)
    world.registry.propose_suspend(world.council.sender, world.sellers[0].address)
    assert not world.registry.is_active(world.sellers[0].address)
    error = refused(lambda: world.award(rfq, signed[0]))
    assert error.name in ("QuoteWrongSigner", "QuoteProviderInactive")
    assert error.arguments["provider"] == world.sellers[0].address


def test_award__buyer_suspended_since_posting__reverts_and_opens_nothing(world):
    rfq, signed = world.post_with_commitments(1)
    world.registry.propose_suspend(world.council.sender, world.buyer.address)
    assert not world.registry.is_active(world.buyer.address)
    error = refused(lambda: world.award(rfq, signed[0]))
    assert (error.name, error.arguments) == ("RfqBuyerInactive", {"buyer": world.buyer.address})
    assert world.market.state(rfq.rfq_id).status.name == "OPEN"


def test_award_with_permit__needs_no_prior_approval(world, gas):
    rfq, signed = world.post_with_commitments(1)
    world.buyer.sender.transact(world.token.functions.approve(world.suite.escrow.address, 0))
    amount = signed[0].quote.order_terms(0).opening_amount
    permit = sign_permit(
        world.buyer.account, world.token, world.suite.escrow.address, amount, world.chain.now() + 3 * DAY
    )
    order_id, receipt = world.award(rfq, signed[0], permit=permit)
    assert call(world.suite.escrow.fn.orderState(order_id))[0] == amount
    gas.check("RfqMarket.awardWithPermit", receipt.gas_used)


# --- cancel and close ---------------------------------------------------------------------------------


def test_cancel__by_the_buyer__stops_commitments_and_awards(world):
    rfq, signed = world.post_with_commitments(1)
    receipt = world.market.cancel(world.buyer.sender, rfq)
    assert world.market.events(receipt, "RfqCancelled") == [{"rfqId": rfq.rfq_id}]
    error = refused(lambda: world.award(rfq, signed[0]))
    assert (error.name, error.arguments) == (
        "RfqNotOpen",
        {"rfqId": rfq.rfq_id, "status": RfqStatus.CANCELLED},
    )


def test_cancel__by_a_provider__reverts(world):
    rfq, _ = world.post_with_commitments(1)
    error = refused(lambda: world.market.cancel(world.sellers[0].sender, rfq))
    assert error.name == "RfqNotBuyer"
    assert world.market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_close__after_the_deadline__records_who_answered_on_time(world, gas):
    rfq, _ = world.post_with_commitments(2)  # providers 1 and 2 answer, provider 3 stays silent
    world.seal(rfq)
    receipt = world.market.close(world.buyer.sender, rfq)
    expected = {
        world.sellers[0].address: True,
        world.sellers[1].address: True,
        world.sellers[2].address: False,
    }
    assert ledger_timeliness(world, receipt) == [(a, expected[a]) for a in rfq.invited]
    assert world.market.state(rfq.rfq_id).status is RfqStatus.CLOSED
    gas.check("RfqMarket.closeRfq (3 invited)", receipt.gas_used)


def test_close__an_open_rfq_during_the_award_window__only_the_buyer(world):
    rfq, _ = world.post_with_commitments(1)
    world.seal(rfq)
    error = refused(lambda: world.market.close(world.outsider.sender, rfq))
    assert (error.name, error.arguments) == (
        "RfqAwardWindow",
        {"rfqId": rfq.rfq_id, "until": rfq.deadline + AWARD_WINDOW},
    )
    world.chain.advance_time(rfq.deadline + AWARD_WINDOW + 1 - world.chain.now())
    world.market.close(world.outsider.sender, rfq)
    assert world.market.state(rfq.rfq_id).status is RfqStatus.CLOSED


def test_close__after_the_award__anyone_and_each_invitee_once(world):
    rfq, signed = world.post_with_commitments(1)
    world.award(rfq, signed[0])
    receipt = world.market.close(world.outsider.sender, rfq)
    answered = {world.sellers[0].address}
    assert ledger_timeliness(world, receipt) == [(a, a in answered) for a in rfq.invited]


def test_close__a_withdrawn_or_replaced_quote__counts_the_last_entry_once(world):
    rfq = world.rfq()
    world.market.post(world.buyer.sender, rfq)
    p1, p2 = world.sellers[0], world.sellers[1]
    world.market.commit(p1.sender, rfq, world.sign(world.quote(rfq, p1), p1))
    world.market.commit(p1.sender, rfq, world.sign(world.quote(rfq, p1, monthly_charge=5), p1))
    world.market.commit(p2.sender, rfq, world.sign(world.quote(rfq, p2), p2))
    world.market.withdraw(p2.sender, rfq, p2.address)
    world.seal(rfq)
    receipt = world.market.close(world.buyer.sender, rfq)
    assert ledger_timeliness(world, receipt) == [(a, a == p1.address) for a in rfq.invited]


def test_close__an_invitee_suspended_since__is_not_counted(world):
    rfq, _ = world.post_with_commitments(0)
    world.registry.propose_suspend(world.council.sender, world.sellers[2].address)
    world.seal(rfq)
    receipt = world.market.close(world.buyer.sender, rfq)
    assert [a for a, _ in ledger_timeliness(world, receipt)] == [
        a for a in rfq.invited if a != world.sellers[2].address
    ]


def test_close__open_rfq_before_its_deadline__reverts(world):
    rfq, _ = world.post_with_commitments(1)
    error = refused(lambda: world.market.close(world.outsider.sender, rfq))
    assert (error.name, error.arguments) == (
        "RfqNotClosable",
        {"rfqId": rfq.rfq_id, "status": RfqStatus.OPEN, "deadline": rfq.deadline},
    )
