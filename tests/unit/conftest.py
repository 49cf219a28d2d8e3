"""The unit tests' shared world (suite_support): deployed once per test module, each test in a snapshot."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from offnet.chain import Chain

sys.path.insert(0, str(Path(__file__).parent))

from suite_support import SuiteWorld, deploy_world


@pytest.fixture(scope="module")
def suite_world(embedded: Chain) -> Iterator[SuiteWorld]:
    """The escrow and ledger world, deployed once per test module on top of a snapshot restored when
    the module ends, so every module starts from the same chain (and measures the same gas)."""
    snapshot = embedded.snapshot()
    yield deploy_world(embedded)
    embedded.revert(snapshot)


@pytest.fixture
def suite(suite_world: SuiteWorld) -> Iterator[SuiteWorld]:
    """The module's world inside a snapshot restored after the test.

    Never combined with the shared `chain` fixture: pytest would snapshot it before the module's
    deployment, and its revert would wipe that deployment after the first test.
    """
    snapshot = suite_world.chain.snapshot()
    suite_world.tracked.clear()
    suite_world.tracked_orders.clear()
    suite_world.extra_tokens.clear()
    yield suite_world
    suite_world.chain.revert(snapshot)


@pytest.fixture
def party(suite: SuiteWorld):
    """Factory: a funded party with a fixed label, inside the test's snapshot (see `suite`)."""
    from suite_support import Party, UnestimatedSender

    from offnet.testing.accounts import funded_account

    def run(label: str) -> Party:
        account = funded_account(suite.chain, f"suite-{label}")
        return Party(account, UnestimatedSender(suite.chain, account))

    return run
