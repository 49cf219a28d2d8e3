"""The explorer's SVG charts, drawn on the server from a page's own data (no script, no library).

A chart is a list of SVG elements (`Shape`: tag, attributes, optional text) that the template
`_chart.html` writes out, escaping every attribute and text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SERIES = (("overallPpm", "overall", "#1f5fa8"),)
FLOW = (("released", "#2e8b57"), ("credited", "#e08a1e"), ("refunded", "#c0392b"), ("held", "#8a8f98"))


@dataclass(frozen=True)
class Shape:
    tag: str
    attrs: dict[str, Any]
    text: str | None = None


@dataclass
class Chart:
    width: int
    height: int
    label: str
    shapes: list[Shape] = field(default_factory=list)

    def add(self, tag: str, text: str | None = None, **attrs: Any) -> None:
        self.shapes.append(Shape(tag, {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}, text))


def _iso_seconds(text: str | None) -> int | None:
    if not text or text == "-":
        return None
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def reputation_chart(history: list[dict[str, Any]]) -> Chart | None:
    """Overall reputation (0-100 %) at every point the ledger changed it, as a step line over chain time."""
    points = [(_iso_seconds(p["block"]["time"]), p["overallPpm"], p["samples"]) for p in history]
    points = [(t, v, n) for t, v, n in points if t is not None and n > 0]
    if not points:
        return None
    width, height, left, right, top, bottom = 720, 240, 52, 16, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    start, end = points[0][0], points[-1][0]
    span = max(end - start, 1)
    chart = Chart(width, height, "overall reputation over time")
    chart.add("rect", x=left, y=top, width=plot_w, height=plot_h, fill="#fbfbfc", stroke="#d9dce1")
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        chart.add("line", x1=left, y1=f"{y:.1f}", x2=left + plot_w, y2=f"{y:.1f}", stroke="#e8eaee")
        chart.add(
            "text", f"{pct}%", x=left - 6, y=f"{y + 4:.1f}", text_anchor="end", font_size=11, fill="#555"
        )

    def x_of(t: int) -> float:
        return left + plot_w * (t - start) / span if end > start else left + plot_w / 2

    def y_of(ppm: int) -> float:
        return top + plot_h * (1 - ppm / 1_000_000)

    coords: list[str] = []
    for i, (t, ppm, _) in enumerate(points):
        if i:
            coords.append(f"{x_of(t):.1f},{y_of(points[i - 1][1]):.1f}")
        coords.append(f"{x_of(t):.1f},{y_of(ppm):.1f}")
    chart.add("polyline", points=" ".join(coords), fill="none", stroke=SERIES[0][2], stroke_width=2)
    for t, ppm, n in points:
        chart.add(
            "circle",
            f"{ppm / 10_000:.1f}% (n={n})",
            cx=f"{x_of(t):.1f}",
            cy=f"{y_of(ppm):.1f}",
            r=3,
            fill=SERIES[0][2],
        )
    for t in sorted({start, end}):
        label = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")
        anchor = "start" if t == start and end > start else "end" if end > start else "middle"
        chart.add(
            "text", label, x=f"{x_of(t):.1f}", y=height - 22, text_anchor=anchor, font_size=11, fill="#555"
        )
    chart.add(
        "text",
        "chain time (UTC)",
        x=left + plot_w / 2,
        y=height - 6,
        text_anchor="middle",
        font_size=11,
        fill="#555",
    )
    return chart


def money_chart(money: dict[str, Any]) -> Chart | None:
    """An order's escrowed money as one bar split into released, credited, refunded and still held."""
    total = int(money["escrowed"]["units"])
    if total <= 0:
        return None
    width, height, left, bar_w = 720, 74, 8, 704
    chart = Chart(width, height, "where the escrowed money went")
    x = float(left)
    for part, colour in FLOW:
        units = int(money[part]["units"])
        if units <= 0:
            continue
        w = bar_w * units / total
        chart.add(
            "rect",
            f"{part}: {money[part]['text']}",
            x=f"{x:.1f}",
            y=8,
            width=f"{w:.1f}",
            height=26,
            fill=colour,
        )
        x += w
    for i, (part, colour) in enumerate(FLOW):
        chart.add("rect", x=left + i * 176, y=48, width=12, height=12, fill=colour)
        chart.add(
            "text", f"{part} {money[part]['text']}", x=left + i * 176 + 18, y=58, font_size=11, fill="#333"
        )
    return chart


def sla_chart(months: list[dict[str, Any]]) -> Chart | None:
    """Each reported month's availability against the objective signed for it (green when every
    objective was met, red otherwise)."""
    rows = []
    for m in months:
        availability = next((o for o in m["objectives"] if o["name"] == "availability"), None)
        if availability is None:
            continue
        measured = float(availability["measured"].rstrip("%"))
        objective = float(availability["objective"].rstrip("%")) if availability["objective"] else None
        rows.append((f"{m['order'][:10]} month {m['period']}", measured, objective, m["compliant"]))
    if not rows:
        return None
    floor = min([99.0] + [r[1] for r in rows] + [r[2] for r in rows if r[2] is not None])
    floor = max(0.0, float(int(floor) - 1))
    row_h, left, width = 24, 170, 720
    height = 16 + row_h * len(rows) + 24
    plot_w = width - left - 80
    chart = Chart(width, height, "monthly availability against the signed objective")

    def x_of(pct: float) -> float:
        return left + plot_w * (pct - floor) / (100 - floor)

    for i, (label, measured, objective, ok) in enumerate(rows):
        y = 10 + i * row_h
        chart.add("text", label, x=left - 8, y=y + 14, text_anchor="end", font_size=11, fill="#333")
        chart.add(
            "rect",
            f"availability {measured:.3f}%",
            x=left,
            y=y,
            width=f"{x_of(measured) - left:.1f}",
            height=row_h - 8,
            fill="#2e8b57" if ok else "#c0392b",
        )
        label_x = max(x_of(measured), x_of(objective) if objective is not None else 0) + 8
        chart.add("text", f"{measured:.3f}%", x=f"{label_x:.1f}", y=y + 13, font_size=11, fill="#333")
        if objective is not None:
            chart.add(
                "line",
                x1=f"{x_of(objective):.1f}",
                y1=y - 2,
                x2=f"{x_of(objective):.1f}",
                y2=y + row_h - 6,
                stroke="#111",
                stroke_width=2,
                stroke_dasharray="3,2",
            )
    chart.add(
        "text",
        f"axis from {floor:.0f}% to 100%; dashed line: the objective in the order's terms",
        x=left,
        y=height - 6,
        font_size=11,
        fill="#555",
    )
    return chart
