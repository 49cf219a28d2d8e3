"""From the outbox to the chain: batched, pipelined, idempotent SLA report submission and finalisation.

Three passes, each its own supervised duty in the oracle:

- **submit**: takes pending reports in arrival order, shared fairly between the peers they came from,
  and sends a batch once it holds `batch_size` reports or its oldest report waited `max_wait`
  seconds. Calldata is the reports' own ABI words (no web3 contract machinery on the hot path), fees are
  reused for about a block, and up to `max_in_flight` transactions go out on consecutive nonces
  without waiting for one another. Each batch is recorded `submitted` with its transaction hash and
  nonce *before* it is broadcast, so after a crash nothing sent is forgotten.
- **confirm**: follows the submitted transactions: one deep enough (the configured confirmations) is
  `confirmed` with the time its liveness window ends; one that disappeared (dropped, or a shallow
  reorganisation) puts its reports back to `pending`, and its nonce gap is filled by the next batch;
  one that reverted is decoded: a busy lane is skipped, and the reports go back to be tried one by
  one (simulated first), so a report the ledger refuses for good is `rejected` without holding back
  the others.
- **finalize**: reports whose liveness window is over are finalised, which releases money.

A report that cannot even be encoded (a bad row) is a dead letter with its reason; the rest flows on.
Resubmitting a report is harmless: the ledger gives each report id at most one effect.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from eth_utils import keccak, to_checksum_address

from offnet.chain.connect import Chain
from offnet.chain.tx import Sender, as_revert
from offnet.exceptions import BroadcastUnknown, ContractRevert, InvalidInput, TransactionRejected
from offnet.market.codec import report_from_json, terms_from_json, to_hex
from offnet.market.ledger import Batch, LedgerClient, default_lane
from offnet.market.types import REPORT_ABI, ReportKind, ReportStatus, SlaReport
from offnet.oracle.store import Store

log = logging.getLogger("offnet.oracle.relay")

# Ledger lanes a relay cycles through (SlaLedger.submit): enough for the batches of one liveness
# window; past that a batch takes a fresh lane of its own, which only costs more gas.
DEFAULT_LANES = 32
SUBMIT_SELECTOR = keccak(text=f"submit(uint64,{REPORT_ABI}[])")[:4]
# Gas of a batch without estimating it: a fresh lane and a new Merkle slot, then each report's event
# and leaf hashing (about 9k a report in a batch of 100; a lone report 47k-65k). Unused gas is not paid.
GAS_BASE = 90_000
GAS_PER_REPORT = 14_000


@dataclass
class RelayStats:
    submitted: int = 0
    confirmed: int = 0
    rejected: int = 0
    dead: int = 0
    finalized: int = 0
    transactions: int = 0


def submit_calldata(lane: int, reports: list[SlaReport]) -> bytes:
    """The calldata of `SlaLedger.submit(lane, reports)`: the lane, the offset of the array (two
    words in), its length, then each report's static words inline (see SlaReport.abi_encoded)."""
    if not 0 <= lane < 2**64:
        raise ValueError(f"lane {lane} does not fit a uint64")
    head = b"".join(value.to_bytes(32, "big") for value in (lane, 64, len(reports)))
    return b"".join([SUBMIT_SELECTOR, head, *(r.abi_encoded() for r in reports)])


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
        batch_size: int = 200,
        lanes: int = DEFAULT_LANES,
        max_in_flight: int = 4,
        max_wait: float = 0.2,
    ):
        self.store = store
        self.chain = chain
        self.ledger = ledger
        self.oracle = oracle
        self.member = to_checksum_address(member)
        self.batch_size = batch_size
        self.lanes = lanes
        self.max_in_flight = max_in_flight
        self.max_wait = max_wait
        self._lane_free_at: dict[int, int] = {}  # lanes the ledger called busy, until when
        self._block_times: dict[int, int] = {}
        self.stats = RelayStats()
        self._liveness: int | None = None
        self._broadcasting: set[str] = set()  # transactions recorded whose broadcast is under way
        self._partial_since: float | None = None  # monotonic time the pending batch was first seen partial
        self._pending_seen: int | None = None  # pending reports at the outbox's last read (None: unknown)
        self._read_at = 0.0  # monotonic time of that read
        self._queued = 0  # reports queued by this process since then
        self._settle_passes = 0  # confirm passes that looked at pending transactions
        self._full: tuple[int, float] | None = None  # (settle passes, time) when max_in_flight was last seen

    @property
    def liveness_window(self) -> int:
        if self._liveness is None:
            self._liveness = self.ledger.liveness_window()  # immutable on chain: read once
        return self._liveness

    # --- submission ---------------------------------------------------------------------------------

    def queued(self, count: int) -> None:
        """This process queued `count` reports: the next submit pass reads the outbox (a hint only: the
        outbox stays the one truth, and it is read at least every `max_wait` whatever the hints)."""
        self._queued += count
        if self._partial_since is None:
            self._partial_since = time.monotonic()

    def submit_pass(self, *, flush: bool = False) -> int:
        """Send what is due (full batches, or batches whose oldest report waited `max_wait`); returns
        how many reports were sent. `flush`: send partial batches at once."""
        if not flush and (self._nothing_due() or self._still_full()):
            return 0
        sent = 0
        in_flight = self.store.transactions_in_flight()
        self._full = None if in_flight < self.max_in_flight else (self._settle_passes, time.monotonic())
        while in_flight < self.max_in_flight:
            self._read_at, self._queued = time.monotonic(), 0
            rows = self.store.pending_reports(self.batch_size)
            self._pending_seen = len(rows)
            if not rows:
                self._partial_since = None
                break
            if not flush and len(rows) < self.batch_size and not self._waited(rows):
                break
            sent += self._send(rows)
            self._partial_since = None
            self._pending_seen = None  # unknown until read again
            in_flight += 1
        return sent

    def _still_full(self) -> bool:
        """True while `max_in_flight` transactions were pending at the last look and no confirm pass
        has run since (re-checked at least every `max_wait`)."""
        if self._full is None:
            return False
        passes, since = self._full
        return passes == self._settle_passes and time.monotonic() - since < self.max_wait

    def _nothing_due(self) -> bool:
        """True when the outbox, as last read plus what was queued since, cannot hold a due batch: not
        a full one, and no partial batch past its wait. Passes are woken by every queued report; this
        spares them the outbox's rows until a batch may go (at most `max_wait` between reads, so
        reports queued by anyone else are never left behind)."""
        if self._pending_seen is None:
            return False
        now = time.monotonic()
        if now - self._read_at >= self.max_wait or self._pending_seen + self._queued >= self.batch_size:
            return False
        return self._partial_since is None or now - self._partial_since < self.max_wait

    def _waited(self, rows: list[dict]) -> bool:
        """True once a partial batch waited `max_wait`: timed from when this relay first learnt of it (a
        report queued here, or the outbox read partial; the outbox keeps whole seconds, which would
        make a report queued at .9 of a second look 0.9 s old at once), or by the outbox's time once
        that is surely past (a backlog found at start)."""
        now = time.monotonic()
        if self._partial_since is None:
            self._partial_since = now
        oldest = min(r["created_at"] for r in rows)
        return now - self._partial_since >= self.max_wait or time.time() - oldest >= self.max_wait + 1

    def _send(self, rows: list[dict]) -> int:
        """Send one batch of outbox rows (checked first); returns how many reports went out."""
        reports, good = [], []
        for row in rows:
            try:
                report = report_from_json(json.loads(row["payload"]))
            except (InvalidInput, ValueError, KeyError, TypeError) as exc:  # a row no batch could carry
                self.store.set_report_status([row["report_id"]], "dead", f"cannot be sent: {exc}")
                self.stats.dead += 1
                log.error("report %s is a dead letter: %s", row["report_id"], exc)
                continue
            if row["attempts"] and not self._acceptable(row, report):
                continue
            reports.append(report)
            good.append(row)
        if not reports:
            return 0
        ids = [r["report_id"] for r in good]
        root = Batch.of(self.member, reports).root
        lane = self._lane(root)
        data = submit_calldata(lane, reports)
        gas = GAS_BASE + GAS_PER_REPORT * len(reports)
        signed: list[str] = []

        def recorded(tx_hash: str, nonce: int) -> None:
            # Until the node has answered the broadcast, the confirmer (another thread) must not take
            # "unknown to the node" for "dropped": it would send these reports again.
            signed.append(tx_hash)
            self._broadcasting.add(tx_hash)
            self.store.mark_submitted(ids, tx_hash, to_hex(root), lane, nonce)

        try:
            self.oracle.dispatch(self.ledger.address, data, gas=gas, on_signed=recorded)
        except TransactionRejected as refused:
            log.warning("batch of %d reports not accepted by the node: %s", len(ids), refused)
            self.store.mark_pending(ids, str(refused))
            return 0
        except (
            BroadcastUnknown
        ) as unknown:  # recorded as submitted: the confirmer finds out what became of it
            log.warning("%s; followed up by the confirmer", unknown)
        finally:
            self._broadcasting.difference_update(signed)
        self.stats.transactions += 1
        self.stats.submitted += len(ids)
        return len(ids)

    def _acceptable(self, row: dict, report: SlaReport) -> bool:
        """A report whose batch reverted before: simulated alone; refused for good -> rejected."""
        try:
            alone = submit_calldata(default_lane(report.leaf(self.member)), [report])
            self.chain.w3.eth.call({"from": self.oracle.address, "to": self.ledger.address, "data": alone})
        except Exception as exc:  # the ledger refuses this report whatever the batch: park it
            reason = _describe(exc)
            self.store.set_report_status([row["report_id"]], "rejected", reason)
            self.stats.rejected += 1
            log.warning("report %s rejected by the ledger: %s", row["report_id"], reason)
            return False
        return True

    def _lane(self, root: bytes) -> int:
        """A lane of this relay's ring whose batch is all final, else the batch's own fresh lane.

        Reusing a lane rewrites one storage slot (about 17k gas less than creating one); a lane is
        reused only once every report sent in it is final or parked.
        """
        in_use = self.store.lanes_in_use(range(self.lanes))
        now = self.chain.now() if self._lane_free_at else 0  # busy lanes are timed in chain time
        for lane in range(self.lanes):
            if lane not in in_use and self._lane_free_at.get(lane, 0) <= now:
                return lane
        return default_lane(root)

    # --- confirmation -------------------------------------------------------------------------------

    def confirm_pass(self) -> int:
        """Settle every submitted transaction that can be settled; returns how many reports were confirmed."""
        before = self.stats.confirmed
        transactions = self.store.submitted_transactions()
        if transactions:
            head = self.chain.w3.eth.block_number
            for tx_hash, report_ids in transactions.items():
                self._settle(tx_hash, report_ids, head)
            self._settle_passes += 1
        return self.stats.confirmed - before

    def recover(self) -> None:
        """After a restart: settle every transaction the outbox says may have been sent."""
        self.confirm_pass()

    def _settle(self, tx_hash: str, report_ids: list[str], head: int) -> None:
        if tx_hash in self._broadcasting:
            return  # recorded and being broadcast right now: nothing to conclude about it yet
        # None: the node answered "not mined" (yet, or ever). Any other failure (the RPC down) raises:
        # nothing is concluded from an unanswered question, or every batch in flight during an outage
        # would be sent twice.
        receipt = self.chain.receipt_status(tx_hash)
        if receipt is None:
            if self._in_mempool(tx_hash):
                return
            self.chain.forget_nonce(self.oracle.address)  # its nonce is free again: the next batch takes it
            self.store.mark_pending(report_ids, f"transaction {tx_hash} not found")
            return
        block, status = receipt
        if head < block + self.chain.confirmations - 1:
            return  # not deep enough yet
        if status != 1:
            self._reverted(tx_hash, report_ids, block)
            return
        mined_at = self._block_time(block)
        self.store.mark_confirmed(report_ids, block, mined_at + self.liveness_window)
        self.stats.confirmed += len(report_ids)

    def _reverted(self, tx_hash: str, report_ids: list[str], block: int) -> None:
        try:
            tx = dict(self.chain.w3.eth.get_transaction(tx_hash))
            refused = self.oracle.revert_of(tx, block)
        except Exception as exc:
            refused = ContractRevert("Reverted", {"reason": _describe(exc)})
        self.store.mark_pending(report_ids, refused.describe())
        if refused.name == "SlaLaneBusy":
            # The lane's batch is still within its liveness window (e.g. final early by matched
            # reports): skip the lane until then; the same reports go out in another lane.
            self._lane_free_at[int(refused.arguments["lane"])] = int(refused.arguments["freeAt"])
            log.info("lane busy (%s); its reports go out in another lane", refused.describe())
            return
        # Another refusal: the reports go back with attempts counted, and are simulated one by one
        # before their next batch, so the one the ledger refuses is found without holding back the rest.
        log.warning(
            "batch %s reverted: %s; its %d reports are checked one by one",
            tx_hash,
            refused.describe(),
            len(report_ids),
        )

    def _in_mempool(self, tx_hash: str) -> bool:
        return self.chain.known_transaction(tx_hash)

    def _block_time(self, number: int) -> int:
        if number not in self._block_times:
            if len(self._block_times) > 4096:
                self._block_times.clear()
            self._block_times[number] = self.chain.block_timestamp(number)
        return self._block_times[number]

    # --- everything at once (the demo's and the tests' synchronous pass) ------------------------------

    def submit_pending(self, *, timeout: float = 300.0) -> int:
        """Send every pending report and wait until none is pending or in flight; returns how many
        reports were confirmed."""
        before = self.stats.confirmed
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.submit_pass(flush=True)
            self.confirm_pass()
            if not self.store.submitted_transactions() and not self.store.pending_reports(1):
                break
            time.sleep(0.05)
        return self.stats.confirmed - before

    # --- finality -----------------------------------------------------------------------------------

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
            try:
                self.ledger.finalize(
                    self.oracle, terms_from_json(order["terms"]), report, self._batch(row, batches)
                )
            except ContractRevert as refused:
                log.warning("finalize %s refused: %s", row["report_id"], refused.describe())
                self.store.postpone([row["report_id"]], now + 600)
                continue
            self.store.set_report_status([row["report_id"]], "final")
            finalized += 1
        self.stats.finalized += finalized
        return finalized

    def _batch(self, row: dict, batches: dict[str, Batch]) -> Batch:
        """The batch an outbox row went out in (rebuilt from the outbox once per pass, for its proof)."""
        root = row["batch_root"]
        if root not in batches:
            rows = self.store.batch_reports(root)
            batches[root] = Batch.of(
                self.member, [report_from_json(json.loads(r["payload"])) for r in rows], row["batch_lane"]
            )
        return batches[root]

    def hold_pass(self, now: int | None = None) -> int:
        """Hold our completion reports as sellers within their liveness window: until the delivery is
        final, the escrow refuses the buyer's cancellation and non-delivery claim (SlaLedger.hold), so
        no timeout can overtake a delivery we reported. Returns how many were held."""
        now = self.chain.now() if now is None else now
        held = 0
        batches: dict[str, Batch] = {}
        for row in self.store.reports_to_hold(ReportKind.ORDER_COMPLETED, now):
            order = self.store.order(order_id=row["order_id"])
            if order is None or order["role"] != "seller":
                self.store.mark_held([row["report_id"]])  # only a seller needs its delivery held
                continue
            report = report_from_json(json.loads(row["payload"]))
            try:
                self.ledger.hold(
                    self.oracle, terms_from_json(order["terms"]), report, self._batch(row, batches)
                )
            except ContractRevert as refused:  # final or disputed already, or the window is over
                log.info("hold %s not needed: %s", row["report_id"], refused.describe())
            else:
                held += 1
            self.store.mark_held([row["report_id"]])
        return held


def _describe(exc: Exception) -> str:
    if isinstance(exc, ContractRevert):
        return exc.describe()
    try:
        return as_revert(exc).describe()
    except Exception:
        return f"{exc.__class__.__name__}: {exc}"
