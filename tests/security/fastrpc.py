"""A lean JSON-RPC path to a real anvil for the stateful campaign: batched reads and locally signed
transactions without web3's per-call middleware (which costs ~20 ms a call on this machine).

Transactions are still real: signed by the actor's key (EIP-155, secp256k1 through eth-keys), mined by
anvil, refused by the contract. A call is first simulated with `eth_call` from the actor, so a refusal is
decoded into the contract's custom error (offnet.chain.errors.decode_revert) and nothing is sent, exactly
as offnet's own Sender does when its gas estimate reverts. A call that passes is sent with anvil's
`eth_sendRawTransactionSync`, which answers with the mined receipt (block timestamp included): two round
trips a transaction, no polling.

Where the time went before this path (cProfile of 20 examples x 50 steps, see SECURITY.md): web3 and
httpx round trips, re-encoding the same calldata and re-hashing the same order and RFQ ids for every
invariant check, eth-abi's generic decoder on plain words, web3's event decoder, eth-account's
transaction validation. Each is replaced here by the plain equivalent; what anvil executes is unchanged.
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import rlp
from eth_abi import decode, encode
from eth_account.signers.local import LocalAccount
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from offnet.chain import decode_revert
from offnet.exceptions import ContractRevert

GAS_LIMIT = 6_000_000
GAS_PRICE = 2 * 10**9
HEADERS = {"Content-Type": "application/json"}


class RpcError(RuntimeError):
    """A JSON-RPC error that is not a contract revert."""


# --- decoding plain words -----------------------------------------------------------------------------

_STATIC = re.compile(r"^(u?int\d*|bool|address|bytes([1-9]|[12]\d|3[0-2]))$")


def _split_tuple(text: str) -> list[str]:
    """The component types of '(a,(b,c),d)'."""
    parts, depth, start = [], 0, 1
    for i, ch in enumerate(text[1:-1], start=1):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:-1])
    return [p for p in parts if p]


def _word_reader(abi_type: str) -> Callable[[bytes, int], tuple[Any, int]] | None:
    """A reader of one static ABI value at a word offset, or None when the type is not plain words."""
    if abi_type.startswith("(") and abi_type.endswith(")"):
        readers = [_word_reader(t) for t in _split_tuple(abi_type)]
        if any(r is None for r in readers):
            return None

        def read_tuple(data: bytes, at: int) -> tuple[Any, int]:
            values = []
            for reader in readers:
                value, at = reader(data, at)
                values.append(value)
            return tuple(values), at

        return read_tuple
    if not _STATIC.match(abi_type):
        return None
    if abi_type == "bool":
        return lambda data, at: (data[at + 31] == 1, at + 32)
    if abi_type == "address":
        return lambda data, at: ("0x" + data[at + 12 : at + 32].hex(), at + 32)
    if abi_type.startswith("bytes"):
        size = int(abi_type[5:])
        return lambda data, at: (data[at : at + size], at + 32)
    if abi_type.startswith("uint"):
        return lambda data, at: (int.from_bytes(data[at : at + 32], "big"), at + 32)
    return lambda data, at: (_signed(int.from_bytes(data[at : at + 32], "big")), at + 32)


def _signed(value: int) -> int:
    """A two's-complement word as a signed integer."""
    return value - (1 << 256) if value >> 255 else value


@cache
def decoder(types: tuple[str, ...]) -> Callable[[bytes], tuple]:
    """Decode a return value of `types`: by word slicing when every type is static, else with eth-abi.

    Gives exactly what eth_abi.decode gives (lower-case addresses, bools, bytesN, ints); the security
    suite checks that on every read type it uses (test_fastrpc.py).
    """
    readers = [_word_reader(t) for t in types]
    if any(r is None for r in readers):
        return lambda data: decode(list(types), data)

    def read(data: bytes) -> tuple:
        if len(data) < 32 * len(readers):
            return decode(list(types), data)  # let eth-abi raise its own error on short data
        values, at = [], 0
        for reader in readers:
            value, at = reader(data, at)
            values.append(value)
        return tuple(values)

    return read


def _int(value: Any) -> int:
    """A JSON-RPC quantity: a hex string, or a plain number (anvil's receipt blockTimestamp)."""
    return value if isinstance(value, int) else int(value, 16)


# --- transport --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """One eth_call to batch: target, calldata and the ABI types of its result."""

    to: str
    data: str
    types: tuple[str, ...]


class FastRpc:
    """Plain JSON-RPC over one keep-alive HTTP/1.1 connection (http.client: ~0.3 ms a round trip)."""

    def __init__(self, url: str, chain_id: int):
        parts = urlsplit(url)
        self.url = url
        self.chain_id = chain_id
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.ids = itertools.count(1)

    def post(self, payload: Any) -> Any:
        """POST one JSON-RPC payload (a request or a batch); reconnects once if the node closed the
        connection (a resent transaction is refused by its nonce, never mined twice)."""
        body = json.dumps(payload).encode()
        for attempt in (1, 2):
            try:
                self.connection.request("POST", self.path, body, HEADERS)
                return json.loads(self.connection.getresponse().read())
            except (http.client.RemoteDisconnected, ConnectionError, http.client.CannotSendRequest):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def call(self, method: str, params: list[Any]) -> dict:
        """One request; the raw reply (with `result` or `error`)."""
        return self.post({"jsonrpc": "2.0", "id": next(self.ids), "method": method, "params": params})

    def request(self, method: str, params: list[Any]) -> Any:
        reply = self.call(method, params)
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
        replies = sorted(self.post(batch), key=lambda reply: reply["id"])
        out = []
        for read, reply in zip(reads, replies, strict=True):
            if "error" in reply:
                raise RpcError(f"read {read.data[:10]} at {read.to}: {reply['error']}")
            out.append(decoder(read.types)(bytes.fromhex(reply["result"][2:])))
        return out

    def now(self) -> int:
        return int(self.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def snapshot(self) -> str:
        return self.request("evm_snapshot", [])

    def revert(self, snapshot_id: str) -> None:
        if not self.request("evm_revert", [snapshot_id]):
            raise RpcError(f"evm_revert({snapshot_id}) refused")

    def advance_time(self, seconds: int) -> None:
        # The next block's timestamp, set exactly: a node on a fixed clock ignores evm_increaseTime.
        self.request("evm_setNextBlockTimestamp", [self.now() + int(seconds)])
        self.request("evm_mine", [])


# --- calls --------------------------------------------------------------------------------------------


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


# --- events -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventShape:
    """What decoding one event needs: its name, indexed inputs (topics) and data inputs."""

    name: str
    topics: tuple[tuple[str, str], ...]  # (name, type) of each indexed input
    data: tuple[tuple[str, str], ...]  # (name, type) of each non-indexed input


class EventBook:
    """(contract address, topic0) -> event shape for every contract of the suite, to decode receipts' logs
    (keyed by address too: two contracts may emit events of one signature with different names)."""

    def __init__(self, contracts: Sequence[tuple[str, list[dict]]]):
        self.table: dict[tuple[str, str], EventShape] = {}
        for address, abi in contracts:
            for entry in abi:
                if entry.get("type") == "event" and not entry.get("anonymous"):
                    signature = f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"
                    topic = "0x" + keccak(text=signature).hex()
                    fields = [(i["name"], _type(i), i.get("indexed", False)) for i in entry["inputs"]]
                    self.table[(address.lower(), topic)] = EventShape(
                        entry["name"],
                        tuple((n, t) for n, t, indexed in fields if indexed),
                        tuple((n, t) for n, t, indexed in fields if not indexed),
                    )

    def shape_of(self, log: dict) -> EventShape | None:
        return self.table.get((log["address"].lower(), log["topics"][0])) if log["topics"] else None

    def decode(self, log: dict) -> dict | None:
        """The event's arguments as web3 names them (top-level addresses checksummed), or None when the
        log is not one of the suite's events."""
        shape = self.shape_of(log)
        if shape is None or len(log["topics"]) != 1 + len(shape.topics):
            return None
        args: dict[str, Any] = {}
        for (name, abi_type), topic in zip(shape.topics, log["topics"][1:], strict=True):
            raw = bytes.fromhex(topic[2:])  # an indexed string, bytes, array or struct is its hash
            args[name] = decoder((abi_type,))(raw)[0] if _STATIC.match(abi_type) else raw
        values = decoder(tuple(t for _, t in shape.data))(bytes.fromhex(log["data"][2:]))
        args.update(zip((n for n, _ in shape.data), values, strict=True))
        for name, abi_type in (*shape.topics, *shape.data):
            if abi_type == "address":
                args[name] = to_checksum_address(args[name])
        return args


@dataclass
class Mined:
    """A mined transaction: its hash, block, timestamp and (decoded on demand) events."""

    tx_hash: str
    block_number: int
    timestamp: int
    logs: list[dict] = field(default_factory=list, repr=False)
    book: EventBook | None = field(default=None, repr=False)

    def named(self, name: str) -> list[dict]:
        """The arguments of every `name` event of this transaction, in log order."""
        if self.book is None:
            return []
        shapes = ((log, self.book.shape_of(log)) for log in self.logs)
        found = (self.book.decode(log) for log, shape in shapes if shape and shape.name == name)
        return [args for args in found if args is not None]


# --- senders ------------------------------------------------------------------------------------------


class FastSender:
    """Signs and sends one actor's transactions through FastRpc."""

    def __init__(self, rpc: FastRpc, account: LocalAccount, book: EventBook):
        self.rpc = rpc
        self.account = account
        self.key = keys.PrivateKey(bytes(account.key))
        self.book = book
        self.nonce: int | None = None

    @property
    def address(self) -> str:
        return self.account.address

    def forget_nonce(self) -> None:
        self.nonce = None

    def simulate(self, to: str, data: str) -> None:
        """Raise the decoded ContractRevert when the call would be refused."""
        reply = self.rpc.call(
            "eth_call",
            [{"from": self.address, "to": to, "data": data, "gas": hex(GAS_LIMIT)}, "pending"],
        )
        if "error" in reply:
            raw = reply["error"].get("data")
            if isinstance(raw, dict):
                raw = raw.get("data")
            if isinstance(raw, str) and raw.startswith("0x"):
                raise decode_revert(raw)
            raise ContractRevert("Reverted", {"message": reply["error"].get("message")})

    def sign(self, nonce: int, to: str, data: str) -> str:
        """A signed legacy (EIP-155) transaction, RLP-encoded as 0x-hex."""
        fields = [nonce, GAS_PRICE, GAS_LIMIT, bytes.fromhex(to[2:]), 0, bytes.fromhex(data[2:])]
        digest = keccak(rlp.encode([*fields, self.rpc.chain_id, 0, 0]))
        signature = self.key.sign_msg_hash(digest)
        v = signature.v + 35 + 2 * self.rpc.chain_id
        return "0x" + rlp.encode([*fields, v, signature.r, signature.s]).hex()

    def transact(self, call: Any) -> Mined:
        """Simulate, then sign, send and mine `call`; ContractRevert when refused."""
        to, data = encoded(call)
        return self.send(to, data)

    def send(self, to: str, data: str) -> Mined:
        self.simulate(to, data)
        if self.nonce is None:
            self.nonce = int(self.rpc.request("eth_getTransactionCount", [self.address, "pending"]), 16)
        raw = self.sign(self.nonce, to, data)
        self.nonce += 1
        receipt = self.rpc.request("eth_sendRawTransactionSync", [raw])
        if "blockTimestamp" in receipt:
            timestamp = _int(receipt["blockTimestamp"])
        else:
            timestamp = _int(
                self.rpc.request("eth_getBlockByNumber", [receipt["blockNumber"], False])["timestamp"]
            )
        if _int(receipt["status"]) != 1:
            # Simulated fine but refused when mined (the block clock moved a second): nothing changed.
            raise ContractRevert("RevertedWhenMined", {"tx": receipt["transactionHash"]})
        return Mined(
            receipt["transactionHash"], _int(receipt["blockNumber"]), timestamp, receipt["logs"], self.book
        )
