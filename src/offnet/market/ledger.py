"""SlaLedger: a typed client (batches, finality, disputes, rulings) and the reputation reader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from eth_utils import to_checksum_address

from offnet.chain import ContractClient, ContractEvent, Receipt, Sender
from offnet.chain.tx import call
from offnet.market.merkle import MerkleTree
from offnet.market.types import OrderTerms, ReportStatus, SlaReport


@dataclass(frozen=True)
class LaneView:
    """What a member's lane holds: when its batch was submitted (0 = empty) and the root's high 216 bits."""

    submitted_at: int
    root_prefix: bytes

    def holds(self, root: bytes) -> bool:
        """True when the lane holds the batch of `root`."""
        return self.submitted_at != 0 and bytes(root[:27]) == self.root_prefix


def default_lane(root: bytes) -> int:
    """A lane nobody else uses: 63 bits of the batch root (never reused, so never busy).

    63 bits, not the contract's 64, so the lane fits a signed 64-bit integer (SQLite, Postgres
    BIGINT) wherever a relay records it. Relays that submit often pass their own small ring of lanes
    instead: rewriting a lane costs a fifth of creating one (see SlaLedger.submit).
    """
    return int.from_bytes(root[:8], "big") >> 1


@dataclass(frozen=True)
class Batch:
    """A batch as its submitter built it: the member it is for, its lane, the reports and the tree."""

    member: str
    reports: tuple[SlaReport, ...]
    lane: int = -1  # -1: default_lane(root)

    @classmethod
    def of(cls, member: str, reports: Sequence[SlaReport], lane: int | None = None) -> Batch:
        return cls(to_checksum_address(member), tuple(reports), -1 if lane is None else lane)

    @cached_property
    def tree(self) -> MerkleTree:
        return MerkleTree.build([r.leaf(self.member) for r in self.reports])

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def lane_id(self) -> int:
        """The lane the batch goes into (its own default lane unless one was chosen)."""
        return default_lane(self.root) if self.lane < 0 else self.lane

    @property
    def ref(self) -> tuple[str, int]:
        """The contract's BatchRef: (member, lane)."""
        return (self.member, self.lane_id)

    def proof(self, report: SlaReport) -> list[bytes]:
        """The Merkle proof of `report` (its first occurrence) in this batch."""
        return self.tree.proof(self.reports.index(report))


@dataclass(frozen=True)
class Reputation:
    """Raw reputation aggregates of a provider and the scores the contract derives (see ISlaLedger)."""

    quotes_requested: int
    quotes_on_time: int
    orders_delivered: int
    orders_on_time: int
    orders_failed: int
    disputes_lost: int
    total_days_late: int
    periods_reported: int
    periods_meeting_objectives: int
    trouble_tickets: int
    availability_sum_ppm: int
    total_restore_sec: int
    # derived, ppm unless named otherwise
    quote_timeliness_ppm: int
    on_time_delivery_ppm: int
    delivery_success_ppm: int
    average_days_late_milli: int
    sla_compliance_ppm: int
    average_availability_ppm: int
    average_restore_sec: int
    overall_ppm: int

    @property
    def samples(self) -> int:
        """The facts the overall score averages over: quotes requested, orders delivered, months
        reported (0: a new member without history, whose 0 % means nothing yet)."""
        return self.quotes_requested + self.orders_delivered + self.periods_reported

    @property
    def new(self) -> bool:
        return self.samples == 0

    @classmethod
    def from_call(cls, raw: Sequence[int], scores: Sequence[int]) -> Reputation:
        values = [*raw, *scores]
        if len(values) != len(fields(cls)):
            raise ValueError(f"reputation view returned {len(values)} values, expected {len(fields(cls))}")
        return cls(*values)


@dataclass(frozen=True)
class SubmittedReport:
    """A ReportSubmitted event, decoded, with the batch it belongs to."""

    root: bytes
    report: SlaReport
    member: str  # the member the batch is for
    lane: int
    block: int
    tx_hash: str

    @property
    def report_id(self) -> bytes:
        return self.report.report_id


class ReportBatches:
    """Which batch each ReportSubmitted belongs to: the nearest BatchSubmitted before it in the same
    transaction (a submit call emits its batch, then its reports, and nothing in between). Feed it a
    transaction's ledger events in log order."""

    def __init__(self) -> None:
        self._last: dict[str, Mapping[str, Any]] = {}  # transaction -> its latest BatchSubmitted args

    def batch_of(self, name: str, args: Mapping[str, Any], tx_hash: str) -> Mapping[str, Any] | None:
        """The BatchSubmitted arguments of a ReportSubmitted event (None for any other event)."""
        if name == "BatchSubmitted":
            self._last[tx_hash] = args
        elif name == "ReportSubmitted":
            return self._last[tx_hash]
        return None


def reports_with_batches(events: Sequence[ContractEvent]) -> list[SubmittedReport]:
    """The ReportSubmitted events among the ledger's `events` (in log order), each with its batch."""
    pairing, found = ReportBatches(), []
    for event in events:
        batch = pairing.batch_of(event.name, event.args, event.tx_hash)
        if batch is not None:
            found.append(
                SubmittedReport(
                    bytes(batch["root"]),
                    SlaReport.from_tuple(event.args),
                    to_checksum_address(batch["member"]),
                    int(batch["lane"]),
                    event.block_number,
                    event.tx_hash,
                )
            )
    return found


class LedgerClient(ContractClient):
    """Typed calls to one deployed SlaLedger; each transaction is sent by the Sender passed in."""

    CONTRACT = "SlaLedger"

    @classmethod
    def deploy(
        cls, deployer: Sender, registry: str, escrow: str, market: str, liveness_window: int
    ) -> tuple[LedgerClient, Receipt]:
        """Deploy a ledger reading `registry`, pushing outcomes into `escrow`, taking quote timeliness
        from `market` (immutable links: predicted addresses when deployed later), with
        `liveness_window` seconds to dispute a report."""
        return cls._deploy(deployer, registry, escrow, market, liveness_window)

    # --- transactions -----------------------------------------------------------------------------

    def submit(
        self, oracle: Sender, member: str, reports: Sequence[SlaReport], lane: int | None = None
    ) -> tuple[Batch, Receipt]:
        """Submit `reports` as one batch from an oracle key of `member`; returns the batch and receipt.

        `lane`: which of the member's lanes holds the batch (default: a lane of its own, see
        `default_lane`); a lane can be reused once its previous batch outlived the liveness window.
        """
        batch = Batch.of(member, reports, lane)
        receipt = oracle.transact(self.fn.submit(batch.lane_id, [r.to_tuple() for r in batch.reports]))
        return batch, receipt

    def finalize(self, sender: Sender, terms: OrderTerms, report: SlaReport, batch: Batch) -> Receipt:
        """Make `report` final after its batch's liveness window (a no-op when it is final already)."""
        return sender.transact(
            self.fn.finalize(terms.to_tuple(), report.to_tuple(), batch.ref, batch.proof(report))
        )

    def finalize_matched(
        self, sender: Sender, terms: OrderTerms, report: SlaReport, batch_a: Batch, batch_b: Batch
    ) -> Receipt:
        """Make `report` final at once: the buyer's and the seller's batches both hold it."""
        return sender.transact(
            self.fn.finalizeMatched(
                terms.to_tuple(),
                report.to_tuple(),
                batch_a.ref,
                batch_a.proof(report),
                batch_b.ref,
                batch_b.proof(report),
            )
        )

    def hold(self, sender: Sender, terms: OrderTerms, report: SlaReport, batch: Batch) -> Receipt:
        """Hold a completion or period report within its liveness window: the escrow's timeouts of its
        milestone (cancel, non-delivery claim, period claim) wait until it is final or ruled."""
        return sender.transact(
            self.fn.hold(terms.to_tuple(), report.to_tuple(), batch.ref, batch.proof(report))
        )

    def dispute(self, oracle: Sender, terms: OrderTerms, report: SlaReport, batch: Batch) -> Receipt:
        """Dispute the counterparty's `report` within its liveness window (from an oracle key)."""
        return oracle.transact(
            self.fn.dispute(terms.to_tuple(), report.to_tuple(), batch.ref, batch.proof(report))
        )

    def dispute_conflict(
        self,
        sender: Sender,
        terms: OrderTerms,
        report_a: SlaReport,
        batch_a: Batch,
        report_b: SlaReport,
        batch_b: Batch,
    ) -> Receipt:
        """Put a report id under dispute by showing two different contents submitted for it."""
        return sender.transact(
            self.fn.disputeConflict(
                terms.to_tuple(),
                report_a.to_tuple(),
                batch_a.ref,
                batch_a.proof(report_a),
                report_b.to_tuple(),
                batch_b.ref,
                batch_b.proof(report_b),
            )
        )

    def resolve_call(self, terms: OrderTerms, report: SlaReport, loser: str | None) -> Any:
        """The council's ruling call (a registry proposal's target and calldata): `report` is true."""
        return self.fn.resolve(terms.to_tuple(), report.to_tuple(), loser or "0x" + "00" * 20)

    def record_quote_timeliness(self, market: Sender, provider: str, answered_on_time: bool) -> Receipt:
        """As the wired market: record whether `provider` answered an RFQ on time."""
        return market.transact(self.fn.recordQuoteTimeliness(provider, answered_on_time))

    # --- views ------------------------------------------------------------------------------------

    def reputation(self, provider: str, *, block: int | str = "latest") -> Reputation:
        """The provider's raw aggregates and derived scores (as of `block`)."""
        raw, scores = call(self.fn.reputation(provider), block_identifier=block)
        return Reputation.from_call(raw, scores)

    def status(self, report: SlaReport) -> ReportStatus:
        """Where the fact `report` is about stands (none, disputed, final)."""
        return ReportStatus(call(self.fn.reportStatus(bytes(report.order_id), int(report.kind), report.key)))

    def record(self, report: SlaReport) -> tuple[ReportStatus, int]:
        """The stored record of the report's id: (status, when it was held or disputed)."""
        status, since = call(self.fn.recordOf(report.report_id))
        return ReportStatus(status), since

    def lane(self, member: str, lane: int) -> LaneView:
        """What lane `lane` of `member` holds."""
        submitted_at, root_prefix = call(self.fn.lane(to_checksum_address(member), lane))
        return LaneView(submitted_at, bytes(root_prefix))

    def batch_stored(self, batch: Batch) -> LaneView:
        """The lane of `batch` (check `.holds(batch.root)` to know whether it is still there)."""
        return self.lane(batch.member, batch.lane_id)

    def liveness_window(self) -> int:
        return call(self.fn.livenessWindow())

    def submitted_reports(self, receipt: Receipt) -> list[SubmittedReport]:
        """The reports a submit transaction stored, each with its batch."""
        return reports_with_batches(self.decode(receipt.raw["logs"]))

    def submissions(self, from_block: int = 0) -> list[SubmittedReport]:
        """Every report submitted from `from_block` on, each with its batch, in chain order."""
        w3 = self.contract.w3
        logs = w3.eth.get_logs({"address": self.address, "fromBlock": from_block, "toBlock": "latest"})
        return reports_with_batches(self.decode(logs))
