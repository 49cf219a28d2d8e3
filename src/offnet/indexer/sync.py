"""Incremental sync: the suite's logs, a block range at a time, into the IndexStore, kept a margin
below the chain's tip.

Each range is fetched with one `eth_getLogs` over the suite's contracts and applied (by
`offnet.indexer.projection`) in one database transaction that also moves the cursor, so an
interrupted sync resumes exactly where it stopped.

Reorganisations. The index only takes blocks `confirmations` deep (the margin), and it never undoes
anything. Undoing would mean an inverse for every row the projection writes (a member's profile
replaced, a running count moved, a reputation point read from the ledger at that block), which is
as much code, and as many ways to be wrong, as the projection itself; the chain already settles
this question for any block deep enough. So the cursor keeps the hash of the last block it covers;
every sync first checks that hash against the chain, and a range is committed only if the hash of
its last block did not change while its logs were read. A reorganisation shallower than the margin
never reaches the index. One deeper than the margin changes the remembered hash: the index is then
rebuilt from the deployment block, so it never shows a history the chain no longer has. On a chain
with instant finality (or a local one) a margin of 0 follows the tip, and the same check still
catches a rewound chain (anvil's `evm_revert`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import insert, update
from web3 import Web3

from offnet.chain import ContractClient, ContractEvent
from offnet.chain.tokens import read_token
from offnet.deployment import Suite
from offnet.indexer.projection import Projection, upsert
from offnet.indexer.schema import REPUTATION_FIELDS, blocks, reputation_points, tokens
from offnet.indexer.store import IndexStore
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import LedgerClient
from offnet.market.notary import NotaryClient
from offnet.market.registry import RegistryClient
from offnet.market.rfq import RfqClient
from offnet.market.types import OrderTerms

# progress(blocks done, blocks to do)
SyncProgress = Callable[[int, int], None]


class ReorganisedWhileReading(Exception):
    """The chain changed under a block range while its logs were read: the range is read again."""


@dataclass(frozen=True)
class SyncReport:
    """What one sync did."""

    from_block: int
    to_block: int
    events: int
    head: int = 0  # the chain's tip when the sync started
    rebuilt: bool = False  # a reorganisation deeper than the margin made it start again


class EventIndexer:
    """Keeps an IndexStore in step with one deployment, `confirmations` blocks below the tip."""

    def __init__(
        self,
        store: IndexStore,
        *,
        registry: RegistryClient,
        escrow: EscrowClient | None = None,
        ledger: LedgerClient | None = None,
        market: RfqClient | None = None,
        notary: NotaryClient | None = None,
        from_block: int = 0,
        confirmations: int = 0,
    ):
        """Without the other contracts, only the registry's members are indexed (no reputation)."""
        if confirmations < 0:
            raise ValueError(f"confirmations must be 0 or more, got {confirmations}")
        self.chain = registry.chain
        self.store = store
        self.from_block = from_block
        self.confirmations = confirmations
        self.registry = registry.address
        self.ledger = ledger
        self._clients: dict[str, ContractClient] = {
            c.address: c for c in (registry, escrow, ledger, market, notary) if c is not None
        }

    @classmethod
    def of(cls, suite: Suite, store: IndexStore, *, confirmations: int = 0) -> EventIndexer:
        """The indexer of a deployed suite, reading from the block the registry was deployed in."""
        return cls(
            store,
            registry=suite.registry,
            escrow=suite.escrow,
            ledger=suite.ledger,
            market=suite.market,
            notary=suite.notary,
            from_block=suite.manifest.contracts["CarrierRegistry"].block,
            confirmations=confirmations,
        )

    def sync(
        self, to_block: int | None = None, *, chunk: int = 2_000, progress: SyncProgress | None = None
    ) -> SyncReport:
        """Apply every event not applied yet, up to `to_block` and at most `confirmations` below the tip."""
        w3 = self.chain.w3
        head = w3.eth.block_number
        safe = head - self.confirmations
        last = safe if to_block is None else min(to_block, safe)
        with self.store.engine.begin() as conn:
            start = self.store.cursor(
                conn, self.chain.chain_id, self.registry, self.from_block, self._contract_columns()
            )
        rebuilt = False
        position, applied = start, 0
        if progress:
            progress(0, max(0, last - start + 1))
        while True:
            # Before every range (and even when there is none): is the indexed tip still the chain's?
            if not self._still_on_chain(position, head):
                with self.store.engine.begin() as conn:
                    self.store.rebuild(conn, self.from_block)
                position = start = self.from_block
                rebuilt, applied = True, 0
            if position > last:
                break
            end = min(position + chunk - 1, last)
            try:
                applied += self._apply_range(position, end)
            except ReorganisedWhileReading:
                continue  # read the range again (or rebuild, if the reorganisation reached below it)
            position = end + 1
            if progress:
                progress(position - start, max(0, last - start + 1))
        self.store.record_head(head, self.confirmations, int(time.time()))
        return SyncReport(start, last, applied, head, rebuilt)

    # --- one block range ----------------------------------------------------------------------------

    def _contract_columns(self) -> dict[str, str]:
        names = {
            "OrderEscrow": "escrow",
            "SlaLedger": "ledger",
            "RfqMarket": "market",
            "ContractNotary": "notary",
        }
        return {names[c.CONTRACT]: a for a, c in self._clients.items() if c.CONTRACT in names}

    def _still_on_chain(self, position: int, head: int) -> bool:
        """True when the last block the index covers (before `position`) is still the chain's: it
        exists (the chain did not get shorter) and has the hash the cursor remembers."""
        with self.store.engine.connect() as conn:
            state = self.store.state(conn)
        if state is None or not state.last_hash or position <= self.from_block:
            return True
        if position - 1 > max(head, self.chain.w3.eth.block_number):
            return False
        return _hash(self.chain.w3.eth.get_block(position - 1)["hash"]) == state.last_hash

    def _apply_range(self, position: int, end: int) -> int:
        w3 = self.chain.w3
        last = w3.eth.get_block(end)
        before = _hash(last["hash"])
        logs = w3.eth.get_logs({"address": list(self._clients), "fromBlock": position, "toBlock": end})
        times = self._block_times(logs)
        if _hash(w3.eth.get_block(end)["hash"]) != before or any(
            _hash(log["blockHash"]) != times[log["blockNumber"]][0] for log in logs
        ):
            raise ReorganisedWhileReading(f"blocks {position}..{end} changed while they were read")
        # The range's last block too, events or not: its time is "now" as far as the index knows
        # (what an open proposal's expiry or an RFQ's deadline is judged against).
        times.setdefault(end, (before, int(last["timestamp"])))
        decoded = self._decode(logs)
        with self.store.engine.begin() as conn:
            projection = Projection(conn, self._decode_call)
            for number, (block_hash, timestamp) in sorted(times.items()):
                conn.execute(insert(blocks).values(number=number, hash=block_hash, timestamp=timestamp))
            for contract, event in decoded:
                projection.apply(event, contract)
            for token in sorted(projection.new_tokens):
                conn.execute(
                    update(tokens).where(tokens.c.address == token).values(**self._token_meta(token))
                )
            for provider, block in sorted(projection.touched, key=lambda t: (t[1], t[0])):
                self._record_reputation(conn, provider, block)
            self.store.advance(conn, end + 1, before)
        return len(decoded)

    def _block_times(self, logs: list[Any]) -> dict[int, tuple[str, int]]:
        """(hash, timestamp) of every block a log came from (the log's own timestamp when the node
        gives one, as anvil does; the block header otherwise)."""
        found: dict[int, tuple[str, int]] = {}
        for log in logs:
            number = log["blockNumber"]
            if number in found:
                continue
            stamp = log.get("blockTimestamp")
            if stamp is None:
                header = self.chain.w3.eth.get_block(number)
                found[number] = (_hash(header["hash"]), int(header["timestamp"]))
            else:
                found[number] = (_hash(log["blockHash"]), int(stamp, 16) if isinstance(stamp, str) else stamp)
        return found

    def _decode(self, logs: list[Any]) -> list[tuple[str, ContractEvent]]:
        by_contract: dict[str, list[Any]] = {}
        for log in logs:
            by_contract.setdefault(to_checksum_address(log["address"]), []).append(log)
        decoded = [
            (self._clients[address].CONTRACT, e)
            for address, group in by_contract.items()
            for e in self._clients[address].decode(group)
        ]
        return sorted(decoded, key=lambda pair: (pair[1].block_number, pair[1].log_index))

    def _decode_call(self, target: str, data: bytes) -> tuple[str, dict[str, Any]] | None:
        """A council proposal's call, decoded with the ABI of the suite contract it targets."""
        from offnet.indexer.projection import call_arguments

        client = self._clients.get(to_checksum_address(target))
        if client is None:
            return None
        try:
            function, arguments = client.contract.decode_function_input(data)
        except ValueError:  # not a function of this contract: shown as raw calldata
            return None
        arguments = dict(arguments)
        if "terms" in arguments:  # a call about an order: name the order
            arguments["orderId"] = OrderTerms.from_tuple(arguments["terms"]).order_id()
        return function.fn_name, call_arguments(arguments)

    def _token_meta(self, token: str) -> dict[str, Any]:
        """A token's symbol and decimals, read once."""
        found = read_token(self.chain, token)
        return {"symbol": found.symbol, "decimals": found.decimals}

    def _record_reputation(self, conn: Any, provider: str, block: int) -> None:
        """The ledger's reputation of `provider` at `block`: a new point, and the member's current one."""
        if self.ledger is None:
            return
        reputation = self.ledger.reputation(provider, block=block)
        samples = reputation.samples
        values = {name: getattr(reputation, name) for name in REPUTATION_FIELDS}
        upsert(conn, reputation_points, {"member": provider, "block": block}, {"samples": samples, **values})
        Projection(conn).upsert_member(
            provider,
            block,
            reputation_ppm=reputation.overall_ppm,
            reputation_samples=samples,
            reputation_block=block,
        )


def _hash(value: Any) -> str:
    return Web3.to_hex(value)
