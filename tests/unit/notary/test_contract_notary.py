"""ContractNotary: commitments signed by both parties, encrypted copies in event data, reveal."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak

from offnet.chain.tx import call
from offnet.exceptions import ContractRevert, CopyUnreadable
from offnet.market.notary import public_key_of, seal_contract, sign_contract_commitment

ORDER = keccak(text="order-1")
ZERO = "0x" + "00" * 20
DOCUMENT = {"buyer": "carrier A", "seller": "carrier B", "monthlyCharge": "1000000000", "termMonths": 36}


def refused(action) -> ContractRevert:
    with pytest.raises(ContractRevert) as caught:
        action()
    return caught.value


def notarise(world, sealed, *, buyer_signer=None, seller_signer=None, order=ORDER, sender=None):
    domain = world.notary.domain
    buyer_sig = sign_contract_commitment(buyer_signer or world.buyer, domain, order, sealed.commitment)
    seller_sig = sign_contract_commitment(seller_signer or world.seller_key, domain, order, sealed.commitment)
    return world.notary.notarise(
        sender or world.send(world.stranger),
        order,
        sealed.commitment,
        world.buyer.address,
        world.seller.address,
        buyer_sig,
        seller_sig,
    )


def test_notarise__both_parties_signed__stores_the_commitment(world, gas):
    sealed = seal_contract(DOCUMENT, salt=b"\x01" * 32)
    receipt = notarise(world, sealed)
    assert world.notary.events(receipt, "ContractNotarised") == [
        {
            "orderId": ORDER,
            "buyer": world.buyer.address,
            "seller": world.seller.address,
            "commitment": sealed.commitment,
        }
    ]
    assert world.notary.record(ORDER).commitment == sealed.commitment
    assert sealed.commitment == call(world.notary.fn.commitmentOf(sealed.salt, sealed.document))
    gas.check("ContractNotary.notarise", receipt.gas_used)


def test_notarise__python_digest_matches_the_contract(world):
    sealed = seal_contract(DOCUMENT)
    sig = sign_contract_commitment(world.buyer, world.notary.domain, ORDER, sealed.commitment)
    digest = call(world.notary.fn.contractDigest(ORDER, sealed.commitment))
    assert Account._recover_hash(digest, signature=sig) == world.buyer.address


def test_notarise__seller_signature_by_a_stranger__reverts(world):
    sealed = seal_contract(DOCUMENT)
    error = refused(lambda: notarise(world, sealed, seller_signer=world.stranger))
    assert (error.name, error.arguments) == (
        "NotaryWrongSigner",
        {"party": world.seller.address, "signer": world.stranger.address},
    )
    assert world.notary.record(ORDER).commitment == bytes(32)


def test_notarise__signature_for_another_order__reverts(world):
    sealed = seal_contract(DOCUMENT)
    domain = world.notary.domain
    other = sign_contract_commitment(world.buyer, domain, keccak(text="order-2"), sealed.commitment)
    seller_sig = sign_contract_commitment(world.seller, domain, ORDER, sealed.commitment)
    error = refused(
        lambda: world.notary.notarise(
            world.send(world.buyer),
            ORDER,
            sealed.commitment,
            world.buyer.address,
            world.seller.address,
            other,
            seller_sig,
        )
    )
    assert error.name == "NotaryWrongSigner" and error.arguments["party"] == world.buyer.address


def test_notarise__twice__reverts(world):
    sealed = seal_contract(DOCUMENT)
    notarise(world, sealed)
    error = refused(lambda: notarise(world, seal_contract({"other": 1})))
    assert (error.name, error.arguments) == (
        "NotaryAlreadyNotarised",
        {"orderId": ORDER, "commitment": sealed.commitment},
    )


def test_notarise__zero_commitment__reverts(world):
    error = refused(
        lambda: world.notary.notarise(
            world.send(world.buyer), ORDER, bytes(32), world.buyer.address, world.seller.address, b"", b""
        )
    )
    assert (error.name, error.arguments) == ("NotaryZeroCommitment", {"orderId": ORDER})


def test_deploy__zero_registry_or_escrow__reverts(world):
    from offnet.market.notary import NotaryClient

    for registry, escrow in ((ZERO, world.escrow.address), (world.notary.address, ZERO)):
        error = refused(lambda r=registry, e=escrow: NotaryClient.deploy(world.deployer, r, e))
        assert error.name == "NotaryZeroAddress"
    assert call(world.notary.fn.escrow()) == world.escrow.address


def test_publish_copy__round_trip_through_the_chain_for_both_parties(world):
    sealed = seal_contract(DOCUMENT)
    notarise(world, sealed)
    world.notary.publish_copy(
        world.send(world.seller_key), ORDER, sealed, public_key_of(world.buyer), public_key_of(world.seller)
    )
    assert world.notary.recover_contract(ORDER, world.buyer) == sealed
    assert world.notary.recover_contract(ORDER, world.seller) == sealed
    with pytest.raises(CopyUnreadable):
        world.notary.recover_contract(ORDER, world.stranger)


def test_publish_copy__by_a_non_party__reverts(world):
    sealed = seal_contract(DOCUMENT)
    notarise(world, sealed)
    error = refused(
        lambda: world.notary.publish_copy(
            world.send(world.stranger), ORDER, sealed, public_key_of(world.buyer), public_key_of(world.seller)
        )
    )
    assert (error.name, error.arguments) == (
        "NotaryNotParty",
        {"orderId": ORDER, "caller": world.stranger.address},
    )


def test_publish_copy__unknown_order__reverts(world):
    error = refused(lambda: world.send(world.buyer).transact(world.notary.fn.publishCopy(ORDER, b"a", b"b")))
    assert (error.name, error.arguments) == ("NotaryUnknownOrder", {"orderId": ORDER})


def test_reveal__matching_document__is_proved_on_chain(world, gas):
    sealed = seal_contract(DOCUMENT, salt=b"\x02" * 32)  # a fixed salt: calldata, hence gas, is stable
    notarise(world, sealed)
    receipt = world.notary.reveal(world.send(world.stranger), ORDER, sealed)
    [revealed] = world.notary.events(receipt, "ContractRevealed")
    assert (revealed["salt"], revealed["document"]) == (sealed.salt, sealed.document)
    gas.check("ContractNotary.reveal", receipt.gas_used)


def test_reveal__wrong_document_or_salt__reverts(world):
    sealed = seal_contract(DOCUMENT)
    notarise(world, sealed)
    forged = seal_contract({**DOCUMENT, "monthlyCharge": "1"}, salt=sealed.salt)
    error = refused(lambda: world.notary.reveal(world.send(world.buyer), ORDER, forged))
    assert (error.name, error.arguments) == (
        "NotaryRevealMismatch",
        {"orderId": ORDER, "commitment": sealed.commitment, "computed": forged.commitment},
    )
    assert not world.notary.verify(ORDER, forged)
    assert not world.notary.verify(ORDER, seal_contract(DOCUMENT))  # right document, other salt
    assert world.notary.verify(ORDER, sealed)
