"""`offnet sla`: submit SLA reports built from Sonata resources, and show an order's reports."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from offnet.cli.inputs import bytes32, read_json
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import echo_json, iso, json_option, send, table
from offnet.exceptions import InvalidInput
from offnet.market.codec import to_hex
from offnet.market.types import FailureReason, ReportKind
from offnet.sla.reports import not_in_future, order_report, period_report, ticket_report


@click.group()
def sla() -> None:
    """SLA facts on the ledger: order lifecycle, monthly in-life metrics, trouble tickets."""


@sla.command()
@chain_options
@click.argument("order_id")
@click.option(
    "--product-order",
    "product_order",
    type=click.Path(path_type=Path),
    help="Sonata ProductOrder JSON: its state gives the lifecycle report",
)
@click.option(
    "--committed-date", help="the item's first expectedCompletionDate (RFC 3339), if it moved since"
)
@click.option(
    "--period", type=click.IntRange(1, 600), help="billing period of --measurement (1 = first month)"
)
@click.option("--measurement", type=click.Path(path_type=Path), help="monthly measurement JSON of --period")
@click.option(
    "--trouble-ticket",
    "tickets",
    multiple=True,
    type=click.Path(path_type=Path),
    help="resolved Sonata TroubleTicket JSON (repeatable)",
)
@json_option
def submit(
    opts: ChainOptions,
    order_id: str,
    product_order,
    committed_date,
    period,
    measurement,
    tickets,
    as_json: bool,
) -> None:
    """Submit ORDER_ID's reports as one batch, signed by an oracle key of your member."""
    key = bytes32(order_id, "order id")
    reports = []
    if product_order:
        report = order_report(
            key, read_json(str(product_order), "product order"), committed_completion_date=committed_date
        )
        if report is None:
            raise InvalidInput(f"{product_order}: the order's state gives nothing to report yet")
        reports.append(report)
    if (period is None) != (measurement is None):
        raise click.UsageError("--period and --measurement go together")
    if measurement:
        ticket_data = [read_json(str(t), "trouble ticket") for t in tickets]
        reports.append(period_report(key, period, read_json(str(measurement), "measurement"), ticket_data))
    else:
        for ticket in tickets:
            report = ticket_report(key, read_json(str(ticket), "trouble ticket"))
            if report is None:
                raise InvalidInput(f"{ticket}: the trouble ticket is not resolved")
            reports.append(report)
    if not reports:
        raise click.UsageError(
            "nothing to submit: give --product-order, --period/--measurement or --trouble-ticket"
        )
    suite = opts.suite()
    _refuse_untrue(suite, key, reports)
    sender = opts.sender()
    member = suite.registry.member_of(sender.address) or sender.address  # the ledger resolves it the same way
    result = {}

    def transact():
        batch, receipt = suite.ledger.submit(sender, member, reports)
        result["root"] = batch.root
        result["lane"] = batch.lane_id
        return receipt

    send(f"submit {len(reports)} report(s)", transact)
    rows = [
        {
            "reportId": to_hex(r.report_id),
            "kind": r.kind.name.lower(),
            "key": r.key,
            "value0": r.value0,
            "value1": r.value1,
        }
        for r in reports
    ]
    if as_json:
        echo_json({"root": to_hex(result["root"]), "lane": result["lane"], "member": member, "reports": rows})
    else:
        table(
            f"batch {to_hex(result['root'])} (lane {result['lane']})",
            ("report id", "kind", "key", "value0", "value1"),
            [tuple(r.values()) for r in rows],
        )


@sla.command()
@chain_options
@click.argument("order_id")
@json_option
def show(opts: ChainOptions, order_id: str, as_json: bool) -> None:
    """ORDER_ID's submitted reports and where each stands (pending, disputed, final)."""
    key = bytes32(order_id, "order id")
    suite = opts.suite()
    ledger = suite.ledger
    logs = ledger.contract.events.ReportSubmitted().get_logs(
        from_block=suite.manifest.contracts["SlaLedger"].block, argument_filters={"orderId": key}
    )
    submitted = ledger_reports(ledger, logs)
    rows = []
    for block, root, report in submitted:
        stored = ledger.status(report)
        status = stored.name.lower() if stored else "pending"
        rows.append(
            {
                "block": block,
                "batch": to_hex(root),
                "reportId": to_hex(report.report_id),
                "kind": report.kind.name.lower(),
                "key": report.key,
                "value0": report.value0,
                "value1": report.value1,
                "metrics": asdict(report.metrics),
                "facts": facts_of(report),
                "status": status,
            }
        )
    if as_json:
        echo_json(rows)
        return
    table(
        f"SLA reports of order {to_hex(key)}",
        ("block", "kind", "key", "facts", "status"),
        [(r["block"], r["kind"], r["key"], r["facts"], r["status"]) for r in rows],
    )


def facts_of(report) -> str:
    """What a report says, in human units."""
    if report.kind == ReportKind.PERIOD:
        m = report.metrics
        return (
            f"availability {m.availability_ppm / 10_000:.4f} %, frame delay {m.frame_delay_us / 1000:g} ms, "
            f"frame loss {m.frame_loss_ppm / 10_000:.4f} %, longest restore {_hours(m.time_to_restore_sec)}, "
            f"{m.outages} outage(s)"
        )
    if report.kind == ReportKind.TROUBLE_TICKET:
        return f"restored in {_hours(report.value0)}, resolved {iso(report.value1)}"
    if report.kind == ReportKind.ORDER_COMPLETED:
        return f"committed {iso(report.value0)}, completed {iso(report.value1)}"
    if report.kind == ReportKind.ORDER_IN_PROGRESS:
        return f"committed {iso(report.value0)}"
    if report.kind == ReportKind.ORDER_FAILED:
        return f"{FailureReason(report.value0).name.lower()} {iso(report.value1)}"
    return f"acknowledged {iso(report.value0)}"


def _hours(seconds: int) -> str:
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _refuse_untrue(suite, order_id: bytes, reports: list) -> None:
    """Facts cannot be true before they happen: a period not over (or of an order not delivered), a
    completion, failure or resolution dated in the future are refused before anything is sent."""
    now = suite.chain.now()
    for report in reports:
        not_in_future(report, now)
        if report.kind == ReportKind.PERIOD:
            ends = suite.escrow.period_end(order_id, report.key)
            if ends is None:
                raise InvalidInput(
                    f"period {report.key}: order {to_hex(order_id)} is not delivered, it has no billing periods yet"
                )
            if ends > now:
                raise InvalidInput(
                    f"period {report.key} is not over: it ends at {iso(ends)} (chain time now {iso(now)})"
                )


def ledger_reports(ledger, logs) -> list:
    """(block, batch root, SlaReport) of ReportSubmitted logs."""
    from offnet.market.types import SlaReport

    out = []
    for log in logs:
        a = log["args"]
        report = SlaReport.from_tuple(
            (a["orderId"], a["kind"], a["key"], a["value0"], a["value1"], a["metrics"], a["evidenceHash"])
        )
        out.append((log["blockNumber"], bytes(a["root"]), report))
    return out
