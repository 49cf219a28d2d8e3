"""`offnet demo`: the whole marketplace end to end on a real anvil, with its report."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click
from rich.console import Console

from offnet.cli.explorer import DEFAULT_PORT
from offnet.demo.console import demo_logs, live_feed, print_report
from offnet.demo.html import write_html
from offnet.demo.results import DemoResults, check_invariants, collect, write_summary
from offnet.demo.scenario import DemoConfig, DemoRun
from offnet.exceptions import DemoFailure


def _terminate(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C: every seller, oracle and anvil is stopped


@click.command()
@click.option(
    "--rfqs", type=click.IntRange(1, 200), default=12, show_default=True, help="RFQs to run through."
)
@click.option(
    "--carriers", type=click.IntRange(2, 12), default=6, show_default=True, help="Carriers that join."
)
@click.option(
    "--months",
    type=click.IntRange(1, 12),
    default=3,
    show_default=True,
    help="Months of service (and of in-life reports) per order.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same story.")
@click.option(
    "--chain",
    "chain_kind",
    type=click.Choice(["anvil", "ganache", "embedded"]),
    default="anvil",
    show_default=True,
    help="Start a real anvil (Cancun) or Ganache (Shanghai) from node_modules, or run the EVM in-process.",
)
@click.option("--rpc", default=None, help="Use a running local dev node at this URL instead.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Folder for report.html, summary.json, keystores, oracle databases.",
)
@click.option("--quiet", is_flag=True, help="No progress or event feed; only the report.")
@click.option(
    "--verbose", is_flag=True, help="Show every log line (retries included) on stderr, not only in demo.log."
)
def demo(
    rfqs: int,
    carriers: int,
    months: int,
    seed: int,
    chain_kind: str,
    rpc: str | None,
    out: Path,
    quiet: bool,
    verbose: bool,
) -> None:
    """Run a whole marketplace: six carriers trade circuits through RFQs, orders, SLA reports and payouts."""
    # Piped or captured: wide enough for the tables (a terminal keeps its own width).
    console = Console() if sys.stdout.isatty() else Console(width=180)
    config = DemoConfig(
        rfqs=rfqs, carriers=carriers, months=months, seed=seed, chain=chain_kind, rpc=rpc, out=out
    )
    previous = signal.signal(signal.SIGTERM, _terminate)

    def finish(run: DemoRun, failure: DemoFailure | None = None) -> DemoResults:
        results = collect(run)
        try:
            if failure is not None:
                raise failure
            check_invariants(run, results)
        except DemoFailure as broken:
            results.failure = " ".join(str(broken).split())
            if failure is None:
                raise
        finally:  # the files are written either way: they show what broke
            write_summary(results, out / "summary.json")
            write_html(results, out / "report.html")
        return results

    try:
        with (
            demo_logs(out / "demo.log", verbose=verbose) as refusals,
            live_feed(console, quiet=quiet) as feed,
        ):
            run = DemoRun(config, feed)
            run.state.refused_awards = refusals.refusals
            results = run.run(finish)
    except DemoFailure as failure:
        raise click.ClickException(f"demo failed: {' '.join(str(failure).split())}") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    print_report(console, results)
    console.print(
        f"wrote {out / 'report.html'} and {out / 'summary.json'} (logs: {out / 'demo.log'})", highlight=False
    )
    console.print(
        f"explore the market: offnet explorer --database {out / 'index.db'} --port {DEFAULT_PORT}"
        f"  ->  http://127.0.0.1:{DEFAULT_PORT}/  (the demo's index; its chain has stopped)",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    sys.stdout.flush()
