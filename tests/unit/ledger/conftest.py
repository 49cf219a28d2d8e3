"""Ledger tests run in the unit tests' shared world (tests/unit/suite_support.py)."""

from __future__ import annotations

import pytest
from suite_support import SuiteWorld


@pytest.fixture
def ledger(suite: SuiteWorld) -> SuiteWorld:
    return suite
