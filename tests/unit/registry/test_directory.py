"""MemberDirectory: the member list rebuilt from registry events, incrementally and resumably."""

import json

import pytest

from offnet.market.registry import (
    ACCESS_ELINE,
    ACCESS_ELINE_URN,
    AdmissionPath,
    MemberDirectory,
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
def market(registry, cast, actor):
    """Erin sells Access E-Line in FR and DE, Frank dark fibre in FR, Gina (applicant) E-Line in FR."""
    erin, frank, gina = actor("erin"), actor("frank"), actor("gina")
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


def test_providers__answers_product_and_country_from_events_only(chain, registry, cast, market):
    erin, frank, gina = market
    directory = MemberDirectory(chain, registry.address)
    assert directory.sync() > 0
    assert [e.address for e in directory.providers(ACCESS_ELINE, "FR")] == [erin.address]
    assert [e.address for e in directory.providers(ACCESS_ELINE_URN, "de")] == [erin.address]
    assert [e.address for e in directory.providers(DARK_FIBRE, b"FR")] == [frank.address]
    assert directory.providers(ACCESS_ELINE, "GB") == []

    entry = directory.member(erin.address)
    assert (entry.status, entry.name, entry.sonata_url, entry.admitted_via) == (
        MemberStatus.ACTIVE,
        "Erin Telecom",
        "https://sonata.erin.example",
        AdmissionPath.SPONSORS,
    )
    assert entry.profile.locations == (PARIS,)
    assert directory.member(gina.address).status == MemberStatus.APPLICANT
    active = directory.members()
    expected = {cast.alice.address, cast.dave.address, erin.address, frank.address}
    assert expected <= {e.address for e in active}
    assert [e.address for e in directory.members() if e.council] == sorted(
        [cast.alice.address, cast.bob.address, cast.carol.address]
    )
    assert (directory.council_threshold, directory.sponsors_required) == (2, 2)


def test_sync__follows_status_keys_admin_and_profile_changes(chain, registry, cast, actor, market, decide):
    erin, frank, _ = market
    directory = MemberDirectory(chain, registry.address)
    directory.sync()
    key, new_admin = actor("erin-key"), actor("erin-admin")
    registry.add_key(erin.sender, key.address, Role.ORACLE)
    registry.propose_admin(erin.sender, new_admin.address)
    registry.accept_admin(new_admin.sender, erin.address)
    decide("suspend", frank.address)
    directory.sync()
    entry = directory.member(erin.address)
    assert (entry.admin, entry.keys) == (new_admin.address, {key.address: Role.ORACLE})
    assert directory.member_of(key.address) == registry.member_of(key.address) == erin.address
    assert directory.member_of(new_admin.address) == erin.address
    assert directory.providers(DARK_FIBRE, "FR") == []  # suspended

    moved = Profile("Erin Telecom", "https://v2.erin.example", (ACCESS_ELINE,), ("GB",))
    registry.update_profile(new_admin.sender, moved)
    decide("reinstate", frank.address)
    directory.sync()
    assert directory.providers(ACCESS_ELINE, "FR") == []
    assert [e.sonata_url for e in directory.providers(ACCESS_ELINE, "GB")] == ["https://v2.erin.example"]
    assert [e.address for e in directory.providers(DARK_FIBRE, "FR")] == [frank.address]

    registry.leave(new_admin.sender)
    decide("expel", frank.address)
    directory.sync()
    assert directory.member(erin.address).status == MemberStatus.LEFT
    assert directory.member(erin.address).keys == {}
    assert directory.member(frank.address).status == MemberStatus.EXPELLED
    assert directory.providers(ACCESS_ELINE, "GB") == directory.providers(DARK_FIBRE, "FR") == []


def test_sync__in_steps_and_resumed_from_saved_state__equals_one_full_sync(
    chain, registry, cast, actor, market
):
    erin, _, gina = market
    start = chain.w3.eth.block_number
    registry.sponsor(cast.alice.sender, gina.address)
    middle = chain.w3.eth.block_number
    registry.sponsor(cast.dave.sender, gina.address)
    registry.add_key(gina.sender, actor("gina-key").address, Role.QUOTE)

    stepwise = MemberDirectory(chain, registry.address)
    stepwise.sync(to_block=start)
    assert stepwise.next_block == start + 1
    assert stepwise.member(gina.address).status == MemberStatus.APPLICANT
    stepwise.sync(to_block=middle, chunk=1)
    saved = json.loads(json.dumps(stepwise.to_dict()))  # what a process would write to disk

    resumed = MemberDirectory.from_dict(chain, saved)
    assert resumed.next_block == middle + 1
    assert resumed.sync() == 3  # ApplicationSponsored, MemberAdmitted, KeyAdded: only what came after
    assert resumed.sync() == 0  # nothing new: nothing applied twice

    full = MemberDirectory(chain, registry.address)
    full.sync()
    assert resumed.to_dict() == full.to_dict()
    assert [e.address for e in resumed.providers(ACCESS_ELINE, "FR")] == sorted([erin.address, gina.address])


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
