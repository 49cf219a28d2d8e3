"""A lean JSON-RPC path to a real anvil for the stateful campaign: batched reads and locally signed
transactions without web3's per-call middleware (which costs ~20 ms a call on this machine).

Transactions are still real: signed by the actor's key, mined by anvil, refused by the contract. A call is
first simulated with `eth_call` from the actor, so a refusal is decoded into the contract's custom error
(offnet.chain.errors.decode_revert) and nothing is sent, exactly as offnet's own Sender does when its gas
estimate reverts.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from eth_abi import decode, encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3._utils.events import get_event_data

from offnet.chain import ContractRevert, decode_revert

GAS_LIMIT = 6_000_000
GAS_PRICE = 2 * 10**9


class RpcError(RuntimeError):
    """A JSON-RPC error that is not a contract revert."""


@dataclass(frozen=True)
class Read:
    """One eth_call to batch: target, calldata and the ABI types of its result."""

    to: str
    data: str
    types: tuple[str, ...]


class FastRpc:
    """Plain JSON-RPC over one keep-alive HTTP connection."""

    def __init__(self, url: str, chain_id: int):
        self.url = url
        self.chain_id = chain_id
        self.client = httpx.Client(timeout=30)
        self.ids = itertools.count(1)

    def request(self, method: str, params: list[Any]) -> Any:
        reply = self.client.post(
            self.url, json={"jsonrpc": "2.0", "id": next(self.ids), "method": method, "params": params}
        ).json()
        if "error" in reply:
            raise RpcError(f"{method}: {reply['error']}")
        return reply["result"]

    def read_many(self, reads: Sequence[Read]) -> list[tuple]:
        """Run every read in one batched request; returns the decoded results in order."""
        if not reads:
            return []
        batch = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_call",
                "params": [{"to": r.to, "data": r.data}, "latest"],
            }
            for i, r in enumerate(reads)
        ]
        replies = sorted(self.client.post(self.url, json=batch).json(), key=lambda reply: reply["id"])
        out = []
        for read, reply in zip(reads, replies, strict=True):
            if "error" in reply:
                raise RpcError(f"read {read.data[:10]} at {read.to}: {reply['error']}")
            out.append(decode(list(read.types), bytes.fromhex(reply["result"][2:])))
        return out

    def now(self) -> int:
        return int(self.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def snapshot(self) -> str:
        return self.request("evm_snapshot", [])

    def revert(self, snapshot_id: str) -> None:
        if not self.request("evm_revert", [snapshot_id]):
            raise RpcError(f"evm_revert({snapshot_id}) refused")

    def advance_time(self, seconds: int) -> None:
        self.request("evm_increaseTime", [int(seconds)])
        self.request("evm_mine", [])


@dataclass(frozen=True)
class Call:
    """One encoded contract call: what web3's ContractFunction gives, without its per-call cost."""

    address: str
    data: str
    fn_name: str
    outputs: tuple[str, ...]


class Functions:
    """`contract.functions`-like factory of encoded Calls (selectors and types computed once)."""

    def __init__(self, contract: Any):
        self._address = contract.address
        self._table = {}
        for entry in contract.abi:
            if entry.get("type") == "function":
                inputs = [_type(i) for i in entry["inputs"]]
                selector = keccak(text=f"{entry['name']}({','.join(inputs)})")[:4]
                self._table[entry["name"]] = (selector, inputs, tuple(_type(o) for o in entry["outputs"]))

    def __getattr__(self, name: str) -> Any:
        try:
            selector, inputs, outputs = self._table[name]
        except KeyError:
            raise AttributeError(name) from None

        def build(*args: Any) -> Call:
            data = "0x" + (selector + encode(inputs, list(args))).hex()
            return Call(self._address, data, name, outputs)

        return build


def encoded(call: Call) -> tuple[str, str]:
    """(target, calldata) of an encoded call."""
    return call.address, call.data


def read_of(call: Call) -> Read:
    """A batched Read of an encoded view call."""
    return Read(call.address, call.data, call.outputs)


def _type(param: dict) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + param["type"][5:]
    return param["type"]


@dataclass
class Mined:
    """A mined transaction: its hash, block, timestamp and decoded events."""

    tx_hash: str
    block_number: int
    timestamp: int
    events: list[tuple[str, str, dict]]  # (contract address, event name, args)

    def named(self, name: str) -> list[dict]:
        return [args for _, n, args in self.events if n == name]


class EventBook:
    """topic0 -> event ABI for every contract of the suite, to decode receipts in one pass."""

    def __init__(self, w3: Any, abis: Sequence[list[dict]]):
        self.codec = w3.codec
        self.table: dict[bytes, dict] = {}
        for abi in abis:
            for entry in abi:
                if entry.get("type") == "event" and not entry.get("anonymous"):
                    signature = f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"
                    self.table[keccak(text=signature)] = entry

    def decode(self, logs: list[dict]) -> list[tuple[str, str, dict]]:
        out = []
        for log in logs:
            topics = [HexBytes(t) for t in log["topics"]]
            entry = self.table.get(bytes(topics[0])) if topics else None
            if entry is None:
                continue
            formatted = {
                **log,
                "topics": topics,
                "data": HexBytes(log["data"]),
                "logIndex": int(log["logIndex"], 16),
                "transactionIndex": int(log["transactionIndex"], 16),
                "blockNumber": int(log["blockNumber"], 16),
                "address": to_checksum_address(log["address"]),
                "transactionHash": HexBytes(log["transactionHash"]),
                "blockHash": HexBytes(log["blockHash"]),
            }
            try:
                event = get_event_data(self.codec, entry, formatted)
            except Exception:  # an ERC-20 Transfer shares a topic layout we do not need
                continue
            out.append((formatted["address"], entry["name"], dict(event["args"])))
        return out


class FastSender:
    """Signs and sends one actor's transactions through FastRpc."""

    def __init__(self, rpc: FastRpc, account: LocalAccount, book: EventBook):
        self.rpc = rpc
        self.account = account
        self.book = book
        self.nonce: int | None = None

    @property
    def address(self) -> str:
        return self.account.address

    def forget_nonce(self) -> None:
        self.nonce = None

    def simulate(self, to: str, data: str) -> None:
        """Raise the decoded ContractRevert when the call would be refused."""
        reply = self.rpc.client.post(
            self.rpc.url,
            json={
                "jsonrpc": "2.0",
                "id": next(self.rpc.ids),
                "method": "eth_call",
                "params": [{"from": self.address, "to": to, "data": data, "gas": hex(GAS_LIMIT)}, "pending"],
            },
        ).json()
        if "error" in reply:
            raw = reply["error"].get("data")
            if isinstance(raw, dict):
                raw = raw.get("data")
            if isinstance(raw, str) and raw.startswith("0x"):
                raise decode_revert(raw)
            raise ContractRevert("Reverted", {"message": reply["error"].get("message")})

    def transact(self, call: Any) -> Mined:
        """Simulate, then sign, send and mine `call`; ContractRevert when refused."""
        to, data = encoded(call)
        return self.send(to, data)

    def send(self, to: str, data: str) -> Mined:
        self.simulate(to, data)
        if self.nonce is None:
            self.nonce = int(self.rpc.request("eth_getTransactionCount", [self.address, "pending"]), 16)
        tx = {
            "to": to,
            "data": data,
            "value": 0,
            "gas": GAS_LIMIT,
            "gasPrice": GAS_PRICE,
            "nonce": self.nonce,
            "chainId": self.rpc.chain_id,
        }
        signed = self.account.sign_transaction(tx)
        self.nonce += 1
        tx_hash = self.rpc.request("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
        receipt = self.rpc.request("eth_getTransactionReceipt", [tx_hash])
        for _ in range(100):
            if receipt is not None:
                break
            time.sleep(0.02)
            receipt = self.rpc.request("eth_getTransactionReceipt", [tx_hash])
        else:
            pool = self.rpc.request("txpool_inspect", [])
            raise RpcError(f"{tx_hash} (nonce {tx['nonce']}) not mined; pool: {pool}")
        block = self.rpc.request("eth_getBlockByNumber", [receipt["blockNumber"], False])
        if int(receipt["status"], 16) != 1:
            # Simulated fine but refused when mined (the block clock moved a second): nothing changed.
            raise ContractRevert("RevertedWhenMined", {"tx": tx_hash})
        return Mined(
            tx_hash,
            int(receipt["blockNumber"], 16),
            int(block["timestamp"], 16),
            self.book.decode(receipt["logs"]),
        )
