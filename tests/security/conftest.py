"""Security fixtures: the test world's suite on the session's anvil behind the lean RPC path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from offnet.chain import Chain

sys.path.insert(0, str(Path(__file__).parent))

from harness import TABLES, Harness, security_world


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: stateful property campaign (OFFNET_FUZZ_EXAMPLES sets its size)"
    )


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the tables the security tests generated (access matrix, signature matrix, campaign tally)."""
    for title, lines in TABLES:
        terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def harness(anvil: Chain) -> Iterator[Harness]:
    """The world on the session's anvil behind the lean RPC path; removed after the module."""
    before = anvil.snapshot()
    yield Harness(anvil, security_world(anvil, "anvil-sec"))
    anvil.revert(before)


@pytest.fixture
def fresh(harness: Harness) -> Harness:
    """The anvil harness returned to its just-deployed state before the test."""
    harness.reset()
    return harness
