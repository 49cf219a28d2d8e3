"""CarrierRegistry on a real anvil node: admission, keys, a council ruling, and the directory from logs."""

import pytest

from offnet.chain import Sender
from offnet.exceptions import ContractRevert
from offnet.indexer import EventIndexer, IndexStore
from offnet.market.registry import (
    ACCESS_ELINE,
    MemberStatus,
    Profile,
    RegistryClient,
    Role,
)
from offnet.testing.accounts import funded_account

pytestmark = pytest.mark.anvil


def test_anvil__registry_admits_resolves_keys_rules_and_feeds_the_directory(anvil, tmp_path):
    alice, bob, carol, erin, quote_key = (funded_account(anvil) for _ in range(5))
    a, b, e = Sender(anvil, alice), Sender(anvil, bob), Sender(anvil, erin)
    registry, _ = RegistryClient.deploy(
        a,
        [alice.address, bob.address, carol.address],
        [alice.address, bob.address],
        council_threshold=2,
        sponsors_required=2,
        application_ttl=3600,
    )
    store = IndexStore(f"sqlite:///{tmp_path / 'index.db'}")
    indexer = EventIndexer(store, registry=registry, from_block=anvil.w3.eth.block_number)

    registry.apply(e, Profile("Erin Telecom", "https://sonata.erin.example", (ACCESS_ELINE,), ("NL", "BE")))
    registry.sponsor(a, erin.address)
    with pytest.raises(ContractRevert) as refused:
        registry.sponsor(a, erin.address)
    assert refused.value.name == "RegistryAlreadySponsored"
    registry.sponsor(Sender(anvil, carol), erin.address)
    assert registry.is_active(erin.address)

    registry.add_key(e, quote_key.address, Role.QUOTE)
    assert registry.member_of(quote_key.address) == erin.address
    assert registry.is_quote_signer(erin.address, quote_key.address)
    assert not registry.is_oracle(erin.address, quote_key.address)

    indexer.sync()
    [provider] = store.providers(ACCESS_ELINE, "NL")
    assert (provider.address, provider.sonata_url) == (erin.address, "https://sonata.erin.example")

    proposal_id, _ = registry.propose_suspend(a, erin.address)
    registry.approve(b, proposal_id)
    assert registry.member_info(erin.address).status == MemberStatus.SUSPENDED
    indexer.sync()
    assert store.providers(ACCESS_ELINE, "NL") == []
    assert store.member(erin.address)["keys"] == {quote_key.address: Role.QUOTE}
    store.close()
