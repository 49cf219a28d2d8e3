"""EIP-712 typed data as offnet writes it: one domain shape, one way to list a struct's fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address


@dataclass(frozen=True)
class Eip712Domain:
    """An EIP-712 domain of name, version, chain id and verifying contract (no salt)."""

    chain_id: int
    verifying_contract: str
    name: str
    version: str

    def as_dict(self) -> dict[str, Any]:
        """The domain as `encode_typed_data` takes it."""
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


def struct_types(**structs: Sequence[tuple[str, str]]) -> dict[str, list[dict[str, str]]]:
    """EIP-712 message types from each struct's (field name, Solidity type) pairs, in order."""
    return {
        struct: [{"name": name, "type": kind} for name, kind in members]
        for struct, members in structs.items()
    }
