"""Where a seller's oracle gets its in-life measurements (Sonata has no performance-report API).

A source answers `measurement(product_order_id, month)` with one month's figures in the keys that
`offnet.sla.reports.period_metrics` reads (availabilityPpm or availabilityPercent, frameDelayUs,
frameLossRatioPpm or frameLossRatioPercent, timeToRestoreSec, outages), or raises LookupError while
the month is not available yet (the oracle tries again on its next pass).

Built in: the reference seller's simulator endpoint, and a JSON or CSV file that the carrier's
Y.1731 tooling keeps up to date.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Protocol

import httpx

NUMERIC = (
    "availabilityPpm",
    "availabilityPercent",
    "frameDelayUs",
    "frameLossRatioPpm",
    "frameLossRatioPercent",
    "timeToRestoreSec",
    "outages",
)


class PerformanceSource(Protocol):
    async def measurement(self, product_order_id: str, month: str) -> dict[str, Any]: ...


class SimulatorSource:
    """GET {seller}/simulator/performance/{productOrderId}?period=YYYY-MM of the reference seller."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url.rstrip("/")
        self.token = token

    async def measurement(self, product_order_id: str, month: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            response = await http.get(
                f"/simulator/performance/{product_order_id}",
                params={"period": month},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        if response.status_code != 200:
            raise LookupError(f"performance of {product_order_id} for {month}: HTTP {response.status_code}")
        return response.json()


def _number(value: str) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


class FileSource:
    """Measurements from a JSON or CSV file, read again whenever it changes.

    JSON: a list of objects, each with `productOrderId`, `period` (YYYY-MM) and the figures.
    CSV: a header row with the same column names.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._stamp: float | None = None
        self._rows: dict[tuple[str, str], dict[str, Any]] = {}

    def _load(self) -> None:
        if not self.path.is_file():
            raise LookupError(f"performance file not found: {self.path}")
        stamp = self.path.stat().st_mtime
        if stamp == self._stamp:
            return
        if self.path.suffix.lower() == ".csv":
            with self.path.open(newline="") as handle:
                records = [
                    {k: (_number(v) if k in NUMERIC and v not in ("", None) else v) for k, v in row.items()}
                    for row in csv.DictReader(handle)
                ]
        else:
            records = json.loads(self.path.read_text())
            if not isinstance(records, list):
                raise ValueError(f"{self.path}: expected a JSON list of measurements")
        rows = {}
        for record in records:
            if "productOrderId" not in record or "period" not in record:
                raise ValueError(f"{self.path}: every measurement needs productOrderId and period")
            rows[(str(record["productOrderId"]), str(record["period"]))] = record
        self._rows, self._stamp = rows, stamp

    async def measurement(self, product_order_id: str, month: str) -> dict[str, Any]:
        self._load()
        row = self._rows.get((product_order_id, month))
        if row is None:
            raise LookupError(f"no measurement of {product_order_id} for {month} in {self.path} yet")
        return {k: v for k, v in row.items() if k not in ("productOrderId", "period")}
