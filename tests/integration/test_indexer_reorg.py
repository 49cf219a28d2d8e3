"""The indexer under reorganisations, on a real anvil rewound with evm_snapshot / evm_revert.

The index takes blocks `confirmations` deep and never undoes anything: a reorganisation shallower
than the margin never reaches it, and one deeper than the margin changes the hash the cursor
remembers, so the index is rebuilt from the deployment and never shows the abandoned history.
"""

from __future__ import annotations

import pytest

from offnet.chain import Sender
from offnet.indexer import EventIndexer, IndexStore
from offnet.market.registry import ACCESS_ELINE, MemberStatus, Profile
from offnet.testing.accounts import funded_account

pytestmark = pytest.mark.anvil


@pytest.fixture
def world(anvil_suite, tmp_path):
    """The suite on anvil (one founder, one sponsor admits) and an empty index of it."""
    chain, suite, founder = anvil_suite
    store = IndexStore(f"sqlite:///{tmp_path / 'index.db'}")
    yield chain, suite, founder, store
    store.close()


def join(chain, suite, founder, label: str, country: str) -> str:
    """A carrier applies and the founder sponsors it: two blocks."""
    account = funded_account(chain, f"reorg {label}")
    suite.registry.apply(
        Sender(chain, account),
        Profile(f"{label} Telecom", f"https://{label}.example", (ACCESS_ELINE,), (country,)),
    )
    suite.registry.sponsor(Sender(chain, founder), account.address)
    return account.address


def names(store: IndexStore, country: str) -> list[str]:
    return [p.name for p in store.providers(ACCESS_ELINE, country)]


def test_margin__blocks_above_it_wait_and_a_shallow_reorg_never_reaches_the_index(world):
    chain, suite, founder, store = world
    indexer = EventIndexer.of(suite, store, confirmations=3)
    indexer.sync()
    fork = chain.snapshot()
    join(chain, suite, founder, "erin", "NL")  # two blocks: still inside the margin
    report = indexer.sync()
    assert report.to_block == chain.w3.eth.block_number - 3
    assert names(store, "NL") == []  # not deep enough yet

    chain.revert(fork)  # erin's two blocks vanish: the index never saw them
    frank = join(chain, suite, founder, "frank", "NL")
    chain.mine(3)
    report = indexer.sync()
    assert not report.rebuilt
    assert names(store, "NL") == ["frank Telecom"]
    assert store.member(frank)["status"] == MemberStatus.ACTIVE


def test_reorg_deeper_than_the_margin__the_index_is_rebuilt_without_the_abandoned_history(world):
    chain, suite, founder, store = world
    indexer = EventIndexer.of(suite, store, confirmations=0)
    join(chain, suite, founder, "gina", "BE")
    fork = chain.snapshot()
    join(chain, suite, founder, "erin", "NL")
    indexer.sync()
    assert names(store, "NL") == ["erin Telecom"]

    chain.revert(fork)  # a reorganisation below the indexed tip, replaced by another history
    join(chain, suite, founder, "frank", "DE")
    report = indexer.sync()
    assert report.rebuilt
    assert names(store, "NL") == []  # erin's admission is gone with its blocks
    assert names(store, "DE") == ["frank Telecom"]
    assert names(store, "BE") == ["gina Telecom"]  # the common history is indexed again
    assert store.status().rebuilds == 1


def test_reorg_to_the_same_height__a_changed_block_hash_is_caught(world):
    chain, suite, founder, store = world
    indexer = EventIndexer.of(suite, store, confirmations=0)
    indexer.sync()
    fork = chain.snapshot()
    join(chain, suite, founder, "erin", "NL")
    indexer.sync()
    height = chain.w3.eth.block_number

    chain.revert(fork)
    join(chain, suite, founder, "frank", "NL")  # as many blocks as erin's: the same height
    assert chain.w3.eth.block_number == height
    assert indexer.sync().rebuilt
    assert names(store, "NL") == ["frank Telecom"]
