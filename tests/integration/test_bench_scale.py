"""The bench's scale measure at a small size on a real anvil: its seeding (posts, sealed commitments,
awards past the deadline) and every measured operation still go through the current contracts."""

from __future__ import annotations

import pytest

from bench.machine import start_anvil
from bench.scale import measure_scale

pytestmark = pytest.mark.anvil


def test_scale_measure__seeds_and_measures_a_small_world():
    chain = start_anvil()
    try:
        scale = measure_scale(chain, members_n=20, rfqs_n=12, orders_n=12, small_n=10, note=lambda _: None)
    finally:
        chain.close()
    assert sum(s["open_orders"] for s in scale["seeding"]) >= 12  # every seeded award went through
    assert len(scale["points"]) == 4
    assert all(p["award"] > 100_000 and p["report"] > 40_000 for p in scale["points"])
