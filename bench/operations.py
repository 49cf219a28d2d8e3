"""Measure 1: gas of every user-facing offnet transaction on anvil, with the DESIGN.md budgets."""

from __future__ import annotations

from eth_utils import keccak

from bench.table import GasTable
from offnet.market.notary import financial_contract, public_key_of, seal_contract, sign_contract_commitment
from offnet.market.periods import period_bounds
from offnet.market.registry import ACCESS_ELINE, Profile
from offnet.market.types import FailureReason, PeriodMetrics, ReportKind, SlaReport
from offnet.testing.world import DAY, World, delivery_report, party, period_report

# DESIGN.md "Gas budgets" (whole transaction, 21,000 base included).
BUDGET = {
    "rfq": 70_000,
    "quote": 50_000,
    "award": 150_000,
    "report": 50_000,
    "batch100": 10_000,
    "dispute": 80_000,
    "settle": 90_000,
}
BATCH_SIZES = (1, 10, 100)
ECIES = "two ECIES copies in event data"


def sample_report(kind: ReportKind, i: int, now: int) -> SlaReport:
    """A realistic report of `kind` about a distinct fact `i` (values filled as the oracle would)."""
    order_id = keccak(text=f"bench order {i}")
    evidence = keccak(text=f"evidence {kind.name} {i}")
    if kind == ReportKind.ORDER_ACKNOWLEDGED:
        return SlaReport(order_id, kind, 0, now, 0, evidence_hash=evidence)
    if kind == ReportKind.ORDER_IN_PROGRESS:
        return SlaReport(order_id, kind, 0, now + 30 * DAY, 0, evidence_hash=evidence)
    if kind == ReportKind.ORDER_COMPLETED:
        return SlaReport(order_id, kind, 0, now + 30 * DAY, now + 28 * DAY, evidence_hash=evidence)
    if kind == ReportKind.ORDER_FAILED:
        return SlaReport(order_id, kind, 0, int(FailureReason.REJECTED), now, evidence_hash=evidence)
    if kind == ReportKind.PERIOD:
        return SlaReport(
            order_id,
            kind,
            1 + i % 36,
            metrics=PeriodMetrics(999_900 - i, 4_000 + i, i % 7, 900, 1),
            evidence_hash=evidence,
        )
    return SlaReport(order_id, kind, 1_000_000 + i, 3 * 3600 + i, now, evidence_hash=evidence)


def measure_reports(world: World, table: GasTable) -> dict[str, dict[int, int]]:
    """submit() of each report kind alone and in batches of 10 and 100 (gas per report).

    A report alone goes into a lane of the member that a batch used before, as the oracle relay does
    (its ring of lanes): rewriting the lane's slot is the steady cost; a lane's first use is shown
    once. Batches take lanes of their own.
    """
    oracle, member = world.sellers[1].sender, world.sellers[1].address
    now = world.chain.now()
    out: dict[str, dict[int, int]] = {}
    serial = 0
    kinds = list(ReportKind)
    for lane, kind in enumerate(kinds):  # the lanes' first batches
        _, first_use = world.ledger.submit(oracle, member, [sample_report(kind, serial, now)], lane)
        serial += 1
    table.add("SLA report alone, into a lane used for the first time", first_use.gas_used)
    world.chain.advance_time(world.ledger.liveness_window() + 1)
    now = world.chain.now()
    for lane, kind in enumerate(kinds):
        out[kind.name] = {}
        for size in BATCH_SIZES:
            reports = [sample_report(kind, serial + j, now) for j in range(size)]
            serial += size
            _, receipt = world.ledger.submit(oracle, member, reports, lane if size == 1 else None)
            budget = BUDGET["report"] if size == 1 else BUDGET["batch100"] if size == 100 else None
            label = f"SLA report {kind.name}" + (" alone (reused lane)" if size == 1 else "")
            table.add(label, receipt.gas_used, per=size, budget=budget)
            out[kind.name][size] = receipt.gas_used
    return out


def measure_operations(world: World) -> GasTable:
    """Every user-facing transaction once, in the order a marketplace lives them."""
    table = GasTable()
    chain, reg = world.chain, world.registry

    # Membership: apply, then two sponsors (the second admits).
    applicant = party(chain, "applicant", prefix="bench")
    profile = Profile("Bench Telecom", "https://sonata.bench.example", (ACCESS_ELINE,), ("FR", "DE"))
    table.add("register: apply to join", reg.apply(applicant.sender, profile).gas_used)
    table.add("sponsor (first of two)", reg.sponsor(world.sellers[0].sender, applicant.address).gas_used)
    table.add("sponsor (second: admits)", reg.sponsor(world.sellers[1].sender, applicant.address).gas_used)

    # RFQ, three quote commitments and an award that opens the escrow and notarises the contract.
    # Three months prepaid and a one-month top-up: the disputed period 4 below is funded.
    first = world.open_order(sellers=world.sellers, request="ops first", seal=True, prepaid_months=3)
    table.add("RFQ post (3 invited)", first.receipts["post"].gas_used, budget=BUDGET["rfq"])
    table.add("quote commitment", first.receipts["commit1"].gas_used, budget=BUDGET["quote"])
    table.add(
        "award with notarised contract hash (first order of the escrow, buyer and provider)",
        first.receipts["award"].gas_used,
        budget=BUDGET["award"],
        note="verify EIP-712 quote (it carries the contract hash), open order, pull funds; the escrow's token balance slot is created once",
    )
    second = world.open_order(sellers=world.sellers, request="ops second", seal=True)
    table.add(
        "award with notarised contract hash (steady state)",
        second.receipts["award"].gas_used,
        budget=BUDGET["award"],
    )
    third = world.open_order(sellers=world.sellers, request="ops third")
    table.add(
        "award without a contract hash (steady state)",
        third.receipts["award"].gas_used,
        budget=BUDGET["award"],
    )
    keys = public_key_of(world.buyer.account), public_key_of(world.seller.account)  # both parties read copies
    copies = world.notary.publish_award_copy(world.buyer.sender, first.terms, first.sealed, *keys)
    table.add("publish encrypted copies (contract of an award)", copies.gas_used, note=ECIES)
    table.add(
        "reveal contract (of an award, checked against the terms)",
        world.notary.reveal_award(world.sellers[0].sender, first.terms, first.sealed).gas_used,
    )

    # Notary after award (an amendment): both signatures, a stored record, copies, reveal.
    sealed = seal_contract(financial_contract(third.signed.quote))
    domain = world.notary.domain
    sigs = [
        sign_contract_commitment(a, domain, third.terms, sealed.commitment)
        for a in (world.buyer.account, world.seller.account)
    ]
    table.add(
        "notarise an amendment (existing order, both signatures)",
        world.notary.notarise(world.council.sender, third.terms, sealed.commitment, *sigs).gas_used,
    )
    copies = world.notary.publish_copy(world.buyer.sender, third.order_id, sealed, *keys)
    table.add("publish encrypted copies", copies.gas_used, note=ECIES)
    table.add(
        "reveal contract",
        world.notary.reveal(world.sellers[0].sender, third.order_id, sealed).gas_used,
    )

    table.add("top-up (1 month)", world.escrow.top_up(world.buyer.sender, first.terms, 1).gas_used)
    table.add(
        "close RFQ (3 invited, quote timeliness)",
        world.market.close(world.council.sender, first.rfq).gas_used,
    )

    # SLA reports of every kind, alone and batched.
    measure_reports(world, table)

    # The seller accepts the order: its books open (balance and reputation slots every settlement
    # then rewrites), so no finalisation creates storage.
    terms = first.terms
    table.add(
        "acknowledge (the seller accepts; opens the order's books)",
        world.escrow.acknowledge(world.sellers[0].sender, terms).gas_used,
    )

    # Release: delivery and periods (calendar months), matched (both oracles) or after the liveness window.
    delivered = world.both_report(terms, delivery_report(terms, chain.now()))
    table.add(
        "finalize matched: delivery (releases install charge)",
        delivered["finalize matched"].gas_used,
        budget=BUDGET["settle"],
        note="reputation + escrow release in the same tx",
    )
    delivered_at = world.escrow.order(terms.order_id()).delivered_at

    def end_of(period: int) -> None:
        chain.advance_time(max(period_bounds(delivered_at, period)[1] - chain.now(), 1))

    for period, what in ((1, "releases month"), (2, "steady state")):
        end_of(period)
        settled = world.both_report(terms, period_report(terms, period))["finalize matched"]
        table.add(f"finalize matched: period {period} ({what})", settled.gas_used, budget=BUDGET["settle"])
    end_of(3)
    month3 = period_report(terms, 3)
    batch, _ = world.ledger.submit(world.sellers[0].sender, terms.seller, [month3])
    chain.advance_time(2 * DAY + 1)
    table.add(
        "finalize after liveness window: period 3",
        world.ledger.finalize(world.council.sender, terms, month3, batch).gas_used,
        budget=BUDGET["settle"],
    )

    # Dispute and council ruling on period 4.
    end_of(4)
    claimed = period_report(terms, 4, PeriodMetrics(999_990, 4_000, 0, 600, 0))
    truth = period_report(terms, 4, PeriodMetrics(997_000, 9_000, 50, 30_000, 3))
    seller_batch, _ = world.ledger.submit(world.sellers[0].sender, terms.seller, [claimed])
    table.add(
        "dispute (SLA report)",
        world.ledger.dispute(world.buyer.sender, terms, claimed, seller_batch).gas_used,
        budget=BUDGET["dispute"],
    )
    ruling = world.ledger.resolve_call(terms, truth, terms.seller)._encode_transaction_data()
    table.add(
        "ruling (council of 1: propose executes at once)",
        world.council.sender.transact(world.suite.registry.fn.propose(world.ledger.address, ruling)).gas_used,
        note="credits the buyer, moves reputation, releases the month",
    )

    table.add(
        "withdraw (seller)",
        world.escrow.withdraw(world.sellers[0].sender, world.token.address).gas_used,
    )
    table.add(
        "withdraw (buyer credits)",
        world.escrow.withdraw(world.buyer.sender, world.token.address).gas_used,
    )
    return table
