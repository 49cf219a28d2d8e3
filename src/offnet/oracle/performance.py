"""Where a seller's oracle gets its in-life measurements (Sonata has no performance-report API).

A source answers `measurement(product_order_id, month)` with one month's figures, checked strictly
(`offnet.sla.measurements`: availabilityPpm or availabilityPercent, frameDelayUs, frameLossRatioPpm or
frameLossRatioPercent, timeToRestoreSec, outages; an unknown or missing field is refused, naming it),
or raises LookupError while the month is not available yet (the oracle tries again on its next pass).

Built in: the reference seller's simulator endpoint, and a JSON or CSV file that the carrier's
Y.1731 tooling keeps up to date.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any, Protocol

import httpx

from offnet.exceptions import InvalidInput
from offnet.sla.measurements import read_measurement

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

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


def _number(value: str) -> int | float | str:
    try:
        number = float(value)
    except ValueError:
        return value  # refused with its field name when the row is checked
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
        try:
            return self._parse()
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
            raise InvalidInput(
                f"{self.path}: unreadable measurements ({exc.__class__.__name__}: {exc})"
            ) from None

    def _parse(self) -> None:
        stamp = self.path.stat().st_mtime
        if stamp == self._stamp:
            return
        if self.path.suffix.lower() == ".csv":
            with self.path.open(newline="") as handle:
                records = [
                    {k: _number(v) if k in NUMERIC else v for k, v in row.items() if v not in ("", None)}
                    for row in csv.DictReader(handle)
                ]
        else:
            records = json.loads(self.path.read_text())
            if not isinstance(records, list):
                raise InvalidInput(f"{self.path}: expected a JSON list of measurements")
        rows = {}
        for number, record in enumerate(records, start=1):
            where = f"{self.path} measurement {number}"
            if not isinstance(record, dict) or "productOrderId" not in record or "period" not in record:
                raise InvalidInput(f"{where}: every measurement needs productOrderId and period")
            if not _MONTH.match(str(record["period"])):
                raise InvalidInput(f"{where}: period must be YYYY-MM, got {record['period']!r}")
            figures = {k: v for k, v in record.items() if k not in ("productOrderId", "period")}
            rows[(str(record["productOrderId"]), str(record["period"]))] = read_measurement(figures, where)
        self._rows, self._stamp = rows, stamp

    async def measurement(self, product_order_id: str, month: str) -> dict[str, Any]:
        self._load()
        row = self._rows.get((product_order_id, month))
        if row is None:
            raise LookupError(f"no measurement of {product_order_id} for {month} in {self.path} yet")
        return row.model_dump(exclude_none=True)
