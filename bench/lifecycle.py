"""Measure 3: one order's whole life in gas, offnet vs the same facts as EAS attestations + a plain escrow.

The order: an RFQ to three providers, three quotes, an award (contract notarised) with 3 months
prepaid, three top-ups of 3 months, delivery, 12 monthly SLA reports, the seller's final withdrawal.
Every SLA fact is reported by both parties' oracles (one report per transaction, as a single order
gives the relay nothing to batch with) and made final at once. On the EAS side each party attests
each fact, and the buyer releases the month from a plain escrow by hand (no credits, no disputes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi import encode
from eth_utils import keccak

from bench.anchors import AWARD_SCHEMA, QUOTE_SCHEMA, REPORT_SCHEMA, RFQ_SCHEMA, Eas, report_payload
from bench.compile import Anchors
from offnet.chain import Receipt
from offnet.market import periods
from offnet.market.types import ReportKind, SlaReport
from offnet.testing.world import DAY, GOOD_MONTH, MONTHLY, ONE_TIME, World, delivery_report, period_report

MONTHS = 12
PREPAID = 3


@dataclass
class Ledger:
    """Gas spent per step of a lifecycle."""

    steps: dict[str, int] = field(default_factory=dict)
    transactions: int = 0

    def add(self, step: str, *receipts: Receipt) -> None:
        self.steps[step] = self.steps.get(step, 0) + sum(r.gas_used for r in receipts)
        self.transactions += len(receipts)

    @property
    def total(self) -> int:
        return sum(self.steps.values())


def offnet_lifecycle(world: World) -> Ledger:
    """The order lived through offnet's contracts on the bench anvil."""
    chain, spent = world.chain, Ledger()
    order = world.open_order(
        sellers=world.sellers, request="lifecycle", seal=True, prepaid_months=PREPAID, term_months=MONTHS
    )
    spent.add("RFQ post", order.receipts["post"])
    spent.add("3 quote commitments", *(order.receipts[f"commit{i}"] for i in range(3)))
    spent.add("award (escrow funded, contract notarised)", order.receipts["award"])
    terms = order.terms
    seller = world.sellers[0]
    spent.add("seller acknowledges", world.escrow.acknowledge((seller.oracle_key or seller).sender, terms))
    delivered = world.both_report(terms, delivery_report(terms, chain.now()))
    spent.add("delivery: 2 reports + release", *delivered.values())
    delivered_at = world.escrow.order(terms.order_id()).delivered_at
    for month in range(1, MONTHS + 1):
        if month in (3, 6, 9):
            spent.add("3 top-ups of 3 months", world.escrow.top_up(world.buyer.sender, terms, 3))
        # Each month is reported once it is over (billing periods are calendar months: market.periods).
        chain.advance_time(max(0, periods.period_bounds(delivered_at, month)[1] - chain.now()) + 1)
        # Each oracle reuses one lane a month (its batch of last month outlived the liveness window).
        settled = world.both_report(terms, period_report(terms, month), lane=0)
        spent.add(f"{MONTHS} months: 2 reports + release each", *settled.values())
    spent.add("seller withdraws", world.escrow.withdraw(world.sellers[0].sender, world.token.address))
    spent.add(
        "close RFQ (quote timeliness for reputation)",
        world.market.close(world.council.sender, order.rfq),
    )
    return spent


def schema_uid(schema: str) -> bytes:
    """EAS's schema uid: keccak256(abi.encodePacked(schema, resolver, revocable)), no resolver, revocable."""
    return keccak(schema.encode() + bytes(20) + b"\x01")


def eas_lifecycle(world: World, eas: Eas, anchors: Anchors) -> tuple[Ledger, int]:
    """The same facts as EAS attestations plus a PlainEscrow; returns the ledger and one-time schema gas."""
    chain = world.chain
    buyer, seller = world.buyer.sender, world.sellers[0].sender
    spent, setup = Ledger(), 0
    uids = {}
    for name, schema in (
        ("rfq", RFQ_SCHEMA),
        ("quote", QUOTE_SCHEMA),
        ("award", AWARD_SCHEMA),
        ("report", REPORT_SCHEMA),
    ):
        uids[name] = schema_uid(schema)
        if bytes(eas.schemas.functions.getSchema(uids[name]).call()[0]) == bytes(32):  # not registered yet
            setup += eas.register(world.deployer.sender, schema)[1].gas_used
    escrow, _ = world.deployer.sender.deploy(anchors.plain_escrow)
    buyer.transact(world.token.functions.approve(escrow.address, 2**255))

    rfq = world.rfq(request="eas lifecycle", deadline_in=7 * DAY)
    rfq_uid, r = eas.attest(
        buyer,
        uids["rfq"],
        world.buyer.address,
        encode(
            ["bytes32", "bytes32", "bytes32", "address", "uint64", "address[]"],
            [rfq.request_hash, rfq.product_key, rfq.location_key, rfq.token, rfq.deadline, list(rfq.invited)],
        ),
    )
    spent.add("RFQ post", r)
    quote_uids = []
    for i, provider in enumerate(world.sellers):
        uid, r = eas.attest(
            provider.sender,
            uids["quote"],
            world.buyer.address,
            encode(
                ["bytes32", "bytes32", "uint256", "uint256", "uint16"],
                [rfq_uid, keccak(text=f"quote {i}"), ONE_TIME, MONTHLY, MONTHS],
            ),
            ref=rfq_uid,
        )
        quote_uids.append(uid)
        spent.add("3 quote commitments", r)
    deal = keccak(text="eas lifecycle deal")
    _, award = eas.attest(
        buyer,
        uids["award"],
        world.seller.address,
        encode(["bytes32", "bytes32", "bytes32"], [quote_uids[0], keccak(text="contract"), deal]),
        ref=quote_uids[0],
    )
    opened = buyer.transact(
        escrow.functions.open(deal, world.seller.address, world.token.address, ONE_TIME + PREPAID * MONTHLY)
    )
    spent.add("award (escrow funded, contract notarised)", award, opened)

    now = chain.now()
    delivery = report_payload(
        SlaReport(
            deal,
            ReportKind.ORDER_COMPLETED,
            0,
            now,
            now,
            evidence_hash=keccak(text="product order completed"),
        )
    )
    spent.add(
        "delivery: 2 reports + release",
        eas.attest(seller, uids["report"], world.buyer.address, delivery)[1],
        eas.attest(buyer, uids["report"], world.seller.address, delivery)[1],
        buyer.transact(escrow.functions.release(deal, ONE_TIME)),
    )
    for month in range(1, MONTHS + 1):
        if month in (3, 6, 9):
            spent.add("3 top-ups of 3 months", buyer.transact(escrow.functions.deposit(deal, 3 * MONTHLY)))
        payload = report_payload(
            SlaReport(
                deal,
                ReportKind.PERIOD,
                month,
                metrics=GOOD_MONTH,
                evidence_hash=keccak(text=f"performance report {month}"),
            )
        )
        spent.add(
            f"{MONTHS} months: 2 reports + release each",
            eas.attest(seller, uids["report"], world.buyer.address, payload)[1],
            eas.attest(buyer, uids["report"], world.seller.address, payload)[1],
            buyer.transact(escrow.functions.release(deal, MONTHLY)),
        )
    spent.steps["seller withdraws"] = 0  # release pays the seller directly
    spent.steps["close RFQ (quote timeliness for reputation)"] = 0  # no reputation on this side
    return spent, setup
