"""Addresses of contracts before they are deployed (CREATE: keccak256(rlp([sender, nonce])))."""

from __future__ import annotations

import rlp
from eth_utils import keccak, to_canonical_address, to_checksum_address


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE transaction from `sender` with `nonce` deploys to."""
    if nonce < 0:
        raise ValueError(f"a nonce cannot be negative ({nonce})")
    encoded = rlp.encode([to_canonical_address(sender), nonce])
    return to_checksum_address(keccak(encoded)[12:])


def predict_deployments(sender: str, first_nonce: int, count: int) -> list[str]:
    """The addresses of `count` contracts `sender` deploys in a row, the first with `first_nonce`.

    Lets contracts that point at each other take the others' addresses as constructor immutables.
    """
    return [create_address(sender, first_nonce + i) for i in range(count)]
