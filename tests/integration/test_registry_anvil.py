"""CarrierRegistry on a real anvil node: admission, keys, a council ruling, and the directory from logs."""

import pytest

from offnet.indexer import EventIndexer, IndexStore
from offnet.market.registry import (
    ACCESS_ELINE,
    MemberStatus,
    Profile,
    RegistryClient,
    Role,
)
from offnet.testing.world import council_decides, party, refuses

pytestmark = pytest.mark.anvil


def test_anvil__registry_admits_resolves_keys_rules_and_feeds_the_directory(anvil, tmp_path):
    alice, bob, carol, erin, quote_key = (
        party(anvil, name, prefix="registry-anvil") for name in ("alice", "bob", "carol", "erin", "quote-key")
    )
    registry, _ = RegistryClient.deploy(
        alice.sender,
        [alice.address, bob.address, carol.address],
        [alice.address, bob.address],
        council_threshold=2,
        sponsors_required=2,
        application_ttl=3600,
    )
    store = IndexStore(f"sqlite:///{tmp_path / 'index.db'}")
    indexer = EventIndexer(store, registry=registry, from_block=anvil.w3.eth.block_number)

    registry.apply(
        erin.sender, Profile("Erin Telecom", "https://sonata.erin.example", (ACCESS_ELINE,), ("NL", "BE"))
    )
    registry.sponsor(alice.sender, erin.address)
    with refuses("RegistryAlreadySponsored"):
        registry.sponsor(alice.sender, erin.address)
    registry.sponsor(carol.sender, erin.address)
    assert registry.is_active(erin.address)

    registry.add_key(erin.sender, quote_key.address, Role.QUOTE)
    assert registry.member_of(quote_key.address) == erin.address
    assert registry.is_quote_signer(erin.address, quote_key.address)
    assert not registry.is_oracle(erin.address, quote_key.address)

    indexer.sync()
    [provider] = store.providers(ACCESS_ELINE, "NL")
    assert (provider.address, provider.sonata_url) == (erin.address, "https://sonata.erin.example")

    council_decides(registry, [alice, bob], registry.address, registry.council_call("suspend", erin.address))
    assert registry.member_info(erin.address).status == MemberStatus.SUSPENDED
    indexer.sync()
    assert store.providers(ACCESS_ELINE, "NL") == []
    assert store.member(erin.address)["keys"] == {quote_key.address: Role.QUOTE}
    store.close()
