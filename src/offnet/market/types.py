"""The Python mirror of the on-chain value types (contracts/types/OrderTypes.sol and ISlaLedger.Report).

Every module that speaks to the contracts takes these from here: order terms, their credit schedule,
a period's metrics, an SLA report with its kind and failure reason, and the status enums the
contracts return. Field order and Solidity types follow the structs exactly; the ids (order id,
report id) are computed the way the contracts compute them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from enum import IntEnum
from functools import lru_cache
from typing import Any

# safe-pysha3's C keccak called directly: eth_utils.keccak wraps the same hash in ~5 us of checks,
# which the relay would pay for every leaf and node of every batch.
from _pysha3 import keccak_256
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from offnet.exceptions import InvalidInput

ZERO_HASH = bytes(32)


def _abi(solidity_type: str, default: Any = MISSING) -> Any:
    """Field metadata: the Solidity type of a dataclass field (drives encoding, one place only)."""
    return field(default=default, metadata={"abi": solidity_type})


def abi_type(cls: type) -> str:
    """The ABI tuple type of a struct dataclass, e.g. `(uint32,uint32,uint32,uint32,uint16)`."""
    return "(" + ",".join(f.metadata["abi"] for f in fields(cls)) + ")"


def abi_value(value: Any, solidity_type: str) -> Any:
    """One struct field as web3 takes it: a checksummed address, bytes for a `bytesN`, a nested struct
    as its tuple, an integer (enums included) for the rest."""
    if hasattr(value, "to_tuple"):
        return value.to_tuple()
    if solidity_type == "address":
        return to_checksum_address(value)
    if solidity_type.startswith("bytes"):
        return bytes(value)
    return int(value)


class AbiStruct:
    """A dataclass mirroring a Solidity struct, each field typed with `_abi`."""

    def to_tuple(self) -> tuple[Any, ...]:
        """The struct as web3 expects it."""
        return tuple(abi_value(getattr(self, f.name), f.metadata["abi"]) for f in fields(self))  # type: ignore[arg-type]


# --- contracts/types/OrderTypes.sol -----------------------------------------------------------------


@dataclass(frozen=True)
class CreditSchedule(AbiStruct):
    """SLA credits in basis points of the charge; objectives in report units (0 = not measured)."""

    late_delivery_bps_per_day: int = _abi("uint16")
    late_delivery_cap_bps: int = _abi("uint16")
    availability_objective_ppm: int = _abi("uint32")
    availability_credit_bps: int = _abi("uint16")
    frame_delay_objective_us: int = _abi("uint32")
    frame_delay_credit_bps: int = _abi("uint16")
    frame_loss_objective_ppm: int = _abi("uint32")
    frame_loss_credit_bps: int = _abi("uint16")
    time_to_restore_objective_sec: int = _abi("uint32")
    time_to_restore_credit_bps: int = _abi("uint16")
    monthly_credit_cap_bps: int = _abi("uint16")

    @classmethod
    def none(cls) -> CreditSchedule:
        """No credits and no objectives."""
        return cls(*[0] * len(fields(cls)))


@dataclass(frozen=True)
class PeriodMetrics(AbiStruct):
    """In-life measurements of one billing period (ppm, microseconds, seconds)."""

    availability_ppm: int = _abi("uint32")
    frame_delay_us: int = _abi("uint32")
    frame_loss_ppm: int = _abi("uint32")
    time_to_restore_sec: int = _abi("uint32")
    outages: int = _abi("uint16")


@dataclass(frozen=True)
class OrderTerms(AbiStruct):
    """The immutable terms of one order; the order id is the keccak256 of their ABI encoding."""

    rfq_id: int = _abi("uint256")
    buyer: str = _abi("address")
    seller: str = _abi("address")
    token: str = _abi("address")
    one_time_charge: int = _abi("uint128")
    monthly_charge: int = _abi("uint128")
    term_months: int = _abi("uint16")
    install_days: int = _abi("uint16")
    prepaid_months: int = _abi("uint16")
    awarded_at: int = _abi("uint40")
    sla_terms_hash: bytes = _abi("bytes32")
    credits: CreditSchedule = _abi(abi_type(CreditSchedule))  # noqa: RUF009 - metadata only, no default
    # Commitment to the financial contract, signed by the seller in its quote (zero: none).
    contract_hash: bytes = _abi("bytes32", ZERO_HASH)

    @classmethod
    def from_tuple(cls, values: Sequence[Any] | Mapping[str, Any]) -> OrderTerms:
        """Terms from a decoded struct: a tuple, or the named mapping web3 gives for event arguments."""
        *head, credits, contract_hash = values.values() if isinstance(values, Mapping) else values
        credits = credits.values() if isinstance(credits, Mapping) else credits
        return cls(*head, credits=CreditSchedule(*credits), contract_hash=bytes(contract_hash))

    def order_id(self) -> bytes:
        """The order id, computed exactly like `OrderId.compute(terms)` on chain."""
        return keccak(encode([abi_type(OrderTerms)], [self.to_tuple()]))

    @property
    def opening_amount(self) -> int:
        """What the award pulls from the buyer: the one-time charge plus the prepaid months."""
        return self.one_time_charge + self.prepaid_months * self.monthly_charge


@dataclass(frozen=True)
class ObjectiveCheck:
    """One objective of a credit schedule against one period's measurement."""

    name: str  # "availability", "frame delay", "frame loss", "time to restore"
    objective: int  # in report units (ppm, microseconds, seconds); 0 = not measured
    measured: int
    met: bool | None  # None when the schedule does not measure it


def check_objectives(metrics: PeriodMetrics, credits: CreditSchedule) -> tuple[ObjectiveCheck, ...]:
    """Each objective judged as `ReputationMath.meetsObjectives` judges it on chain: availability at
    least its objective; frame delay, frame loss and time to restore at most theirs. A period meets
    its objectives when none of these is False."""
    rows = (
        ("availability", credits.availability_objective_ppm, metrics.availability_ppm, True),
        ("frame delay", credits.frame_delay_objective_us, metrics.frame_delay_us, False),
        ("frame loss", credits.frame_loss_objective_ppm, metrics.frame_loss_ppm, False),
        ("time to restore", credits.time_to_restore_objective_sec, metrics.time_to_restore_sec, False),
    )
    return tuple(
        ObjectiveCheck(
            name,
            objective,
            measured,
            None if objective == 0 else (measured >= objective if at_least else measured <= objective),
        )
        for name, objective, measured, at_least in rows
    )


# --- ISlaLedger.Report -------------------------------------------------------------------------------


class ReportKind(IntEnum):
    """ReportKinds on chain (contracts/libraries/ReportKinds.sol)."""

    ORDER_ACKNOWLEDGED = 1
    ORDER_IN_PROGRESS = 2
    ORDER_COMPLETED = 3
    ORDER_FAILED = 4
    PERIOD = 5
    TROUBLE_TICKET = 6


class FailureReason(IntEnum):
    """Why an order failed (ORDER_FAILED value0, and IOrderEscrow.onOrderFailed's reason)."""

    REJECTED = 1
    FAILED = 2
    CANCELLED = 3


NO_METRICS = PeriodMetrics(0, 0, 0, 0, 0)
# Each metric's name and width, read once from its field type (a report checks them as it is built).
_METRIC_BITS = tuple((f.name, int(f.metadata["abi"][4:])) for f in fields(PeriodMetrics))


@dataclass(frozen=True)
class SlaReport(AbiStruct):
    """One SLA report, as the ledger's `Report` struct; every field is range-checked when it is built
    (InvalidInput names the field), so a report that exists can always be encoded and sent."""

    order_id: bytes = _abi("bytes32")
    kind: ReportKind = _abi("uint8")  # noqa: RUF009 - metadata only, no default
    key: int = _abi("uint256", 0)
    value0: int = _abi("uint64", 0)
    value1: int = _abi("uint64", 0)
    metrics: PeriodMetrics = _abi(abi_type(PeriodMetrics), NO_METRICS)  # noqa: RUF009 - frozen default
    evidence_hash: bytes = _abi("bytes32", ZERO_HASH)

    def __post_init__(self) -> None:
        if not isinstance(self.order_id, (bytes, bytearray)) or len(self.order_id) != 32:
            raise InvalidInput("report orderId must be 32 bytes")
        if not isinstance(self.evidence_hash, (bytes, bytearray)) or len(self.evidence_hash) != 32:
            raise InvalidInput("report evidenceHash must be 32 bytes")
        try:
            ReportKind(self.kind)
        except ValueError:
            raise InvalidInput(f"report kind {self.kind!r} is not a known kind") from None
        for name, bits in (("key", 256), ("value0", 64), ("value1", 64)):
            _check_uint(name, getattr(self, name), bits)
        for name, bits in _METRIC_BITS:
            _check_uint(f"metrics.{name}", getattr(self.metrics, name), bits)

    @classmethod
    def from_tuple(cls, values: Iterable[Any] | Mapping[str, Any]) -> SlaReport:
        """A report from a decoded struct, or the arguments of a ReportSubmitted event (the same fields)."""
        if isinstance(values, Mapping):  # web3 decodes event structs as ordered dicts
            values = values.values()
        order_id, kind, key, value0, value1, metrics, evidence = values
        if isinstance(metrics, Mapping):
            metrics = metrics.values()
        return cls(
            bytes(order_id), ReportKind(kind), key, value0, value1, PeriodMetrics(*metrics), bytes(evidence)
        )

    @property
    def report_id(self) -> bytes:
        """What the report is about: keccak256(abi.encode(orderId, kind, key))."""
        return report_id(self.order_id, self.kind, self.key)

    def abi_encoded(self) -> bytes:
        """abi.encode(report): twelve 32-byte words, one per static field in struct order.

        Every field of the struct is static, so this is also how the report sits inline in any
        larger encoding (an array of reports, a leaf); written out here because eth_abi's generic
        encoder costs the relay ~40 us a report. The fields were range-checked when the report was
        built, so each fits its word.
        """
        m = self.metrics
        return b"".join(
            (
                bytes(self.order_id),
                _words(int(self.kind), self.key, self.value0, self.value1),
                _words(
                    m.availability_ppm, m.frame_delay_us, m.frame_loss_ppm, m.time_to_restore_sec, m.outages
                ),
                bytes(self.evidence_hash),
            )
        )

    @property
    def content_hash(self) -> bytes:
        """What the report says: keccak256(abi.encode(report))."""
        return keccak_256(self.abi_encoded()).digest()

    def leaf(self, member: str) -> bytes:
        """The Merkle leaf of this report in a batch submitted for `member`: keccak256(abi.encode(member, report))."""
        return keccak_256(address_word(member) + self.abi_encoded()).digest()


REPORT_ABI = abi_type(SlaReport)


def report_id(order_id: bytes, kind: int, key: int) -> bytes:
    """The id of the fact about (`order_id`, `kind`, `key`), as ReportKinds.idOf computes it:
    keccak256(abi.encode(orderId, kind, key)), three static words."""
    order_id = bytes(order_id)
    if len(order_id) != 32:
        raise InvalidInput("report orderId must be 32 bytes")
    _check_uint("kind", int(kind), 8)
    _check_uint("key", key, 256)
    return keccak_256(order_id + _words(int(kind), key)).digest()


def _words(*values: int) -> bytes:
    """Unsigned integers as consecutive 32-byte big-endian ABI words."""
    return b"".join(value.to_bytes(32, "big") for value in values)


@lru_cache(maxsize=256)
def address_word(address: str) -> bytes:
    """An address as its 32-byte ABI word (ValueError unless it is 20 bytes of hex). Cached: a relay
    encodes its member's address in every leaf."""
    return bytes(12) + bytes.fromhex(to_checksum_address(address)[2:])


def _check_uint(name: str, value: object, bits: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise InvalidInput(f"report {name} must be an integer from 0 to 2^{bits} - 1, got {value!r}")


# --- status enums the contracts return ----------------------------------------------------------------


class OrderStatus(IntEnum):
    """IOrderEscrow.OrderStatus."""

    NONE = 0
    OPEN = 1
    ACKNOWLEDGED = 2
    ACTIVE = 3
    COMPLETED = 4
    CANCELLED = 5
    FAILED = 6
    EXPIRED = 7


class Payout(IntEnum):
    """IOrderEscrow.Payout: why money moved to a party's balance."""

    RELEASE = 0  # a milestone settled by a final report (the seller's charge, the buyer's credits)
    REFUND = 1
    CANCELLATION_FEE = 2
    CLAIM = 3  # a period settled by its timeout
    RULING = 4


class ReportStatus(IntEnum):
    """ISlaLedger.ReportStatus."""

    NONE = 0
    DISPUTED = 1
    FINAL = 2
    PENDING = 3  # held by a party: the escrow's timeouts of its milestone wait


class RfqStatus(IntEnum):
    """IRfqMarket.RfqStatus."""

    NONE = 0
    OPEN = 1
    AWARDED = 2
    CANCELLED = 3
    CLOSED = 4


DELIVERY = 0  # escrow milestone 0 is delivery; 1..termMonths are the billing periods
