"""Award with a notarised financial contract: both signatures checked, copies recovered from the chain."""

from __future__ import annotations

import pytest

from offnet.chain import ContractRevert
from offnet.market.notary import (
    NotaryClient,
    financial_contract,
    public_key_of,
    seal_contract,
    sign_award_commitment,
)
from offnet.market.rfq import ContractSeal


def seal_for(market, notary, signed, *, seller_signer=None):
    sealed = seal_contract(
        financial_contract(signed.quote, sla_objectives={"availabilityPpm": 999_500}), salt=b"\x42" * 32
    )
    buyer_sig = sign_award_commitment(market.buyer.account, notary.domain, signed.digest, sealed.commitment)
    seller = seller_signer or market.providers[0]
    seller_sig = sign_award_commitment(seller.account, notary.domain, signed.digest, sealed.commitment)
    return sealed, ContractSeal(sealed.commitment, buyer_sig, seller_sig)


def test_award_with_contract__notarises_and_each_party_recovers_the_contract_from_the_chain(market, gas):
    notary = NotaryClient(market.chain, market.suite.notary)
    rfq, signed = market.post_with_commitments(1)
    sealed, seal = seal_for(market, notary, signed[0], seller_signer=market.quote_key)
    order_id, receipt = market.rfq.award(market.buyer.sender, rfq, signed[0], seal=seal)
    [notarised] = notary.events(receipt, "ContractNotarised")
    assert (notarised["buyer"], notarised["seller"], bytes(notarised["commitment"])) == (
        market.buyer.address,
        market.providers[0].address,
        sealed.commitment,
    )
    gas.check("RfqMarket.award + ContractNotary.notariseAward (first order)", receipt.gas_used)

    publish = notary.publish_copy(
        market.providers[0].sender,
        order_id,
        sealed,
        public_key_of(market.buyer.account),
        public_key_of(market.providers[0].account),
    )
    # No gas snapshot entry: ECIES ciphertexts are random, so their calldata cost varies.
    assert publish.gas_used < 150_000
    for party in (market.buyer.account, market.providers[0].account):
        assert notary.recover_contract(order_id, party) == sealed
    assert notary.verify(order_id, sealed)


def test_award_with_contract__seller_did_not_sign__reverts_and_opens_nothing(market):
    notary = NotaryClient(market.chain, market.suite.notary)
    rfq, signed = market.post_with_commitments(1)
    _, seal = seal_for(market, notary, signed[0], seller_signer=market.stranger)
    with pytest.raises(ContractRevert) as refused:
        market.rfq.award(market.buyer.sender, rfq, signed[0], seal=seal)
    assert refused.value.name == "NotaryWrongSigner"
    assert refused.value.arguments == {
        "party": market.providers[0].address,
        "signer": market.stranger.address,
    }
    assert market.rfq.state(rfq.rfq_id).status.name == "OPEN"
