"""Locally signed transactions: fees, nonces, revert decoding, retries and confirmations."""

from __future__ import annotations

import ast
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from eth_utils.exceptions import ValidationError as TesterValidationError
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TimeExhausted, TransactionNotFound, Web3RPCError

from offnet.chain.artifacts import Artifact, load_artifact
from offnet.chain.connect import Chain
from offnet.chain.reverts import decode_revert
from offnet.exceptions import BroadcastUnknown, ContractRevert, TransactionDropped, TransactionRejected

# Errors a node returns when a broadcast is a duplicate of one it already has.
_ALREADY_KNOWN = ("already known", "known transaction", "alreadyknown")
_NONCE_TOO_LOW = ("nonce too low", "nonce is too low", "invalid nonce")
TRANSIENT_RETRIES = 5


@dataclass(frozen=True)
class Receipt:
    """What a mined transaction left: hash, gas used and the raw receipt (for event decoding)."""

    tx_hash: str
    block_number: int
    gas_used: int
    contract_address: str | None
    raw: Any


def _revert_data(exc: ContractLogicError) -> bytes | None:
    data = exc.data
    if isinstance(data, dict):  # some nodes wrap it (Ganache's estimateGas: {"result": "0x...", ...})
        data = data.get("data") or data.get("result")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, bytes):
        return data
    return None


def _tester_revert_data(exc: Exception) -> bytes | None:
    # eth-tester reports "execution reverted: b'...'" with the revert data as a bytes literal.
    text = str(exc.args[0]) if exc.args else ""
    prefix = "execution reverted: "
    if text.startswith(prefix):
        try:
            value = ast.literal_eval(text[len(prefix) :])
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, bytes) else None
    return None


def as_revert(exc: Exception) -> ContractRevert:
    """Decode a web3 ContractLogicError or an eth-tester TransactionFailed into a ContractRevert."""
    data = _revert_data(exc) if isinstance(exc, ContractLogicError) else _tester_revert_data(exc)
    if data:
        return decode_revert(data)
    return ContractRevert("Reverted", {"message": str(getattr(exc, "message", None) or exc)})


@dataclass(frozen=True)
class Dispatched:
    """A transaction signed and handed to the node, not waited for."""

    tx_hash: str
    nonce: int


class Sender:
    """Signs and sends transactions for one local account on one chain."""

    FEE_TTL = 1.0  # seconds a fee quote is reused (about a block)

    def __init__(
        self,
        chain: Chain,
        account: LocalAccount,
        *,
        gas_multiplier: float = 1.25,
        gas_limit: int | None = None,
    ):
        """`gas_limit` skips estimation (eth-tester estimates by re-running a transaction many times);
        a refused transaction is then decoded from its mined failure instead of the estimate."""
        self.chain = chain
        self.account = account
        self.gas_multiplier = gas_multiplier
        self.gas_limit = gas_limit
        self._fee_quote: tuple[float, dict[str, int]] | None = None

    @property
    def address(self) -> str:
        return self.account.address

    def _fees(self) -> dict[str, int]:
        """Fee fields for the next transaction, reused for about a block (two RPC calls saved per send)."""
        now = time.monotonic()
        if self._fee_quote is not None and now - self._fee_quote[0] < self.FEE_TTL:
            return self._fee_quote[1]
        fees = self._quote_fees()
        self._fee_quote = (now, fees)
        return fees

    def _quote_fees(self) -> dict[str, int]:
        w3 = self.chain.w3
        block = w3.eth.get_block("latest")
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:  # a legacy chain
            return {"gasPrice": w3.eth.gas_price}
        try:
            tip = w3.eth.max_priority_fee
        except Exception:  # nodes without eth_maxPriorityFeePerGas
            tip = 10**9
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base_fee + tip}

    def _estimate(self, tx: dict) -> int:
        try:
            return self.chain.w3.eth.estimate_gas(tx)
        except (ContractLogicError, TransactionFailed) as exc:
            raise as_revert(exc) from None
        except (TesterValidationError, Web3RPCError) as exc:  # e.g. cannot afford the gas
            raise TransactionRejected.from_node(exc) from None

    def send(
        self, tx: dict, *, gas: int | None = None, on_signed: Callable[[str], None] | None = None
    ) -> Receipt:
        """Fill, sign, broadcast and confirm a transaction dict; raise ContractRevert if refused.

        `on_signed(tx_hash)` runs after signing and before broadcasting, so a caller can record the
        hash durably first (the relay's outbox) and find the transaction again after a crash.
        """
        w3 = self.chain.w3
        tx = {**tx, "from": self.address, "chainId": self.chain.chain_id}
        tx.setdefault("value", 0)
        tx["gas"] = (
            gas
            or self.gas_limit
            or self.chain.default_gas_limit
            or int(self._estimate(tx) * self.gas_multiplier) + 10_000
        )
        tx.update(self._fees())
        for attempt in range(TRANSIENT_RETRIES):
            tx["nonce"] = self.chain.next_nonce(self.address)
            signed = self.account.sign_transaction(tx)
            if on_signed:
                on_signed("0x" + bytes(signed.hash).hex())
            try:
                tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
                break
            except (ContractLogicError, TransactionFailed) as exc:
                self.chain.forget_nonce(self.address)
                raise as_revert(exc) from None
            except (ValueError, Web3RPCError, TesterValidationError) as exc:
                message = str(exc).lower()
                if any(s in message for s in _ALREADY_KNOWN):
                    tx_hash = signed.hash
                    break
                self.chain.forget_nonce(self.address)
                if any(s in message for s in _NONCE_TOO_LOW) and attempt + 1 < TRANSIENT_RETRIES:
                    continue
                raise TransactionRejected.from_node(exc) from None
            except (ConnectionError, OSError):
                self.chain.forget_nonce(self.address)
                if attempt + 1 == TRANSIENT_RETRIES:
                    raise
                time.sleep(0.25 * 2**attempt)
        return self.wait(tx_hash, tx)

    def dispatch(
        self, to: str, data: bytes, *, gas: int, on_signed: Callable[[str, int], None] | None = None
    ) -> Dispatched:
        """Sign and broadcast a call without waiting for it (several can be in flight on consecutive
        nonces). `on_signed(tx_hash, nonce)` runs before the broadcast, so the caller records it first.

        A broadcast the node refuses gives its nonce back (the next transaction reads the node's count
        again) and raises TransactionRejected; the caller sends the work again later.
        """
        tx = {
            "from": self.address,
            "to": to,
            "data": data,
            "value": 0,
            "chainId": self.chain.chain_id,
            "gas": gas,
            **self._fees(),
        }
        tx["nonce"] = self.chain.next_nonce(self.address)
        signed = self.account.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        if on_signed:
            on_signed(tx_hash, tx["nonce"])
        raw = "0x" + bytes(signed.raw_transaction).hex()
        try:
            answer = self.chain.w3.provider.make_request("eth_sendRawTransaction", [raw])
        except (ConnectionError, OSError, TimeoutError) as exc:
            # The node may or may not have it: the caller keeps it as sent and follows it (a confirmer
            # finds it mined, pending, or gone); sending it again now could land it twice.
            raise BroadcastUnknown(
                f"broadcast of {tx_hash} not confirmed by the node: {exc.__class__.__name__}"
            ) from None
        except Exception as exc:  # a provider that raises the node's own refusal
            answer = {"error": {"message": f"{exc.__class__.__name__}: {exc}"}}
        error = answer.get("error") if isinstance(answer, dict) else None
        if error and not any(s in str(error).lower() for s in _ALREADY_KNOWN):
            self.chain.forget_nonce(self.address)
            raise TransactionRejected.from_node(Exception(error))
        return Dispatched(tx_hash, tx["nonce"])

    def revert_of(self, tx: dict, block_number: int) -> ContractRevert:
        """Why a mined transaction failed: it is replayed at the block before, the custom error decoded."""
        replay = {k: tx[k] for k in ("from", "to", "input", "data", "value") if k in tx}
        if "input" in replay:
            replay["data"] = replay.pop("input")
        try:
            self.chain.w3.eth.call(replay, block_identifier=block_number - 1)
        except (ContractLogicError, TransactionFailed) as exc:
            return as_revert(exc)
        return ContractRevert("Reverted", {"tx": tx.get("hash", "")})

    def wait(self, tx_hash: bytes, tx: dict, timeout: float = 120.0) -> Receipt:
        """Wait for the receipt and the chain's confirmations; decode a failed status."""
        w3 = self.chain.w3
        try:
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05)
        except TimeExhausted:
            raise TimeoutError(
                f"transaction 0x{bytes(tx_hash).hex()} not mined within {timeout:.0f}s"
            ) from None
        if receipt["status"] != 1:
            # Replay at the parent block to recover the custom error the node does not report.
            replay = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}
            try:
                w3.eth.call(replay, block_identifier=receipt["blockNumber"] - 1)
            except (ContractLogicError, TransactionFailed) as exc:
                raise as_revert(exc) from None
            raise ContractRevert("Reverted", {"tx": "0x" + bytes(tx_hash).hex()})
        target = receipt["blockNumber"] + self.chain.confirmations - 1
        deadline = time.monotonic() + timeout
        while w3.eth.block_number < target:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"transaction 0x{bytes(tx_hash).hex()} mined but not "
                    f"{self.chain.confirmations} blocks deep within {timeout:.0f}s"
                )
            time.sleep(0.2)
        if self.chain.confirmations > 1:
            # Deep enough now, but is it still the same block? A reorganisation may have dropped it.
            try:
                settled = w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                settled = None
            if settled is None or settled["blockHash"] != receipt["blockHash"]:
                self.chain.forget_nonce(self.address)  # the node's count went back with the chain
                raise TransactionDropped(
                    f"transaction 0x{bytes(tx_hash).hex()} was reorganised out of the chain"
                )
        return Receipt(
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block_number=receipt["blockNumber"],
            gas_used=receipt["gasUsed"],
            contract_address=receipt.get("contractAddress"),
            raw=receipt,
        )

    def transact(
        self,
        call: ContractFunction,
        *,
        value: int = 0,
        gas: int | None = None,
        on_signed: Callable[[str], None] | None = None,
    ) -> Receipt:
        """Send a contract function call built with web3 (`contract.functions.f(args)`)."""
        data = call._encode_transaction_data()
        return self.send({"to": call.address, "data": data, "value": value}, gas=gas, on_signed=on_signed)

    def deploy(self, artifact: Artifact, *args: Any, gas: int | None = None) -> tuple[Contract, Receipt]:
        """Deploy an artifact with constructor arguments; returns the bound contract.

        A packaged artifact names a contract: its bytecode is taken from the EVM build this chain runs
        (`chain.evm`), so a Shanghai chain gets the Shanghai build and never an opcode it lacks.
        """
        if artifact.packaged and artifact.evm != self.chain.evm:
            artifact = load_artifact(artifact.name, self.chain.evm)
        w3 = self.chain.w3
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        receipt = self.send({"data": data}, gas=gas)
        return w3.eth.contract(address=receipt.contract_address, abi=artifact.abi), receipt


def call(fn: ContractFunction, **kwargs: Any) -> Any:
    """A read-only call that raises ContractRevert with the decoded custom error."""
    try:
        return fn.call(**kwargs)
    except (ContractLogicError, TransactionFailed) as exc:
        raise as_revert(exc) from None
