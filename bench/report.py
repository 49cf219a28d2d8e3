"""bench/results/README.md from a results dict (the same dict as results.json)."""

from __future__ import annotations

from bench.table import GasRow, GasTable, gas_markdown, markdown_table, thousands


def _gas_table(rows: list[dict]) -> GasTable:
    fields = ("operation", "gas", "per", "budget", "anchor", "anchor_gas", "note")
    return GasTable([GasRow(**{k: row[k] for k in fields}) for row in rows])


def _ops_markdown(rows: list[dict]) -> str:
    return gas_markdown(_gas_table(rows))


def _load(machine: dict, when: str) -> str:
    values = machine.get(f"load_average_at_{when}")
    return "/".join(f"{v:.1f}" for v in values) if values else "unknown"


def render_readme(r: dict) -> str:
    m = r["machine"]
    parts = [
        "# offnet benchmarks (`make bench`)",
        "",
        "Written by `python -m bench`; every figure below comes from the run recorded in `results.json`.",
        "",
        "Run it with `make bench` (every measure at full size, then `make test` and `make demo` timed; "
        "the timing of each part is in the line below) or `make bench BENCH_ARGS=--quick` (small sizes, "
        "no make test/demo, about two minutes). `python -m bench --help` lists the options (sizes, "
        "`--skip gas relay scale health`, `--out`).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; load average "
        f"(1/5/15 min) {_load(m, 'start')} at the start, {_load(m, 'end')} at the end.  ",
        f"Commit: {m.get('commit', 'unknown')}.  ",
        f"Versions: solc {m['solc']}; {m['anvil']}; web3 {m['web3']}; Python {m['python']}; "
        f"offnet {m['offnet']}.  ",
        f"Run took {r['duration_seconds']:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in r['durations_seconds'].items())}); "
        f"options: {', '.join(f'{k}={v}' for k, v in r['options'].items() if v not in (None, [], False))}.",
        "",
    ]
    if "operations" in r:
        parts += [
            "## 1-2. Gas per operation on anvil, with DESIGN.md budgets and anchors",
            "",
            "Whole-transaction gas (21,000 base included) from the receipts on one anvil. Batched reports show "
            "gas per report. Anchor: what a team would otherwise pay for the same job on the same chain "
            "(EAS compiled from `@ethereum-attestation-service/eas-contracts` with our solc settings).",
            "",
            *(
                [
                    "Measures 1-3 come from their own run (`python -m bench --only gas`), commit "
                    f"{r['gas_machine'].get('commit', 'unknown')} (gas does not depend on the load).",
                    "",
                ]
                if r.get("gas_machine")
                else []
            ),
            _ops_markdown(r["operations"]),
            "",
            "Anchors alone:",
            "",
            _ops_markdown(r["anchors"]),
            "",
            f"EAS deployment: {', '.join(f'{k} {v:,}' for k, v in r['eas_deploy_gas'].items())} gas.",
            "",
        ]
        life = r["lifecycle"]
        steps = list(dict.fromkeys([*life["offnet"], *life["eas_plain_escrow"]]))
        rows = [
            [s, thousands(life["offnet"].get(s)), thousands(life["eas_plain_escrow"].get(s))] for s in steps
        ]
        rows.append(["**total**", f"**{life['offnet_total']:,}**", f"**{life['eas_plain_escrow_total']:,}**"])
        rows.append(["transactions", life["offnet_transactions"], life["eas_plain_escrow_transactions"]])
        parts += [
            "## 3. Whole lifecycle: one order, RFQ (3 quotes) to 12 months of reports and final withdrawal",
            "",
            "Both parties report every SLA fact (one report per transaction: a single order gives the relay "
            "nothing to batch with); offnet finalises matched reports at once, paying credits and reputation; "
            "the EAS side attests the same bytes twice and the buyer releases each month by hand from "
            "`bench/contracts/PlainEscrow.sol` (no credits, no disputes, no reputation).",
            "",
            markdown_table(["step", "offnet gas", "EAS + plain escrow gas"], rows),
            "",
            f"**Ratio offnet / (EAS + plain escrow) = {life['ratio']:.2f}**. EAS schema registration, "
            f"once per deployment and not counted above: {life['eas_schema_registration_once']:,} gas.",
            "",
        ]
    if "relay" in r:
        rows = [
            [
                x["name"],
                x["events"],
                x["batch_size"],
                x["load"],
                x["mining"],
                x["database"] + (f" x{x['replicas']}" if x["replicas"] > 1 else ""),
                x["relayed"],
                x["seconds"],
                x["events_per_second"],
                x["latency_p50"],
                x["latency_p99"],
                x["transactions"],
                thousands(x["gas_per_report"]),
                x["cpu_ms_per_event"],
                x.get("post_retries", 0),
                x.get("reported_twice", 0),
                "yes" if x["timed_out"] else "",
            ]
            for x in r["relay"]
        ]
        parts += [
            "## 4. Relay throughput, latency and oracle CPU (anvil, loopback, separate processes)",
            "",
            "One anvil, one awarded order. The reference Sonata seller runs in its own process (its clock the "
            "chain's, read at most every 0.25 s) and holds the resolved trouble tickets of every run; each run "
            "starts its own oracle (`offnet oracle run`, one process, or two replicas sharing one database) on a "
            "fresh database and its own load generator process (`bench/load.py`, keep-alive HTTP/1.1), which "
            "posts one troubleTicketStatusChangeEvent per ticket; the oracle fetches each ticket from the seller, "
            "derives its report and the relay submits batches to the SlaLedger. Closed loop: 16 connections post "
            "as fast as they are answered. Open loop: POSTs at a fixed rate whatever the answers. Latency: POST "
            "(when it was due) -> block holding the report first seen (10 ms polling). Throughput: reports on "
            "chain / (last block seen - first POST). CPU: user + system time of the oracle process(es) over the "
            "run, per report relayed. Between runs chain time moves 3 days, so every ledger lane is free again.",
            "",
        ]
        relay_machine = r.get("relay_machine")
        if relay_machine:  # a partial run (--only relay): its own commit and load
            parts += [
                f"This measure comes from its own run (`python -m bench --only relay`), commit "
                f"{relay_machine.get('commit', 'unknown')}, load average (1/5/15 min) "
                f"{_load(relay_machine, 'start')} at its start and {_load(relay_machine, 'end')} at its end "
                "(other sessions share the 2 cores).",
                "",
            ]
        parts += [
            markdown_table(
                [
                    "run",
                    "events",
                    "batch",
                    "load",
                    "mining",
                    "database",
                    "on chain",
                    "seconds",
                    "events/s",
                    "p50 s",
                    "p99 s",
                    "txs",
                    "gas/report",
                    "CPU ms/event",
                    "POST retries",
                    "twice",
                    "timed out",
                ],
                rows,
            ),
            "",
        ]
        collided = [x for x in r["relay"] if x.get("colliding_tickets")]
        if collided:
            parts += [
                "Colliding tickets: a ticket report's key is the first 4 bytes of keccak(ticket id), and the "
                "ledger keeps one report per (order, kind, key); among the tickets of one order, "
                + ", ".join(f"{x['colliding_tickets']} in run {x['name']}" for x in collided)
                + " had the key of another ticket of the order, so each such pair is one fact on chain "
                "(counted once in 'on chain', not as lost).",
                "",
            ]
        for x in r["relay"]:
            if x.get("kill"):
                k = x["kill"]
                parts += [
                    f"Run {x['name']}: the active replica was killed with kill -9 half way through the stream; "
                    f"the standby reported itself active {k['takeover_seen_seconds']} s after the kill (it tries "
                    f"the lock every second); the first report after the kill was mined "
                    f"{k['first_report_after_kill_seconds']} s after it, and the longest pause between two blocks "
                    f"holding reports across the kill was {k['relay_pause_seconds']} s.",
                    "",
                ]
        if r.get("relay_targets"):
            rows = [
                [t["target"], t["measured"], "met" if t["met"] else "**not met**"] for t in r["relay_targets"]
            ]
            parts += ["Targets:", "", markdown_table(["target", "measured", ""], rows), ""]
    if "scale" in r:
        s = r["scale"]
        ops = ("apply", "rfq_post", "award", "report")
        rows = [
            [thousands(p["members"]), thousands(p["open_rfqs"]), thousands(p["open_orders"])]
            + [thousands(p[o]) for o in ops]
            for p in s["points"]
        ]
        seeded = ", ".join(
            f"{x['open_rfqs']:,} RFQs + {x['open_orders']:,} orders in {x['seconds']:.0f} s"
            for x in s["seeding"]
            if x["transactions"]
        )
        parts += [
            "## 5. Scale",
            "",
            f"One anvil; a small world (10 members), then a big one whose registry has {s['members']:,} members "
            f"(founders of one constructor: {s['registry_deploy_gas']:,} gas), which then gets "
            f"{s['open_rfqs']:,} open RFQs and then {s['open_orders']:,} open escrow orders (awarded, funded, "
            "running), all between the measured buyer and provider. Seeding is real transactions built by the "
            "Python clients (postRfq, commitQuote of a signed quote, awardQuote) and mined 1,000 to a block with "
            f"every receipt checked ({s['seed_transactions']:,} transactions: {seeded}; `bench/seed.py`). "
            "The measured transactions are ordinary automined ones. Apply: a fresh applicant; award: the "
            "buyer's steady state (its first award in each world is a warm-up); report: one PERIOD report alone, in a "
            "fresh lane (a new storage slot) "
            "on the order just awarded.",
            "",
            markdown_table(
                ["members", "open RFQs", "open orders", "apply", "RFQ post", "award", "report"], rows
            ),
            "",
            "Differences of a few dozen gas between rows come from calldata (ids and hashes with more or fewer "
            "zero bytes), not from the size of the world.",
            "",
        ]
        d = r["discovery"]
        parts += [
            f"Discovery ({d['query']}) over {d['members']:,} members in the local SQLite index: median "
            f"{d['median_ms']} ms, p95 {d['p95_ms']} ms over {d['repeats']} runs, {d['matches']} matches. "
            f"Plan: {'; '.join(d['plan'])}.",
            "",
        ]
    if "explorer" in r:
        e = r["explorer"]
        rows = [
            [
                x["query"],
                x["twin"],
                f"{x['matches']:,}",
                f"{x['median_ms']}",
                f"{x['p95_ms']}",
                f"{x['bytes']:,}",
            ]
            for x in e["results"]
        ]
        parts += [
            f"### 5b. The explorer's providers page over {e['members']:,} members",
            "",
            f"`offnet explorer --database` as its own process over an index seeded with {e['members']:,} members "
            "(70 % with a track record, 10 % suspended; `bench/explorer.py`); whole GET requests over one "
            f"keep-alive HTTP connection, {e['repeats']} per row after a warm-up, {e['rows_per_page']} rows a "
            "page. `page` is the server-rendered HTML, `json` its twin under /api.",
            "",
            markdown_table(["query", "twin", "matches", "median ms", "p95 ms", "bytes"], rows),
            "",
            f"Slowest page p95: {e['worst_page_p95_ms']} ms (goal: under 200 ms); load average (1/5/15 min) "
            f"{', '.join(str(x) for x in e.get('load_average', []))} at the end of this measure.",
            "",
        ]
    parts += ["## 6. Suite health", ""]
    h = r.get("suite_health")
    if h:
        rows = [[f"`make {t}`", f"{x['seconds']:.0f}", x["exit_status"], x["summary"]] for t, x in h.items()]
        parts += [
            "Run by the bench itself (`bench/health.py`), one after the other from the repository root, after "
            "the other measures (nothing else of the bench running), output in `bench/results/logs/make-*.log`:",
            "",
            markdown_table(["command", "seconds", "exit", "last line"], rows),
            "",
        ]
    else:
        parts += ["Not measured in this run (`--quick` or `--skip health`).", ""]
    c = r.get("cli")
    if c:
        rows = [
            [f"`{x['command']}`", f"{x['median_ms']:.1f}", f"{x['best_ms']:.1f}", f"x{x['ratio']:.2f}"]
            for x in c["rows"]
        ]
        parts += [
            "## 7. Command-line start-up",
            "",
            f"`bench/cli.py` (`python -m bench --only cli`), commit {c['machine'].get('commit', 'unknown')}, "
            f"load average {_load(c['machine'], 'start')} at its start: each command a new process as a "
            f"user runs it, {c['repeats']} interleaved runs, "
            f"output discarded; ratio = median / the median of a bare `python -c pass` of the same "
            f"interpreter (goal: at most x{c['goal_ratio']:g}). Commands import their modules only when they "
            "run (`offnet.cli.commands.COMMANDS`). `offnet sonata validate` judges with the Sonata models "
            "compiled to plain data and cached in the user's cache folder (`offnet.sonata.precheck`), "
            "without importing pydantic: its first row is the warm figure (every run after the first), "
            "the cold one beside it is the first run after the models change (an empty cache folder: "
            "the models are built, compiled and written to the cache).",
            "",
            markdown_table(["command", "median ms", "best ms", "x bare Python"], rows),
            "",
        ]
    return "\n".join(parts)
