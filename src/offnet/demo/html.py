"""out/report.html: one self-contained page (inline CSS and SVG charts drawn here, no script, no CDN).

Written for a carrier's manager first: what was bought where, where the money went, how each carrier's
track record moved, and the trouble ticket and the dispute in plain sentences. The engineering figures
(invariants, gas, counts, addresses) follow in a section of their own.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from offnet.demo.chainwatch import money
from offnet.demo.results import DemoResults

FLOW_COLOURS = {"released": "#2a7d2a", "credited": "#e08a00", "refunded": "#c0392b", "held": "#8c8c8c"}
FLOW_LABELS = {
    "released": "paid to the seller",
    "credited": "SLA credits to the buyer",
    "refunded": "refunded to the buyer",
    "held": "still in escrow",
}
LINE = "#1f5fa8"
PAGE_WIDTH = 1360  # the content fits a 1,400 px window


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">' + "".join(body) + "</svg>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = 12,
    colour: str = "#333",
    rotate: bool = False,
    cls: str = "",
) -> str:
    transform = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{colour}"'
        f"{transform}{klass}>{escape(text)}</text>"
    )


def _percent(ppm: int) -> str:
    return f"{ppm / 10_000:.1f} %"


def _score(ppm: int, samples: int) -> str:
    """A reputation as people read it: `new` without history (not 0 %), else the score and its base."""
    if samples == 0:
        return "new"
    return f"{_percent(ppm)} ({samples} fact{'s' if samples > 1 else ''})"


def reputation_charts(samples: list[tuple[float, dict[str, int | None]]], carriers: list[dict]) -> str:
    """One small chart per carrier (overall reputation over chain days): no line hides another; a
    carrier is drawn from its first fact on (before that it is new, not 0 %)."""
    width, height, left, right, top, bottom = 300, 186, 62, 10, 44, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    last_day = max((d for d, _ in samples), default=1.0) or 1.0
    charts = []
    for carrier in carriers:
        name = carrier["name"]
        body = [
            _text(left, 15, name, size=13, colour="#111"),
            _text(left, 31, carrier["profile"], size=11, colour="#666"),
            f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>',
        ]
        for pct in (0, 50, 100):
            y = top + plot_h * (1 - pct / 100)
            body.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e4e4e4"/>'
            )
            body.append(_text(left - 5, y + 4, f"{pct} %", anchor="end", size=11))
        for day in (0, last_day / 2, last_day):
            x = left + plot_w * day / last_day
            body.append(_text(x, top + plot_h + 15, f"{day:.0f}", anchor="middle", size=11))
        body.append(
            _text(left + plot_w / 2, height - 6, "chain day", anchor="middle", size=11, colour="#555")
        )
        body.append(
            _text(
                12,
                top + plot_h / 2,
                "overall reputation",
                anchor="middle",
                size=11,
                colour="#555",
                rotate=True,
            )
        )
        points = [
            (left + plot_w * day / last_day, top + plot_h * (1 - values[name] / 1_000_000))
            for day, values in samples
            if values.get(name) is not None
        ]
        if not points:
            body.append(
                _text(
                    left + plot_w / 2, top + plot_h / 2 + 4, "new: no history yet", anchor="middle", size=12
                )
            )
        else:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline class="reputation-line" points="{path}" fill="none" stroke="{LINE}" stroke-width="2.5"/>'
            )
            body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{LINE}"/>' for x, y in points]
        charts.append(_svg(width, height, body, f"overall reputation of {name} over chain days"))
    return '<div class="small-multiples">' + "".join(charts) + "</div>"


def money_chart(results: DemoResults) -> str:
    """Each order's escrowed money split into paid, credited, refunded and still held, on a labelled
    currency axis; orders named by circuit site and parties."""
    orders = results.orders
    row, left, width, top = 26, 330, 1100, 10
    plot_w = width - left - 110
    scale = max((o.escrowed for o in orders), default=1) or 1
    unit = 10**6
    step = _nice_step(scale / unit)
    axis_y = top + row * max(len(orders), 1) + 6
    height = axis_y + 70
    body = []
    for index, order in enumerate(orders):
        y = top + index * row
        body.append(
            _text(left - 8, y + 15, f"{order.site}: {order.buyer} ← {order.seller}", anchor="end", size=12)
        )
        x = float(left)
        for part, colour in FLOW_COLOURS.items():
            amount = getattr(order, part)
            if amount <= 0:
                continue
            w = plot_w * amount / scale
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 8}" fill="{colour}">'
                f"<title>{escape(FLOW_LABELS[part])}: {money(amount)} {escape(results.currency)}</title></rect>"
            )
            x += w
        body.append(_text(x + 6, y + 15, f"{money(order.escrowed)}", size=11))
    body.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#555"/>')
    tick = 0.0
    while tick * unit <= scale * 1.0001:
        x = left + plot_w * tick * unit / scale
        body.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}" stroke="#555"/>')
        body.append(_text(x, axis_y + 18, f"{tick:,.0f}", anchor="middle", size=11))
        tick += step
    body.append(
        _text(
            left + plot_w / 2,
            axis_y + 36,
            f"amount escrowed per order ({results.currency})",
            anchor="middle",
            size=12,
            colour="#333",
            cls="axis-label",
        )
    )
    legend_y = axis_y + 58
    for index, (part, colour) in enumerate(FLOW_COLOURS.items()):
        x = left + index * 190
        body.append(f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>')
        body.append(_text(x + 18, legend_y, FLOW_LABELS[part], size=12))
    return _svg(width, height, body, f"money flow per order in {results.currency}")


def _nice_step(maximum: float) -> float:
    """A round tick step giving 4-8 ticks up to `maximum`."""
    step = 1.0
    while maximum / step > 8:
        for factor in (2, 2.5, 2):
            step *= factor
            if maximum / step <= 8:
                break
    return step


def gas_chart(results: DemoResults) -> str:
    """Total gas per operation type, largest first, on a labelled axis."""
    lines = results.gas
    row, left, width = 20, 250, 1000
    height = 40 + row * max(len(lines), 1)
    scale = max((g.gas for g in lines), default=1) or 1
    plot_w = width - left - 150
    body = []
    for index, line in enumerate(lines):
        y = 10 + index * row
        w = plot_w * line.gas / scale
        body.append(_text(left - 8, y + 12, line.operation, anchor="end", size=11))
        body.append(
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 5}" fill="#5b7fa6">'
            f"<title>{line.transactions} transactions, {line.average:,} gas each</title></rect>"
        )
        body.append(_text(left + w + 6, y + 12, f"{line.gas:,} gas ({line.transactions} tx)", size=11))
    body.append(
        _text(
            left + plot_w / 2, height - 8, "gas used, all transactions of the type", anchor="middle", size=11
        )
    )
    return _svg(width, height, body, "gas per operation")


def _table(headers: list[str], rows: list[list[str]], *, numeric_from: int = 99, cls: str = "") -> str:
    head = "".join(
        f'<th class="{"num" if i >= numeric_from else ""}">{escape(h)}</th>' for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if i >= numeric_from else ""}">{escape(c)}</td>' for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _story(results: DemoResults) -> list[str]:
    """The ticket, the dispute and the refunds, in sentences a manager reads."""
    by_id = {o.order_id: o for o in results.orders}
    lines = []
    if results.ticket:
        t = results.ticket
        order = by_id.get(t["order"])
        where = f" ({order.circuit} in {order.site})" if order else ""
        lines.append(
            f"{t['buyer']} reported an outage on its circuit from {t['seller']}{where} (trouble ticket "
            f"{t['ticket']}); the time to restore it counted in that month's SLA report."
        )
    if results.dispute:
        d = results.dispute
        order = by_id.get(d["order"])
        where = f" for the circuit in {order.site}" if order else ""
        lines.append(
            f"{d['buyer']} disputed {d['seller']}'s month-{d['period']} performance report{where}; the "
            f"council ({' and '.join(d['approvals'])}) upheld the report, so {d['loser']} lost the "
            "dispute and the month was settled as reported."
        )
    refunded = [o for o in results.orders if o.refunded]
    for order in refunded:
        lines.append(
            f"{order.buyer}'s circuit in {order.site} was never reported delivered by {order.seller}: "
            f"{money(order.refunded)} {results.currency} went back to {order.buyer}."
        )
    return lines


def render(results: DemoResults) -> str:
    """The whole page as text."""
    s = results.summary
    cfg = results.config
    cur = results.currency
    carriers = results.carriers
    profiles = {c["name"]: c["profile"] for c in carriers}
    broken = results.failure is not None
    status = (
        f'<p class="banner bad"><strong>The run failed:</strong> {escape(results.failure or "")}</p>'
        if broken
        else '<p class="banner ok">Every order is settled and every party has withdrawn what it was owed.</p>'
    )
    cards = [
        ("orders placed", f"{s['orders']} of {s['rfqs']} requests"),
        ("escrowed by buyers", f"{money(s['tokens_escrowed'])} {cur}"),
        ("paid to sellers", f"{money(s['tokens_released'])} {cur}"),
        ("SLA credits to buyers", f"{money(s['tokens_credited'])} {cur}"),
        ("refunded to buyers", f"{money(s['tokens_refunded'])} {cur}"),
        ("still in escrow", f"{money(s['escrow_held_by_orders'])} {cur}"),
    ]
    card_html = "".join(
        f'<div class="card"><div class="value">{escape(v)}</div><div class="label">{escape(k)}</div></div>'
        for k, v in cards
    )
    orders = _table(
        [
            "circuit and site",
            "buyer",
            "seller",
            "delivery",
            "months settled",
            "SLA credit per month",
            f"escrowed ({cur})",
            f"paid to seller ({cur})",
            f"credited ({cur})",
            f"refunded ({cur})",
            f"still held ({cur})",
        ],
        [
            [
                f"{o.circuit}, {o.site}",
                o.buyer,
                o.seller,
                o.delivery,
                str(o.periods_final),
                ", ".join(f"{b / 100:g} %" for b in o.credit_bps) or "none",
                money(o.escrowed),
                money(o.released),
                money(o.credited),
                money(o.refunded),
                money(o.held),
            ]
            for o in results.orders
        ],
        numeric_from=4,
        cls="orders",
    )
    before_when = (
        f"day {results.reputation_before_day:g}, when the last requests were sent"
        if results.reputation_before_day
        else "at the start"
    )
    reputation = _table(
        [
            "carrier",
            "behaviour",
            f"overall before ({before_when})",
            "overall after",
            "on-time delivery",
            "SLA months met",
            "orders delivered",
            "months reported",
            "trouble tickets",
            "disputes lost",
        ],
        [
            [
                name,
                profiles.get(name, "?"),
                _score(f["overall_ppm"][0], f["samples"][0]),
                _score(f["overall_ppm"][1], f["samples"][1]),
                _score(f["on_time_delivery_ppm"][1], f["orders_delivered"][1]),
                _score(f["sla_compliance_ppm"][1], f["periods_reported"][1]),
                str(f["orders_delivered"][1]),
                str(f["periods_reported"][1]),
                str(f["trouble_tickets"][1]),
                str(f["disputes_lost"][1]),
            ]
            for name, f in results.reputation.items()
        ],
        numeric_from=2,
        cls="reputation",
    )
    story = "".join(f"<li>{escape(line)}</li>" for line in _story(results)) or "<li>No incident.</li>"

    # --- engineering -----------------------------------------------------------------------------
    verdict = (
        f'<span class="ok">Invariants held</span>: escrow balance {money(s["escrow_balance"])} {cur} = still '
        f"owed {money(s['escrow_owed'])} {cur}; every event relayed; no report on chain twice."
        if not broken
        else f'<span class="bad">Broken</span>: {escape(results.failure or "")}'
    )
    gas = _table(
        ["operation", "transactions", "gas total", "gas average"],
        [[g.operation, str(g.transactions), f"{g.gas:,}", f"{g.average:,}"] for g in results.gas],
        numeric_from=1,
    )
    counts = _table(
        ["what", "count"],
        [
            [k.replace("_", " "), str(v)]
            for k, v in s.items()
            if isinstance(v, int) and not k.startswith("tokens") and not k.startswith("escrow")
        ],
        numeric_from=1,
    )
    ids = _table(
        ["site", "buyer", "seller", "order id", "RFQ", "gas of its transactions", "status"],
        [[o.site, o.buyer, o.seller, o.order_id, o.rfq_id, f"{o.gas:,}", o.status] for o in results.orders],
        cls="ids",
    )
    carrier_table = _table(
        ["carrier", "behaviour", "countries", "address", "Sonata API", "oracle"],
        [
            [
                c["name"],
                c["profile"],
                " ".join(c["countries"]),
                c["address"],
                c["seller_url"],
                c["oracle_url"],
            ]
            for c in carriers
        ],
        cls="ids",
    )
    warnings = "".join(f"<li>{escape(w)}</li>" for w in results.warnings)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>offnet market report</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; margin: 1.5em auto; max-width: {PAGE_WIDTH}px; color: #222;
        padding: 0 16px; box-sizing: border-box; }}
h1 {{ font-size: 1.7em; margin-bottom: .2em; }} h2 {{ margin-top: 1.8em; border-bottom: 2px solid #ddd; }}
.sub {{ color: #555; margin-top: 0; }}
.banner {{ padding: .6em 1em; border-radius: 6px; }} .banner.ok {{ background: #eaf5ea; }}
.banner.bad {{ background: #fbeaea; }}
.cards {{ display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; margin: 1em 0; }}
.card {{ background: #f5f7fa; border-radius: 8px; padding: .7em .9em; }}
.card .value {{ font-size: 1.25em; font-weight: 600; }} .card .label {{ color: #555; font-size: .9em; }}
table {{ border-collapse: collapse; margin: .6em 0; font-size: 13.5px; width: 100%; }}
th, td {{ border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; font-weight: 600; }} td.num, th.num {{ text-align: right; }}
td.num {{ white-space: nowrap; }}
table.orders td:nth-child(2), table.orders td:nth-child(3), table.orders td:nth-child(4),
table.reputation td:nth-child(1) {{ white-space: nowrap; }}
table.ids td {{ font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }}
.small-multiples {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; }}
.chart {{ overflow-x: auto; }}
.engineering {{ margin-top: 3em; padding: 1em 1.2em 1.5em; background: #f7f7f9; border-top: 4px solid #999;
               font-size: 14px; }}
.engineering h2 {{ font-size: 1.25em; }} .grid {{ display: grid; grid-template-columns: 1fr 1fr; gap: 2em; }}
.ok {{ color: #2a7d2a; font-weight: bold; }} .bad {{ color: #c0392b; font-weight: bold; }}
</style></head><body>
<main id="manager">
<h1>Off-net circuits bought through offnet</h1>
<p class="sub">{s["carriers"]} carriers, {s["rfqs"]} requests for quote, {cfg["months"]} month(s) of service each;
amounts in {escape(cur)}, the test settlement token; {results.chain_days:g} days of simulated time.</p>
{status}
<div class="cards">{card_html}</div>
<h2>What happened</h2>
<ul class="story">{story}</ul>
<h2>Orders: what was bought, where, and where the money went</h2>
<p>Each buyer escrowed the installation charge and the prepaid months at award. The seller is paid as
delivery and each month's SLA report become final, minus the SLA credits the buyer's contract gives it
(late delivery counts in whole days, as the contract does).</p>
<div class="chart">{money_chart(results)}</div>
{orders}
<h2>Reputation: how each carrier's track record moved</h2>
<p>Overall reputation averages quote timeliness, on-time delivery and months meeting the SLA. A carrier
without history is <em>new</em>, not 0 %; the number of facts behind each score is in brackets.</p>
{reputation_charts(results.reputation_samples, carriers)}
{reputation}
</main>
<section id="engineering" class="engineering">
<h2>For engineers</h2>
<p>Seed {cfg["seed"]}; chain {escape(str(cfg["chain"]))} ({escape(str(s.get("evm_build", "")))} build);
{results.wall_seconds:g} s of wall time. {verdict}</p>
<h3>Gas per operation</h3><div class="chart">{gas_chart(results)}</div>
{gas}
<div class="grid"><div><h3>Counts</h3>{counts}</div><div><h3>Orders on chain</h3>{ids}</div></div>
<h3>Carriers</h3>{carrier_table}
{f"<h3>Transient oracle errors (retried)</h3><ul>{warnings}</ul>" if warnings else ""}
</section>
</body></html>
"""


def write_html(results: DemoResults, path: Path) -> Path:
    """Write out/report.html."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results), encoding="utf-8")
    return path
