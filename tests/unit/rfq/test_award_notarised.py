"""Award of a quote carrying a financial contract: the seller signs its hash with the quote, the
award makes it part of the order's terms, and each party recovers the contract from the chain."""

from __future__ import annotations

from dataclasses import replace

from offnet.market.notary import (
    SealedContract,
    financial_contract,
    public_key_of,
    seal_contract,
)
from offnet.testing.world import refuses


def sealed_quote(world, market, rfq, provider, signer=None):
    """A quote of `provider` whose contract hash commits to its financial contract, signed."""
    draft = world.quote(rfq, provider)
    sealed = seal_contract(
        financial_contract(draft, sla_objectives={"availabilityPpm": 999_500}), b"\x42" * 32
    )
    signed = world.sign(replace(draft, contract_hash=sealed.commitment), signer or provider)
    market.commit(provider.sender, rfq, signed)
    return sealed, signed


def test_award_with_contract__hash_in_the_terms_and_each_party_recovers_the_contract(
    world, market, gas, post_rfq
):
    notary = world.suite.notary
    escrow = world.suite.escrow
    rfq = post_rfq()
    seller = world.sellers[0]
    sealed, signed = sealed_quote(world, market, rfq, seller, signer=world.seller.quote_key)

    order_id, receipt = market.award(world.buyer.sender, rfq, signed)

    terms = escrow.terms_of(order_id)
    assert terms.contract_hash == sealed.commitment
    assert terms.order_id() == order_id  # the order id commits to the contract
    # DESIGN.md: award within 150k including escrow opening and the notarised contract hash.
    gas.check("RfqMarket.award with notarised contract hash (first order)", receipt.gas_used, budget=150_000)

    publish = notary.publish_award_copy(
        seller.sender, terms, sealed, public_key_of(world.buyer.account), public_key_of(seller.account)
    )
    # No gas snapshot entry: ECIES ciphertexts are random, so their calldata cost varies.
    assert publish.gas_used < 150_000
    for party in (world.buyer.account, seller.account):
        assert notary.recover_contract(order_id, party, terms.contract_hash) == sealed
    assert notary.verify_award(terms, sealed)
    reveal = notary.reveal_award(world.outsider.sender, terms, sealed)
    [revealed] = notary.events(reveal, "ContractRevealed")
    assert (bytes(revealed["orderId"]), bytes(revealed["document"])) == (order_id, sealed.document)


def test_reveal_award__wrong_document_or_unknown_order__refused(world, market, post_rfq):
    notary = world.suite.notary
    escrow = world.suite.escrow
    rfq = post_rfq()
    sealed, signed = sealed_quote(world, market, rfq, world.sellers[0])
    order_id, _ = market.award(world.buyer.sender, rfq, signed)
    terms = escrow.terms_of(order_id)

    forged = SealedContract(sealed.document.replace(b"999500", b"990000"), sealed.salt)
    with refuses(
        "NotaryRevealMismatch", orderId=order_id, commitment=sealed.commitment, computed=forged.commitment
    ):
        notary.reveal_award(world.outsider.sender, terms, forged)
    assert not notary.verify_award(terms, forged)

    never_opened = replace(terms, awarded_at=terms.awarded_at + 1)
    with refuses("NotaryNoSuchOrder", orderId=never_opened.order_id()):
        notary.reveal_award(world.outsider.sender, never_opened, sealed)
    assert not notary.verify_award(never_opened, sealed)

    outsider_key = public_key_of(world.outsider.account)
    with refuses("NotaryNotParty") as refused:
        notary.publish_award_copy(
            world.outsider.sender, terms, sealed, public_key_of(world.buyer.account), outsider_key
        )
    assert refused.value.arguments["orderId"] == order_id


def test_award_with_contract__hash_changed_after_signing__refused_as_a_wrong_signature(
    world, market, post_rfq
):
    rfq = post_rfq()
    _, signed = sealed_quote(world, market, rfq, world.sellers[0])
    tampered = replace(signed, quote=replace(signed.quote, contract_hash=b"\x07" * 32))
    with refuses("QuoteWrongSigner"):
        market.award(world.buyer.sender, rfq, tampered)
    assert market.state(rfq.rfq_id).status.name == "OPEN"
