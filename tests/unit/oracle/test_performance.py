"""The seller oracle's performance sources: JSON and CSV files (the built-in non-simulator sources)."""

import asyncio
import json
import os

import pytest

from offnet.oracle.config import PerformanceConfig
from offnet.oracle.performance import FileSource
from offnet.sla.reports import period_metrics


def measure(source: FileSource, order: str, month: str) -> dict:
    return asyncio.run(source.measurement(order, month))


def test_json_file__gives_the_month_in_period_metrics_keys(tmp_path):
    path = tmp_path / "perf.json"
    path.write_text(
        json.dumps(
            [
                {
                    "productOrderId": "PO-1",
                    "period": "2026-03",
                    "availabilityPercent": 99.9,
                    "frameDelayUs": 8_000,
                    "frameLossRatioPpm": 3,
                    "outages": 1,
                }
            ]
        )
    )
    figures = measure(FileSource(path), "PO-1", "2026-03")
    metrics = period_metrics(figures)
    assert (metrics.availability_ppm, metrics.frame_delay_us, metrics.frame_loss_ppm, metrics.outages) == (
        999_000,
        8_000,
        3,
        1,
    )


def test_csv_file__numbers_parsed_and_rereads_when_the_file_changes(tmp_path):
    path = tmp_path / "perf.csv"
    path.write_text(
        "productOrderId,period,availabilityPpm,frameDelayUs,outages\nPO-1,2026-03,999800,9000,0\n"
    )
    source = FileSource(path)
    assert measure(source, "PO-1", "2026-03") == {
        "availabilityPpm": 999_800,
        "frameDelayUs": 9_000,
        "outages": 0,
    }
    with pytest.raises(LookupError, match="2026-04"):
        measure(source, "PO-1", "2026-04")
    path.write_text(path.read_text() + "PO-1,2026-04,999000,9500,2\n")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert measure(source, "PO-1", "2026-04")["outages"] == 2


def test_file_source__bad_files_are_clear_errors(tmp_path):
    with pytest.raises(LookupError, match="not found"):
        measure(FileSource(tmp_path / "missing.json"), "PO-1", "2026-03")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"period": "2026-03"}]))
    with pytest.raises(ValueError, match="productOrderId"):
        measure(FileSource(bad), "PO-1", "2026-03")
    with pytest.raises(ValueError, match="needs a path"):
        PerformanceConfig(source="file")
