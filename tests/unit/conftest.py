"""The unit tests' linked escrow and ledger (offnet.testing.world.EscrowWorld): deployed once per test
module, each test in a snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from offnet.chain import Chain
from offnet.testing.world import EscrowWorld, Party, UnestimatedSender, party


@pytest.fixture(scope="module")
def suite_world(embedded: Chain) -> Iterator[EscrowWorld]:
    """The escrow and ledger world, deployed once per test module on top of a snapshot restored when
    the module ends, so every module starts from the same chain (and measures the same gas)."""
    snapshot = embedded.snapshot()
    yield EscrowWorld.deploy(embedded)
    embedded.revert(snapshot)


@pytest.fixture
def suite(suite_world: EscrowWorld) -> Iterator[EscrowWorld]:
    """The module's world inside a snapshot restored after the test.

    Never combined with the shared `chain` fixture: pytest would snapshot it before the module's
    deployment, and its revert would wipe that deployment after the first test.
    """
    snapshot = suite_world.chain.snapshot()
    suite_world.reset()
    yield suite_world
    suite_world.chain.revert(snapshot)


@pytest.fixture
def escrow_party(suite: EscrowWorld) -> Callable[[str], Party]:
    """Factory: a funded party with a fixed label, inside the test's snapshot (see `suite`)."""
    return lambda label: party(suite.chain, label, prefix="suite", sender=UnestimatedSender)
