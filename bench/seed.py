"""Seeding a big world fast and honestly: real transactions on the same anvil, mined in batches.

With 10,000 members in the registry, anvil spends ~25 ms per automined block recomputing its state
root, so one block per seeded transaction would take hours. The seeding transactions are therefore built
by the ordinary Python clients (offnet.market.*), recorded instead of sent, signed with local nonces,
broadcast in JSON-RPC batches while automine is off, and mined `per_block` to a block with evm_mine.
Every block is checked: it holds exactly the transactions broadcast for it, and every receipt has
status 1. Automine is switched back on afterwards, so the measured transactions are ordinary ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_abi_to_4byte_selector
from eth_utils.abi import get_abi_input_types
from web3.contract.contract import ContractFunction

from offnet.chain import Chain, Sender
from offnet.market.quotes import SignedQuote
from offnet.market.rfq import LogEntry, Rfq
from offnet.testing.world import DAY, World

CHECK_EVERY = 997  # re-check the fast encoder against web3's own encoding this often


class SeedError(RuntimeError):
    """A seeded block did not hold what was broadcast, or a seeded transaction failed."""


class _Recorded(Exception):
    """Carries the recorded call out of the client method (never escapes record())."""

    def __init__(self, call: ContractFunction, value: int):
        super().__init__(call.fn_name)
        self.call, self.value = call, value


class _Recorder(Sender):
    """A Sender that stops at the call a client built (nothing is signed or sent)."""

    def transact(self, call: ContractFunction, *, value: int = 0, **_: Any) -> Any:
        raise _Recorded(call, value)


@dataclass(frozen=True)
class Call:
    """A contract call recorded from a client: target, calldata and who would send it."""

    sender: LocalAccount
    to: str
    data: bytes
    name: str


@dataclass
class Encoder:
    """web3's calldata, ~20x faster: selector + eth_abi over the call's own ABI entry.

    The first call of each function, and every CHECK_EVERY-th, is compared with web3's encoding.
    """

    _layouts: dict[tuple[str, str], tuple[bytes, list[str]]] = field(default_factory=dict)
    _count: int = 0

    def encode(self, call: ContractFunction) -> bytes:
        key = (call.address, call.fn_name)
        first = key not in self._layouts
        if first:
            self._layouts[key] = (function_abi_to_4byte_selector(call.abi), get_abi_input_types(call.abi))
        selector, types = self._layouts[key]
        data = selector + encode(types, list(call.args))
        self._count += 1
        if first or self._count % CHECK_EVERY == 0:
            expected = bytes.fromhex(call._encode_transaction_data()[2:])
            if data != expected:
                raise SeedError(f"fast encoding of {call.fn_name} differs from web3's")
        return data


def record(chain: Chain, account: LocalAccount, use: Callable[[Sender], Any], encoder: Encoder) -> Call:
    """The transaction a client method would send for `account` (`use` gets the sender to pass)."""
    try:
        use(_Recorder(chain, account))
    except _Recorded as recorded:
        if recorded.value:
            raise SeedError("seeding does not send value") from None
        call = recorded.call
        return Call(account, call.address, encoder.encode(call), call.fn_name)
    raise SeedError("the client method sent no transaction")


@dataclass
class Miner:
    """Signs recorded calls with local nonces and mines them `per_block` to a block."""

    chain: Chain
    per_block: int = 1_000
    rpc_batch: int = 250
    transactions: int = 0
    blocks: int = 0
    _nonces: dict[str, int] = field(default_factory=dict)

    def _rpc(self, http: httpx.Client, method: str, params: list) -> Any:
        reply = http.post(
            self.chain.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        )
        body = reply.json()
        if "error" in body:
            raise SeedError(f"{method}: {body['error']}")
        return body["result"]

    def _nonce(self, address: str) -> int:
        if address not in self._nonces:
            self._nonces[address] = self.chain.w3.eth.get_transaction_count(address, "pending")
        nonce = self._nonces[address]
        self._nonces[address] = nonce + 1
        return nonce

    def _gas(self, call: Call) -> int:
        """Estimated gas of the first call of a phase, with room (later ones are alike or cheaper)."""
        estimate = self.chain.w3.eth.estimate_gas(
            {"from": call.sender.address, "to": call.to, "data": "0x" + call.data.hex()}
        )
        return int(estimate * 1.5) + 20_000

    def _sign(self, calls: Sequence[Call], gas: int) -> list[tuple[str, str]]:
        base = int(self.chain.w3.eth.get_block("latest")["baseFeePerGas"])
        fees = {"maxPriorityFeePerGas": 10**9, "maxFeePerGas": 4 * base + 10**9}
        chain_id = self.chain.chain_id
        signed = []
        for call in calls:
            tx = {
                "to": call.to,
                "data": call.data,
                "gas": gas,
                "value": 0,
                "nonce": self._nonce(call.sender.address),
                "chainId": chain_id,
                **fees,
            }
            raw = call.sender.sign_transaction(tx)
            signed.append(("0x" + bytes(raw.hash).hex(), "0x" + bytes(raw.raw_transaction).hex()))
        return signed

    def mine(self, calls: Sequence[Call]) -> None:
        """One phase: every call mined with status 1 (calls of a phase must not depend on each other)."""
        if not calls:
            return
        gas = self._gas(calls[0])
        with httpx.Client(timeout=120) as http:
            self._rpc(http, "evm_setAutomine", [False])
            try:
                for start in range(0, len(calls), self.per_block):
                    chunk = self._sign(calls[start : start + self.per_block], gas)
                    self._broadcast(http, chunk)
                    self._mine_checked(http, {h for h, _ in chunk})
            finally:
                self._rpc(http, "evm_setAutomine", [True])
                for address in {c.sender.address for c in calls}:
                    self.chain.forget_nonce(address)

    def _broadcast(self, http: httpx.Client, chunk: list[tuple[str, str]]) -> None:
        for start in range(0, len(chunk), self.rpc_batch):
            part = chunk[start : start + self.rpc_batch]
            batch = [
                {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
                for i, (_, raw) in enumerate(part)
            ]
            for answer in http.post(self.chain.url, json=batch).json():
                if "error" in answer:
                    raise SeedError(f"eth_sendRawTransaction refused a seeded transaction: {answer['error']}")

    def _mine_checked(self, http: httpx.Client, hashes: set[str]) -> None:
        self._rpc(http, "evm_mine", [])
        receipts = self._rpc(http, "eth_getBlockReceipts", ["latest"])
        mined = {r["transactionHash"] for r in receipts}
        if mined != hashes:
            raise SeedError(f"a seeded block holds {len(mined)} transactions, {len(hashes)} were broadcast")
        failed = [r["transactionHash"] for r in receipts if int(r["status"], 16) != 1]
        if failed:
            raise SeedError(f"{len(failed)} seeded transactions failed, e.g. {failed[0]}")
        self.transactions += len(hashes)
        self.blocks += 1


@dataclass
class Seeded:
    """What a seeding added to a world, and what it took."""

    open_rfqs: int = 0
    open_orders: int = 0
    transactions: int = 0
    blocks: int = 0
    seconds: float = 0.0


def seed_market(world: World, *, rfqs: int, orders: int, tag: str, per_block: int = 1_000) -> Seeded:
    """`rfqs` open RFQs, and `orders` awarded orders open in the escrow, between the world's buyer and
    its first provider (the pair the scale measure then uses: the strictest case for per-account state).

    Each order is the ordinary path: postRfq (one invited provider), commitQuote of a signed quote,
    awardQuote (funds pulled into the escrow). Phases: all posts, then all commitments, then chain time
    past the ordered RFQs' deadline, then all awards.
    """
    started = time.monotonic()
    chain, market, encoder = world.chain, world.market, Encoder()
    buyer, provider = world.buyer.account, world.seller
    miner = Miner(chain, per_block=per_block)
    now = chain.now()
    # The open RFQs stay open (their deadline far ahead) while the ordered ones are sealed and awarded.
    open_rfqs = [world.rfq(request=f"{tag} open rfq {i}", deadline_in=60 * DAY, now=now) for i in range(rfqs)]
    order_rfqs = [
        world.rfq(invited=[provider.address], request=f"{tag} order {i}", deadline_in=7 * DAY, now=now)
        for i in range(orders)
    ]
    miner.mine(
        [record(chain, buyer, lambda s, r=r: market.post(s, r), encoder) for r in open_rfqs + order_rfqs]
    )
    quotes = [world.sign(world.quote(r, provider, now=now), provider) for r in order_rfqs]
    miner.mine(_commits(world, order_rfqs, quotes, encoder))
    if order_rfqs:
        world.seal(order_rfqs[-1])  # commitments are sealed until the deadline; awards come after it
    first_award_block = chain.w3.eth.block_number + 1
    miner.mine(_awards(world, order_rfqs, quotes, encoder))
    awarded = market.contract.events.RfqAwarded().get_logs(from_block=first_award_block) if orders else []
    if len(awarded) != orders:
        raise SeedError(f"{len(awarded)} RfqAwarded events for {orders} seeded awards")
    return Seeded(
        open_rfqs=rfqs,
        open_orders=orders,
        transactions=miner.transactions,
        blocks=miner.blocks,
        seconds=time.monotonic() - started,
    )


def _commits(
    world: World, rfqs: Iterable[Rfq], quotes: Iterable[SignedQuote], encoder: Encoder
) -> list[Call]:
    provider, market = world.seller, world.market
    return [
        record(world.chain, provider.account, lambda s, r=r, q=q: market.commit(s, r, q), encoder)
        for r, q in zip(rfqs, quotes, strict=True)
    ]


def _awards(world: World, rfqs: Iterable[Rfq], quotes: Iterable[SignedQuote], encoder: Encoder) -> list[Call]:
    provider, market = world.seller, world.market
    return [
        record(
            world.chain,
            world.buyer.account,
            lambda s, r=r, q=q: market.award(s, r, q, log=[LogEntry(provider.address, q.digest)]),
            encoder,
        )
        for r, q in zip(rfqs, quotes, strict=True)
    ]
