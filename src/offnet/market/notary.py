"""ContractNotary: the financial contract as a hiding commitment, its ECIES copies, and reveal.

commitment = keccak256(salt || keccak256(document)), document = canonical JSON of the contract.
Each party's copy is ECIES (secp256k1, eciespy) of `salt || document` under that party's public
key, published in event data; either party recovers the contract from the chain with its key alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ecies
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from offnet.chain import ContractClient, Receipt, Sender
from offnet.chain.eip712 import Eip712Domain, struct_types
from offnet.chain.tx import call
from offnet.exceptions import CopyUnreadable
from offnet.market.quotes import Quote
from offnet.market.types import OrderTerms
from offnet.sonata.canonical import canonical_json

NOTARY_DOMAIN_NAME = "offnet ContractNotary"
NOTARY_DOMAIN_VERSION = "1"
SALT_BYTES = 32

_CONTRACT_TYPES = struct_types(
    ContractCommitment=[
        ("orderId", "bytes32"),
        ("buyer", "address"),
        ("seller", "address"),
        ("commitment", "bytes32"),
    ]
)


@dataclass(frozen=True)
class SealedContract:
    """A financial contract ready to notarise: its canonical bytes, the salt and the commitment."""

    document: bytes
    salt: bytes

    @property
    def commitment(self) -> bytes:
        return keccak(self.salt + keccak(self.document))

    def plaintext(self) -> bytes:
        """What each party's encrypted copy holds: salt || document."""
        return self.salt + self.document

    @classmethod
    def from_plaintext(cls, plaintext: bytes) -> SealedContract:
        return cls(document=plaintext[SALT_BYTES:], salt=plaintext[:SALT_BYTES])


def seal_contract(document: Any, salt: bytes | None = None) -> SealedContract:
    """Canonicalise `document` (a JSON-compatible value or pydantic model) under a fresh random salt."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    if len(salt) != SALT_BYTES:
        raise ValueError(f"the salt must be {SALT_BYTES} bytes, got {len(salt)}")
    return SealedContract(canonical_json(document), bytes(salt))


def financial_contract(
    quote: Quote | OrderTerms,
    *,
    sla_objectives: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The financial contract of a quote (or of an order's terms, for a contract agreed after the
    award): parties, prices, term, SLA objectives, credits."""
    c = quote.credits
    seller = quote.provider if isinstance(quote, Quote) else quote.seller
    return {
        "rfqId": str(quote.rfq_id),
        "buyer": to_checksum_address(quote.buyer),
        "seller": to_checksum_address(seller),
        "token": to_checksum_address(quote.token),
        "oneTimeCharge": str(quote.one_time_charge),
        "monthlyCharge": str(quote.monthly_charge),
        "termMonths": quote.term_months,
        "installDays": quote.install_days,
        "prepaidMonths": quote.prepaid_months,
        "slaTermsHash": "0x" + bytes(quote.sla_terms_hash).hex(),
        "slaObjectives": dict(sla_objectives or {}),
        "creditSchedule": {
            "lateDeliveryBpsPerDay": c.late_delivery_bps_per_day,
            "lateDeliveryCapBps": c.late_delivery_cap_bps,
            "availabilityObjectivePpm": c.availability_objective_ppm,
            "availabilityCreditBps": c.availability_credit_bps,
            "frameDelayObjectiveUs": c.frame_delay_objective_us,
            "frameDelayCreditBps": c.frame_delay_credit_bps,
            "frameLossObjectivePpm": c.frame_loss_objective_ppm,
            "frameLossCreditBps": c.frame_loss_credit_bps,
            "timeToRestoreObjectiveSec": c.time_to_restore_objective_sec,
            "timeToRestoreCreditBps": c.time_to_restore_credit_bps,
            "monthlyCreditCapBps": c.monthly_credit_cap_bps,
        },
        **dict(extra or {}),
    }


# --- ECIES copies -----------------------------------------------------------------------------------


def public_key_of(account: LocalAccount) -> bytes:
    """The 64-byte uncompressed secp256k1 public key of a local account."""
    return keys.PrivateKey(bytes(account.key)).public_key.to_bytes()


def encrypt_copy(sealed: SealedContract, public_key: bytes) -> bytes:
    """ECIES-encrypt `salt || document` for the holder of `public_key`."""
    return ecies.encrypt(b"\x04" + bytes(public_key), sealed.plaintext())


def decrypt_copy(account: LocalAccount, ciphertext: bytes) -> SealedContract:
    """Decrypt a copy with the party's key (raises ValueError when it is not for this key)."""
    return SealedContract.from_plaintext(ecies.decrypt(bytes(account.key), bytes(ciphertext)))


# --- EIP-712 signatures of both parties ---------------------------------------------------------------


@dataclass(frozen=True)
class NotaryDomain(Eip712Domain):
    """The EIP-712 domain of one deployed ContractNotary."""

    name: str = NOTARY_DOMAIN_NAME
    version: str = NOTARY_DOMAIN_VERSION


def sign_contract_commitment(
    signer: LocalAccount, domain: NotaryDomain, terms: OrderTerms, commitment: bytes
) -> bytes:
    """A party's signature binding `commitment` to an existing order and both its parties."""
    message = encode_typed_data(
        domain_data=domain.as_dict(),
        message_types=_CONTRACT_TYPES,
        message_data={
            "orderId": terms.order_id(),
            "buyer": to_checksum_address(terms.buyer),
            "seller": to_checksum_address(terms.seller),
            "commitment": bytes(commitment),
        },
    )
    return bytes(signer.sign_message(message).signature)


# --- the client -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotaryRecord:
    commitment: bytes
    buyer_tag: int
    seller_tag: int


class NotaryClient(ContractClient):
    """Typed calls to one deployed ContractNotary."""

    CONTRACT = "ContractNotary"

    @classmethod
    def deploy(cls, deployer: Sender, registry: str, escrow: str) -> tuple[NotaryClient, Receipt]:
        """Deploy a notary for `registry` whose awarded contracts belong to orders of `escrow`."""
        return cls._deploy(deployer, registry, escrow)

    @property
    def domain(self) -> NotaryDomain:
        return NotaryDomain(self.chain.chain_id, self.address)

    def notarise(
        self, sender: Sender, terms: OrderTerms, commitment: bytes, buyer_sig: bytes, seller_sig: bytes
    ) -> Receipt:
        """Store the commitment of an opened order given its buyer's and seller's signatures."""
        return sender.transact(self.fn.notarise(terms.to_tuple(), commitment, buyer_sig, seller_sig))

    def publish_copy(
        self, party: Sender, order_id: bytes, sealed: SealedContract, buyer_key: bytes, seller_key: bytes
    ) -> Receipt:
        """Encrypt the contract for both parties' public keys and publish both copies (a party only)."""
        return party.transact(
            self.fn.publishCopy(order_id, encrypt_copy(sealed, buyer_key), encrypt_copy(sealed, seller_key))
        )

    def reveal(self, sender: Sender, order_id: bytes, sealed: SealedContract) -> Receipt:
        """Prove on chain that the document and salt match the commitment."""
        return sender.transact(self.fn.reveal(order_id, sealed.salt, sealed.document))

    def verify(self, order_id: bytes, sealed: SealedContract) -> bool:
        return call(self.fn.verify(order_id, sealed.salt, sealed.document))

    # --- contracts notarised at award (the commitment is in the order's terms) ----------------------

    def publish_award_copy(
        self, party: Sender, terms: OrderTerms, sealed: SealedContract, buyer_key: bytes, seller_key: bytes
    ) -> Receipt:
        """`publish_copy` for an awarded order whose terms carry the contract hash (a party only)."""
        return party.transact(
            self.fn.publishAwardCopy(
                terms.to_tuple(), encrypt_copy(sealed, buyer_key), encrypt_copy(sealed, seller_key)
            )
        )

    def reveal_award(self, sender: Sender, terms: OrderTerms, sealed: SealedContract) -> Receipt:
        """Prove on chain that the document and salt match the contract hash of an awarded order."""
        return sender.transact(self.fn.revealAward(terms.to_tuple(), sealed.salt, sealed.document))

    def verify_award(self, terms: OrderTerms, sealed: SealedContract) -> bool:
        return call(self.fn.verifyAward(terms.to_tuple(), sealed.salt, sealed.document))

    def record(self, order_id: bytes) -> NotaryRecord:
        commitment, buyer_tag, seller_tag = call(self.fn.recordOf(order_id))
        return NotaryRecord(bytes(commitment), buyer_tag, seller_tag)

    def recover_contract(
        self, order_id: bytes, account: LocalAccount, commitment: bytes | None = None
    ) -> SealedContract:
        """Read the published copies of an order from the chain and decrypt the one for `account`.

        The newest copy that decrypts and matches the commitment wins, so a party's garbage
        publication cannot hide a good one. `commitment`: the order terms' contract hash for a
        contract notarised at award; by default, the notary's stored record.
        """
        if commitment is None:
            commitment = self.record(order_id).commitment
        for log in reversed(self.logs("ContractCopyPublished", orderId=order_id)):
            for field in ("ciphertextForBuyer", "ciphertextForSeller"):
                try:
                    sealed = decrypt_copy(account, log["args"][field])
                except Exception:  # not encrypted for this key, or corrupted: try the next copy
                    continue
                if sealed.commitment == commitment:
                    return sealed
        raise CopyUnreadable(f"no copy of order 0x{bytes(order_id).hex()} opens with {account.address}")
