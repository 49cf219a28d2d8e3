"""Measure 7: start-up of the `offnet` command line against a bare Python start.

Each command runs as a user runs it (the installed `offnet` console script, a new process each time,
output discarded); the baseline is the same interpreter doing nothing (`python -c pass`). Runs are
interleaved (baseline, then each command, repeated) so a busy moment of the shared machine hits
every series alike, and the median is compared: goal at most 5x the baseline.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "src" / "offnet" / "sonata" / "examples" / "quote_create.json"
GOAL = 5.0


def commands() -> dict[str, list[str]]:
    """What is timed: the baseline and the three commands of the goal."""
    python = sys.executable
    offnet = str(Path(python).parent / "offnet")
    return {
        "python -c pass": [python, "-c", "pass"],
        "offnet --help": [offnet, "--help"],
        "offnet --version": [offnet, "--version"],
        "offnet sonata validate": [offnet, "sonata", "validate", str(EXAMPLE)],
    }


def _once(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def measure_cli(repeats: int = 30) -> dict:
    """Median and best wall time of each command over `repeats` interleaved runs, and its ratio."""
    argvs = commands()
    for argv in argvs.values():  # warm the file cache and the .pyc files once
        _once(argv)
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for _ in range(repeats):
        for name, argv in argvs.items():
            times[name].append(_once(argv))
    base = statistics.median(times["python -c pass"])
    rows = []
    for name, series in times.items():
        median = statistics.median(series)
        rows.append(
            {
                "command": name,
                "median_ms": round(median * 1000, 1),
                "best_ms": round(min(series) * 1000, 1),
                "ratio": round(median / base, 2),
            }
        )
    return {"repeats": repeats, "goal_ratio": GOAL, "rows": rows}
