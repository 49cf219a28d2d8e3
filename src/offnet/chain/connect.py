"""Connections to a chain: the embedded eth-tester EVM, a local anvil or Ganache, or any EVM JSON-RPC URL."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from offnet.chain.anvil import Anvil
from offnet.chain.artifacts import DEFAULT_EVM, EVM_BUILDS
from offnet.chain.ganache import Ganache
from offnet.chain.node import LocalNode
from offnet.exceptions import ChainError

EMBEDDED = "embedded"
ANVIL = "anvil"
GANACHE = "ganache"
RPC = "rpc"
# The development nodes offnet starts itself from node_modules.
NODES: dict[str, type[LocalNode]] = {ANVIL: Anvil, GANACHE: Ganache}

# Chain ids of development nodes, where the dev accounts are unlocked and time can be moved.
LOCAL_CHAIN_IDS = {31337, 1337, 131277322940537}


@dataclass
class Chain:
    """A connected chain: a Web3 instance plus what offnet needs around it."""

    w3: Web3
    kind: str
    url: str | None = None
    node: LocalNode | None = None  # a node this process started (anvil, Ganache)
    confirmations: int = 1
    # Gas limit for transactions that name none; None means estimate each one. The embedded chain
    # uses its block gas limit: eth-tester estimates by re-running a transaction many times, and a
    # refusal is decoded all the same (eth-tester refuses a reverting transaction at submission).
    default_gas_limit: int | None = None
    # The EVM build the chain runs (offnet.chain.artifacts.EVM_BUILDS): given for the embedded chain,
    # probed once on first use elsewhere.
    evm_build: str | None = None
    _nonce_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _nonces: dict[str, int] = field(default_factory=dict, repr=False)
    _chain_id: int | None = field(default=None, repr=False)

    @property
    def chain_id(self) -> int:
        """The chain id (asked once: a node's chain id never changes)."""
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    @property
    def is_local(self) -> bool:
        """True for dev chains (embedded, anvil, Ganache, hardhat-like ids), where test tokens may be deployed."""
        return self.kind in (EMBEDDED, ANVIL, GANACHE) or self.chain_id in LOCAL_CHAIN_IDS

    @property
    def evm(self) -> str:
        """The newest offnet build this chain can run (ChainError naming what it lacks if none)."""
        if self.evm_build is None:
            from offnet.chain.evm import probe, select_build

            self.evm_build = select_build(probe(self.w3), f"chain {self.chain_id} at {self.url or self.kind}")
        return self.evm_build

    def probe_head(self, timeout: float = 2.0) -> int:
        """The chain's head in one quick request, no retries (a health probe must answer fast)."""
        if self.url is None:
            return self.w3.eth.block_number
        import httpx

        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
        response = httpx.post(self.url, json=body, timeout=timeout)
        response.raise_for_status()
        return int(response.json()["result"], 16)

    def now(self) -> int:
        """Timestamp of the latest block."""
        return self.block_timestamp("latest")

    # --- lean reads: one JSON-RPC answer, only the fields asked for ----------------------------
    # web3 formats every field of an answer (a receipt of a 200-report batch: 200 decoded logs) into
    # AttributeDicts; the relay needs two numbers of it. On a node reached by URL these read the raw
    # answer; the embedded chain has no JSON wire, so web3 answers there.

    def _raw(self, method: str, params: list) -> Any:
        answer = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if answer.get("error"):
            raise ChainError(f"{method} refused by the node: {answer['error']}")
        return answer.get("result")

    def receipt_status(self, tx_hash: str) -> tuple[int, int] | None:
        """(block number, status) of a mined transaction, None while the node has no receipt."""
        if self.kind == EMBEDDED:
            try:
                receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return None
            return int(receipt["blockNumber"]), int(receipt["status"])
        receipt = self._raw("eth_getTransactionReceipt", [tx_hash])
        if receipt is None or receipt.get("blockNumber") is None:
            return None
        return int(receipt["blockNumber"], 16), int(receipt["status"], 16)

    def known_transaction(self, tx_hash: str) -> bool:
        """True when the node knows the transaction (in its mempool or mined)."""
        if self.kind == EMBEDDED:
            try:
                return self.w3.eth.get_transaction(tx_hash) is not None  # type: ignore[arg-type]
            except TransactionNotFound:
                return False
        return self._raw("eth_getTransactionByHash", [tx_hash]) is not None

    def block_timestamp(self, block: int | str) -> int:
        """The timestamp of a block (a number, or "latest")."""
        if self.kind == EMBEDDED:
            return int(self.w3.eth.get_block(block)["timestamp"])  # type: ignore[arg-type]
        found = self._raw("eth_getBlockByNumber", [block if isinstance(block, str) else hex(block), False])
        if found is None:
            raise ChainError(f"block {block} not found")
        return int(found["timestamp"], 16)

    # --- dev-chain helpers -------------------------------------------------------------------

    def _require_local(self, what: str) -> None:
        if not self.is_local:
            raise ChainError(f"{what} is only possible on a local development chain")

    def dev_accounts(self) -> list[tuple[str, int]]:
        """The node's unlocked dev accounts and their balances in wei, richest first."""
        self._require_local("funding from a dev account")
        accounts = [(a, self.w3.eth.get_balance(a)) for a in self.w3.eth.accounts]
        return sorted(accounts, key=lambda pair: -pair[1])

    def fund(self, address: str, wei: int) -> None:
        """Send ether from an unlocked dev account that can afford it (local chains only)."""
        fee_margin = 10**17  # 0.1 ether covers the transfer's fee at any dev node's gas price
        accounts = self.dev_accounts()
        source = next((a for a, balance in accounts if balance >= wei + fee_margin), None)
        if source is None:
            richest = accounts[0][1] if accounts else 0
            raise ChainError(
                f"funding is short: no unlocked dev account of chain {self.chain_id} can send "
                f"{wei / 10**18:,.4g} ETH (the richest holds {richest / 10**18:,.4g} ETH)"
            )
        tx = self.w3.eth.send_transaction({"from": source, "to": address, "value": wei})
        self.w3.eth.wait_for_transaction_receipt(tx)

    def advance_time(self, seconds: int) -> int:
        """Move chain time forward and mine a block; returns the new block timestamp."""
        self._require_local("moving chain time")
        if self.kind == EMBEDDED:
            tester = self.w3.provider.ethereum_tester
            tester.time_travel(self.now() + int(seconds))
            tester.mine_blocks(1)
        else:
            # The next block's timestamp, set exactly (a node on a fixed clock ignores increaseTime);
            # nodes without it (Ganache) move their clock offset instead.
            answer = self.w3.provider.make_request("evm_setNextBlockTimestamp", [self.now() + int(seconds)])
            if "error" in answer:
                self.w3.provider.make_request("evm_increaseTime", [int(seconds)])
            self.w3.provider.make_request("evm_mine", [])
        return self.now()

    def mine(self, blocks: int = 1) -> None:
        """Mine empty blocks (local chains only)."""
        self._require_local("mining")
        if self.kind == EMBEDDED:
            self.w3.provider.ethereum_tester.mine_blocks(blocks)
        else:
            for _ in range(blocks):
                self.w3.provider.make_request("evm_mine", [])

    def snapshot(self) -> object:
        """Save chain state (local chains); pass the result to revert()."""
        self._require_local("snapshots")
        if self.kind == EMBEDDED:
            return self.w3.provider.ethereum_tester.take_snapshot()
        return self.w3.provider.make_request("evm_snapshot", [])["result"]

    def revert(self, snapshot_id: object) -> None:
        """Return to a snapshot taken by snapshot(); forgets locally cached nonces."""
        if self.kind == EMBEDDED:
            self.w3.provider.ethereum_tester.revert_to_snapshot(snapshot_id)
        else:
            self.w3.provider.make_request("evm_revert", [snapshot_id])
        with self._nonce_lock:
            self._nonces.clear()

    # --- nonces shared by every Sender of this chain ------------------------------------------

    def next_nonce(self, address: str) -> int:
        """Reserve the next nonce for `address` (several commands in a row never collide)."""
        with self._nonce_lock:
            if address not in self._nonces:
                self._nonces[address] = self.w3.eth.get_transaction_count(address, "pending")
            nonce = self._nonces[address]
            self._nonces[address] = nonce + 1
            return nonce

    def peek_nonce(self, address: str) -> int:
        """The nonce the next transaction of `address` will use, without reserving it."""
        with self._nonce_lock:
            if address in self._nonces:
                return self._nonces[address]
        return self.w3.eth.get_transaction_count(address, "pending")

    def forget_nonce(self, address: str) -> None:
        """Drop the cached nonce so the next one is read from the node again."""
        with self._nonce_lock:
            self._nonces.pop(address, None)

    def close(self) -> None:
        if self.node:
            self.node.stop()
            self.node = None

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return (
        f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"
        if parts.scheme
        else "(the RPC URL)"
    )


def _embedded_web3(evm: str) -> Web3:
    from eth.vm.forks import ShanghaiVM
    from eth_tester import EthereumTester, PyEVMBackend
    from web3.providers.eth_tester import EthereumTesterProvider

    # The default EVM is eth-tester's newest (Cancun opcodes and later); a Shanghai chain runs the
    # Shanghai rules from genesis, where the Cancun build's opcodes are invalid.
    backend = PyEVMBackend(vm_configuration=((0, ShanghaiVM),)) if evm == "shanghai" else PyEVMBackend()
    return Web3(EthereumTesterProvider(EthereumTester(backend)))


def _http_web3(url: str, timeout: float = 30.0) -> Web3:
    retry = ExceptionRetryConfiguration(
        errors=(ConnectionError, requests.ConnectionError, requests.Timeout, requests.HTTPError),
        retries=5,
        backoff_factor=0.25,
    )
    provider = Web3.HTTPProvider(
        url, request_kwargs={"timeout": timeout}, exception_retry_configuration=retry
    )
    return Web3(provider)


def connect(
    chain: str = EMBEDDED,
    *,
    rpc: str | None = None,
    confirmations: int = 1,
    port: int | None = None,
    evm: str = DEFAULT_EVM,
    genesis_time: int | None = None,
) -> Chain:
    """Connect to `embedded` (in-process eth-tester), `anvil` or `ganache` (started here, on `port` or
    a free one) or an RPC URL. `evm` is the embedded chain's EVM build (`cancun` or `shanghai`);
    `genesis_time` gives a node started here a fixed clock (see LocalNode).

    `rpc` wins over `chain` when given. Raises ChainError when the node cannot be reached.
    """
    if rpc:
        w3 = _http_web3(rpc)
        try:
            w3.eth.chain_id  # noqa: B018 - the first request proves the node answers
        except Exception as exc:  # connection refused, DNS, TLS, HTTP errors all mean the same here
            # The URL without its path or query: a hosted RPC's API key must not reach a log.
            raise ChainError(f"cannot reach RPC {_origin(rpc)}: {exc.__class__.__name__}") from None
        return Chain(w3=w3, kind=RPC, url=rpc, confirmations=confirmations)
    if chain == EMBEDDED:
        if evm not in EVM_BUILDS:
            raise ChainError(f"unknown EVM build {evm!r}: use {' or '.join(EVM_BUILDS)}")
        w3 = _embedded_web3(evm)
        return Chain(
            w3=w3,
            kind=EMBEDDED,
            confirmations=1,
            default_gas_limit=int(w3.eth.get_block("latest")["gasLimit"]),
            evm_build=evm,
        )
    if chain in NODES:
        node = NODES[chain](port=port, genesis_time=genesis_time).start()
        return Chain(
            w3=_http_web3(node.url), kind=chain, url=node.url, node=node, confirmations=confirmations
        )
    raise ChainError(f"unknown chain {chain!r}: use embedded, {', '.join(NODES)}, or --rpc URL")
