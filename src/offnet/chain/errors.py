"""Decoding reverts into the contracts' custom errors, with their arguments."""

from __future__ import annotations

from functools import cache

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from offnet.chain.artifacts import all_abi_entries


class ContractRevert(Exception):
    """A transaction or call refused by a contract: the custom error's name and its arguments."""

    def __init__(self, name: str, args: dict[str, object], data: bytes = b""):
        self.name = name
        self.arguments = args
        self.data = data
        super().__init__(self.describe())

    def describe(self) -> str:
        inner = ", ".join(f"{k}={_show(v)}" for k, v in self.arguments.items())
        return f"{self.name}({inner})"


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _type_string(param: dict) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_type_string(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return param["type"]


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
        signature = f"{entry['name']}({','.join(_type_string(p) for p in entry['inputs'])})"
        table[keccak(text=signature)[:4]] = (entry["name"], entry["inputs"])
    return table


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
    values = decode([_type_string(p) for p in inputs], data[4:])
    args = {}
    for i, (param, value) in enumerate(zip(inputs, values, strict=True)):
        if param["type"] == "address":
            value = to_checksum_address(value)
        args[param["name"] or f"arg{i}"] = value
    return ContractRevert(name, args, data)
