"""`offnet sla`: SLA facts on the ledger: submit reports built from Sonata resources, show where an
order's reports stand, finalise those whose liveness window is over (which moves the escrowed money),
dispute the counterparty's report, and propose the council's ruling on a disputed one."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import click

from offnet.cli.inputs import bytes32, read_json
from offnet.cli.options import ChainOptions, path_option
from offnet.cli.order import order_command, order_terms
from offnet.cli.output import echo_json, enum_name, hex_id, json_option, lane_hex, say, send, table, when
from offnet.exceptions import ContractRevert, InvalidInput
from offnet.market.types import FailureReason, ReportKind


@dataclass(frozen=True)
class Submitted:
    """One report of an order as the ledger stored it, with its whole batch (to prove it) and when."""

    report: object  # SlaReport
    batch: object  # Batch
    block: int
    submitted_at: int
    tx_hash: str


def order_reports(suite, order_id: bytes) -> list[Submitted]:
    """Every report submitted about `order_id`, oldest first, each with the batch that holds it."""
    from offnet.chain import Receipt
    from offnet.market.ledger import Batch

    ledger, w3 = suite.ledger, suite.chain.w3
    logs = ledger.logs(
        "ReportSubmitted", from_block=suite.manifest.contracts["SlaLedger"].block, orderId=order_id
    )
    found: list[Submitted] = []
    for tx_hash in dict.fromkeys(bytes(log["transactionHash"]) for log in logs):
        raw = w3.eth.get_transaction_receipt(tx_hash)
        receipt = Receipt("0x" + tx_hash.hex(), raw["blockNumber"], raw["gasUsed"], None, raw)
        submitted = ledger.submitted_reports(receipt)
        at = w3.eth.get_block(raw["blockNumber"])["timestamp"]
        for batch_event in ledger.events(receipt, "BatchSubmitted"):
            root = bytes(batch_event["root"])
            batch = Batch.of(
                batch_event["member"], [s.report for s in submitted if s.root == root], batch_event["lane"]
            )
            found += [
                Submitted(r, batch, raw["blockNumber"], at, receipt.tx_hash)
                for r in batch.reports
                if bytes(r.order_id) == bytes(order_id)
            ]
    return found


def _standing(suite, entry: Submitted, terms, window: int, now: int) -> tuple[str, int]:
    """(status, when it changes): final, disputed, or pending until its liveness window ends."""
    from offnet.market.types import ReportStatus

    status = suite.ledger.status(entry.report)
    ends = entry.submitted_at + window
    if status == ReportStatus.PENDING:  # held by a party: final once its window ends, as before
        return ("held" if now <= ends else "held, finalisable"), ends
    if status != ReportStatus.NONE:
        return status.name.lower(), 0
    return ("finalisable" if now > ends else "pending"), ends


def _report_rows(suite, entries: list[Submitted], terms) -> list[dict]:
    window = suite.ledger.liveness_window()
    now = suite.chain.now()
    rows = []
    for e in entries:
        status, ends = _standing(suite, e, terms, window, now)
        party = "seller" if e.batch.member == terms.seller else "buyer"
        rows.append(
            {
                "reportId": hex_id(e.report.report_id),
                "kind": e.report.kind.name.lower(),
                "key": e.report.key,
                "value0": e.report.value0,
                "value1": e.report.value1,
                "metrics": asdict(e.report.metrics),
                "facts": facts_of(e.report),
                "by": party,
                "member": e.batch.member,
                "batch": hex_id(e.batch.root),
                "lane": lane_hex(e.batch.lane_id),
                "submittedAt": when(e.submitted_at),
                "livenessEndsAt": when(ends) if ends else None,
                "status": status,
                "block": e.block,
            }
        )
    return rows


def _what(kind: str, key: int) -> str:
    return f"month {key}" if kind == "period" else kind.replace("_", " ")


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
        return f"restored in {_hours(report.value0)}, resolved {when(report.value1)}"
    if report.kind == ReportKind.ORDER_COMPLETED:
        return f"committed {when(report.value0)}, completed {when(report.value1)}"
    if report.kind == ReportKind.ORDER_IN_PROGRESS:
        return f"committed {when(report.value0)}"
    if report.kind == ReportKind.ORDER_FAILED:
        return f"{FailureReason(report.value0).name.lower()} {when(report.value1)}"
    return f"acknowledged {when(report.value0)}"


def _hours(seconds: int) -> str:
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _refuse_untrue(suite, order_id: bytes, reports: list) -> None:
    """Facts cannot be true before they happen: a period not over (or of an order not delivered), a
    completion, failure or resolution dated in the future are refused before anything is sent."""
    from offnet.sla.reports import not_in_future

    now = suite.chain.now()
    for report in reports:
        not_in_future(report, now)
        if report.kind == ReportKind.PERIOD:
            ends = suite.escrow.period_end(order_id, report.key)
            if ends is None:
                raise InvalidInput(
                    f"period {report.key}: order {hex_id(order_id)} is not delivered, it has no billing periods yet"
                )
            if ends > now:
                raise InvalidInput(
                    f"period {report.key} is not over: it ends at {when(ends)} (chain time now {when(now)})"
                )


@click.group()
def sla() -> None:
    """SLA facts on the ledger: submit, show, finalise and dispute reports."""


@order_command(sla)
@path_option(
    "--product-order",
    "product_order",
    help="Sonata ProductOrder JSON: its state gives the lifecycle report",
)
@click.option(
    "--committed-date", help="the item's first expectedCompletionDate (RFC 3339), if it moved since"
)
@click.option(
    "--period", type=click.IntRange(1, 600), help="billing period of --measurement (1 = first month)"
)
@path_option("--measurement", help="monthly measurement JSON of --period")
@path_option(
    "--trouble-ticket",
    "tickets",
    multiple=True,
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
    from offnet.sla.reports import order_report, period_report, ticket_report

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
        result["batch"] = batch
        return receipt

    receipt = send(f"submit {len(reports)} report(s)", transact)
    batch = result["batch"]
    final_at = (
        suite.chain.w3.eth.get_block(receipt.block_number)["timestamp"] + suite.ledger.liveness_window()
    )
    rows = [
        {
            "reportId": hex_id(r.report_id),
            "kind": r.kind.name.lower(),
            "key": r.key,
            "value0": r.value0,
            "value1": r.value1,
        }
        for r in reports
    ]
    if as_json:
        echo_json(
            {
                "root": hex_id(batch.root),
                "lane": lane_hex(batch.lane_id),
                "member": member,
                "finalisableAfter": when(final_at),
                "reports": rows,
            }
        )
        return
    table(
        f"batch {hex_id(batch.root)}",
        ("report id", "about"),
        [(r["reportId"], _what(r["kind"], r["key"])) for r in rows],
        caption=f"for member {member}, lane {lane_hex(batch.lane_id)}; "
        f"final after {when(final_at)} unless disputed (then `offnet sla finalize {hex_id(key)}`)",
    )


@order_command(sla)
@json_option
def show(opts: ChainOptions, order_id: str, as_json: bool) -> None:
    """ORDER_ID's submitted reports and where each stands (pending, finalisable, disputed, final)."""
    suite = opts.suite()
    key, terms = order_terms(suite, order_id)
    rows = _report_rows(suite, order_reports(suite, key), terms)
    if as_json:
        echo_json(rows)
        return
    table(
        f"SLA reports of order {hex_id(key)}",
        ("report id", "about", "facts", "by", "status", "final after"),
        [
            (
                r["reportId"],
                _what(r["kind"], r["key"]),
                r["facts"],
                r["by"],
                r["status"],
                r["livenessEndsAt"] or "-",
            )
            for r in rows
        ],
    )


@order_command(sla)
@json_option
def finalize(opts: ChainOptions, order_id: str, as_json: bool) -> None:
    """Make ORDER_ID's reports final where their liveness window is over, or at once where the buyer's
    and the seller's oracles reported the same fact; each final fact releases or refunds its money."""
    suite = opts.suite()
    key, terms = order_terms(suite, order_id)
    entries = order_reports(suite, key)
    if not entries:
        raise InvalidInput(f"order {hex_id(key)} has no SLA reports yet: submit them first")
    sender = opts.sender()
    window = suite.ledger.liveness_window()
    now = suite.chain.now()
    outcomes = []
    done: set[bytes] = set()
    for entry in entries:
        report = entry.report
        if bytes(report.report_id) in done:
            continue
        status, ends = _standing(suite, entry, terms, window, now)
        twin = next(
            (
                e
                for e in entries
                if e.report == report and e.batch.member != entry.batch.member and e is not entry
            ),
            None,
        )
        outcome = status
        waiting = status in ("pending", "held")  # its liveness window runs
        if (waiting or status.endswith("finalisable")) and (twin is not None or not waiting):
            try:
                if twin is not None:
                    buyer_first = sorted((entry, twin), key=lambda e: e.batch.member != terms.buyer)
                    send(
                        f"finalize {_what(report.kind.name.lower(), report.key)} (both parties reported it)",
                        lambda pair=buyer_first, r=report: suite.ledger.finalize_matched(
                            sender, terms, r, pair[0].batch, pair[1].batch
                        ),
                    )
                else:
                    send(
                        f"finalize {_what(report.kind.name.lower(), report.key)}",
                        lambda e=entry: suite.ledger.finalize(sender, terms, e.report, e.batch),
                    )
                outcome = "final now"
            except ContractRevert as refused:
                from offnet.cli.output import describe_revert

                outcome = f"not yet: {describe_revert(refused)}"
        elif waiting:
            outcome = f"{status} until {when(ends)}"
        done.add(bytes(report.report_id))
        outcomes.append(
            {
                "reportId": hex_id(report.report_id),
                "about": _what(report.kind.name.lower(), report.key),
                "outcome": outcome,
            }
        )
    flow = suite.escrow.money_flow(key)
    if as_json:
        echo_json(
            {
                "orderId": hex_id(key),
                "reports": outcomes,
                "orderStatus": enum_name(suite.escrow.order(key).status),
            }
        )
        return
    table(
        f"finalising the reports of order {hex_id(key)}",
        ("report id", "about", "outcome"),
        [(o["reportId"], o["about"], o["outcome"]) for o in outcomes],
    )
    from offnet.cli.output import token_of

    token = token_of(suite, terms.token)
    say(
        f"order {enum_name(suite.escrow.order(key).status)}: {token.amount(flow.released)} released to the "
        f"seller, {token.amount(flow.credited)} credited and {token.amount(flow.refunded)} refunded to the "
        f"buyer, {token.amount(flow.held)} still held"
    )


def _find(entries: list[Submitted], report_id: str, *, by: str | None = None) -> Submitted:
    wanted = bytes32(report_id, "report id")
    matches = [
        e for e in entries if bytes(e.report.report_id) == wanted and (by is None or e.batch.member == by)
    ]
    if not matches:
        raise InvalidInput(
            f"report {report_id} is not among the order's submitted reports (see `offnet sla show`)"
        )
    return matches[0]


@order_command(sla)
@click.argument("report_id")
def dispute(opts: ChainOptions, order_id: str, report_id: str) -> None:
    """Dispute the counterparty's REPORT_ID of ORDER_ID within its liveness window (an oracle key of
    your member signs); its money stays frozen until the council rules."""
    suite = opts.suite()
    key, terms = order_terms(suite, order_id)
    sender = opts.sender()
    member = suite.registry.member_of(sender.address) or sender.address
    if member not in (terms.buyer, terms.seller):
        raise InvalidInput(f"{member} is neither the buyer nor the seller of order {hex_id(key)}")
    counterparty = terms.seller if member == terms.buyer else terms.buyer
    entry = _find(order_reports(suite, key), report_id, by=counterparty)
    send(
        f"dispute {_what(entry.report.kind.name.lower(), entry.report.key)}",
        lambda: suite.ledger.dispute(sender, terms, entry.report, entry.batch),
    )
    say(
        f"report {report_id} disputed: a council member proposes the ruling with "
        f"`offnet sla resolve {hex_id(key)} {report_id} --loser buyer|seller|nobody`"
    )


@order_command(sla)
@click.argument("report_id")
def hold(opts: ChainOptions, order_id: str, report_id: str) -> None:
    """Hold REPORT_ID (a completion or month report) of ORDER_ID within its liveness window: until it is
    final or ruled, the escrow refuses what its milestone's timeouts allow (the buyer's cancellation,
    the non-delivery claim, the month's claim). Any account may send it."""
    suite = opts.suite()
    key, terms = order_terms(suite, order_id)
    entry = _find(order_reports(suite, key), report_id)
    send(
        f"hold {_what(entry.report.kind.name.lower(), entry.report.key)}",
        lambda: suite.ledger.hold(opts.sender(), terms, entry.report, entry.batch),
    )
    say(f"report {report_id} held: `offnet sla finalize {hex_id(key)}` settles it once its window ends")


@order_command(sla)
@click.argument("report_id")
@click.option(
    "--loser",
    type=click.Choice(["buyer", "seller", "nobody"]),
    required=True,
    help="who loses the dispute (counts against its reputation); the report stands either way",
)
def resolve(opts: ChainOptions, order_id: str, report_id: str, loser: str) -> None:
    """As a council member, propose the ruling on disputed REPORT_ID of ORDER_ID: the report stands
    and becomes final when the council's threshold approves (`offnet carrier vote`)."""
    suite = opts.suite()
    key, terms = order_terms(suite, order_id)
    entry = _find(order_reports(suite, key), report_id)
    who = {"buyer": terms.buyer, "seller": terms.seller, "nobody": None}[loser]
    ruling = suite.ledger.resolve_call(terms, entry.report, who)
    sender = opts.sender()
    result: list[int] = []

    def transact():
        proposal_id, receipt = suite.registry.propose(
            sender, suite.ledger.address, ruling._encode_transaction_data()
        )
        result.append(proposal_id)
        return receipt

    send("propose ruling", transact)
    info = suite.registry.proposal(result[0])
    threshold = suite.registry.parameters().council_threshold
    state = "executed: the report is final" if info.executed else f"{info.approvals}/{threshold} approvals"
    say(f"proposal {result[0]}: {state}")
