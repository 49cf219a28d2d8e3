"""out/report.html: one self-contained page (inline CSS and SVG charts drawn here, no script, no CDN)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from offnet.demo.chainwatch import money
from offnet.demo.results import DemoResults

PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#393b79",
    "#637939",
)
FLOW_COLOURS = {"released": "#2ca02c", "credited": "#ff7f0e", "refunded": "#d62728", "held": "#7f7f7f"}


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">' + "".join(body) + "</svg>"
    )


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", size: int = 11, colour: str = "#333"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{colour}">{escape(text)}</text>'
    )


def reputation_chart(samples: list[tuple[float, dict[str, int]]], carriers: list[str]) -> str:
    """Overall reputation (ppm -> %) of each carrier over chain days: one line each."""
    width, height, left, right, top, bottom = 760, 300, 48, 170, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    last_day = max((d for d, _ in samples), default=1.0) or 1.0
    body = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ddd"/>']
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>')
        body.append(_text(left - 6, y + 4, f"{pct}%", anchor="end"))
    for step in range(0, int(last_day) + 1, max(1, int(last_day) // 6 or 1)):
        x = left + plot_w * step / last_day
        body.append(_text(x, top + plot_h + 16, f"day {step}", anchor="middle"))
    for index, name in enumerate(carriers):
        colour = PALETTE[index % len(PALETTE)]
        points = [
            (left + plot_w * day / last_day, top + plot_h * (1 - values.get(name, 0) / 1_000_000))
            for day, values in samples
        ]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body.append(
            f'<rect x="{width - right + 12}" y="{top + 18 * index}" width="12" height="12" fill="{colour}"/>'
        )
        body.append(_text(width - right + 30, top + 18 * index + 10, name))
    return _svg(width, height, body, "overall reputation over time per carrier")


def money_chart(results: DemoResults) -> str:
    """Each order's escrowed money split into released, credited, refunded and still held."""
    orders = results.orders
    row, left, width = 22, 190, 760
    height = 30 + row * max(len(orders), 1) + 30
    scale = max((o.escrowed for o in orders), default=1) or 1
    plot_w = width - left - 90
    body = []
    for index, order in enumerate(orders):
        y = 20 + index * row
        body.append(_text(left - 8, y + 13, f"{order.order_id[:10]} {order.seller}", anchor="end", size=10))
        x = float(left)
        for part, colour in FLOW_COLOURS.items():
            amount = getattr(order, part)
            if amount <= 0:
                continue
            w = plot_w * amount / scale
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 6}" fill="{colour}">'
                f"<title>{escape(part)}: {money(amount)}</title></rect>"
            )
            x += w
        body.append(_text(x + 6, y + 13, money(order.escrowed), size=10))
    legend_y = height - 12
    for index, (part, colour) in enumerate(FLOW_COLOURS.items()):
        body.append(
            f'<rect x="{left + index * 110}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>'
        )
        body.append(_text(left + index * 110 + 18, legend_y, part))
    return _svg(width, height, body, "money flow per order")


def gas_chart(results: DemoResults) -> str:
    """Total gas per operation type, largest first."""
    lines = results.gas
    row, left, width = 20, 230, 760
    height = 20 + row * max(len(lines), 1)
    scale = max((g.gas for g in lines), default=1) or 1
    plot_w = width - left - 110
    body = []
    for index, line in enumerate(lines):
        y = 10 + index * row
        w = plot_w * line.gas / scale
        body.append(_text(left - 8, y + 12, line.operation, anchor="end", size=10))
        body.append(
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 5}" fill="#1f77b4">'
            f"<title>{line.transactions} transactions, {line.average:,} gas each</title></rect>"
        )
        body.append(_text(left + w + 6, y + 12, f"{line.gas:,} ({line.transactions})", size=10))
    return _svg(width, height, body, "gas per operation")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(results: DemoResults) -> str:
    """The whole page as text."""
    s = results.summary
    names = [c["name"] for c in results.carriers]
    carriers = _table(
        ["carrier", "profile", "countries", "address"],
        [[c["name"], c["profile"], " ".join(c["countries"]), c["address"]] for c in results.carriers],
    )
    reputation = _table(
        [
            "carrier",
            "overall",
            "on-time delivery",
            "SLA compliance",
            "delivered",
            "months",
            "tickets",
            "disputes lost",
        ],
        [
            [
                n,
                *(
                    f"{f[k][0] / 10_000:.1f}% → {f[k][1] / 10_000:.1f}%"
                    for k in ("overall_ppm", "on_time_delivery_ppm", "sla_compliance_ppm")
                ),
                *(
                    f"{f[k][0]} → {f[k][1]}"
                    for k in ("orders_delivered", "periods_reported", "trouble_tickets", "disputes_lost")
                ),
            ]
            for n, f in results.reputation.items()
        ],
    )
    orders = _table(
        [
            "order",
            "rfq",
            "buyer",
            "seller",
            "profile",
            "delivery",
            "months final",
            "credits",
            "escrowed",
            "released",
            "credited",
            "refunded",
            "held",
            "gas",
            "status",
        ],
        [
            [
                o.order_id[:18],
                o.rfq_id,
                o.buyer,
                o.seller,
                o.profile,
                o.delivery,
                str(o.periods_final),
                ", ".join(f"{b / 100:g}%" for b in o.credit_bps) or "-",
                money(o.escrowed),
                money(o.released),
                money(o.credited),
                money(o.refunded),
                money(o.held),
                f"{o.gas:,}",
                o.status,
            ]
            for o in results.orders
        ],
    )
    gas = _table(
        ["operation", "transactions", "gas total", "gas average"],
        [[g.operation, str(g.transactions), f"{g.gas:,}", f"{g.average:,}"] for g in results.gas],
    )
    counts = _table(
        ["what", "count"],
        [
            [k.replace("_", " "), str(v)]
            for k, v in s.items()
            if isinstance(v, int) and not k.startswith("tokens") and not k.startswith("escrow")
        ],
    )
    flows = _table(
        ["money (tUSD)", "amount"],
        [
            [k.replace("_", " "), money(v)]
            for k, v in s.items()
            if isinstance(v, int) and (k.startswith("tokens") or k.startswith("escrow"))
        ],
    )
    story = []
    if results.ticket:
        t = results.ticket
        story.append(
            f"<li>Trouble ticket {escape(t['ticket'])}: {escape(t['buyer'])} reported an outage on order "
            f"{escape(t['order'][:10])} at {escape(t['seller'])}; its resolution became a ticket report.</li>"
        )
    if results.dispute:
        d = results.dispute
        story.append(
            f"<li>Dispute: {escape(d['buyer'])} disputed {escape(d['seller'])}'s month {d['period']} "
            f"report of order {escape(d['order'][:10])}; the council (proposal #{d['proposal']}, "
            f"{' + '.join(d['approvals'])}) upheld the report, {escape(d['loser'])} lost the dispute.</li>"
        )
    warnings = "".join(f"<li>{escape(w)}</li>" for w in results.warnings)
    cfg = results.config
    verdict = (
        f'<span class="ok">Invariants held</span>: escrow balance {money(s["escrow_balance"])} = still owed '
        f"{money(s['escrow_owed'])}; every event relayed; no report on chain twice."
        if results.failure is None
        else f'<span class="bad">Invariant broken</span>: {escape(results.failure)}'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>offnet demo report</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1180px; color: #222;
        padding: 0 1em; }}
h1 {{ font-size: 1.6em; }} h2 {{ margin-top: 2em; border-bottom: 1px solid #ddd; }}
table {{ border-collapse: collapse; margin: .5em 0; font-size: 12.5px; }}
th, td {{ border: 1px solid #ddd; padding: 3px 7px; text-align: right; white-space: nowrap; }}
th {{ background: #f3f3f3; }} td:first-child, th:first-child {{ text-align: left; }}
.ok {{ color: #2ca02c; font-weight: bold; }}
.bad {{ color: #d62728; font-weight: bold; }} .grid {{ display: flex; gap: 2em; flex-wrap: wrap; }}
</style></head><body>
<h1>offnet demo: {s["carriers"]} carriers, {s["rfqs"]} RFQs, {cfg["months"]} months (seed {cfg["seed"]})</h1>
<p>Chain: {escape(str(cfg["chain"]))}. {results.chain_days:g} days of chain time in
{results.wall_seconds:g} s.
{verdict}</p>
<ul>{"".join(story)}</ul>
<h2>Reputation over time</h2>{reputation_chart(results.reputation_samples, names)}
{reputation}
<h2>Money flow per order</h2>{money_chart(results)}
{orders}
<h2>Gas per operation</h2>{gas_chart(results)}
{gas}
<h2>Counts</h2><div class="grid">{counts}{flows}</div>
<h2>Carriers</h2>{carriers}
{f"<h2>Transient oracle errors (retried)</h2><ul>{warnings}</ul>" if warnings else ""}
</body></html>
"""


def write_html(results: DemoResults, path: Path) -> Path:
    """Write out/report.html."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results), encoding="utf-8")
    return path
