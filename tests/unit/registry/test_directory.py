"""The member directory the indexer projects from registry events, incrementally and resumably."""

import pytest

from offnet.indexer import EventIndexer, IndexStore
from offnet.market.registry import (
    ACCESS_ELINE,
    ACCESS_ELINE_URN,
    AdmissionPath,
    MemberStatus,
    Profile,
    Role,
    country_code,
    location_key,
    product_key,
)

DARK_FIBRE = product_key("urn:example:dark-fibre")
PARIS = location_key("FR-PAR")


@pytest.fixture
def market(registry, cast, make_party):
    """Erin sells Access E-Line in FR and DE, Frank dark fibre in FR, Gina (applicant) E-Line in FR."""
    erin, frank, gina = make_party("erin"), make_party("frank"), make_party("gina")
    registry.apply(
        erin.sender,
        Profile("Erin Telecom", "https://sonata.erin.example", (ACCESS_ELINE,), ("FR", "DE"), (PARIS,)),
    )
    registry.apply(
        frank.sender, Profile("Frank Fibre", "https://sonata.frank.example", (DARK_FIBRE,), ("FR",))
    )
    registry.apply(gina.sender, Profile("Gina Net", "https://sonata.gina.example", (ACCESS_ELINE,), ("FR",)))
    for candidate in (erin, frank):
        registry.sponsor(cast.alice.sender, candidate.address)
        registry.sponsor(cast.bob.sender, candidate.address)
    return erin, frank, gina


@pytest.fixture
def directory(tmp_path, registry):
    """An empty index of the registry's events, and the indexer that fills it."""
    store = IndexStore(f"sqlite:///{tmp_path / 'index.db'}")
    yield store, EventIndexer(store, registry=registry)
    store.close()


def providers(store: IndexStore, product, country) -> list[str]:
    return [row.address for row in store.providers(product, country)]


def test_providers__answers_product_and_country_from_events_only(directory, cast, market):
    erin, frank, gina = market
    store, indexer = directory
    assert indexer.sync().events > 0
    assert providers(store, ACCESS_ELINE, "FR") == [erin.address]
    assert providers(store, product_key(ACCESS_ELINE_URN), "DE") == [erin.address]
    assert providers(store, DARK_FIBRE, "FR") == [frank.address]
    assert providers(store, ACCESS_ELINE, "GB") == []

    entry = store.member(erin.address)
    assert (entry["status"], entry["name"], entry["sonata_url"], entry["admitted_via"]) == (
        MemberStatus.ACTIVE,
        "Erin Telecom",
        "https://sonata.erin.example",
        AdmissionPath.SPONSORS,
    )
    assert store.member(gina.address)["status"] == MemberStatus.APPLICANT
    expected = {cast.alice.address, cast.dave.address, erin.address, frank.address}
    assert expected <= set(store.members())
    assert store.council() == sorted([cast.alice.address, cast.bob.address, cast.carol.address])
    assert store.parameters() == {"council_threshold": 2, "sponsors_required": 2}


def test_sync__follows_status_keys_admin_and_profile_changes(
    directory, registry, cast, make_party, market, decide
):
    erin, frank, _ = market
    store, indexer = directory
    indexer.sync()
    key, new_admin = make_party("erin-key"), make_party("erin-admin")
    registry.add_key(erin.sender, key.address, Role.ORACLE)
    registry.propose_admin(erin.sender, new_admin.address)
    registry.accept_admin(new_admin.sender, erin.address)
    decide("suspend", frank.address)
    indexer.sync()
    entry = store.member(erin.address)
    assert (entry["admin"], entry["keys"]) == (new_admin.address, {key.address: Role.ORACLE})
    assert store.member_of(key.address) == registry.member_of(key.address) == erin.address
    assert store.member_of(new_admin.address) == erin.address
    assert providers(store, DARK_FIBRE, "FR") == []  # suspended

    moved = Profile("Erin Telecom", "https://v2.erin.example", (ACCESS_ELINE,), ("GB",))
    registry.update_profile(new_admin.sender, moved)
    decide("reinstate", frank.address)
    indexer.sync()
    assert providers(store, ACCESS_ELINE, "FR") == []
    assert [r.sonata_url for r in store.providers(ACCESS_ELINE, "GB")] == ["https://v2.erin.example"]
    assert providers(store, DARK_FIBRE, "FR") == [frank.address]

    registry.leave(new_admin.sender)
    decide("expel", frank.address)
    indexer.sync()
    assert store.member(erin.address)["status"] == MemberStatus.LEFT
    assert store.member(erin.address)["keys"] == {}
    assert store.member_of(key.address) is None
    assert store.member(frank.address)["status"] == MemberStatus.EXPELLED
    assert providers(store, ACCESS_ELINE, "GB") == providers(store, DARK_FIBRE, "FR") == []


def test_sync__in_steps_and_resumed_by_another_process__equals_one_full_sync(
    tmp_path, chain, registry, cast, make_party, market
):
    erin, _, gina = market
    start = chain.w3.eth.block_number
    registry.sponsor(cast.alice.sender, gina.address)
    middle = chain.w3.eth.block_number
    registry.sponsor(cast.dave.sender, gina.address)
    registry.add_key(gina.sender, make_party("gina-key").address, Role.QUOTE)

    url = f"sqlite:///{tmp_path / 'stepwise.db'}"
    stepwise = IndexStore(url)
    EventIndexer(stepwise, registry=registry).sync(to_block=start)
    assert stepwise.next_block() == start + 1
    assert stepwise.member(gina.address)["status"] == MemberStatus.APPLICANT
    EventIndexer(stepwise, registry=registry).sync(to_block=middle, chunk=1)
    stepwise.close()

    resumed = IndexStore(url)  # what another process opens later
    assert resumed.next_block() == middle + 1
    indexer = EventIndexer(resumed, registry=registry)
    assert indexer.sync().events == 3  # ApplicationSponsored, MemberAdmitted, KeyAdded: only what came after
    assert indexer.sync().events == 0  # nothing new: nothing applied twice

    full = IndexStore(f"sqlite:///{tmp_path / 'full.db'}")
    EventIndexer(full, registry=registry).sync()
    for member in full.members(None):
        assert resumed.member(member) == {**full.member(member)}
    assert providers(resumed, ACCESS_ELINE, "FR") == sorted([erin.address, gina.address])
    resumed.close()
    full.close()


def test_country_code__accepts_alpha2_only():
    assert country_code("fr") == b"FR"
    assert country_code(b"DE") == b"DE"
    for bad in ("FRA", "F", "F1", ""):
        with pytest.raises(ValueError):
            country_code(bad)


def test_product_key__is_the_keccak_of_the_urn_text():
    # keccak-256("urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all"): other systems derive the same key.
    assert ACCESS_ELINE.hex() == "c0fbcd04e1c84cfd2e5df4790b0b6a3c55cf6cf52a675267f9b4060635d05a8b"
    assert product_key(ACCESS_ELINE_URN) == ACCESS_ELINE
    assert product_key(ACCESS_ELINE_URN.upper()) != ACCESS_ELINE
    with pytest.raises(ValueError):
        product_key("")
