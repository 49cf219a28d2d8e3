"""The demo on the terminal: progress bars with a live event feed, the printed report, and where the
oracles' and sellers' logs go (a file; the terminal shows only what needs a person)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from offnet.demo.chainwatch import money
from offnet.demo.results import DemoResults
from offnet.demo.scenario import Feed

# What the oracles log about work they retry on their next pass: expected while a market runs (a
# signed quote fetched a moment before it is committed, a month finalised before it is over...).
EXPECTED_RETRIES = {
    "offnet.oracle.worker": ("event %s (%s) failed, retried later: %s",),
    "offnet.oracle.supervisor": ("%s failed (%d in a row): %s",),
    "offnet.oracle.relay": ("finalize %s refused: %s",),
}


class _ExpectedRetry(logging.Filter):
    """Logs an expected retry at DEBUG instead of WARNING (it is counted in the report)."""

    def __init__(self, templates: tuple[str, ...]):
        super().__init__()
        self.templates = templates

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in self.templates and record.levelno == logging.WARNING:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


class AwardRefusals(logging.Handler):
    """Collects the buyers' oracles' refused awards (the demo fails when an award it meant to make
    did not happen, and names the reason)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.refusals: list[str] = []

    @staticmethod
    def is_refusal(record: logging.LogRecord) -> bool:
        return isinstance(record.msg, str) and record.msg.startswith("award of RFQ")

    def emit(self, record: logging.LogRecord) -> None:
        if self.is_refusal(record):
            self.refusals.append(record.getMessage())


@contextmanager
def demo_logs(path: Path, *, verbose: bool = False) -> Iterator[AwardRefusals]:
    """Every log record of the run in `path` (DEBUG and up); on stderr only warnings that need a
    person (or everything with `verbose`); yields the collector of refused awards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    file_handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    file_handler.setLevel(logging.DEBUG)
    terminal = logging.StreamHandler()
    terminal.setLevel(logging.DEBUG if verbose else logging.WARNING)
    terminal.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # A refused award ends the run with the demo's own one-line reason: not printed twice.
    terminal.addFilter(lambda record: not AwardRefusals.is_refusal(record))
    refusals = AwardRefusals()
    filters = {name: _ExpectedRetry(templates) for name, templates in EXPECTED_RETRIES.items()}
    saved = (root.level, list(root.handlers), logging.getLogger("httpx").level)
    root.handlers = [file_handler, terminal, refusals]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per HTTP request otherwise
    for name, expected in filters.items():
        logging.getLogger(name).addFilter(expected)
    try:
        yield refusals
    finally:
        for name, expected in filters.items():
            logging.getLogger(name).removeFilter(expected)
        root.setLevel(saved[0])
        root.handlers = saved[1]
        logging.getLogger("httpx").setLevel(saved[2])
        file_handler.close()


@contextmanager
def live_feed(console: Console, *, quiet: bool = False) -> Iterator[Feed]:
    """Progress bars at the bottom, chain events scrolling above them (plain lines when not a terminal)."""
    progress = Progress(
        TextColumn("[bold]{task.description:<17}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet,
    )
    tasks: dict[str, int] = {}

    def phase(text: str) -> None:
        if not quiet:
            progress.console.print(f"[bold cyan]==[/] {text}")

    def event(text: str) -> None:
        if not quiet:
            progress.console.print(f"  [dim]chain[/] {text}", highlight=False)

    def update(name: str, done: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=total)
        progress.update(tasks[name], completed=min(done, total), total=total)

    with progress:
        yield Feed(phase=phase, event=event, progress=update)


def _score(ppm: int, samples: int) -> str:
    return "new" if samples == 0 else f"{ppm / 10_000:.1f}%"


def print_report(console: Console, results: DemoResults) -> None:
    """The report: reputations, orders' money flows and SLA outcomes, gas per operation, totals."""
    s = results.summary
    console.rule(
        f"[bold]offnet demo: {s['carriers']} carriers, {s['rfqs']} RFQs, "
        f"{results.config['months']} months, seed {s['seed']}, {s['chain']} ({s['evm_build']} build)"
    )
    rep = Table(title="Reputation per carrier (before -> after; new = no history yet)", title_justify="left")
    for column in (
        "carrier",
        "profile",
        "overall",
        "on-time delivery",
        "SLA compliance",
        "delivered",
        "months",
        "tickets",
        "disputes lost",
    ):
        rep.add_column(column, justify="left" if column in ("carrier", "profile") else "right")
    profiles = {c["name"]: c["profile"] for c in results.carriers}
    for name, f in results.reputation.items():
        samples = {
            "overall_ppm": f["samples"],
            "on_time_delivery_ppm": f["orders_delivered"],
            "sla_compliance_ppm": f["periods_reported"],
        }
        rep.add_row(
            name,
            profiles[name],
            *(
                f"{_score(f[k][0], samples[k][0])} -> {_score(f[k][1], samples[k][1])}"
                for k in ("overall_ppm", "on_time_delivery_ppm", "sla_compliance_ppm")
            ),
            *(
                f"{f[k][0]} -> {f[k][1]}"
                for k in ("orders_delivered", "periods_reported", "trouble_tickets", "disputes_lost")
            ),
        )
    console.print(rep)
    orders = Table(title=f"Orders: money flow ({results.currency}) and SLA outcome", title_justify="left")
    for column in (
        "site",
        "buyer",
        "seller",
        "delivery",
        "months",
        "credits",
        "escrowed",
        "released",
        "credited",
        "refunded",
        "held",
        "gas",
        "status",
    ):
        orders.add_column(
            column,
            justify="right" if column not in ("site", "buyer", "seller", "delivery", "status") else "left",
            no_wrap=column in ("site", "buyer", "seller", "delivery"),
        )
    for o in results.orders:
        orders.add_row(
            o.site,
            o.buyer,
            o.seller,
            o.delivery,
            str(o.periods_final),
            ",".join(f"{b / 100:g}%" for b in o.credit_bps) or "-",
            money(o.escrowed),
            money(o.released),
            money(o.credited),
            money(o.refunded),
            money(o.held),
            f"{o.gas:,}",
            o.status,
        )
    console.print(orders)
    gas = Table(title="Gas per operation", title_justify="left")
    for column in ("operation", "txs", "gas total", "gas average"):
        gas.add_column(column, justify="left" if column == "operation" else "right")
    for line in results.gas:
        gas.add_row(line.operation, str(line.transactions), f"{line.gas:,}", f"{line.average:,}")
    console.print(gas)
    per_order = s["gas_total"] // max(s["orders"], 1)
    console.print(
        f"[bold]Totals[/]: {s['rfqs']} RFQs, {s['quotes']} sealed quotes, {s['orders']} orders "
        f"({s['orders_delivered']} delivered, {s['orders_completed']} completed), "
        f"{s['reports_relayed']} reports relayed ({s['reports_final']} final), "
        f"{s['trouble_tickets']} trouble ticket, {s['disputes']} dispute ruled by the council.\n"
        f"Money: {money(s['tokens_escrowed'])} escrowed, {money(s['tokens_released'])} released to sellers, "
        f"{money(s['tokens_credited'])} credited and {money(s['tokens_refunded'])} refunded to buyers, "
        f"{money(s['tokens_withdrawn'])} withdrawn; escrow holds {money(s['escrow_balance'])} = still owed "
        f"{money(s['escrow_owed'])}.\n"
        f"Gas: {s['gas_total']:,} in {s['transactions']} transactions, {per_order:,} per order all included "
        f"(the per-order column counts the transactions that touch that order).\n"
        f"Ran {results.chain_days:g} chain days in {results.wall_seconds:g} s of wall time "
        f"({s['time_steps']} moves of chain time, {s['oracle_cycle_seconds']:g} s in oracle passes).",
        highlight=False,
    )
    if results.warnings:
        console.print(
            f"[yellow]{len(results.warnings)} transient oracle errors were retried[/] "
            f"(first: {results.warnings[0]})",
            highlight=False,
        )
