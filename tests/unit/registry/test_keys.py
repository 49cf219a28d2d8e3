"""Operational keys, key resolution, profile updates, leaving, and the two-step admin handover."""

import pytest

from offnet.exceptions import ContractRevert
from offnet.market.registry import MemberStatus, Profile, Role
from offnet.testing.world import refuses, sample_profile


def test_add_key__quote_and_oracle_keys_resolve_to_their_member(registry, cast, make_party, gas):
    quote, oracle, both = make_party("alice-quote"), make_party("alice-oracle"), make_party("alice-both")
    receipt = registry.add_key(cast.alice.sender, quote.address, Role.QUOTE)
    gas.check("CarrierRegistry.addKey", receipt.gas_used)
    assert [(e.name, e.args) for e in registry.emitted(receipt)] == [
        ("KeyAdded", {"member": cast.alice.address, "key": quote.address, "roles": 1})
    ]
    registry.add_key(cast.alice.sender, oracle.address, Role.ORACLE)
    registry.add_key(cast.alice.sender, both.address, Role.QUOTE | Role.ORACLE)

    assert registry.member_of(quote.address) == cast.alice.address
    assert registry.key_of(oracle.address) == (cast.alice.address, Role.ORACLE)
    assert (
        registry.is_quote_signer(cast.alice.address, quote.address),
        registry.is_oracle(cast.alice.address, quote.address),
    ) == (True, False)
    assert (
        registry.is_quote_signer(cast.alice.address, oracle.address),
        registry.is_oracle(cast.alice.address, oracle.address),
    ) == (False, True)
    assert (
        registry.is_quote_signer(cast.alice.address, both.address),
        registry.is_oracle(cast.alice.address, both.address),
    ) == (True, True)
    # The admin signs for its own member; nobody's key signs for another member.
    assert registry.is_quote_signer(cast.alice.address, cast.alice.address)
    assert registry.is_oracle(cast.alice.address, cast.alice.address)
    assert not registry.is_quote_signer(cast.bob.address, quote.address)
    assert not registry.is_oracle(cast.bob.address, cast.alice.address)


def test_views__unknown_address__resolves_to_nobody(registry, outsider):
    assert registry.member_of(outsider.address) is None
    assert registry.key_of(outsider.address) == (None, Role(0))
    assert not registry.is_active(outsider.address)
    assert not registry.is_council(outsider.address)
    assert not registry.is_quote_signer("0x" + "00" * 20, outsider.address)
    assert not registry.is_oracle("0x" + "00" * 20, "0x" + "00" * 20)


def test_add_key__already_used_by_another_member__reverts(registry, cast, make_party, state):
    key = make_party("shared")
    registry.add_key(cast.alice.sender, key.address, Role.QUOTE)
    before = state(key.address)
    with refuses("RegistryKeyInUse", key=key.address, member=cast.alice.address):
        registry.add_key(cast.bob.sender, key.address, Role.ORACLE)
    assert state(key.address) == before


def test_add_key__a_member_or_applicant_address__reverts(registry, cast, make_party, state):
    candidate = make_party("erin")
    registry.apply(candidate.sender, sample_profile())
    before = state(candidate.address, cast.bob.address)
    for key, status in ((cast.bob.address, MemberStatus.ACTIVE), (candidate.address, MemberStatus.APPLICANT)):
        with refuses("RegistryKeyIsMember", key=key, status=status):
            registry.add_key(cast.alice.sender, key, Role.QUOTE)
    assert state(candidate.address, cast.bob.address) == before


@pytest.mark.parametrize("bad_roles", [0, Role.ADMIN, Role.QUOTE | Role.ADMIN, 8])
def test_add_key__invalid_roles__reverts(registry, cast, make_party, state, bad_roles):
    key = make_party("key")
    before = state(key.address)
    with refuses("RegistryInvalidRoles", roles=int(bad_roles)):
        registry.add_key(cast.alice.sender, key.address, bad_roles)
    assert state(key.address) == before


def test_add_key__zero_address__reverts(registry, cast):
    zero = "0x" + "00" * 20
    with refuses("RegistryInvalidKey", key=zero):
        registry.add_key(cast.alice.sender, zero, Role.QUOTE)
    assert registry.member_of(zero) is None


def test_key_functions__by_stranger_applicant_or_operational_key__revert(
    registry, cast, make_party, outsider, state
):
    quote, other, candidate = make_party("alice-quote"), make_party("other"), make_party("erin")
    registry.add_key(cast.alice.sender, quote.address, Role.QUOTE)
    registry.apply(candidate.sender, sample_profile())
    before = state(quote.address, other.address, cast.alice.address)
    attempts = {
        "add_key": lambda who: registry.add_key(who.sender, other.address, Role.QUOTE),
        "revoke_key": lambda who: registry.revoke_key(who.sender, quote.address),
        "rotate_key": lambda who: registry.rotate_key(who.sender, quote.address, other.address),
        "propose_admin": lambda who: registry.propose_admin(who.sender, other.address),
        "update_profile": lambda who: registry.update_profile(who.sender, sample_profile()),
        "leave": lambda who: registry.leave(who.sender),
    }
    for name, attempt in attempts.items():
        for intruder in (outsider, candidate, quote):
            with pytest.raises(ContractRevert) as refused:
                attempt(intruder)
            assert (refused.value.name, refused.value.arguments) == (
                "RegistryNotMemberAdmin",
                {"caller": intruder.address},
            ), name
    assert state(quote.address, other.address, cast.alice.address) == before


def test_revoke_key__removes_it_and_frees_it_for_another_member(registry, cast, make_party, gas):
    key = make_party("key")
    registry.add_key(cast.alice.sender, key.address, Role.ORACLE)
    receipt = registry.revoke_key(cast.alice.sender, key.address)
    gas.check("CarrierRegistry.revokeKey", receipt.gas_used)
    assert [(e.name, e.args) for e in registry.emitted(receipt)] == [
        ("KeyRevoked", {"member": cast.alice.address, "key": key.address})
    ]
    assert registry.member_of(key.address) is None
    assert not registry.is_oracle(cast.alice.address, key.address)
    registry.add_key(cast.bob.sender, key.address, Role.QUOTE)
    assert registry.member_of(key.address) == cast.bob.address


def test_revoke_key__another_members_key_or_the_admin__reverts(registry, cast, make_party, state):
    key = make_party("key")
    registry.add_key(cast.alice.sender, key.address, Role.ORACLE)
    before = state(key.address, cast.bob.address)
    for target in (key.address, cast.bob.address):
        with refuses("RegistryNotMemberKey", key=target, member=cast.bob.address):
            registry.revoke_key(cast.bob.sender, target)
    assert state(key.address, cast.bob.address) == before


def test_rotate_key__moves_the_roles_to_the_new_key_atomically(registry, cast, make_party, gas):
    old, new = make_party("old"), make_party("new")
    registry.add_key(cast.alice.sender, old.address, Role.QUOTE | Role.ORACLE)
    receipt = registry.rotate_key(cast.alice.sender, old.address, new.address)
    gas.check("CarrierRegistry.rotateKey", receipt.gas_used)
    assert [e.name for e in registry.emitted(receipt)] == ["KeyRevoked", "KeyAdded"]
    assert registry.key_of(old.address) == (None, Role(0))
    assert registry.key_of(new.address) == (cast.alice.address, Role.QUOTE | Role.ORACLE)


def test_rotate_key__onto_a_key_in_use__reverts_and_keeps_the_old_key(registry, cast, make_party, state):
    old, taken = make_party("old"), make_party("taken")
    registry.add_key(cast.alice.sender, old.address, Role.QUOTE)
    registry.add_key(cast.bob.sender, taken.address, Role.QUOTE)
    before = state(old.address, taken.address)
    with refuses("RegistryKeyInUse", key=taken.address, member=cast.bob.address):
        registry.rotate_key(cast.alice.sender, old.address, taken.address)
    assert state(old.address, taken.address) == before


def test_suspended_member__keys_still_resolve_but_it_is_not_active(registry, cast, make_party, decide):
    key = make_party("key")
    registry.add_key(cast.dave.sender, key.address, Role.ORACLE)
    decide("suspend", cast.dave.address)
    assert not registry.is_active(cast.dave.address)
    assert registry.member_of(key.address) == cast.dave.address
    assert registry.is_oracle(cast.dave.address, key.address)
    # A suspended member still manages its keys (its open orders continue).
    registry.revoke_key(cast.dave.sender, key.address)
    assert registry.member_of(key.address) is None


def test_update_profile__emits_the_new_profile(registry, cast, gas):
    profile = Profile(
        name="Alice Networks",
        sonata_url="https://sonata.alice.example",
        products=(b"\x01" * 32,),
        countries=("US", "CA"),
        locations=(b"\x02" * 32,),
    )
    receipt = registry.update_profile(cast.alice.sender, profile)
    gas.check("CarrierRegistry.updateProfile", receipt.gas_used)
    [event] = registry.emitted(receipt)
    assert event.name == "ProfileUpdated" and event.args["member"] == cast.alice.address
    assert Profile.from_abi(event.args["profile"]) == profile


def test_update_profile__incomplete__reverts(registry, cast):
    with refuses("RegistryProfileIncomplete", nameLength=5, sonataUrlLength=0):
        registry.update_profile(cast.alice.sender, Profile(name="Alice", sonata_url=""))


def test_leave__ends_membership_and_kills_every_key(registry, cast, admitted, make_party, gas):
    erin, key = admitted("erin"), make_party("erin-key")
    registry.add_key(erin.sender, key.address, Role.QUOTE)
    receipt = registry.leave(erin.sender)
    gas.check("CarrierRegistry.leave", receipt.gas_used)
    assert [e.name for e in registry.emitted(receipt)] == ["MemberLeft"]
    assert registry.member_info(erin.address).status == MemberStatus.LEFT
    assert not registry.is_active(erin.address)
    assert registry.member_of(erin.address) is None
    assert registry.member_of(key.address) is None
    # The dead key is free again, and the old admin can no longer act.
    registry.add_key(cast.bob.sender, key.address, Role.QUOTE)
    assert registry.member_of(key.address) == cast.bob.address
    with refuses("RegistryNotMemberAdmin"):
        registry.leave(erin.sender)


def test_leave__rejoining_member_does_not_get_its_old_keys_back(registry, cast, admitted, make_party):
    erin, key = admitted("erin"), make_party("erin-key")
    registry.add_key(erin.sender, key.address, Role.ORACLE)
    registry.leave(erin.sender)
    registry.apply(erin.sender, sample_profile("Erin"))
    registry.sponsor(cast.alice.sender, erin.address)
    registry.sponsor(cast.bob.sender, erin.address)
    assert registry.is_active(erin.address)
    assert registry.member_of(erin.address) == erin.address
    assert registry.member_of(key.address) is None
    assert registry.member_info(erin.address).epoch == 1


def test_admin_handover__two_steps_move_the_admin_and_keep_the_member_id(registry, cast, make_party, gas):
    new_admin = make_party("alice-new-admin")
    proposed = registry.propose_admin(cast.alice.sender, new_admin.address)
    assert registry.pending_admin(cast.alice.address) == new_admin.address
    # Nothing changes before the acceptance.
    assert registry.member_of(new_admin.address) is None
    accepted = registry.accept_admin(new_admin.sender, cast.alice.address)
    gas.check("CarrierRegistry.proposeAdmin", proposed.gas_used)
    gas.check("CarrierRegistry.acceptAdmin", accepted.gas_used)
    assert [(e.name, e.args) for e in registry.emitted(accepted)] == [
        (
            "AdminChanged",
            {"member": cast.alice.address, "previous": cast.alice.address, "current": new_admin.address},
        )
    ]
    assert registry.member_of(new_admin.address) == cast.alice.address
    assert registry.member_of(cast.alice.address) is None
    assert registry.is_active(cast.alice.address) and registry.is_council(cast.alice.address)
    assert registry.is_quote_signer(cast.alice.address, new_admin.address)
    assert not registry.is_quote_signer(cast.alice.address, cast.alice.address)
    assert registry.pending_admin(cast.alice.address) is None
    # The new admin acts for the member; the old one no longer does.
    key = make_party("key")
    registry.add_key(new_admin.sender, key.address, Role.QUOTE)
    assert registry.member_of(key.address) == cast.alice.address
    with refuses("RegistryNotMemberAdmin"):
        registry.add_key(cast.alice.sender, make_party("other").address, Role.QUOTE)


def test_admin_handover__back_to_the_member_address__restores_it(registry, cast, make_party):
    interim = make_party("interim")
    registry.propose_admin(cast.alice.sender, interim.address)
    registry.accept_admin(interim.sender, cast.alice.address)
    registry.propose_admin(interim.sender, cast.alice.address)
    registry.accept_admin(cast.alice.sender, cast.alice.address)
    assert registry.member_of(cast.alice.address) == cast.alice.address
    assert registry.member_of(interim.address) is None


def test_admin_handover__promotes_an_own_operational_key(registry, cast, make_party):
    key = make_party("key")
    registry.add_key(cast.alice.sender, key.address, Role.QUOTE)
    registry.propose_admin(cast.alice.sender, key.address)
    registry.accept_admin(key.sender, cast.alice.address)
    assert registry.key_of(key.address) == (cast.alice.address, Role.ADMIN)


def test_accept_admin__by_anyone_but_the_proposed_admin__reverts(registry, cast, make_party, outsider, state):
    new_admin = make_party("new")
    registry.propose_admin(cast.alice.sender, new_admin.address)
    before = state(cast.alice.address, new_admin.address)
    for intruder in (outsider, cast.bob, cast.alice):
        with refuses("RegistryNotPendingAdmin", member=cast.alice.address, caller=intruder.address):
            registry.accept_admin(intruder.sender, cast.alice.address)
    assert state(cast.alice.address, new_admin.address) == before


def test_propose_admin__cancelled__cannot_be_accepted(registry, cast, make_party):
    new_admin = make_party("new")
    registry.propose_admin(cast.alice.sender, new_admin.address)
    registry.propose_admin(cast.alice.sender, None)
    with refuses("RegistryNotPendingAdmin"):
        registry.accept_admin(new_admin.sender, cast.alice.address)
    assert registry.member_of(cast.alice.address) == cast.alice.address


def test_propose_admin__another_members_key_or_member__reverts(registry, cast, make_party, state):
    bobs_key = make_party("bob-key")
    registry.add_key(cast.bob.sender, bobs_key.address, Role.QUOTE)
    before = state(cast.alice.address)
    with refuses("RegistryKeyInUse", key=bobs_key.address, member=cast.bob.address):
        registry.propose_admin(cast.alice.sender, bobs_key.address)
    with refuses("RegistryKeyIsMember", key=cast.bob.address, status=MemberStatus.ACTIVE):
        registry.propose_admin(cast.alice.sender, cast.bob.address)
    assert state(cast.alice.address) == before


def test_accept_admin__key_taken_since_the_proposal__reverts(registry, cast, make_party, state):
    new_admin = make_party("new")
    registry.propose_admin(cast.alice.sender, new_admin.address)
    registry.add_key(cast.bob.sender, new_admin.address, Role.ORACLE)
    before = state(cast.alice.address, new_admin.address)
    with refuses("RegistryKeyInUse", key=new_admin.address, member=cast.bob.address):
        registry.accept_admin(new_admin.sender, cast.alice.address)
    assert state(cast.alice.address, new_admin.address) == before
