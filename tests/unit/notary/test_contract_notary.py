"""ContractNotary: commitments signed by both parties, encrypted copies in event data, reveal."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak

from offnet.chain.tx import call
from offnet.exceptions import CopyUnreadable
from offnet.market.notary import NotaryClient, public_key_of, seal_contract, sign_contract_commitment
from offnet.testing.world import refuses

ORDER = keccak(text="order-1")
ZERO = "0x" + "00" * 20
DOCUMENT = {"buyer": "carrier A", "seller": "carrier B", "monthlyCharge": "1000000000", "termMonths": 36}


def notarise(world, sealed, *, buyer_signer=None, seller_signer=None, order=ORDER, sender=None):
    domain = world.notary.domain
    buyer_sig = sign_contract_commitment(
        (buyer_signer or world.buyer).account, domain, order, sealed.commitment
    )
    seller_sig = sign_contract_commitment(
        (seller_signer or world.seller_key).account, domain, order, sealed.commitment
    )
    return world.notary.notarise(
        sender or world.outsider.sender,
        order,
        sealed.commitment,
        world.buyer.address,
        world.seller.address,
        buyer_sig,
        seller_sig,
    )


def publish_copy(world, sender, sealed):
    """`sender` publishes the copies of `sealed` for the buyer and the seller of ORDER."""
    keys = public_key_of(world.buyer.account), public_key_of(world.seller.account)
    return world.notary.publish_copy(sender.sender, ORDER, sealed, *keys)


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
    sig = sign_contract_commitment(world.buyer.account, world.notary.domain, ORDER, sealed.commitment)
    digest = call(world.notary.fn.contractDigest(ORDER, sealed.commitment))
    assert Account._recover_hash(digest, signature=sig) == world.buyer.address


def test_notarise__seller_signature_by_a_stranger__reverts(world):
    sealed = seal_contract(DOCUMENT)
    with refuses("NotaryWrongSigner", party=world.seller.address, signer=world.outsider.address):
        notarise(world, sealed, seller_signer=world.outsider)
    assert world.notary.record(ORDER).commitment == bytes(32)


def test_notarise__signature_for_another_order__reverts(world):
    sealed = seal_contract(DOCUMENT)
    domain = world.notary.domain
    other = sign_contract_commitment(world.buyer.account, domain, keccak(text="order-2"), sealed.commitment)
    seller_sig = sign_contract_commitment(world.seller.account, domain, ORDER, sealed.commitment)
    with refuses("NotaryWrongSigner") as refused:
        world.notary.notarise(
            world.buyer.sender,
            ORDER,
            sealed.commitment,
            world.buyer.address,
            world.seller.address,
            other,
            seller_sig,
        )
    assert refused.value.arguments["party"] == world.buyer.address


def test_notarise__twice__reverts(world):
    sealed = seal_contract(DOCUMENT)
    notarise(world, sealed)
    with refuses("NotaryAlreadyNotarised", orderId=ORDER, commitment=sealed.commitment):
        notarise(world, seal_contract({"other": 1}))


def test_notarise__zero_commitment__reverts(world):
    with refuses("NotaryZeroCommitment", orderId=ORDER):
        world.notary.notarise(
            world.buyer.sender, ORDER, bytes(32), world.buyer.address, world.seller.address, b"", b""
        )


def test_deploy__zero_registry_or_escrow__reverts(world):
    for registry, escrow in ((ZERO, world.escrow.address), (world.notary.address, ZERO)):
        with refuses("NotaryZeroAddress"):
            NotaryClient.deploy(world.deployer.sender, registry, escrow)
    assert call(world.notary.fn.escrow()) == world.escrow.address


def test_publish_copy__round_trip_through_the_chain_for_both_parties(world):
    sealed = seal_contract(DOCUMENT)
    notarise(world, sealed)
    publish_copy(world, world.seller_key, sealed)
    assert world.notary.recover_contract(ORDER, world.buyer.account) == sealed
    assert world.notary.recover_contract(ORDER, world.seller.account) == sealed
    with pytest.raises(CopyUnreadable):
        world.notary.recover_contract(ORDER, world.outsider.account)


def test_publish_copy__by_a_non_party__reverts(world):
    sealed = seal_contract(DOCUMENT)
    notarise(world, sealed)
    with refuses("NotaryNotParty", orderId=ORDER, caller=world.outsider.address):
        publish_copy(world, world.outsider, sealed)


def test_publish_copy__unknown_order__reverts(world):
    with refuses("NotaryUnknownOrder", orderId=ORDER):
        world.buyer.sender.transact(world.notary.fn.publishCopy(ORDER, b"a", b"b"))


def test_reveal__matching_document__is_proved_on_chain(world, gas):
    sealed = seal_contract(DOCUMENT, salt=b"\x02" * 32)  # a fixed salt: calldata, hence gas, is stable
    notarise(world, sealed)
    receipt = world.notary.reveal(world.outsider.sender, ORDER, sealed)
    [revealed] = world.notary.events(receipt, "ContractRevealed")
    assert (revealed["salt"], revealed["document"]) == (sealed.salt, sealed.document)
    gas.check("ContractNotary.reveal", receipt.gas_used)


def test_reveal__wrong_document_or_salt__reverts(world):
    sealed = seal_contract(DOCUMENT)
    notarise(world, sealed)
    forged = seal_contract({**DOCUMENT, "monthlyCharge": "1"}, salt=sealed.salt)
    with refuses(
        "NotaryRevealMismatch", orderId=ORDER, commitment=sealed.commitment, computed=forged.commitment
    ):
        world.notary.reveal(world.buyer.sender, ORDER, forged)
    assert not world.notary.verify(ORDER, forged)
    assert not world.notary.verify(ORDER, seal_contract(DOCUMENT))  # right document, other salt
    assert world.notary.verify(ORDER, sealed)
