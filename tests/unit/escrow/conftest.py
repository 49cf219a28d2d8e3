"""Escrow tests run in the unit tests' shared world (tests/unit/suite_support.py): outcomes reach the
escrow through real ledger reports, the market is a plain account."""

from __future__ import annotations

import pytest
from suite_support import SuiteWorld


@pytest.fixture
def escrow(suite: SuiteWorld) -> SuiteWorld:
    return suite
