"""What happened on chain, read back from the suite's logs: the live feed, counters, gas per operation."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address
from web3.contract import Contract

from offnet.chain.connect import Chain
from offnet.deployment import Suite
from offnet.market.ledger import ReportBatches
from offnet.market.types import Payout, ReportKind

TOKEN_UNIT = 10**6


def rfq_label(rfq_id: int) -> str:
    """RFQ ids are hashes: a short, stable label for people."""
    return f"#{rfq_id:064x}"[:9]


# Where each order-related event keeps the order id among its topics.
ORDER_TOPIC = {
    "OrderOpened": 1,
    "OrderToppedUp": 1,
    "OrderDelivered": 1,
    "OrderClosed": 1,
    "MilestoneSettled": 1,
    "Paid": 1,
    "DisputeOpened": 1,
    "DisputeRuled": 1,
    "ReportSubmitted": 1,
    "ReportFinalized": 2,
    "ReportDisputed": 2,
    "DisputeResolved": 2,
    "RfqAwarded": 2,
}


def money(units: int) -> str:
    """Token units (6 decimals) as a readable amount."""
    return f"{units / TOKEN_UNIT:,.2f}"


@dataclass(frozen=True)
class ChainEvent:
    """One decoded log of a suite contract."""

    block: int
    log_index: int
    tx_hash: str
    contract: str
    name: str
    args: dict[str, Any]


@dataclass
class GasLine:
    """Gas of one operation type over the run."""

    operation: str
    transactions: int = 0
    gas: int = 0

    @property
    def average(self) -> int:
        return self.gas // self.transactions if self.transactions else 0


@dataclass
class ChainWatch:
    """Follows the suite's logs block by block; names addresses after the demo's cast."""

    chain: Chain
    suite: Suite
    names: dict[str, str]
    next_block: int = 0
    events: list[ChainEvent] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._contracts: dict[str, tuple[str, Contract]] = {
            c.address: (name, c) for name, c in self.suite.contracts.items()
        }
        self._topics: dict[tuple[str, bytes], str] = {}
        for address, (_, contract) in self._contracts.items():
            for item in contract.abi:
                if item.get("type") == "event":
                    self._topics[(address, event_abi_to_log_topic(item))] = item["name"]

    def name_of(self, address: str) -> str:
        """The cast name of an address (or its short form)."""
        address = to_checksum_address(address)
        return self.names.get(address) or address[:10]

    def poll(self) -> list[ChainEvent]:
        """Decode the suite's logs since the last poll, in chain order."""
        latest = self.chain.w3.eth.block_number
        if self.next_block > latest:
            return []
        logs = self.chain.w3.eth.get_logs(
            {"fromBlock": self.next_block, "toBlock": latest, "address": list(self._contracts)}
        )
        self.next_block = latest + 1
        fresh = []
        pairing = ReportBatches()  # whole blocks are read: a transaction's logs come together
        for log in logs:
            address = to_checksum_address(log["address"])
            name = self._topics.get((address, bytes(log["topics"][0]))) if log["topics"] else None
            if name is None:
                continue
            contract_name, contract = self._contracts[address]
            decoded = getattr(contract.events, name)().process_log(log)
            tx_hash = "0x" + bytes(log["transactionHash"]).hex()
            args = dict(decoded["args"])
            batch = pairing.batch_of(name, args, tx_hash)
            if batch is not None:  # a ReportSubmitted: named after its batch
                args |= {"root": batch["root"], "member": batch["member"], "lane": batch["lane"]}
            event = ChainEvent(log["blockNumber"], log["logIndex"], tx_hash, contract_name, name, args)
            fresh.append(event)
            self.counts[name] += 1
        self.events.extend(fresh)
        return fresh

    def of(self, name: str) -> list[ChainEvent]:
        return [e for e in self.events if e.name == name]

    # --- the live feed -------------------------------------------------------------------------

    def describe(self, event: ChainEvent) -> str | None:
        """One line for the live feed (None for plumbing events not worth a line)."""
        a, n = event.args, self.name_of
        order = "0x" + bytes(a["orderId"]).hex()[:8] if "orderId" in a else ""
        match event.name:
            case "ApplicationFiled":
                return f"{n(a['candidate'])} applied to join the circle of trust"
            case "ApplicationSponsored":
                return f"{n(a['sponsor'])} sponsored {n(a['candidate'])} ({a['sponsors']} sponsors)"
            case "MemberAdmitted":
                return f"{n(a['member'])} admitted"
            case "RfqPosted":
                buyer, invited = n(a["rfq"]["buyer"]), len(a["rfq"]["invited"])
                sellers = f"{invited} seller{'s' if invited > 1 else ''}"
                return f"RFQ {rfq_label(a['rfqId'])} posted by {buyer}, {sellers} invited"
            case "QuoteCommitted":
                return f"{n(a['provider'])} committed a sealed quote to RFQ {rfq_label(a['rfqId'])}"
            case "RfqAwarded":
                return f"RFQ {rfq_label(a['rfqId'])} awarded to {n(a['provider'])}: order {order}"
            case "OrderOpened":
                return f"order {order}: {money(a['escrowed'])} escrowed by {n(a['terms']['buyer'])}"
            case "OrderDelivered":
                return f"order {order} delivered"
            case "ReportSubmitted":
                return f"report {ReportKind(a['kind']).name.lower()}#{a['key']} of order {order} relayed"
            case "ReportFinalized":
                return f"report {ReportKind(a['kind']).name.lower()} of order {order} final"
            case "ReportDisputed":
                return f"{n(a['disputer'])} disputed a report of order {order}"
            case "DisputeResolved":
                loser = n(a["loser"]) if int(a["loser"], 16) else "nobody"
                return f"council ruled on order {order}: {loser} lost the dispute"
            case "ProposalCreated":
                return (
                    f"council proposal #{a['proposalId']} by {n(a['proposer'])}" if "proposer" in a else None
                )
            case "ProposalExecuted":
                return f"council proposal #{a['proposalId']} executed"
            case "Paid":
                reason = Payout(a["reason"]).name.lower()
                return f"order {order}: {money(a['amount'])} {reason} to {n(a['party'])}"
            case "Withdrawn":
                return f"{n(a['party'])} withdrew {money(a['amount'])}"
            case "OrderClosed":
                return f"order {order} closed"
        return None

    # --- gas ------------------------------------------------------------------------------------

    def gas_by_operation(self, from_block: int = 0) -> tuple[dict[str, GasLine], dict[str, int]]:
        """Gas of every transaction since `from_block`, by `Contract.function`; and gas per order id."""
        w3 = self.chain.w3
        lines: dict[str, GasLine] = {}
        per_order: dict[str, int] = defaultdict(int)
        created = {c.address: name for name, c in self.suite.contracts.items()}
        for number in range(from_block, w3.eth.block_number + 1):
            block = w3.eth.get_block(number, full_transactions=True)
            receipts = self._receipts(number, block)
            for tx, receipt in zip(block["transactions"], receipts, strict=True):
                operation = self._operation(tx, receipt, created)
                line = lines.setdefault(operation, GasLine(operation))
                line.transactions += 1
                line.gas += receipt["gasUsed"]
                orders = {order for log in receipt["logs"] if (order := self._order_of(log))}
                for order_id in orders:
                    per_order[order_id] += receipt["gasUsed"] // len(orders)
        return lines, dict(per_order)

    def _receipts(self, number: int, block: Any) -> list[Any]:
        """The block's receipts in transaction order (one request where the node supports it)."""
        w3 = self.chain.w3
        if block["transactions"] and self.chain.kind != "embedded":
            try:
                return list(w3.eth.get_block_receipts(number))
            except Exception:  # older nodes: one request per transaction
                pass
        return [w3.eth.get_transaction_receipt(tx["hash"]) for tx in block["transactions"]]

    def _order_of(self, log: Any) -> str | None:
        """The order id a log is about (its indexed topic), if it is about one."""
        name = (
            self._topics.get((to_checksum_address(log["address"]), bytes(log["topics"][0])))
            if log["topics"]
            else None
        )
        index = ORDER_TOPIC.get(name)
        return "0x" + bytes(log["topics"][index]).hex() if index is not None else None

    def _operation(self, tx: Any, receipt: Any, created: dict[str, str]) -> str:
        if not tx.get("to"):  # a contract creation (eth-tester gives "" rather than None)
            address = receipt.get("contractAddress")
            return (
                f"deploy {created.get(to_checksum_address(address), 'contract') if address else 'contract'}"
            )
        target = to_checksum_address(tx["to"])
        data = tx.get("input", tx.get("data", b""))  # eth-tester names the calldata "data"
        if target not in self._contracts:
            return "ether transfer" if not data or data in ("0x", b"") else "other call"
        name, contract = self._contracts[target]
        try:
            function, _ = contract.decode_function_input(data)
        except ValueError:
            return f"{name}.(unknown)"
        return f"{name}.{function.fn_name}"
