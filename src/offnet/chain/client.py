"""The base of every typed contract client: where the contract is, its raw functions, its events.

A client is built from a chain and an address (`Client(chain, address)` or `Client.at(...)`), or
deployed (`Client.deploy(sender, *constructor_args)`); subclasses add typed calls and views. Views
return dataclasses, transactions take the `Sender` that signs them, refusals raise ContractRevert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Self

from eth_utils import keccak, to_checksum_address
from web3._utils.events import get_event_data
from web3.contract import Contract
from web3.logs import DISCARD

from offnet.chain.artifacts import abi_type_string, load_artifact
from offnet.chain.connect import Chain
from offnet.chain.tx import Receipt, Sender


@dataclass(frozen=True)
class ContractEvent:
    """One decoded event of a contract, with where it happened."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: str


class ContractClient:
    """Typed access to one deployed contract of the suite (subclasses name it in CONTRACT)."""

    CONTRACT: ClassVar[str]

    def __init__(self, chain: Chain, address: str):
        self.chain = chain
        self.contract: Contract = chain.w3.eth.contract(
            address=to_checksum_address(address), abi=load_artifact(self.CONTRACT).abi
        )

    @classmethod
    def at(cls, chain: Chain, address: str) -> Self:
        """The client of the contract deployed at `address`."""
        return cls(chain, address)

    @classmethod
    def _deploy(cls, deployer: Sender, *args: Any, gas: int | None = None) -> tuple[Self, Receipt]:
        """Deploy the packaged contract with constructor `args` (in the deployer's chain's EVM build);
        subclasses give `deploy` typed arguments."""
        contract, receipt = deployer.deploy(load_artifact(cls.CONTRACT), *args, gas=gas)
        return cls(deployer.chain, contract.address), receipt

    @property
    def address(self) -> str:
        return self.contract.address

    @property
    def fn(self) -> Any:
        """The raw web3 functions, e.g. to build a call for a council proposal or a test."""
        return self.contract.functions

    # --- events -----------------------------------------------------------------------------------

    def events(self, receipt: Receipt, name: str) -> list[dict[str, Any]]:
        """The arguments of every `name` event this contract emitted in a transaction."""
        decoded = getattr(self.contract.events, name)().process_receipt(receipt.raw, errors=DISCARD)
        return [dict(e["args"]) for e in decoded if e["address"] == self.address]

    def emitted(self, receipt: Receipt) -> list[ContractEvent]:
        """Every event this contract emitted in a transaction, decoded, in order."""
        return self.decode(receipt.raw["logs"])

    def logs(
        self, name: str, *, from_block: int = 0, to_block: int | str = "latest", **filters: Any
    ) -> list[Any]:
        """Every `name` log of this contract in a block range, filtered on indexed arguments."""
        event = getattr(self.contract.events, name)()
        return list(event.get_logs(from_block=from_block, to_block=to_block, argument_filters=filters))

    @cached_property
    def _events_by_topic(self) -> dict[bytes, dict]:
        return {
            keccak(text=f"{e['name']}({','.join(abi_type_string(p) for p in e['inputs'])})"): e
            for e in self.contract.abi
            if e.get("type") == "event"
        }

    def decode(self, logs: Iterable[Any]) -> list[ContractEvent]:
        """Decode the raw logs this contract emitted, in the order given (other logs are skipped)."""
        events = []
        address = self.address.lower()
        for log in logs:
            if str(log["address"]).lower() != address or not log["topics"]:
                continue
            abi = self._events_by_topic.get(bytes(log["topics"][0]))
            if abi is None:
                continue
            data = get_event_data(self.contract.w3.codec, abi, log)
            events.append(
                ContractEvent(
                    name=data["event"],
                    args=dict(data["args"]),
                    block_number=data["blockNumber"],
                    log_index=data["logIndex"],
                    tx_hash="0x" + bytes(data["transactionHash"]).hex(),
                )
            )
        return events
