"""Ledger tests run in the unit tests' linked escrow and ledger (offnet.testing.world.EscrowWorld)."""

from __future__ import annotations

import pytest

from offnet.testing.world import EscrowWorld


@pytest.fixture
def ledger(suite: EscrowWorld) -> EscrowWorld:
    return suite
