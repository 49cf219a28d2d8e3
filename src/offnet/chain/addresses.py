"""Addresses of contracts before they are deployed (CREATE: keccak256(rlp([sender, nonce])))."""

from __future__ import annotations

import re

import rlp
from eth_utils import is_checksum_address, keccak, to_canonical_address, to_checksum_address

from offnet.exceptions import InvalidInput

_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def checked_address(value: object, what: str = "address") -> str:
    """A typed address as its EIP-55 checksummed form, or InvalidInput naming `what`.

    All lower-case (or all upper-case) hex carries no checksum and is accepted; mixed case is an
    EIP-55 checksum and must be right: a wrong one is most likely a mistyped address.
    """
    if not isinstance(value, str) or not _HEX_ADDRESS.fullmatch(value):
        raise InvalidInput(f"invalid {what}: {value!r} is not a 0x-prefixed 20-byte address")
    body = value[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise InvalidInput(
            f"invalid {what}: {value} fails its EIP-55 checksum (a mistyped address?); "
            "check it, or give it all in lower case to skip the check"
        )
    return to_checksum_address(value)


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
