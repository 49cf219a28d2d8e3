"""RfqMarket on eth-tester with the real registry, escrow, ledger and notary: post, commit, award, close."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_utils import to_checksum_address
from web3.logs import DISCARD

from offnet.chain.permit import sign_permit
from offnet.chain.tx import call
from offnet.exceptions import ContractRevert
from offnet.market.quotes import QuoteDomain, sign_quote
from offnet.market.rfq import LogEntry
from offnet.market.types import RfqStatus
from offnet.testing.world import refuses

DAY = 86_400

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def ledger_timeliness(world, receipt) -> list[tuple[str, bool]]:
    events = world.suite.ledger.contract.events.QuoteTimelinessRecorded().process_receipt(
        receipt.raw, errors=DISCARD
    )
    return [(e["args"]["provider"], e["args"]["answeredOnTime"]) for e in events]


# --- post ---------------------------------------------------------------------------------------------


def test_post__emits_everything_a_provider_needs_and_opens_the_rfq(world, market, gas):
    rfq = world.rfq()
    rfq_id, receipt = market.post(world.buyer.sender, rfq)
    assert rfq_id == call(market.fn.rfqIdOf(rfq.to_tuple()))
    [posted] = market.events(receipt, "RfqPosted")
    assert posted["rfqId"] == rfq_id
    assert bytes(posted["productKey"]) == rfq.product_key and bytes(posted["locationKey"]) == rfq.location_key
    assert market.posted(rfq_id) == rfq
    assert market.state(rfq_id).status is RfqStatus.OPEN
    gas.check("RfqMarket.postRfq (3 invited)", receipt.gas_used, budget=70_000)


def test_post__open_rfq_without_invitations__costs_what_the_snapshot_says(world, market, gas):
    _, receipt = market.post(world.buyer.sender, world.rfq(invited=()))
    gas.check("RfqMarket.postRfq (open)", receipt.gas_used, budget=70_000)


def test_post__by_another_member_for_the_buyer__reverts(world, market):
    rfq = world.rfq()
    with refuses("RfqNotBuyer", rfqId=rfq.rfq_id, caller=world.sellers[0].address):
        market.post(world.sellers[0].sender, rfq)
    assert market.state(rfq.rfq_id).status is RfqStatus.NONE


def test_post__by_a_non_member__reverts(world, market):
    rfq = replace(world.rfq(), buyer=world.outsider.address)
    with refuses("RfqBuyerInactive", buyer=world.outsider.address):
        market.post(world.outsider.sender, rfq)


def test_post__deadline_not_in_future__reverts(world, market):
    rfq = world.rfq(deadline_in=-1)
    with refuses("RfqDeadlineNotInFuture") as refused:
        market.post(world.buyer.sender, rfq)
    assert refused.value.arguments["deadline"] == rfq.deadline


def test_post__token_not_allowed__reverts(world, market):
    rfq = replace(world.rfq(), token=world.outsider.address)
    with refuses("RfqTokenNotAllowed", token=world.outsider.address):
        market.post(world.buyer.sender, rfq)


def test_post__same_rfq_twice__reverts(world, market, post_rfq):
    rfq = post_rfq()
    with refuses("RfqAlreadyPosted", rfqId=rfq.rfq_id):
        market.post(world.buyer.sender, rfq)


def test_post__too_many_invited__reverts(world, market):
    invited = tuple(to_checksum_address(i.to_bytes(20, "big")) for i in range(1, 66))
    with refuses("RfqTooManyInvited", invited=65, max=64):
        market.post(world.buyer.sender, world.rfq(invited=invited))


# --- commit and withdraw --------------------------------------------------------------------------------


def test_commit__by_a_quote_key__logs_the_digest_and_costs_what_the_snapshot_says(
    world, market, gas, post_rfq
):
    rfq = post_rfq()
    signed = world.sign(world.quote(rfq, world.sellers[0]), world.seller.quote_key)
    receipt = market.commit(world.seller.quote_key.sender, rfq, signed)
    [event] = market.events(receipt, "QuoteCommitted")
    assert (event["provider"], bytes(event["digest"]), event["index"]) == (
        world.sellers[0].address,
        signed.digest,
        0,
    )
    assert market.log(rfq.rfq_id) == [LogEntry(world.sellers[0].address, signed.digest)]
    assert market.state(rfq.rfq_id).entries == 1
    gas.check("RfqMarket.commitQuote", receipt.gas_used, budget=50_000)


def test_commit__by_a_key_of_another_member__reverts(world, market, post_rfq):
    rfq = post_rfq()
    signed = world.sign(world.quote(rfq, world.sellers[1]), world.sellers[1])
    with refuses(
        "QuoteWrongSigner", provider=world.sellers[1].address, signer=world.seller.quote_key.address
    ):
        market.commit(world.seller.quote_key.sender, rfq, signed)
    assert market.state(rfq.rfq_id).entries == 0


def test_commit__provider_not_invited__reverts(world, market, post_rfq):
    rfq = post_rfq(invited=(world.sellers[0].address,))
    signed = world.sign(world.quote(rfq, world.sellers[1]), world.sellers[1])
    with refuses("QuoteProviderNotInvited", rfqId=rfq.rfq_id, provider=world.sellers[1].address):
        market.commit(world.sellers[1].sender, rfq, signed)


def test_commit__to_an_open_rfq_by_a_non_member__reverts(world, market, post_rfq):
    rfq = post_rfq(invited=())
    with refuses("QuoteProviderInactive", provider=world.outsider.address):
        world.outsider.sender.transact(
            market.fn.commitQuote(rfq.to_tuple(), world.outsider.address, b"\x01" * 32)
        )


def test_commit__after_the_deadline__reverts(world, market, post_rfq):
    rfq = post_rfq()
    signed = world.sign(world.quote(rfq, world.sellers[0]), world.sellers[0])
    world.chain.advance_time(2 * DAY + 1)
    with refuses("QuoteAfterDeadline") as refused:
        market.commit(world.sellers[0].sender, rfq, signed)
    assert (
        refused.value.arguments["rfqId"] == rfq.rfq_id and refused.value.arguments["deadline"] == rfq.deadline
    )
    assert refused.value.arguments["nowTime"] > rfq.deadline


def test_commit__zero_digest__reverts(world, market, post_rfq):
    rfq = post_rfq()
    with refuses("QuoteZeroDigest"):
        world.sellers[0].sender.transact(
            market.fn.commitQuote(rfq.to_tuple(), world.sellers[0].address, bytes(32))
        )


def test_withdraw__before_the_deadline__makes_the_quote_unawardable(world, market):
    rfq, signed = world.post_with_quotes(world.sellers[:2])
    receipt = market.withdraw(world.sellers[0].sender, rfq, world.sellers[0].address)
    assert market.events(receipt, "QuoteWithdrawn")[0]["index"] == 2
    with refuses(
        "QuoteNotCommitted", rfqId=rfq.rfq_id, provider=world.sellers[0].address, digest=signed[0].digest
    ):
        market.award(world.buyer.sender, rfq, signed[0])
    assert market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_withdraw__by_a_stranger__reverts(world, market):
    rfq, _ = world.post_with_quotes(world.sellers[:1])
    with refuses("QuoteWrongSigner"):
        market.withdraw(world.outsider.sender, rfq, world.sellers[0].address)
    assert market.state(rfq.rfq_id).entries == 1


# --- award --------------------------------------------------------------------------------------------


def test_award__post_three_commitments_award__opens_the_order_and_pulls_the_funds(world, market, gas):
    rfq, signed = world.post_with_quotes()
    winner = signed[1]
    before = call(world.token.functions.balanceOf(world.buyer.address))
    order_id, receipt = market.award(world.buyer.sender, rfq, winner)

    terms = winner.quote.order_terms(world.chain.w3.eth.get_block(receipt.block_number)["timestamp"])
    assert order_id == terms.order_id()
    [awarded] = market.events(receipt, "RfqAwarded")
    assert (awarded["rfqId"], awarded["provider"], bytes(awarded["digest"])) == (
        rfq.rfq_id,
        world.sellers[1].address,
        winner.digest,
    )
    opened = world.suite.escrow.contract.events.OrderOpened().process_receipt(receipt.raw, errors=DISCARD)
    assert opened[0]["args"]["escrowed"] == terms.opening_amount
    assert call(world.token.functions.balanceOf(world.buyer.address)) == before - terms.opening_amount
    assert market.state(rfq.rfq_id).status is RfqStatus.AWARDED
    # Award reads the nonce bitmap but writes nothing there: the RFQ's status stops any replay.
    assert not market.nonce_used(world.sellers[1].address, winner.quote.nonce)
    # The very first order of the escrow writes fresh slots (the order's and the token book's).
    gas.check("RfqMarket.award (first order of escrow and provider)", receipt.gas_used)


def test_award__in_steady_state__stays_within_the_award_budget(world, market, gas, post_rfq):
    """The budgeted figure: the escrow already holds funds and the provider's nonce word is in use."""
    earlier, signed = world.post_with_quotes(world.sellers[:1])
    market.award(world.buyer.sender, earlier, signed[0])
    rfq = post_rfq(request="quote-request-2")
    signed = [world.sign(world.quote(rfq, p, nonce=8 + i), p) for i, p in enumerate(world.sellers)]
    for provider, quote in zip(world.sellers, signed, strict=True):
        market.commit(provider.sender, rfq, quote)
    _, receipt = market.award(world.buyer.sender, rfq, signed[0])
    gas.check("RfqMarket.award (3 commitments, steady state)", receipt.gas_used, budget=150_000)


def test_award_quote__a_colluding_provider_names_another_buyer__reverts_and_changes_nothing(world, market):
    """The seeded log proves the RFQ's buyer: a quote naming someone else cannot take the RFQ."""
    rfq, _ = world.post_with_quotes(world.sellers[:0])
    provider = world.sellers[0]
    accomplice = world.sellers[1]  # an active member, so only the log replay can stop it
    hijack = world.sign(replace(world.quote(rfq, provider), buyer=accomplice.address), provider)
    market.commit(provider.sender, rfq, hijack)
    log = [e.to_tuple() for e in market.log(rfq.rfq_id)]
    with refuses("QuoteLogMismatch", rfqId=rfq.rfq_id, entries=1, given=1):
        accomplice.sender.transact(market.fn.awardQuote(hijack.quote.to_tuple(), hijack.signature, log))
    assert market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award_quote__a_quote_in_another_token__reverts(world, market):
    rfq, _ = world.post_with_quotes(world.sellers[:0])
    provider = world.sellers[0]
    other = world.sign(replace(world.quote(rfq, provider), token=world.outsider.address), provider)
    market.commit(provider.sender, rfq, other)
    log = [e.to_tuple() for e in market.log(rfq.rfq_id)]
    with refuses("QuoteLogMismatch", rfqId=rfq.rfq_id, entries=1, given=1):
        world.buyer.sender.transact(market.fn.awardQuote(other.quote.to_tuple(), other.signature, log))
    assert market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award_quote__by_someone_else_than_the_quotes_buyer__reverts(world, market):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    log = [e.to_tuple() for e in market.log(rfq.rfq_id)]
    with refuses("RfqNotBuyer", rfqId=rfq.rfq_id, caller=world.outsider.address):
        world.outsider.sender.transact(
            market.fn.awardQuote(signed[0].quote.to_tuple(), signed[0].signature, log)
        )
    assert market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award__a_second_time__reverts(world, market):
    rfq, signed = world.post_with_quotes(world.sellers[:2])
    market.award(world.buyer.sender, rfq, signed[0])
    with refuses("RfqNotOpen", rfqId=rfq.rfq_id, status=RfqStatus.AWARDED):
        market.award(world.buyer.sender, rfq, signed[1])


def test_award__by_someone_else_than_the_buyer__reverts(world, market):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    with refuses("RfqNotBuyer", rfqId=rfq.rfq_id, caller=world.sellers[2].address):
        market.award(world.sellers[2].sender, rfq, signed[0])


def test_award__expired_quote__reverts(world, market, post_rfq):
    rfq = post_rfq()
    signed = world.sign(
        world.quote(rfq, world.sellers[0], valid_until=world.chain.now() + 60), world.sellers[0]
    )
    market.commit(world.sellers[0].sender, rfq, signed)
    world.chain.advance_time(61)
    with refuses("QuoteExpired") as refused:
        market.award(world.buyer.sender, rfq, signed)
    assert refused.value.arguments["validUntil"] == signed.quote.valid_until
    assert market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_award__quote_signed_for_another_chain__reverts_with_the_wrong_signer(world, market, post_rfq):
    rfq = post_rfq()
    quote = world.quote(rfq, world.sellers[0])
    other_chain = QuoteDomain(world.chain.chain_id + 1, market.address)
    forged = sign_quote(world.sellers[0].account, quote, other_chain)
    honest = world.sign(quote, world.sellers[0])
    market.commit(world.sellers[0].sender, rfq, honest)
    with refuses("QuoteWrongSigner") as refused:
        market.award(world.buyer.sender, rfq, replace(forged, digest=honest.digest))
    assert refused.value.arguments["provider"] == world.sellers[0].address
    assert refused.value.arguments["signer"] != world.sellers[0].address


def test_award__quote_signed_by_a_stranger__reverts(world, market, post_rfq):
    rfq = post_rfq()
    quote = world.quote(rfq, world.sellers[0])
    forged = world.sign(quote, world.outsider)
    market.commit(world.sellers[0].sender, rfq, forged)
    with refuses("QuoteWrongSigner", provider=world.sellers[0].address, signer=world.outsider.address):
        market.award(world.buyer.sender, rfq, forged)


def test_award__high_s_signature__reverts(world, market):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    sig = signed[0].signature
    s = int.from_bytes(sig[32:64], "big")
    malleable = sig[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    with refuses("ECDSAInvalidSignatureS"):
        market.award(world.buyer.sender, rfq, replace(signed[0], signature=malleable))


def test_award__price_changed_after_commitment__reverts_uncommitted(world, market):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    cheaper = world.sign(replace(signed[0].quote, monthly_charge=1), world.sellers[0])
    with refuses(
        "QuoteNotCommitted", rfqId=rfq.rfq_id, provider=world.sellers[0].address, digest=cheaper.digest
    ):
        market.award(world.buyer.sender, rfq, cheaper)


def test_award__quote_for_another_rfq__reverts(world, market, post_rfq):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    other = world.post_rfq(request="quote-request-2")
    buyer, token = world.buyer.address, world.token.address
    with refuses(
        "QuoteNotForRfq", rfqId=other.rfq_id, quoteRfqId=rfq.rfq_id, quoteBuyer=buyer, quoteToken=token
    ):
        market.award(world.buyer.sender, other, signed[0])


def test_award__truncated_log__reverts(world, market):
    rfq, signed = world.post_with_quotes()
    short = market.log(rfq.rfq_id)[:2]
    with refuses("QuoteLogMismatch", rfqId=rfq.rfq_id, entries=3, given=2):
        market.award(world.buyer.sender, rfq, signed[0], log=short)


def test_award__invalidated_nonce__reverts(world, market):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    market.invalidate_nonces(world.seller.quote_key.sender, world.sellers[0].address, [signed[0].quote.nonce])
    with refuses("QuoteNonceUsed", provider=world.sellers[0].address, nonce=signed[0].quote.nonce):
        market.award(world.buyer.sender, rfq, signed[0])


def test_award__the_same_signed_quote_again__reverts_as_replayed(world, market):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    market.award(world.buyer.sender, rfq, signed[0])
    before = call(world.token.functions.balanceOf(world.buyer.address))
    with refuses("RfqNotOpen", rfqId=rfq.rfq_id, status=RfqStatus.AWARDED):
        market.award(world.buyer.sender, rfq, signed[0])
    assert call(world.token.functions.balanceOf(world.buyer.address)) == before


def test_award__a_quote_signed_for_another_rfq__reverts_and_leaves_that_rfq_open(world, market, post_rfq):
    first, signed = world.post_with_quotes(world.sellers[:1])
    second = world.post_rfq(request="quote-request-2")
    with refuses("QuoteNotForRfq") as refused:
        market.award(world.buyer.sender, second, signed[0])
    arguments = refused.value.arguments
    assert (arguments["rfqId"], arguments["quoteRfqId"]) == (second.rfq_id, first.rfq_id)
    assert market.state(second.rfq_id).status is RfqStatus.OPEN


def test_award__a_fresh_quote_reusing_an_awarded_nonce_for_another_rfq__is_accepted(world, market, post_rfq):
    """Nonces cancel quotes; they are not spent: the signed rfqId already makes each quote single-use."""
    first, signed = world.post_with_quotes(world.sellers[:1])
    market.award(world.buyer.sender, first, signed[0])
    second = post_rfq(request="quote-request-2")
    again = world.sign(world.quote(second, world.sellers[0]), world.sellers[0])  # same nonce
    market.commit(world.sellers[0].sender, second, again)
    market.award(world.buyer.sender, second, again)
    assert market.state(second.rfq_id).status is RfqStatus.AWARDED


def test_award__after_the_provider_bumped_its_epoch__reverts(world, market):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    market.bump_epoch(world.sellers[0].sender, world.sellers[0].address)
    with refuses("QuoteEpochStale", provider=world.sellers[0].address, quoteEpoch=0, currentEpoch=1):
        market.award(world.buyer.sender, rfq, signed[0])


def test_award__provider_suspended_since_commitment__reverts(world, market, council_decides):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    council_decides(world.registry.address, world.registry.council_call("suspend", world.sellers[0].address))
    assert not world.suite.registry.is_active(world.sellers[0].address)
    with pytest.raises(ContractRevert) as refused:
        market.award(world.buyer.sender, rfq, signed[0])
    assert refused.value.name in ("QuoteWrongSigner", "QuoteProviderInactive")
    assert refused.value.arguments["provider"] == world.sellers[0].address


def test_award__buyer_suspended_since_posting__reverts_and_opens_nothing(world, market, council_decides):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    council_decides(world.registry.address, world.registry.council_call("suspend", world.buyer.address))
    assert not world.suite.registry.is_active(world.buyer.address)
    with refuses("RfqBuyerInactive", buyer=world.buyer.address):
        market.award(world.buyer.sender, rfq, signed[0])
    assert market.state(rfq.rfq_id).status.name == "OPEN"


def test_award_with_permit__needs_no_prior_approval(world, market, gas):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    world.buyer.sender.transact(world.token.functions.approve(world.suite.escrow.address, 0))
    amount = signed[0].quote.order_terms(0).opening_amount
    permit = sign_permit(
        world.buyer.account, world.token, world.suite.escrow.address, amount, world.chain.now() + 3600
    )
    order_id, receipt = market.award(world.buyer.sender, rfq, signed[0], permit=permit)
    assert call(world.suite.escrow.fn.orderState(order_id))[0] == amount
    gas.check("RfqMarket.awardWithPermit", receipt.gas_used)


# --- cancel and close ---------------------------------------------------------------------------------


def test_cancel__by_the_buyer__stops_commitments_and_awards(world, market):
    rfq, signed = world.post_with_quotes(world.sellers[:1])
    receipt = market.cancel(world.buyer.sender, rfq)
    assert market.events(receipt, "RfqCancelled") == [{"rfqId": rfq.rfq_id}]
    with refuses("RfqNotOpen", rfqId=rfq.rfq_id, status=RfqStatus.CANCELLED):
        market.award(world.buyer.sender, rfq, signed[0])


def test_cancel__by_a_provider__reverts(world, market):
    rfq, _ = world.post_with_quotes(world.sellers[:1])
    with refuses("RfqNotBuyer"):
        market.cancel(world.sellers[0].sender, rfq)
    assert market.state(rfq.rfq_id).status is RfqStatus.OPEN


def test_close__after_the_deadline__records_who_answered_on_time(world, market, gas):
    rfq, _ = world.post_with_quotes(world.sellers[:2])  # providers 1 and 2 answer, provider 3 stays silent
    world.chain.advance_time(2 * DAY + 1)
    receipt = market.close(world.outsider.sender, rfq)
    assert ledger_timeliness(world, receipt) == [
        (world.sellers[0].address, True),
        (world.sellers[1].address, True),
        (world.sellers[2].address, False),
    ]
    assert market.state(rfq.rfq_id).status is RfqStatus.CLOSED
    gas.check("RfqMarket.closeRfq (3 invited)", receipt.gas_used)


def test_close__after_an_early_award__does_not_blame_silent_providers(world, market, open_order):
    order = open_order(invited=[s.address for s in world.sellers])  # only the first seller answers
    receipt = market.close(world.outsider.sender, order.rfq)
    assert ledger_timeliness(world, receipt) == [(world.sellers[0].address, True)]


def test_close__open_rfq_counts_each_live_committer_once(world, market, post_rfq):
    rfq = post_rfq(invited=())
    p1, p2 = world.sellers[0], world.sellers[1]
    market.commit(p1.sender, rfq, world.sign(world.quote(rfq, p1), p1))
    market.commit(p1.sender, rfq, world.sign(world.quote(rfq, p1, monthly_charge=5), p1))
    market.commit(p2.sender, rfq, world.sign(world.quote(rfq, p2), p2))
    market.withdraw(p2.sender, rfq, p2.address)
    world.chain.advance_time(2 * DAY + 1)
    receipt = market.close(world.outsider.sender, rfq)
    assert ledger_timeliness(world, receipt) == [(p1.address, True)]


def test_close__open_rfq_before_its_deadline__reverts(world, market):
    rfq, _ = world.post_with_quotes(world.sellers[:1])
    with refuses("RfqNotClosable", rfqId=rfq.rfq_id, status=RfqStatus.OPEN, deadline=rfq.deadline):
        market.close(world.outsider.sender, rfq)
