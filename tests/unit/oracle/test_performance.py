"""The seller oracle's performance sources: JSON and CSV files (the built-in non-simulator sources)."""

import asyncio
import json
import os

import pytest

from offnet.exceptions import InvalidInput
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
        "productOrderId,period,availabilityPpm,frameDelayUs,frameLossRatioPpm,outages\n"
        "PO-1,2026-03,999800,9000,4,0\n"
    )
    source = FileSource(path)
    assert measure(source, "PO-1", "2026-03") == {
        "availabilityPpm": 999_800,
        "frameDelayUs": 9_000,
        "frameLossRatioPpm": 4,
        "outages": 0,
    }
    with pytest.raises(LookupError, match="2026-04"):
        measure(source, "PO-1", "2026-04")
    path.write_text(path.read_text() + "PO-1,2026-04,999000,9500,4,2\n")
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


@pytest.mark.parametrize(
    ("row", "named"),
    [
        ({"availabilty": 99.99, "frameDelayUs": 1, "frameLossRatioPpm": 1}, "availabilty: unknown field"),
        ({"frameDelayUs": 1, "frameLossRatioPpm": 1}, "availability is missing"),
        ({"availabilityPercent": 99.9, "frameLossRatioPpm": 1}, "frameDelayUs: missing"),
        ({"availabilityPercent": 100.5, "frameDelayUs": 1, "frameLossRatioPpm": 1}, "availabilityPercent"),
        ({"availabilityPpm": 999_000, "frameDelayUs": -1, "frameLossRatioPpm": 1}, "frameDelayUs"),
        (
            {"availabilityPpm": 999_000, "frameDelayUs": 1, "frameLossRatioPpm": 2_000_000},
            "frameLossRatioPpm",
        ),
        (
            {"availabilityPpm": 1, "availabilityPercent": 50, "frameDelayUs": 1, "frameLossRatioPpm": 1},
            "twice",
        ),
    ],
)
def test_file_source__a_typo_missing_metric_or_out_of_range_value__is_refused_naming_the_field(
    tmp_path, row, named
):
    # {"availabilty": 99.99} once went on chain as 0 % availability: the maximum credit.
    path = tmp_path / "perf.json"
    path.write_text(json.dumps([{"productOrderId": "PO-1", "period": "2026-03", **row}]))
    with pytest.raises(InvalidInput, match=named) as refused:
        measure(FileSource(path), "PO-1", "2026-03")
    assert "\n" not in str(refused.value)
    with pytest.raises(InvalidInput, match=named):
        period_metrics(row)
