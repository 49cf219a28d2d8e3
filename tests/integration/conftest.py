"""The demo as a user runs it (`offnet demo`, a real subprocess), shared by the demo and report tests."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OFFNET = ROOT / ".venv" / "bin" / "offnet"


@dataclass(frozen=True)
class DemoRunResult:
    """What one `offnet demo` left: its exit status, output and the out/ folder."""

    returncode: int
    stdout: str
    stderr: str
    out: Path


def _run_demo(out: Path, *args: str, timeout: float = 900) -> DemoRunResult:
    """`offnet demo --quiet --out OUT ARGS...` in a subprocess."""
    done = subprocess.run(
        [str(OFFNET), "demo", "--quiet", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return DemoRunResult(done.returncode, done.stdout, done.stderr, out)


@pytest.fixture(scope="session")
def run_demo():
    """Factory: `run_demo(out, *args)` runs `offnet demo --quiet --out OUT ARGS...` in a subprocess."""
    return _run_demo


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> DemoRunResult:
    """Two RFQs, one month, seed 7, on a real anvil."""
    return _run_demo(tmp_path_factory.mktemp("demo") / "out", "--rfqs", "2", "--months", "1", "--seed", "7")
