"""Security fixtures: the whole suite deployed once per module with every role, each test in a snapshot."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from offnet.chain import Chain
from offnet.chain.connect import connect
from offnet.testing.world import World, set_clock

sys.path.insert(0, str(Path(__file__).parent))

from harness import Harness
from tables import TABLES
from topology import build_world

MODULE_TIME = 1_960_000_000


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


CAMPAIGN_GENESIS = 1_796_431_800  # 2026-12-05T00:50:00Z


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    """The suite on an anvil of the module's own behind the lean RPC path, stopped after the module.
    Its clock is fixed (CAMPAIGN_GENESIS, one second a block), whatever other tests did to the
    session's node and whatever the date: the derandomised campaign then takes the same steps on
    every run, its months falling on the same calendar days."""
    with connect("anvil", genesis_time=CAMPAIGN_GENESIS) as node:
        world = build_world(node, prefix="anvil-sec")
        yield Harness(node, world)


@pytest.fixture
def fresh(harness: Harness) -> Harness:
    """The anvil harness returned to its just-deployed state before the test."""
    harness.reset()
    return harness


@pytest.fixture(scope="module")
def world(embedded: Chain) -> Iterator[World]:
    """The suite deployed once per test module on a fixed clock, removed afterwards (the root `chain`
    fixture runs each test in a snapshot of it)."""
    before = embedded.snapshot()
    set_clock(embedded, MODULE_TIME)
    yield build_world(embedded)
    embedded.revert(before)
