"""What the demo produced, read back from the chain and the oracles, and the invariants it must hold."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from offnet.demo.cast import CITIES
from offnet.demo.chainwatch import GasLine, rfq_label
from offnet.demo.scenario import CIRCUIT_MBPS, DemoRun, unrelayed
from offnet.exceptions import DemoFailure
from offnet.market.periods import period_charge
from offnet.market.types import OrderStatus, ReportKind

REPUTATION_FIELDS = (
    "samples",
    "overall_ppm",
    "on_time_delivery_ppm",
    "sla_compliance_ppm",
    "orders_delivered",
    "periods_reported",
    "trouble_tickets",
    "disputes_lost",
)


@dataclass
class OrderRow:
    """One order's story: who, SLA outcome, money flow (token units) and gas."""

    order_id: str
    rfq_id: str
    circuit: str  # what was bought, e.g. "Access E-Line 200 Mb/s"
    site: str  # where: "Lyon, FR"
    buyer: str
    seller: str
    profile: str
    status: str
    delivery: str  # "on time", "2 days late" (whole days, as the contract counts them), "refunded: ..."
    days_late: int | None  # None: not delivered
    periods_final: int
    credit_bps: list[int]
    tickets: int
    escrowed: int
    released: int
    credited: int
    refunded: int
    held: int
    gas: int
    gas_cost_wei: int


@dataclass
class DemoResults:
    """The report's content (also what summary.json and report.html are made of)."""

    config: dict[str, Any]
    wall_seconds: float
    chain_days: float
    steps: int
    carriers: list[dict[str, Any]]
    reputation: dict[str, dict[str, tuple[int, int]]]
    reputation_samples: list[tuple[float, dict[str, int | None]]]
    orders: list[OrderRow]
    gas: list[GasLine]
    summary: dict[str, Any]
    ticket: dict[str, Any] | None
    dispute: dict[str, Any] | None
    currency: str = "tUSD"
    reputation_before_day: float = 0.0
    warnings: list[str] = field(default_factory=list)
    failure: str | None = None  # the invariant that broke, if one did


def _credit_bps(escrow, settled: dict) -> int:
    """The SLA credit of a settled period, in basis points of its charge (the first month's charge is
    pro rata: what its buyer gets beyond the credit is the unused rest of the prepaid month)."""
    order_id = bytes(settled["orderId"])
    charge = period_charge(
        escrow.terms_of(order_id).monthly_charge, escrow.order(order_id).delivered_at, settled["milestone"]
    )
    return (charge - settled["toSeller"]) * 10_000 // charge if charge else 0


def collect(run: DemoRun) -> DemoResults:
    """Gather the results of a finished run (the chain is still readable through its logs cache)."""
    state, watch, suite = run.state, run.watch, run.suite
    assert watch is not None and suite is not None and run.chain is not None
    escrow = suite.escrow
    lines, per_order_gas = watch.gas_by_operation(state.first_block)
    gas_price = run.chain.w3.eth.gas_price
    profiles = {s.name: s.profile for s in run.specs}
    delivered = {
        _hex(e.args["orderId"]): e
        for e in watch.of("ReportSubmitted")
        if e.args["kind"] == ReportKind.ORDER_COMPLETED
    }
    settled = {}
    for event in watch.of("MilestoneSettled"):
        if event.args["milestone"] > 0:
            settled.setdefault(_hex(event.args["orderId"]), []).append(_credit_bps(escrow, event.args))
    tickets = Counter(
        _hex(e.args["orderId"])
        for e in watch.of("ReportFinalized")
        if e.args["kind"] == ReportKind.TROUBLE_TICKET
    )
    periods = Counter(
        _hex(e.args["orderId"]) for e in watch.of("ReportFinalized") if e.args["kind"] == ReportKind.PERIOD
    )
    plans = {p.rfq_id: p for p in state.rfqs if p.rfq_id is not None}
    orders = []
    for opened in watch.of("OrderOpened"):
        order_id = bytes(opened.args["orderId"])
        key = _hex(order_id)
        flow = escrow.money_flow(order_id)
        view = escrow.order(order_id)
        if flow.held != view.escrowed:
            raise DemoFailure(
                f"money not conserved: order {key} holds {view.escrowed} but its flow says {flow.held}"
            )
        seller = watch.name_of(flow.seller)
        completion = delivered.get(key)
        days_late = None
        if completion is not None:
            # Whole days, rounded up, as the contract counts them for credits (ReputationMath.daysLate).
            days_late = max(0, -(-(completion.args["value1"] - completion.args["value0"]) // 86_400))
            delivery = "on time" if days_late == 0 else f"{days_late} day{'s' if days_late > 1 else ''} late"
        elif key in state.non_delivery_claims:
            delivery = "refunded: none reported"
        else:
            delivery = "not reported"
        plan = plans.get(opened.args["terms"]["rfqId"])
        orders.append(
            OrderRow(
                order_id=key,
                rfq_id=rfq_label(opened.args["terms"]["rfqId"]),
                circuit=f"Access E-Line {CIRCUIT_MBPS} Mb/s",
                site=f"{CITIES[plan.country]}, {plan.country}" if plan else "?",
                buyer=watch.name_of(flow.buyer),
                seller=seller,
                profile=profiles.get(seller, "?"),
                status=OrderStatus(view.status).name.lower(),
                delivery=delivery,
                days_late=days_late,
                periods_final=periods.get(key, 0),
                credit_bps=settled.get(key, []),
                tickets=tickets.get(key, 0),
                escrowed=flow.escrowed,
                released=flow.released,
                credited=flow.credited,
                refunded=flow.refunded,
                held=flow.held,
                gas=per_order_gas.get(key, 0),
                gas_cost_wei=per_order_gas.get(key, 0) * gas_price,
            )
        )
    carriers = [
        {
            "name": s.name,
            "profile": s.profile,
            "countries": list(s.countries),
            "address": run.market[s.name].address,
            "seller_url": run.market[s.name].seller_url,
            "oracle_url": run.market[s.name].oracle_url,
        }
        for s in run.specs
    ]
    reputation = {
        name: {f: (getattr(state.reputation_before[name], f), getattr(after, f)) for f in REPUTATION_FIELDS}
        for name, after in state.reputation_after.items()
    }
    token = suite.token
    balance = token.functions.balanceOf(escrow.address).call()
    owed = sum(escrow.book(token.address))
    counts = watch.counts
    paid = Counter()
    for event in watch.of("Paid"):
        paid[_payout_name(event.args["reason"])] += event.args["amount"]
    summary = {
        "seed": run.config.seed,
        "chain": state.chain_kind,
        "evm_build": run.chain.evm,
        "rpc_url": run.chain.url,
        "carriers": len(run.specs),
        "rfqs": counts["RfqPosted"],
        "quotes": len({(e.args["rfqId"], e.args["provider"]) for e in watch.of("QuoteCommitted")}),
        "quote_commitments": counts["QuoteCommitted"],
        "orders": counts["OrderOpened"],
        "orders_delivered": counts["OrderDelivered"],
        "orders_completed": sum(o.status == "completed" for o in orders),
        "reports_relayed": counts["ReportSubmitted"],
        "reports_final": counts["ReportFinalized"],
        "trouble_tickets": sum(tickets.values()),
        "disputes": counts["ReportDisputed"],
        "disputes_resolved": counts["DisputeResolved"],
        "tokens_escrowed": sum(o.escrowed for o in orders),
        "tokens_released": sum(o.released for o in orders),
        "tokens_credited": sum(o.credited for o in orders),
        "tokens_refunded": sum(o.refunded for o in orders),
        "tokens_withdrawn": sum(e.args["amount"] for e in watch.of("Withdrawn")),
        "paid_by_reason": dict(paid),
        "escrow_balance": balance,
        "escrow_owed": owed,
        "escrow_held_by_orders": sum(o.held for o in orders),
        "gas_total": sum(line.gas for line in lines.values()),
        "transactions": sum(line.transactions for line in lines.values()),
        "token_decimals": 6,
        "time_steps": state.steps,
        "oracle_cycle_seconds": round(state.cycle_seconds, 1),
    }
    return DemoResults(
        config={
            "rfqs": run.config.rfqs,
            "carriers": run.config.carriers,
            "months": run.config.months,
            "seed": run.config.seed,
            "chain": state.chain_kind,
        },
        wall_seconds=round(time.monotonic() - state.started_wall, 1),
        chain_days=round(state.reputation_samples[-1][0], 1) if state.reputation_samples else 0.0,
        steps=state.steps,
        carriers=carriers,
        reputation=reputation,
        reputation_samples=state.reputation_samples,
        orders=orders,
        gas=sorted(lines.values(), key=lambda line: -line.gas),
        summary=summary,
        ticket=state.ticket,
        dispute=state.dispute,
        currency=token.functions.symbol().call(),
        reputation_before_day=state.reputation_before_day,
        warnings=list(dict.fromkeys(state.oracle_errors))[:20],
    )


def check_invariants(run: DemoRun, results: DemoResults) -> None:
    """Raise DemoFailure (one line) if money, relaying or uniqueness of reports broke anywhere."""
    s = results.summary
    if s["escrow_balance"] != s["escrow_owed"]:
        raise DemoFailure(
            f"money not conserved: escrow holds {s['escrow_balance']} but owes {s['escrow_owed']}"
        )
    if s["escrow_owed"] != s["escrow_held_by_orders"]:
        raise DemoFailure(
            f"money not conserved: escrow owes {s['escrow_owed']} after withdrawals, "
            f"orders hold {s['escrow_held_by_orders']}"
        )
    for order in results.orders:
        if order.escrowed != order.released + order.credited + order.refunded + order.held:
            raise DemoFailure(f"money not conserved in order {order.order_id}")
    watch = run.watch
    assert watch is not None
    finalized = Counter(_hex(e.args["reportId"]) for e in watch.of("ReportFinalized"))
    twice = [r for r, n in finalized.items() if n > 1]
    if twice:
        raise DemoFailure(f"a report on chain twice: {twice[0]} became final {finalized[twice[0]]} times")
    members = {bytes(e.args["root"]): e.args["member"] for e in watch.of("BatchSubmitted")}
    submitted = Counter(
        (members.get(bytes(e.args["root"])), _hex(e.args["orderId"]), e.args["kind"], e.args["key"])
        for e in watch.of("ReportSubmitted")
    )
    again = [k for k, n in submitted.items() if n > 1]
    if again:
        member, order, kind, key = again[0]
        raise DemoFailure(
            f"a report on chain twice: {ReportKind(kind).name} #{key} of order {order} "
            f"submitted {submitted[again[0]]} times by {watch.name_of(member)}"
        )
    assert run.market is not None
    for carrier in run.market.carriers.values():
        missing = unrelayed(carrier)
        if missing:
            raise DemoFailure(f"an event not relayed: {carrier.name}'s oracle never relayed {missing[0]}")
        counts = carrier.oracle.store.counts()
        stuck = {
            k: n
            for k, n in counts.items()
            if k in ("reports_pending", "reports_submitted", "reports_rejected") and n
        }
        if stuck:
            raise DemoFailure(
                f"an event not relayed: {carrier.name}'s oracle still has "
                + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in stuck.items())
            )
    if s["rfqs"] != results.config["rfqs"]:
        raise DemoFailure(f"{results.config['rfqs']} RFQs planned but {s['rfqs']} posted on chain")
    check_trades(run, results)


def check_trades(run: DemoRun, results: DemoResults) -> None:
    """Raise DemoFailure when an award the story meant to make did not happen, or nothing traded."""
    watch = run.watch
    assert watch is not None
    quoted = Counter(e.args["rfqId"] for e in watch.of("QuoteCommitted"))
    awarded = {e.args["rfqId"] for e in watch.of("RfqAwarded")}
    for plan in run.state.rfqs:
        if plan.rfq_id is None or plan.rfq_id not in quoted or plan.rfq_id in awarded:
            continue
        label = rfq_label(plan.rfq_id)
        reasons = [r for r in run.state.refused_awards if str(plan.rfq_id) in r]
        raise DemoFailure(
            f"an award failed: RFQ {label} of {plan.buyer} had {quoted[plan.rfq_id]} sealed quote(s) "
            f"but no order: {reasons[-1] if reasons else 'the buyer never awarded it'}"
        )
    if not results.orders:
        raise DemoFailure(
            f"nothing traded: {results.summary['rfqs']} RFQs and {results.summary['quotes']} sealed quotes "
            "gave no order"
        )


def write_summary(results: DemoResults, path: Path) -> Path:
    """out/summary.json: the counts and the escrow balance check."""
    data = {
        **results.summary,
        "invariants_hold": results.failure is None,
        "failure": results.failure,
        "wall_seconds": results.wall_seconds,
        "chain_days": results.chain_days,
        "orders_detail": [asdict(o) for o in results.orders],
        "carriers_detail": results.carriers,
        "reputation": {
            n: {f: {"before": b, "after": a} for f, (b, a) in fields.items()}
            for n, fields in results.reputation.items()
        },
        "gas_by_operation": {
            g.operation: {"transactions": g.transactions, "gas": g.gas} for g in results.gas
        },
        "trouble_ticket": results.ticket,
        "dispute": results.dispute,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    return path


def _hex(value: bytes | str) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def _payout_name(reason: int) -> str:
    from offnet.market.types import Payout

    return Payout(reason).name.lower()
