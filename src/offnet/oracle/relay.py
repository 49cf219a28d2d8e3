"""From the outbox to the chain: batched, idempotent SLA report submission and finalisation.

The outbox row is the unit of work. A batch is recorded as `submitted` with its transaction hash
and Merkle root *before* it is broadcast (Sender's on_signed hook), so after a crash `recover()`
finds every transaction that may have been sent. A report counts as confirmed only once its
transaction has the configured confirmations; a transaction that disappeared (dropped, or a
shallow reorg) puts its reports back to pending. Resubmitting a report is harmless: the ledger
gives each report id at most one effect.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from eth_utils import to_checksum_address

from offnet.chain.connect import Chain
from offnet.chain.tx import Sender
from offnet.exceptions import ContractRevert, TransactionDropped
from offnet.market.codec import report_from_json, terms_from_json
from offnet.market.ledger import Batch, LedgerClient, default_lane
from offnet.market.types import ReportStatus
from offnet.oracle.store import Store

log = logging.getLogger("offnet.oracle.relay")

# Ledger lanes a relay cycles through (SlaLedger.submit): enough for the batches of one liveness
# window; past that a batch takes a fresh lane of its own, which only costs more gas.
DEFAULT_LANES = 32


@dataclass
class RelayStats:
    submitted: int = 0
    confirmed: int = 0
    rejected: int = 0
    finalized: int = 0
    transactions: int = 0


class ReportRelay:
    """Sends the outbox to the SlaLedger for one member, from one oracle key."""

    def __init__(
        self,
        store: Store,
        chain: Chain,
        ledger: LedgerClient,
        oracle: Sender,
        member: str,
        *,
        batch_size: int = 50,
        lanes: int = DEFAULT_LANES,
    ):
        self.store = store
        self.chain = chain
        self.ledger = ledger
        self.oracle = oracle
        self.member = to_checksum_address(member)
        self.batch_size = batch_size
        self.lanes = lanes
        self._lane_free_at: dict[int, int] = {}  # lanes the ledger called busy, until when
        self.stats = RelayStats()
        self._liveness: int | None = None

    @property
    def liveness_window(self) -> int:
        if self._liveness is None:
            self._liveness = self.ledger.liveness_window()  # immutable on chain: read once
        return self._liveness

    # --- crash recovery and confirmations -------------------------------------------------------

    def recover(self) -> None:
        """Settle every `submitted` row: confirmed if its transaction is mined deep enough, else retry."""
        by_tx: dict[str, list[str]] = {}
        for row in self.store.reports_with_status("submitted", limit=100_000):
            by_tx.setdefault(row["tx_hash"], []).append(row["report_id"])
        for tx_hash, report_ids in by_tx.items():
            self._settle(tx_hash, report_ids)

    def _settle(self, tx_hash: str, report_ids: list[str]) -> bool:
        """Confirm or re-queue the reports of one transaction; False while it is not deep enough."""
        try:
            receipt = self.chain.w3.eth.get_transaction_receipt(tx_hash)
        except Exception:  # not found: never broadcast, dropped, or reorganised away
            receipt = None
        if receipt is None:
            pending_tx = self._in_mempool(tx_hash)
            if pending_tx:
                return False
            self.store.mark_pending(report_ids, f"transaction {tx_hash} not found")
            return True
        if receipt["status"] != 1:
            self.store.mark_pending(report_ids, f"transaction {tx_hash} failed")
            return True
        if self.chain.w3.eth.block_number < receipt["blockNumber"] + self.chain.confirmations - 1:
            return False
        mined_at = int(self.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
        self.store.mark_confirmed(report_ids, receipt["blockNumber"], mined_at + self.liveness_window)
        self.stats.confirmed += len(report_ids)
        return True

    def _in_mempool(self, tx_hash: str) -> bool:
        try:
            return self.chain.w3.eth.get_transaction(tx_hash) is not None
        except Exception:
            return False

    # --- submission -----------------------------------------------------------------------------

    def submit_pending(self) -> int:
        """Send pending reports in batches until none is left; returns how many were confirmed."""
        before = self.stats.confirmed
        while True:
            rows = self.store.reports_with_status("pending", limit=self.batch_size)
            if not rows:
                break
            self._send(rows)
        return self.stats.confirmed - before

    def _lane(self, root: bytes) -> int:
        """A lane of this relay's ring whose batch is all final, else the batch's own fresh lane.

        Reusing a lane rewrites one storage slot (about 17k gas less than creating one); a lane is
        reused only once every report sent in it is final or parked.
        """
        in_use = self.store.lanes_in_use()
        now = self.chain.now()
        for lane in range(self.lanes):
            if lane not in in_use and self._lane_free_at.get(lane, 0) <= now:
                return lane
        return default_lane(root)

    def _send(self, rows: list[dict]) -> None:
        reports = [report_from_json(json.loads(r["payload"])) for r in rows]
        ids = [r["report_id"] for r in rows]
        root_bytes = Batch.of(self.member, reports).root
        batch = Batch.of(self.member, reports, self._lane(root_bytes))
        root = "0x" + root_bytes.hex()
        call = self.ledger.fn.submit(batch.lane_id, [r.to_tuple() for r in reports])
        try:
            receipt = self.oracle.transact(
                call, on_signed=lambda h: self.store.mark_submitted(ids, h, root, batch.lane_id)
            )
        except TransactionDropped as dropped:  # a shallow reorganisation: send the reports again
            log.warning("%s; its %d reports go back to the outbox", dropped, len(ids))
            self.store.mark_pending(ids, str(dropped))
            return
        except ContractRevert as refused:
            self.store.mark_pending(ids, refused.describe())  # undo `submitted` if it was mined and failed
            if refused.name == "SlaLaneBusy":
                # The lane's batch is still within its liveness window (e.g. it was finalised early by
                # matched reports): skip the lane until then and send the same batch elsewhere.
                free_at = int(refused.arguments["freeAt"])
                self._lane_free_at[batch.lane_id] = free_at
                log.info("lane %d busy until %d; sending in another lane", batch.lane_id, free_at)
                self._send(rows)
                return
            if len(rows) == 1:
                # The ledger refuses this report for good (e.g. not a party of the order): park it.
                self.store.set_report_status(ids, "rejected", refused.describe())
                self.stats.rejected += 1
                log.warning("report %s rejected by the ledger: %s", ids[0], refused.describe())
                return
            half = len(rows) // 2  # find the bad report without holding back the good ones
            self._send(rows[:half])
            self._send(rows[half:])
            return
        self.stats.transactions += 1
        self.stats.submitted += len(ids)
        self._settle(receipt.tx_hash, ids)

    # --- finality -------------------------------------------------------------------------------

    def finalize_due(self, now: int | None = None) -> int:
        """Finalise confirmed reports whose liveness window is over; returns how many became final.

        Only reports already due are looked at (the outbox keeps each one's due time), so a long
        backlog of reports still in their window costs nothing per pass.
        """
        now = self.chain.now() if now is None else now
        finalized = 0
        batches: dict[str, Batch] = {}
        for row in self.store.due_reports(now):
            order = self.store.order(order_id=row["order_id"])
            if order is None:  # an order this oracle does not know the terms of (yet)
                self.store.postpone([row["report_id"]], now + 3600)
                continue
            report = report_from_json(json.loads(row["payload"]))
            status = self.ledger.status(report)
            if status == ReportStatus.FINAL:
                self.store.set_report_status([row["report_id"]], "final")
                continue
            if status == ReportStatus.DISPUTED:
                self.store.set_report_status([row["report_id"]], "disputed")  # the council decides
                continue
            root = row["batch_root"]
            if root not in batches:
                rows = self.store.batch_reports(root)
                batches[root] = Batch.of(
                    self.member,
                    [report_from_json(json.loads(r["payload"])) for r in rows],
                    row["batch_lane"],
                )
            try:
                self.ledger.finalize(self.oracle, terms_from_json(order["terms"]), report, batches[root])
            except ContractRevert as refused:
                log.warning("finalize %s refused: %s", row["report_id"], refused.describe())
                self.store.postpone([row["report_id"]], now + 600)
                continue
            self.store.set_report_status([row["report_id"]], "final")
            finalized += 1
        self.stats.finalized += finalized
        return finalized
