"""Tables the security tests print at the end of the session (conftest's pytest_terminal_summary)."""

from __future__ import annotations

TABLES: list[tuple[str, list[str]]] = []


def add_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    """Queue a plain-text table for the terminal summary."""
    cells = [tuple(str(c) for c in header), *[tuple(str(c) for c in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    TABLES.append((title, lines))
