"""Decoding reverts into the contracts' custom errors, with their arguments."""

from __future__ import annotations

from functools import cache

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from offnet.chain.artifacts import abi_type_string, all_abi_entries
from offnet.exceptions import ContractRevert

# Errors the compiler or OpenZeppelin raise without a project ABI entry.
_BUILTIN = {
    bytes.fromhex("08c379a0"): ("Error", [{"name": "message", "type": "string"}]),
    bytes.fromhex("4e487b71"): ("Panic", [{"name": "code", "type": "uint256"}]),
}


@cache
def _error_table() -> dict[bytes, tuple[str, list[dict]]]:
    table = dict(_BUILTIN)
    for entry in all_abi_entries():
        if entry.get("type") != "error":
            continue
        signature = f"{entry['name']}({','.join(abi_type_string(p) for p in entry['inputs'])})"
        table[keccak(text=signature)[:4]] = (entry["name"], entry["inputs"])
    return table


def error_inputs(data: bytes | None) -> list[dict] | None:
    """The ABI inputs (names, types, internal types) of the custom error `data` encodes, if known."""
    known = _error_table().get(bytes(data or b"")[:4])
    return known[1] if known else None


def decode_revert(data: bytes | str | None) -> ContractRevert:
    """Turn raw revert data into a ContractRevert naming the custom error and its arguments."""
    if isinstance(data, str):
        data = bytes.fromhex(data[2:] if data.startswith("0x") else data)
    data = data or b""
    if len(data) < 4:
        return ContractRevert("Reverted", {}, data)
    known = _error_table().get(data[:4])
    if known is None:
        return ContractRevert("UnknownError", {"selector": data[:4], "data": data[4:]}, data)
    name, inputs = known
    values = decode([abi_type_string(p) for p in inputs], data[4:])
    args = {}
    for i, (param, value) in enumerate(zip(inputs, values, strict=True)):
        if param["type"] == "address":
            value = to_checksum_address(value)
        args[param["name"] or f"arg{i}"] = value
    return ContractRevert(name, args, data)
