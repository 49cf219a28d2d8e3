"""ContractNotary: commitments signed by both parties of an opened order, encrypted copies in event
data, reveal."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account import Account

from offnet.chain.tx import call
from offnet.exceptions import ContractRevert, CopyUnreadable
from offnet.market.notary import public_key_of, seal_contract, sign_contract_commitment

ZERO = "0x" + "00" * 20
DOCUMENT = {"buyer": "carrier A", "seller": "carrier B", "monthlyCharge": "1000000000", "termMonths": 36}


def refused(action) -> ContractRevert:
    with pytest.raises(ContractRevert) as caught:
        action()
    return caught.value


def notarise(w, terms, sealed, *, buyer_signer=None, seller_signer=None, sender=None):
    domain = w.notary.domain
    buyer_sig = sign_contract_commitment(buyer_signer or w.buyer.account, domain, terms, sealed.commitment)
    seller_sig = sign_contract_commitment(seller_signer or w.seller_key, domain, terms, sealed.commitment)
    return w.notary.notarise(sender or w.stranger.sender, terms, sealed.commitment, buyer_sig, seller_sig)


def notarised(w, **seal):
    """An order the escrow opened, its contract (DOCUMENT) sealed and notarised by both parties."""
    terms = w.order()
    sealed = seal_contract(DOCUMENT, **seal)
    notarise(w, terms, sealed)
    return terms, sealed


def test_notarise__both_parties_signed__stores_the_commitment(notary_world, gas):
    w = notary_world
    terms = w.order()
    sealed = seal_contract(DOCUMENT, salt=b"\x01" * 32)
    receipt = notarise(w, terms, sealed)
    assert w.notary.events(receipt, "ContractNotarised") == [
        {
            "orderId": terms.order_id(),
            "buyer": w.buyer.address,
            "seller": w.seller.address,
            "commitment": sealed.commitment,
        }
    ]
    assert w.notary.record(terms.order_id()).commitment == sealed.commitment
    assert sealed.commitment == call(w.notary.fn.commitmentOf(sealed.salt, sealed.document))
    gas.check("ContractNotary.notarise", receipt.gas_used)


def test_notarise__python_digest_matches_the_contract(notary_world):
    w = notary_world
    terms = w.order()
    sealed = seal_contract(DOCUMENT)
    sig = sign_contract_commitment(w.buyer.account, w.notary.domain, terms, sealed.commitment)
    digest = call(w.notary.fn.contractDigest(terms.order_id(), terms.buyer, terms.seller, sealed.commitment))
    assert Account._recover_hash(digest, signature=sig) == w.buyer.address


def test_notarise__seller_signature_by_a_stranger__reverts(notary_world):
    w = notary_world
    terms = w.order()
    error = refused(lambda: notarise(w, terms, seal_contract(DOCUMENT), seller_signer=w.stranger.account))
    assert (error.name, error.arguments) == (
        "NotaryWrongSigner",
        {"party": w.seller.address, "signer": w.stranger.address},
    )
    assert w.notary.record(terms.order_id()).commitment == bytes(32)


def test_notarise__signature_for_another_order__reverts(notary_world):
    w = notary_world
    terms = w.order()
    sealed = seal_contract(DOCUMENT)
    domain = w.notary.domain
    other = sign_contract_commitment(w.buyer.account, domain, replace(terms, rfq_id=2), sealed.commitment)
    seller_sig = sign_contract_commitment(w.seller.account, domain, terms, sealed.commitment)
    error = refused(lambda: w.notary.notarise(w.buyer.sender, terms, sealed.commitment, other, seller_sig))
    assert error.name == "NotaryWrongSigner" and error.arguments["party"] == w.buyer.address


def test_notarise__an_order_the_escrow_never_opened__reverts(notary_world):
    w = notary_world
    made_up = w.terms(rfq_id=99)
    error = refused(lambda: notarise(w, made_up, seal_contract(DOCUMENT)))
    assert (error.name, error.arguments) == ("NotaryNoSuchOrder", {"orderId": made_up.order_id()})


def test_notarise__twice__reverts(notary_world):
    w = notary_world
    terms, sealed = notarised(w)
    error = refused(lambda: notarise(w, terms, seal_contract({"other": 1})))
    assert (error.name, error.arguments) == (
        "NotaryAlreadyNotarised",
        {"orderId": terms.order_id(), "commitment": sealed.commitment},
    )


def test_notarise__zero_commitment__reverts(notary_world):
    w = notary_world
    terms = w.order()
    error = refused(lambda: w.notary.notarise(w.buyer.sender, terms, bytes(32), b"", b""))
    assert (error.name, error.arguments) == ("NotaryZeroCommitment", {"orderId": terms.order_id()})


def test_deploy__zero_registry_or_escrow__reverts(notary_world):
    from offnet.market.notary import NotaryClient

    w = notary_world
    for registry, escrow in ((ZERO, w.escrow.address), (w.registry.address, ZERO)):
        error = refused(lambda r=registry, e=escrow: NotaryClient.deploy(w.deployer.sender, r, e))
        assert error.name == "NotaryZeroAddress"
    assert call(w.notary.fn.escrow()) == w.escrow.address


def test_publish_copy__round_trip_through_the_chain_for_both_parties(notary_world):
    w = notary_world
    terms, sealed = notarised(w)
    oid = terms.order_id()
    w.notary.publish_copy(
        w.send(w.seller_key), oid, sealed, public_key_of(w.buyer.account), public_key_of(w.seller.account)
    )
    assert w.notary.recover_contract(oid, w.buyer.account) == sealed
    assert w.notary.recover_contract(oid, w.seller.account) == sealed
    with pytest.raises(CopyUnreadable):
        w.notary.recover_contract(oid, w.stranger.account)


def test_publish_copy__by_a_non_party__reverts(notary_world):
    w = notary_world
    terms, sealed = notarised(w)
    error = refused(
        lambda: w.notary.publish_copy(
            w.other.sender,
            terms.order_id(),
            sealed,
            public_key_of(w.buyer.account),
            public_key_of(w.seller.account),
        )
    )
    assert (error.name, error.arguments) == (
        "NotaryNotParty",
        {"orderId": terms.order_id(), "caller": w.other.address},
    )


def test_publish_copy__unknown_order__reverts(notary_world):
    w = notary_world
    oid = w.terms(rfq_id=98).order_id()
    error = refused(lambda: w.buyer.sender.transact(w.notary.fn.publishCopy(oid, b"a", b"b")))
    assert error.name in ("NotaryUnknownOrder", "NotaryNotParty")
    assert error.arguments["orderId"] == oid


def test_reveal__matching_document__is_proved_on_chain(notary_world, gas):
    w = notary_world
    terms, sealed = notarised(w, salt=b"\x02" * 32)  # a fixed salt: calldata, hence gas, is stable
    receipt = w.notary.reveal(w.stranger.sender, terms.order_id(), sealed)
    [revealed] = w.notary.events(receipt, "ContractRevealed")
    assert (revealed["salt"], revealed["document"]) == (sealed.salt, sealed.document)
    gas.check("ContractNotary.reveal", receipt.gas_used)


def test_reveal__wrong_document_or_salt__reverts(notary_world):
    w = notary_world
    terms, sealed = notarised(w)
    oid = terms.order_id()
    forged = seal_contract({**DOCUMENT, "monthlyCharge": "1"}, salt=sealed.salt)
    error = refused(lambda: w.notary.reveal(w.buyer.sender, oid, forged))
    assert (error.name, error.arguments) == (
        "NotaryRevealMismatch",
        {"orderId": oid, "commitment": sealed.commitment, "computed": forged.commitment},
    )
    assert not w.notary.verify(oid, forged)
    assert not w.notary.verify(oid, seal_contract(DOCUMENT))  # right document, other salt
    assert w.notary.verify(oid, sealed)
