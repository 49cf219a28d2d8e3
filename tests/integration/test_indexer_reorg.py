"""The indexer under reorganisations, on a real anvil rewound with evm_snapshot / evm_revert.

The index takes blocks `confirmations` deep and never undoes anything: a reorganisation shallower
than the margin never reaches it, and one deeper than the margin changes the hash the cursor
remembers, so the index is rebuilt from the deployment and never shows the abandoned history.
"""

from __future__ import annotations

import pytest

from offnet.indexer import EventIndexer, IndexStore
from offnet.market.registry import ACCESS_ELINE, MemberStatus, Profile
from offnet.testing.world import World, party

pytestmark = pytest.mark.anvil


@pytest.fixture
def reorg(anvil, tmp_path):
    """The test world on anvil (one sponsor admits) and an empty index of it; anvil rewound after."""
    base = anvil.snapshot()
    world = World.create(anvil, "reorg", keys=False)
    store = IndexStore(f"sqlite:///{tmp_path / 'index.db'}")
    yield anvil, world, store
    store.close()
    anvil.revert(base)


def join(world: World, label: str, country: str) -> str:
    """A carrier applies and the council sponsors it: two blocks."""
    carrier = party(world.chain, label, prefix="reorg")
    world.registry.apply(
        carrier.sender, Profile(f"{label} Telecom", f"https://{label}.example", (ACCESS_ELINE,), (country,))
    )
    world.registry.sponsor(world.council.sender, carrier.address)
    return carrier.address


def names(store: IndexStore, country: str) -> list[str]:
    return [p.name for p in store.providers(ACCESS_ELINE, country)]


def test_margin__blocks_above_it_wait_and_a_shallow_reorg_never_reaches_the_index(reorg):
    chain, world, store = reorg
    indexer = EventIndexer.of(world.suite, store, confirmations=3)
    indexer.sync()
    fork = chain.snapshot()
    join(world, "erin", "NL")  # two blocks: still inside the margin
    report = indexer.sync()
    assert report.to_block == chain.w3.eth.block_number - 3
    assert names(store, "NL") == []  # not deep enough yet

    chain.revert(fork)  # erin's two blocks vanish: the index never saw them
    frank = join(world, "frank", "NL")
    chain.mine(3)
    report = indexer.sync()
    assert not report.rebuilt
    assert names(store, "NL") == ["frank Telecom"]
    assert store.member(frank)["status"] == MemberStatus.ACTIVE


def test_reorg_deeper_than_the_margin__the_index_is_rebuilt_without_the_abandoned_history(reorg):
    chain, world, store = reorg
    indexer = EventIndexer.of(world.suite, store, confirmations=0)
    join(world, "gina", "BE")
    fork = chain.snapshot()
    join(world, "erin", "NL")
    indexer.sync()
    assert names(store, "NL") == ["erin Telecom"]

    chain.revert(fork)  # a reorganisation below the indexed tip, replaced by another history
    join(world, "frank", "DE")
    report = indexer.sync()
    assert report.rebuilt
    assert names(store, "NL") == []  # erin's admission is gone with its blocks
    assert names(store, "DE") == ["frank Telecom"]
    assert names(store, "BE") == ["gina Telecom"]  # the common history is indexed again
    assert store.status().rebuilds == 1


def test_reorg_to_the_same_height__a_changed_block_hash_is_caught(reorg):
    chain, world, store = reorg
    indexer = EventIndexer.of(world.suite, store, confirmations=0)
    indexer.sync()
    fork = chain.snapshot()
    join(world, "erin", "NL")
    indexer.sync()
    height = chain.w3.eth.block_number

    chain.revert(fork)
    join(world, "frank", "NL")  # as many blocks as erin's: the same height
    assert chain.w3.eth.block_number == height
    assert indexer.sync().rebuilt
    assert names(store, "NL") == ["frank Telecom"]
