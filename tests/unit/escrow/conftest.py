"""Escrow tests run in the unit tests' linked escrow and ledger (offnet.testing.world.EscrowWorld):
outcomes reach the escrow through real ledger reports, the market is a plain account."""

from __future__ import annotations

import pytest

from offnet.testing.world import EscrowWorld


@pytest.fixture
def escrow(suite: EscrowWorld) -> EscrowWorld:
    return suite
