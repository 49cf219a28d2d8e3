"""Measure 2: the anchors on the same anvil (EAS from its npm sources, a TestStablecoin transfer, a plain
escrow), and the ratio of each offnet operation to the anchor doing the same job."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak, to_checksum_address
from web3.contract import Contract
from web3.logs import DISCARD

from bench.compile import Anchors
from bench.table import GasTable
from offnet.chain import Receipt, Sender
from offnet.market.types import SlaReport
from offnet.testing.world import World, party

ZERO_ADDRESS = "0x" + "00" * 20
# The SLA report as an EAS schema: the same fields, in the same ABI encoding as offnet's Report struct.
REPORT_SCHEMA = (
    "bytes32 orderId,uint8 kind,uint32 key,uint64 value0,uint64 value1,uint32 availabilityPpm,"
    "uint32 frameDelayUs,uint32 frameLossPpm,uint32 timeToRestoreSec,uint16 outages,bytes32 evidenceHash"
)
RFQ_SCHEMA = "bytes32 requestHash,bytes32 productKey,bytes32 locationKey,address token,uint64 deadline,address[] invited"
QUOTE_SCHEMA = (
    "bytes32 rfqUid,bytes32 quoteHash,uint256 oneTimeCharge,uint256 monthlyCharge,uint16 termMonths"
)
AWARD_SCHEMA = "bytes32 quoteUid,bytes32 contractCommitment,bytes32 escrowDeal"


@dataclass
class Eas:
    """SchemaRegistry + EAS deployed on the bench anvil from the npm sources."""

    schemas: Contract
    eas: Contract
    deploy_gas: dict[str, int]

    @classmethod
    def deploy(cls, deployer: Sender, anchors: Anchors) -> Eas:
        schemas, r1 = deployer.deploy(anchors.schema_registry)
        eas, r2 = deployer.deploy(anchors.eas, schemas.address)
        return cls(schemas, eas, {"SchemaRegistry": r1.gas_used, "EAS": r2.gas_used})

    def register(self, sender: Sender, schema: str) -> tuple[bytes, Receipt]:
        """Register `schema` (no resolver, revocable); returns its uid."""
        call = self.schemas.functions.register(schema, ZERO_ADDRESS, True)
        uid = bytes(call.call({"from": sender.address}))
        return uid, sender.transact(call)

    @staticmethod
    def _data(recipient: str, payload: bytes, ref: bytes = bytes(32)) -> tuple:
        return (to_checksum_address(recipient), 0, True, ref, payload, 0)

    def attest(
        self, sender: Sender, schema: bytes, recipient: str, payload: bytes, ref: bytes = bytes(32)
    ) -> tuple[bytes, Receipt]:
        """One attestation; returns its uid and the receipt."""
        call = self.eas.functions.attest((schema, self._data(recipient, payload, ref)))
        receipt = sender.transact(call)
        # The uid hashes the block time: read it from the mined Attested event, not from an eth_call
        # (a simulation may run at another timestamp than the block that mines it).
        [attested] = self.eas.events.Attested().process_receipt(receipt.raw, errors=DISCARD)
        return bytes(attested["args"]["uid"]), receipt

    def multi_attest(self, sender: Sender, schema: bytes, recipient: str, payloads: list[bytes]) -> Receipt:
        requests = [(schema, [self._data(recipient, p) for p in payloads])]
        return sender.transact(self.eas.functions.multiAttest(requests))


def report_payload(report: SlaReport) -> bytes:
    """The attestation data of an SLA report (abi.encode of the same fields)."""
    return report.abi_encoded()


@dataclass
class AnchorFigures:
    """What the anchors cost on this run."""

    eas_deploy: dict[str, int]
    register_schema: int
    attest_report: int
    multi_attest: dict[int, int]  # batch size -> whole transaction gas
    erc20_transfer_fresh: int
    erc20_transfer_warm: int
    plain_escrow_open: int
    plain_escrow_deposit: int
    plain_escrow_release: int


def measure_anchors(
    world: World, anchors: Anchors, sample_reports: list[SlaReport]
) -> tuple[Eas, AnchorFigures]:
    """Deploy EAS and PlainEscrow next to the suite; price one attestation, multiAttest, transfers, escrow."""
    chain = world.chain
    attester = party(chain, "eas attester", prefix="bench").sender
    eas = Eas.deploy(world.deployer.sender, anchors)
    schema, registered = eas.register(attester, REPORT_SCHEMA)
    recipient = world.seller.address
    _, one = eas.attest(attester, schema, recipient, report_payload(sample_reports[0]))
    multi = {}
    offset = 1
    for size in (10, 100):
        payloads = [report_payload(r) for r in sample_reports[offset : offset + size]]
        offset += size
        multi[size] = eas.multi_attest(attester, schema, recipient, payloads).gas_used

    buyer = world.buyer.sender
    token = world.token
    fresh = buyer.transact(
        token.functions.transfer(to_checksum_address(keccak(text="fresh holder")[:20]), 10**6)
    )
    warm = buyer.transact(
        token.functions.transfer(to_checksum_address(keccak(text="fresh holder")[:20]), 10**6)
    )

    escrow, _ = world.deployer.sender.deploy(anchors.plain_escrow)
    buyer.transact(token.functions.approve(escrow.address, 2**255))
    deal = keccak(text="anchor deal")
    opened = buyer.transact(escrow.functions.open(deal, recipient, token.address, 3 * 10**9))
    deposit = buyer.transact(escrow.functions.deposit(deal, 10**9))
    release = buyer.transact(escrow.functions.release(deal, 10**9))
    return eas, AnchorFigures(
        eas.deploy_gas,
        registered.gas_used,
        one.gas_used,
        multi,
        fresh.gas_used,
        warm.gas_used,
        opened.gas_used,
        deposit.gas_used,
        release.gas_used,
    )


def anchor_table(figures: AnchorFigures) -> GasTable:
    """The anchors alone, as measured."""
    table = GasTable()
    table.add("EAS SchemaRegistry.register (SLA report schema, once)", figures.register_schema)
    table.add("EAS attest (one SLA period report)", figures.attest_report)
    for size, gas in figures.multi_attest.items():
        table.add("EAS multiAttest SLA reports", gas, per=size)
    table.add("ERC-20 transfer TestStablecoin (fresh recipient)", figures.erc20_transfer_fresh)
    table.add("ERC-20 transfer TestStablecoin (recipient holds tokens)", figures.erc20_transfer_warm)
    table.add("PlainEscrow.open (pull funds)", figures.plain_escrow_open)
    table.add("PlainEscrow.deposit", figures.plain_escrow_deposit)
    table.add("PlainEscrow.release (pays the seller)", figures.plain_escrow_release)
    return table


# Which anchor does the same job as each offnet operation (label prefix -> anchor name, gas getter).
def attach_anchors(ours: GasTable, figures: AnchorFigures) -> None:
    """Set anchor and ratio on the rows of measure 1 that have a like-for-like anchor."""
    eas_one = ("EAS attest", figures.attest_report)
    pairs = {
        "RFQ post": eas_one,
        "quote commitment": eas_one,
        "notarise": eas_one,
        "dispute": eas_one,
        "award": ("EAS attest + PlainEscrow.open", figures.attest_report + figures.plain_escrow_open),
        "top-up": ("PlainEscrow.deposit", figures.plain_escrow_deposit),
        "finalize": (
            "2 EAS attests + PlainEscrow.release",
            2 * figures.attest_report + figures.plain_escrow_release,
        ),
        "withdraw": ("ERC-20 transfer (fresh recipient)", figures.erc20_transfer_fresh),
    }
    for row in ours.rows:
        if row.operation.startswith("SLA report"):
            if row.per == 1:
                row.anchor, row.anchor_gas = eas_one
            else:
                row.anchor = f"EAS multiAttest {row.per} (per attestation)"
                row.anchor_gas = round(figures.multi_attest[row.per] / row.per)
            continue
        for prefix, (name, gas) in pairs.items():
            if row.operation.startswith(prefix):
                row.anchor, row.anchor_gas = name, gas
                break
