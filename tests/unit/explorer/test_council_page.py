"""The council page over an index the indexer built from the embedded chain: a proposal short of its
threshold is open with its approvals, goes stale when the council changes, and expires after its
lifetime; the page and its JSON twin say the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from offnet.explorer import create_app
from offnet.indexer import EventIndexer, IndexStore
from offnet.market.registry import ACCESS_ELINE, Profile
from offnet.testing.world import DAY, Party, World

PROPOSAL_LIFETIME = 7 * DAY  # CarrierRegistry.PROPOSAL_LIFETIME


@pytest.fixture
def council_of_two(world: World, make_party, council_decides, tmp_path) -> Iterator[tuple]:
    """The world's council seats a second member and asks two approvals; the index of it and the app."""
    registry = world.registry
    second = make_party("second-seat")
    registry.apply(second.sender, Profile("Second Seat", "https://second.example", (ACCESS_ELINE,), ("FR",)))
    registry.sponsor(world.council.sender, second.address)
    council_decides(registry.address, registry.council_call("setCouncilSeat", second.address, True))
    council_decides(registry.address, registry.council_call("setCouncilThreshold", 2))
    store = IndexStore(f"sqlite:///{tmp_path / 'index.db'}")
    indexer = EventIndexer.of(world.suite, store)
    with TestClient(create_app(store)) as http:
        yield http, indexer, second
    store.close()


def lapsed(http: TestClient) -> list[tuple[int, str]]:
    return [(p["proposal"], p["state"]) for p in http.get("/api/council").json()["lapsed"]]


def test_council__open_proposal_with_its_approval_then_stale_then_expired(chain, world, council_of_two):
    http, indexer, second = council_of_two
    second: Party
    registry = world.registry
    suspend, _ = registry.propose_suspend(world.council.sender, world.seller.address)
    indexer.sync()

    api = http.get("/api/council").json()
    assert api["threshold"] == 2 and {s["address"] for s in api["seats"]} == {
        world.council.address,
        second.address,
    }
    [proposal] = api["open"]
    assert (proposal["proposal"], proposal["call"], proposal["approvals"], proposal["threshold"]) == (
        suspend,
        "CarrierRegistry.suspend",
        1,
        2,
    )
    assert [a["member"]["address"] for a in proposal["approvedBy"]] == [world.council.address]
    page = http.get("/council").text
    assert 'id="open"' in page and "1 of 2" in page and "Expired or stale" not in page

    # The council changes (a third seat, by both approvals): the suspension's voters are gone.
    third, _ = registry.propose_to_registry(world.council.sender, "setCouncilSeat", world.buyer.address, True)
    registry.approve(second.sender, third)
    indexer.sync()
    assert http.get("/api/council").json()["open"] == []
    assert lapsed(http) == [(suspend, "stale (the council changed)")]

    chain.advance_time(PROPOSAL_LIFETIME + 1)
    chain.mine()
    indexer.sync()
    assert lapsed(http) == [(suspend, "expired")]
    assert "Expired or stale" in http.get("/council").text
