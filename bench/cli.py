"""Measure 7: start-up of the `offnet` command line against a bare Python start.

Each command runs as a user runs it (the installed `offnet` console script, a new process each time,
compiled .pyc files used, output discarded); the baseline is the same interpreter doing nothing
(`python -c pass`). Runs are interleaved (baseline, then each command, repeated) so a busy moment of
the shared machine hits every series alike, and the median is compared: goal at most 5x the baseline.

`offnet sonata validate` judges with the Sonata models compiled to plain data and cached in the
user's cache folder (offnet.sonata.precheck). Its warm figure is every run after the first (the
cache is current); the cold figure, beside it, is the first run after the models change, which
compiles them and writes the cache: each cold run starts from an empty cache folder of its own.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from offnet.sonata.precheck import CACHE_ENV

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "src" / "offnet" / "sonata" / "examples" / "quote_create.json"
GOAL = 5.0
COLD = "offnet sonata validate, cold cache"


def commands() -> dict[str, list[str]]:
    """What is timed: the baseline, the three commands of the goal, and validate on a cold cache."""
    python = sys.executable
    offnet = str(Path(python).parent / "offnet")
    validate = [offnet, "sonata", "validate", str(EXAMPLE)]
    return {
        "python -c pass": [python, "-c", "pass"],
        "offnet --help": [offnet, "--help"],
        "offnet --version": [offnet, "--version"],
        "offnet sonata validate": validate,
        COLD: validate,
    }


def _once(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - started


def measure_cli(repeats: int = 30) -> dict:
    """Median and best wall time of each command over `repeats` interleaved runs, and its ratio."""
    argvs = commands()
    with tempfile.TemporaryDirectory(prefix="offnet-bench-cache-") as caches:
        # As a user's shell has it: .pyc files written and read, a cache folder of the user's own.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        warm = {**env, CACHE_ENV: os.path.join(caches, "warm")}
        for argv in argvs.values():  # warm the file cache, the .pyc files and the compiled models once
            _once(argv, warm)
        times: dict[str, list[float]] = {name: [] for name in argvs}
        for run in range(repeats):
            for name, argv in argvs.items():
                cold = {**env, CACHE_ENV: os.path.join(caches, f"cold-{run}")}
                times[name].append(_once(argv, cold if name == COLD else warm))
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
