"""The result tables: rows measured by each bench module, rendered as Markdown and plain JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class GasRow:
    """Gas of one operation (per item when `per` > 1), with its budget and anchor when it has them."""

    operation: str
    gas: int
    per: int = 1
    budget: int | None = None
    anchor: str | None = None
    anchor_gas: int | None = None
    note: str = ""

    @property
    def unit_gas(self) -> int:
        """Gas per item (whole transaction gas divided by `per`, rounded)."""
        return round(self.gas / self.per)

    @property
    def within_budget(self) -> bool | None:
        return None if self.budget is None else self.unit_gas <= self.budget

    @property
    def ratio(self) -> float | None:
        """Ours divided by the anchor (below 1: cheaper than the anchor)."""
        return None if not self.anchor_gas else self.unit_gas / self.anchor_gas

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            unit_gas=self.unit_gas,
            within_budget=self.within_budget,
            ratio=None if self.ratio is None else round(self.ratio, 3),
        )
        return data


@dataclass
class GasTable:
    """An ordered list of gas rows; `add` returns the row so callers can attach anchors."""

    rows: list[GasRow] = field(default_factory=list)

    def add(
        self, operation: str, gas: int, *, per: int = 1, budget: int | None = None, note: str = ""
    ) -> GasRow:
        row = GasRow(operation, gas, per, budget, note=note)
        self.rows.append(row)
        return row

    def get(self, operation: str) -> GasRow:
        for row in self.rows:
            if row.operation == operation:
                return row
        raise KeyError(operation)

    def to_json(self) -> list[dict[str, Any]]:
        return [row.to_json() for row in self.rows]


def thousands(value: int | float | None) -> str:
    """12345 -> '12,345'; None -> '-'."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if isinstance(value, int) or float(value).is_integer() else f"{value:,.1f}"


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A GitHub Markdown table; numbers right-aligned."""

    def cell(value: Any) -> str:
        return "-" if value is None else str(value).replace("|", "\\|")

    numeric = (
        [
            all(isinstance(r[i], (int, float)) or r[i] is None or _looks_numeric(r[i]) for r in rows)
            for i in range(len(headers))
        ]
        if rows
        else [False] * len(headers)
    )
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _looks_numeric(value: Any) -> bool:
    text = str(value).replace(",", "").replace("x", "").replace("%", "").strip()
    if text in ("", "-"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def gas_markdown(table: GasTable) -> str:
    """Operation, gas (per item), budget, verdict, anchor and ratio."""
    rows = []
    for row in table.rows:
        verdict = {True: "ok", False: "OVER", None: ""}[row.within_budget]
        per = f"/{row.per}" if row.per > 1 else ""
        rows.append(
            [
                row.operation + (f" (per report, batch of {row.per})" if per else ""),
                thousands(row.unit_gas),
                thousands(row.budget),
                verdict,
                row.anchor or "",
                thousands(row.anchor_gas),
                "" if row.ratio is None else f"{row.ratio:.2f}x",
                row.note,
            ]
        )
    return markdown_table(
        ["operation", "gas", "budget", "", "anchor", "anchor gas", "ours/anchor", "note"], rows
    )
