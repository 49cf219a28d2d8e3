"""The RFQ area: the whole suite, its buyer and three providers (the seller, with a quote key, first)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from offnet.chain import Chain
from offnet.market.rfq import RfqClient
from offnet.testing.world import Roles, World, party, set_clock

# Tests start at this clock whatever the setup took: deadlines in calldata, hence gas, never drift.
CLOCK = 1_950_000_016


@pytest.fixture(scope="module")
def world(embedded: Chain, roles: Roles, area: str) -> World:
    seller = replace(roles.seller, quote_key=party(embedded, "seller-quote-key", prefix=area))
    providers = [seller, *(party(embedded, f"provider-{i}", prefix=area) for i in (2, 3))]
    world = World.deploy(embedded, roles.deployer, [roles.buyer], providers, roles.council, roles.outsider)
    set_clock(embedded, CLOCK)
    return world


@pytest.fixture
def market(world: World, chain: Chain) -> RfqClient:
    return world.suite.market
