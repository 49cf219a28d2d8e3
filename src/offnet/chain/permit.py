"""EIP-2612 permits: a buyer approves the escrow by signature instead of a separate transaction."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from offnet.chain.eip712 import Eip712Domain, struct_types

# EIP-2612's typed message.
PERMIT_TYPES = struct_types(
    Permit=[
        ("owner", "address"),
        ("spender", "address"),
        ("value", "uint256"),
        ("nonce", "uint256"),
        ("deadline", "uint256"),
    ]
)


@dataclass(frozen=True)
class Permit:
    """A signed EIP-2612 permit, ready to pass to a contract."""

    owner: str
    spender: str
    value: int
    deadline: int
    v: int
    r: bytes
    s: bytes


def sign_permit(owner: LocalAccount, token: Contract, spender: str, value: int, deadline: int) -> Permit:
    """Sign a permit for `token` (its EIP-712 domain is read from the token itself, EIP-5267)."""
    _, name, version, chain_id, verifying_contract, _, _ = token.functions.eip712Domain().call()
    nonce = token.functions.nonces(owner.address).call()
    message = encode_typed_data(
        domain_data=Eip712Domain(chain_id, verifying_contract, name, version).as_dict(),
        message_types=PERMIT_TYPES,
        message_data={
            "owner": owner.address,
            "spender": spender,
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    )
    signed = owner.sign_message(message)
    return Permit(
        owner.address,
        spender,
        value,
        deadline,
        signed.v,
        signed.r.to_bytes(32, "big"),
        signed.s.to_bytes(32, "big"),
    )
