"""bench/results/README.md from a results dict (the same dict as results.json)."""

from __future__ import annotations

from bench.table import GasRow, GasTable, markdown_table, thousands


def _gas_table(rows: list[dict]) -> GasTable:
    fields = ("operation", "gas", "per", "budget", "anchor", "anchor_gas", "note")
    return GasTable([GasRow(**{k: row[k] for k in fields}) for row in rows])


def _ops_markdown(rows: list[dict]) -> str:
    out = []
    for row in _gas_table(rows).rows:
        verdict = {True: "ok", False: "**over**", None: ""}[row.within_budget]
        name = row.operation + (f" (per report, batch of {row.per})" if row.per > 1 else "")
        out.append(
            [
                name,
                thousands(row.unit_gas),
                thousands(row.budget),
                verdict,
                row.anchor or "",
                thousands(row.anchor_gas),
                "" if row.ratio is None else f"{row.ratio:.2f}",
                row.note,
            ]
        )
    return markdown_table(
        ["operation", "gas", "budget", "", "anchor", "anchor gas", "ours / anchor", "note"], out
    )


def render_readme(r: dict) -> str:
    m = r["machine"]
    parts = [
        "# offnet benchmarks (`make bench`)",
        "",
        "Written by `python -m bench`; every figure below comes from the run recorded in `results.json`.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}.  ",
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
                x["events"],
                x["batch_size"],
                x["relayed"],
                x["seconds"],
                x["events_per_second"],
                x["latency_p50"],
                x["latency_p95"],
                x["latency_p99"],
                x["transactions"],
                thousands(x["gas_per_report"]),
                "yes" if x["timed_out"] else "",
            ]
            for x in r["relay"]
        ]
        parts += [
            "## 4. Relay throughput and latency (anvil, loopback)",
            "",
            "Load generator: httpx, 16 connections, posts troubleTicketStatusChangeEvent notifications to the "
            "buyer's oracle (`offnet oracle run`, its own process); the oracle fetches each ticket from the "
            "reference seller and relays the report. Latency: POST sent -> block holding the report first seen "
            "(10 ms polling). Throughput: reports on chain / (last block seen - first POST).",
            "",
            markdown_table(
                [
                    "events",
                    "batch_size",
                    "on chain",
                    "seconds",
                    "events/s",
                    "p50 s",
                    "p95 s",
                    "p99 s",
                    "txs",
                    "gas/report",
                    "timed out",
                ],
                rows,
            ),
            "",
        ]
        if "relay_ratio" in r:
            q = r["relay_ratio"]
            parts += [
                f"Batched vs batch_size=1 at {q['events']} events: throughput x{q['throughput_batched_over_single']}, "
                f"gas per report /{q['gas_per_report_single_over_batched']}, "
                f"p50 latency /{q['p50_latency_single_over_batched']}.",
                "",
            ]
    if "scale" in r:
        s = r["scale"]
        ops = ("apply", "rfq_post", "award", "report")
        rows = [[p["label"], *(thousands(p[o]) for o in ops)] for p in s["points"]]
        parts += [
            "## 5. Scale",
            "",
            f"The big registry has {s['members']:,} members (founders of one constructor: "
            f"{s['registry_deploy_gas']:,} gas); {s['open_rfqs']:,} open RFQs were then posted as real "
            f"transactions ({s['seed_rfq_seconds']} s). Award is the buyer's second award (steady state); "
            "report is one PERIOD report alone.",
            "",
            markdown_table(["world", "apply", "RFQ post", "award", "report"], rows),
            "",
        ]
        d = r["discovery"]
        parts += [
            f"Discovery ({d['query']}) over {d['members']:,} members in the local SQLite index: median "
            f"{d['median_ms']} ms, p95 {d['p95_ms']} ms over {d['repeats']} runs, {d['matches']} matches. "
            f"Plan: {'; '.join(d['plan'])}.",
            "",
        ]
    h = r["suite_health"]
    parts += [
        "## 6. Suite health",
        "",
        f"`make test`: {h['test_seconds'] if h['test_seconds'] is not None else 'not recorded'} s; "
        f"`make demo`: {h['demo_seconds'] if h['demo_seconds'] is not None else 'not recorded'} s "
        f"(source: {h['source']}; the bench never runs them).",
        "",
    ]
    return "\n".join(parts)
