"""`python -m bench`: every measure in one run; writes bench/results/results.json and README.md."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.anchors import anchor_table, attach_anchors, measure_anchors
from bench.cli import measure_cli
from bench.compile import compile_anchors
from bench.explorer import measure_explorer
from bench.health import suite_health
from bench.lifecycle import eas_lifecycle, offnet_lifecycle
from bench.machine import bench_world, describe, load_average, start_anvil
from bench.operations import measure_operations, sample_report
from bench.relay import measure_relay, relay_plan, relay_targets
from bench.report import render_readme
from bench.scale import measure_discovery, measure_scale, scale_table
from offnet.market.types import ReportKind

RESULTS = Path(__file__).resolve().parent / "results"
LOGS = Path(__file__).resolve().parent / "results" / "logs"  # committed beside the results
Note = Callable[[str], None]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="development run: 100 relay events, 500 members, 200 open RFQs and orders, no make test/demo",
    )
    parser.add_argument(
        "--events", type=int, nargs="+", help="batched relay stream sizes (default 1000 10000)"
    )
    parser.add_argument("--unbatched-events", type=int, help="stream size of the batch_size=1 comparison")
    parser.add_argument("--open-rate", type=float, default=400, help="POSTs per second of the open-loop runs")
    parser.add_argument("--open-events", type=int, help="stream size of the open-loop runs (default 4000)")
    parser.add_argument(
        "--replica-events", type=int, help="stream size of the two-replica run (default 10000)"
    )
    parser.add_argument(
        "--relay-runs", nargs="*", help="only the relay runs whose name starts with one of these (tuning)"
    )
    parser.add_argument("--members", type=int, help="members of the big registry (default 10000)")
    parser.add_argument(
        "--rfqs", type=int, help="open RFQs at the scale measure's last steps (default 10000)"
    )
    parser.add_argument("--orders", type=int, help="open escrow orders at its last step (default 10000)")
    parser.add_argument("--discovery-members", type=int, default=10_000)
    parser.add_argument(
        "--explorer-members", type=int, default=10_000, help="members behind the explorer's providers page"
    )
    parser.add_argument("--relay-timeout", type=float, default=1800, help="seconds to wait for one stream")
    parser.add_argument("--skip", nargs="*", default=[], choices=list(MEASURES))
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(MEASURES),
        help="run only these measures; the other sections of results.json are kept from the last run",
    )
    parser.add_argument("--cli-repeats", type=int, default=30, help="runs of each command in the cli measure")
    parser.add_argument("--logs", type=Path, default=LOGS, help="where make test/demo write their output")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite README.md from the results.json in --out",
    )
    args = parser.parse_args(argv)
    args.events = args.events or ([100] if args.quick else [1_000, 10_000])
    args.unbatched_events = args.unbatched_events or min(args.events)
    args.open_events = args.open_events or (400 if args.quick else 4_000)
    args.replica_events = args.replica_events or (200 if args.quick else max(args.events))
    args.members = args.members or (500 if args.quick else 10_000)
    args.rfqs = args.rfqs or (200 if args.quick else 10_000)
    args.orders = args.orders or (200 if args.quick else 10_000)
    if args.quick and "health" not in args.skip:
        args.skip.append("health")
    if args.only:
        args.skip = [m for m in MEASURES if m not in args.only]
    return args


def _gas(args: argparse.Namespace, results: dict, note: Note) -> None:
    """Measures 1-3: gas of every operation, the anchors, the whole lifecycle."""
    if args.only:  # a partial run: this section names its own commit
        results["gas_machine"] = describe()
    else:
        results.pop("gas_machine", None)
    note("compiling the anchors (EAS SchemaRegistry + EAS from npm, bench/contracts/PlainEscrow.sol)")
    anchors = compile_anchors()
    chain = start_anvil()
    try:
        world = bench_world(chain)
        note("measure 1: gas of every user-facing operation")
        ops = measure_operations(world)
        note("measure 2: anchors (EAS, ERC-20, plain escrow) on the same anvil")
        now = chain.now()
        eas, figures = measure_anchors(
            world, anchors, [sample_report(ReportKind.PERIOD, 10_000 + i, now) for i in range(111)]
        )
        attach_anchors(ops, figures)
        note("measure 3: whole lifecycle, offnet vs EAS + plain escrow")
        ours = offnet_lifecycle(world)
        theirs, schema_setup = eas_lifecycle(world, eas, anchors)
    finally:
        chain.close()
    results["operations"] = ops.to_json()
    results["anchors"] = anchor_table(figures).to_json()
    results["eas_deploy_gas"] = figures.eas_deploy
    results["lifecycle"] = {
        "offnet": ours.steps,
        "offnet_total": ours.total,
        "offnet_transactions": ours.transactions,
        "eas_plain_escrow": theirs.steps,
        "eas_plain_escrow_total": theirs.total,
        "eas_plain_escrow_transactions": theirs.transactions,
        "eas_schema_registration_once": schema_setup,
        "ratio": round(ours.total / theirs.total, 3),
    }
    note(
        f"  lifecycle: offnet {ours.total:,} gas vs EAS + plain escrow {theirs.total:,} gas: "
        f"ratio {ours.total / theirs.total:.2f}"
    )


def _relay(args: argparse.Namespace, results: dict, note: Note) -> None:
    """Measure 4: relay throughput, latency and oracle CPU."""
    machine_at_start = describe()
    plan = relay_plan(
        args.events, args.unbatched_events, args.open_events, args.open_rate, args.replica_events
    )
    if args.relay_runs:
        plan = [spec for spec in plan if spec.name.startswith(tuple(args.relay_runs))]
    note(f"measure 4: relay runs {', '.join(spec.name for spec in plan)}")
    with tempfile.TemporaryDirectory(prefix="offnet-bench-relay-") as folder:
        runs = measure_relay(plan, Path(folder), timeout=args.relay_timeout, note=note)
    results["relay"] = [r.to_json() for r in runs]
    if args.only:
        results["relay_machine"] = machine_at_start
    else:
        results.pop("relay_machine", None)
    results["relay_targets"] = relay_targets(runs, args.unbatched_events)
    for target in results["relay_targets"]:
        note(f"  target {target['target']}: {target['measured']} ({'met' if target['met'] else 'NOT met'})")


def _scale(args: argparse.Namespace, results: dict, note: Note) -> None:
    """Measure 5: gas against the size of the world; discovery over the index."""
    note(
        f"measure 5: scale to {args.members:,} members, {args.rfqs:,} open RFQs, {args.orders:,} open "
        "orders; discovery query"
    )
    chain = start_anvil()
    try:
        scale = measure_scale(
            chain, members_n=args.members, rfqs_n=args.rfqs, orders_n=args.orders, note=note
        )
    finally:
        chain.close()
    scale["table"] = scale_table(scale).to_json()
    results["scale"] = scale
    results["discovery"] = measure_discovery(args.discovery_members)
    note(
        f"  discovery over {args.discovery_members:,} members: median "
        f"{results['discovery']['median_ms']} ms ({results['discovery']['matches']} matches)"
    )


def _explorer(args: argparse.Namespace, results: dict, note: Note) -> None:
    """Measure 5b: the explorer's providers page."""
    note(f"measure 5b: the explorer's providers page over {args.explorer_members:,} members (real HTTP)")
    results["explorer"] = measure_explorer(args.explorer_members, note=note)


def _cli(args: argparse.Namespace, results: dict, note: Note) -> None:
    """Measure 7: command-line start-up."""
    note(f"measure 7: command-line start-up against a bare Python start ({args.cli_repeats} runs each)")
    results["cli"] = {**measure_cli(args.cli_repeats), "machine": describe()}
    for row in results["cli"]["rows"]:
        note(f"  {row['command']}: median {row['median_ms']} ms, x{row['ratio']}")


def _health(args: argparse.Namespace, results: dict, note: Note) -> None:
    """Measure 6: make test and make demo, timed."""
    results["suite_health"] = suite_health(args.logs, note=note)


RUNS: dict[str, Callable[[argparse.Namespace, dict, Note], None]] = {
    "gas": _gas,
    "relay": _relay,
    "scale": _scale,
    "explorer": _explorer,
    "cli": _cli,
    "health": _health,
}
MEASURES = tuple(RUNS)  # in the order they run; health (make test and make demo) last


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        (args.out / "README.md").write_text(
            render_readme(json.loads((args.out / "results.json").read_text()))
        )
        return 0
    started = time.monotonic()
    stamps: dict[str, float] = {}

    def note(message: str) -> None:
        print(f"[{time.monotonic() - started:6.0f}s] {message}", flush=True)

    previous = args.out / "results.json"
    # A partial run (--only) keeps the sections of the measures it does not run.
    kept = json.loads(previous.read_text()) if args.only and previous.exists() else {}
    results: dict = {
        "machine": describe(),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        **kept,  # a partial run: the header stays the full run's; each new section says its own run
    }
    note(
        f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['machine']['memory_gib']} GiB"
    )

    for name in MEASURES:
        if name not in args.skip:
            t = time.monotonic()
            RUNS[name](args, results, note)
            stamps[name] = time.monotonic() - t
    if args.only:  # the header stays the full run's; the partial run's machine is in its section
        if "cli" in args.only:
            results["cli"]["machine"]["load_average_at_end"] = load_average()
        if "relay" in args.only:
            results["relay_machine"]["load_average_at_end"] = load_average()
    else:
        results["machine"]["load_average_at_end"] = load_average()
        results["durations_seconds"] = {k: round(v, 1) for k, v in stamps.items()}
        results["duration_seconds"] = round(time.monotonic() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    readme = render_readme(results)
    (args.out / "README.md").write_text(readme)
    print(readme)
    note(f"done in {time.monotonic() - started:.0f}s: {args.out / 'results.json'}, {args.out / 'README.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
