"""Measure 6: suite health, the wall-clock time of `make test` and `make demo`.

Both run as they would for anyone, one after the other, from the repository root, with nothing else
of the bench running; their output goes to a log file, and the exit status and pytest's last summary
line are recorded beside the time. `make test` itself is unchanged by this: the bench only times it.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"=+ (.*(?:passed|failed|error).*) =+\s*$")


def _clean_env() -> dict[str, str]:
    """The environment without the outer make's variables (a nested make starts afresh)."""
    return {
        k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")
    }


def run_target(target: str, logs: Path) -> dict:
    """`make <target>` in the repository root: seconds, exit status, log path, last summary line."""
    log_path = logs / f"make-{target}.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        status = subprocess.run(
            ["make", "--no-print-directory", target],
            cwd=ROOT,
            env=_clean_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        ).returncode
    seconds = time.monotonic() - started
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    summary = next((m.group(1) for m in map(SUMMARY.search, reversed(lines)) if m), None)
    return {
        "seconds": round(seconds, 1),
        "exit_status": status,
        "summary": summary or (lines[-1].strip() if lines else ""),
        "log": str(log_path.relative_to(ROOT)) if log_path.is_relative_to(ROOT) else str(log_path),
    }


def suite_health(logs: Path, note=print) -> dict:
    """Time `make test`, then `make demo`."""
    logs.mkdir(parents=True, exist_ok=True)
    health = {}
    for target in ("test", "demo"):
        note(f"measure 6: make {target} (log: {logs / f'make-{target}.log'})")
        health[target] = run_target(target, logs)
        result = health[target]
        note(f"  make {target}: {result['seconds']:.0f}s, exit {result['exit_status']}: {result['summary']}")
    return health
