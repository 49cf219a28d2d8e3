"""The event indexer: members, products and coverage in SQLite, synced incrementally, queried by SQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from offnet.chain import Chain
from offnet.indexer import EventIndexer, IndexStore
from offnet.market.registry import (
    ACCESS_ELINE,
    MemberStatus,
    Profile,
    RegistryClient,
    product_key,
)
from offnet.testing.world import World, new_rfq, party

DARK_FIBRE = product_key("urn:example:dark-fibre")


@pytest.fixture
def store(tmp_path) -> Iterator[IndexStore]:
    store = IndexStore(f"sqlite:///{tmp_path / 'index.db'}")
    yield store
    store.close()


def indexer_for(chain: Chain, world: World, store: IndexStore) -> EventIndexer:
    return EventIndexer.of(world.suite, store)


def join(chain: Chain, world: World, label: str, products: tuple[bytes, ...], countries: tuple[str, ...]):
    """A carrier applies with a profile and the council (a founder) sponsors it (one sponsor admits)."""
    account = party(chain, label, prefix="indexer")
    world.registry.apply(
        account.sender,
        Profile(f"{label} Telecom", f"https://{label}.example/sonata", products, countries),
    )
    world.registry.sponsor(world.council.sender, account.address)
    return account


def addresses(rows) -> list[str]:
    return [r.address for r in rows]


def test_sync__indexes_admitted_members_by_product_and_country(chain, world, store):
    erin = join(chain, world, "erin", (ACCESS_ELINE,), ("GB", "FR"))
    frank = join(chain, world, "frank", (DARK_FIBRE,), ("GB",))
    report = indexer_for(chain, world, store).sync()

    assert report.events > 0 and report.to_block == chain.w3.eth.block_number
    assert addresses(store.providers(ACCESS_ELINE, "GB")) == [erin.address]
    assert addresses(store.providers(ACCESS_ELINE, "FR")) == [erin.address]
    assert addresses(store.providers(DARK_FIBRE, "GB")) == [frank.address]
    assert store.providers(ACCESS_ELINE, "DE") == []
    row = store.providers(ACCESS_ELINE, "GB")[0]
    assert (row.name, row.sonata_url, row.reputation_ppm) == (
        "erin Telecom",
        "https://erin.example/sonata",
        0,
    )
    assert store.member(erin.address)["countries"] == ["FR", "GB"]


def test_sync__applicants_are_not_providers_until_admitted(chain, world, store):
    gina = party(chain, "gina", prefix="indexer")
    world.registry.apply(gina.sender, Profile("Gina", "https://gina.example", (ACCESS_ELINE,), ("GB",)))
    indexer = indexer_for(chain, world, store)
    indexer.sync()
    assert store.providers(ACCESS_ELINE, "GB") == []
    assert store.member(gina.address)["status"] == MemberStatus.APPLICANT

    world.registry.sponsor(world.council.sender, gina.address)
    indexer.sync()
    assert addresses(store.providers(ACCESS_ELINE, "GB")) == [gina.address]


def test_sync__is_incremental_and_resumes_from_the_stored_cursor(chain, world, store):
    erin = join(chain, world, "erin", (ACCESS_ELINE,), ("GB",))
    first = indexer_for(chain, world, store).sync()
    assert store.next_block() == first.to_block + 1

    nothing = indexer_for(chain, world, store).sync()  # a new process: starts at the cursor
    assert (nothing.from_block, nothing.events) == (first.to_block + 1, 0)

    registry = world.registry
    registry.update_profile(erin.sender, Profile("Erin", "https://erin.example", (ACCESS_ELINE,), ("FR",)))
    frank = join(chain, world, "frank", (ACCESS_ELINE,), ("GB",))
    second = indexer_for(chain, world, store).sync()
    assert second.from_block == first.to_block + 1 and second.events > 0
    assert addresses(store.providers(ACCESS_ELINE, "GB")) == [frank.address]
    assert addresses(store.providers(ACCESS_ELINE, "FR")) == [erin.address]


def test_sync__small_chunks_report_progress_and_give_the_same_answer(chain, world, store):
    erin = join(chain, world, "erin", (ACCESS_ELINE,), ("GB",))
    seen: list[tuple[int, int]] = []
    indexer_for(chain, world, store).sync(chunk=2, progress=lambda done, total: seen.append((done, total)))
    total = seen[0][1]
    assert seen[0] == (0, total) and seen[-1] == (total, total) and len(seen) > 2
    assert addresses(store.providers(ACCESS_ELINE, "GB")) == [erin.address]


def test_sync__suspended_and_departed_members_drop_out(chain, world, store):
    erin = join(chain, world, "erin", (ACCESS_ELINE,), ("GB",))
    frank = join(chain, world, "frank", (ACCESS_ELINE,), ("GB",))
    indexer = indexer_for(chain, world, store)
    indexer.sync()
    world.registry.propose_suspend(world.council.sender, erin.address)  # threshold 1: executes
    world.registry.leave(frank.sender)
    indexer.sync()
    assert store.providers(ACCESS_ELINE, "GB") == []
    assert store.member(erin.address)["status"] == MemberStatus.SUSPENDED
    assert store.member(frank.address)["status"] == MemberStatus.LEFT


def test_sync__a_database_of_another_deployment_is_rebuilt(chain, world, store):
    join(chain, world, "erin", (ACCESS_ELINE,), ("GB",))
    indexer_for(chain, world, store).sync()
    other = EventIndexer(store, registry=RegistryClient(chain, "0x" + "11" * 20))
    other.sync()
    assert store.providers(ACCESS_ELINE, "GB") == []


def test_sync__closing_an_rfq_refreshes_reputation_and_the_floor_filters(chain, world, store):
    erin = join(chain, world, "erin", (ACCESS_ELINE,), ("GB",))
    frank = join(chain, world, "frank", (ACCESS_ELINE,), ("GB",))
    buyer = world.buyer
    market = world.suite.market
    rfq = new_rfq(
        buyer.address,
        world.token.address,
        chain.now() + 2 * 86_400,
        (erin.address, frank.address),
        request="req",
        location="GB",
    )
    market.post(buyer.sender, rfq)
    market.commit(erin.sender, rfq, world.sign(world.quote(rfq, erin, valid_for=3 * 86_400), erin))
    indexer = indexer_for(chain, world, store)
    indexer.sync()
    chain.advance_time(2 * 86_400 + 1)
    market.close(buyer.sender, rfq)  # erin answered on time, frank did not
    indexer.sync()

    assert [(r.address, r.reputation_ppm) for r in store.providers(ACCESS_ELINE, "GB")] == [
        (erin.address, 1_000_000),
        (frank.address, 0),
    ]
    assert addresses(store.providers(ACCESS_ELINE, "GB", min_reputation_ppm=500_000)) == [erin.address]


def test_providers_query__searches_indexes_and_never_scans_a_table(store):
    plan = store.explain_providers()
    assert plan and all(step.startswith("SEARCH") and "INDEX" in step for step in plan), plan
