"""Fixtures of the reliability tests."""

import pytest
from operations_world import operations_world


@pytest.fixture(scope="module")
def ops(tmp_path_factory):
    """One anvil, the suite, a buyer and a seller, the seller's Sonata API behind a cuttable link."""
    yield from operations_world(tmp_path_factory)
