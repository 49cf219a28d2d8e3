"""Founders, applications, sponsorship, expiry and council admission."""

import pytest

from offnet.chain import decode_revert
from offnet.exceptions import ContractRevert
from offnet.market.registry import (
    AdmissionPath,
    MemberStatus,
    Parameters,
    Profile,
    RegistryClient,
)
from offnet.testing.world import APPLICATION_TTL, refuses, sample_profile

ZERO = "0x" + "00" * 20


def test_deploy__seeds_founders_and_council_with_events(chain, cast, registry):
    assert registry.version() == "1.0.0"
    for founder in (cast.alice, cast.bob, cast.carol, cast.dave):
        assert registry.is_active(founder.address)
        assert registry.member_of(founder.address) == founder.address
    assert [registry.is_council(a.address) for a in (cast.alice, cast.bob, cast.carol, cast.dave)] == [
        True,
        True,
        True,
        False,
    ]
    params = registry.parameters()
    assert params == Parameters(
        council_size=3,
        council_threshold=2,
        sponsors_required=2,
        application_ttl=APPLICATION_TTL,
        council_epoch=0,
    )


def test_deploy__events_name_every_founder(chain, cast, deploy_registry):
    client, receipt = deploy_registry([cast.alice.address, cast.bob.address], [cast.bob.address])
    events = client.emitted(receipt)
    admitted = [(e.args["member"], e.args["path"]) for e in events if e.name == "MemberAdmitted"]
    assert admitted == [
        (cast.alice.address, AdmissionPath.FOUNDER),
        (cast.bob.address, AdmissionPath.FOUNDER),
    ]
    seats = [
        (e.args["member"], e.args["seated"], e.args["councilSize"])
        for e in events
        if e.name == "CouncilSeatChanged"
    ]
    assert seats == [(cast.bob.address, True, 1)]


@pytest.mark.parametrize(
    ("founders", "council", "threshold", "sponsors", "ttl"),
    [
        (0, 0, 1, 1, 60),  # no founders
        (2, 0, 1, 1, 60),  # no council
        (2, 1, 2, 1, 60),  # threshold above council size
        (2, 1, 0, 1, 60),  # zero threshold
        (2, 1, 1, 0, 60),  # zero sponsors
        (2, 1, 1, 1, 0),  # zero application lifetime
    ],
)
def test_deploy__invalid_setup__reverts_with_the_parameters(
    cast, founders, council, threshold, sponsors, ttl
):
    people = [cast.alice.address, cast.bob.address][:founders]
    with refuses("RegistryInvalidSetup") as refused:
        RegistryClient.deploy(
            cast.alice.sender,
            people,
            people[:council],
            council_threshold=threshold,
            sponsors_required=sponsors,
            application_ttl=ttl,
        )
    assert refused.value.arguments == {
        "founders": founders,
        "council": council,
        "councilThreshold": threshold,
        "sponsorsRequired": sponsors,
        "applicationTtl": ttl,
    }


def test_deploy__duplicate_founder_or_foreign_council_seat__reverts(cast, outsider, deploy_registry):
    with refuses("RegistryInvalidFounder", index=1, founder=cast.alice.address):
        deploy_registry([cast.alice.address, cast.alice.address], [cast.alice.address])
    with refuses("RegistryInvalidCouncilSeat", member=outsider.address):
        deploy_registry([cast.alice.address], [outsider.address])
    with refuses("RegistryInvalidFounder", index=0, founder=ZERO):
        deploy_registry([ZERO, cast.alice.address], [cast.alice.address])


def test_apply__files_application_and_publishes_profile(chain, registry, make_party, gas):
    candidate = make_party("erin")
    profile = sample_profile("Erin Telecom", ("GB", "IE"))
    receipt = registry.apply(candidate.sender, profile)
    gas.check("CarrierRegistry.apply", receipt.gas_used)

    events = registry.emitted(receipt)
    assert [e.name for e in events] == ["ApplicationFiled", "ProfileUpdated"]
    assert events[0].args == {
        "candidate": candidate.address,
        "round": 1,
        "expiresAt": chain.now() + APPLICATION_TTL,
    }
    assert Profile.from_abi(events[1].args["profile"]) == profile
    assert registry.member_info(candidate.address).status == MemberStatus.APPLICANT
    assert not registry.is_active(candidate.address)
    assert registry.member_of(candidate.address) is None


def test_sponsor__by_required_number_of_active_members__admits(chain, registry, cast, make_party, gas):
    candidate = make_party("erin")
    registry.apply(candidate.sender, sample_profile())
    first = registry.sponsor(cast.alice.sender, candidate.address)
    assert [e.args for e in registry.emitted(first)] == [
        {"candidate": candidate.address, "sponsor": cast.alice.address, "sponsors": 1}
    ]
    assert not registry.is_active(candidate.address)
    assert registry.has_sponsored(candidate.address, cast.alice.address)

    second = registry.sponsor(cast.dave.sender, candidate.address)
    gas.check("CarrierRegistry.sponsor", first.gas_used)
    gas.check("CarrierRegistry.sponsorAndAdmit", second.gas_used)
    admitted = [e.args for e in registry.emitted(second) if e.name == "MemberAdmitted"]
    assert admitted == [{"member": candidate.address, "path": AdmissionPath.SPONSORS}]
    assert registry.is_active(candidate.address)
    assert registry.member_of(candidate.address) == candidate.address
    assert registry.member_info(candidate.address).admin == candidate.address


def test_sponsor__twice_by_one_member__reverts_and_counts_once(registry, cast, make_party, state):
    candidate = make_party("erin")
    registry.apply(candidate.sender, sample_profile())
    registry.sponsor(cast.alice.sender, candidate.address)
    before = state(candidate.address)
    with refuses("RegistryAlreadySponsored") as refused:
        registry.sponsor(cast.alice.sender, candidate.address)
    assert refused.value.arguments == {"candidate": candidate.address, "sponsor": cast.alice.address}
    assert state(candidate.address) == before
    assert registry.application(candidate.address).sponsors == 1


def test_sponsor__by_operational_key__reverts(registry, cast, make_party, state):
    candidate, quote_key = make_party("erin"), make_party("alice-quote")
    registry.add_key(cast.alice.sender, quote_key.address, 1)
    registry.apply(candidate.sender, sample_profile())
    before = state(candidate.address)
    with refuses("RegistryNotMemberAdmin", caller=quote_key.address):
        registry.sponsor(quote_key.sender, candidate.address)
    assert state(candidate.address) == before


def test_sponsor__by_stranger_or_applicant__reverts(registry, make_party, outsider, state):
    candidate, other = make_party("erin"), make_party("frank")
    registry.apply(candidate.sender, sample_profile())
    registry.apply(other.sender, sample_profile("Frank"))
    before = state(candidate.address)
    for intruder in (outsider, other, candidate):
        with refuses("RegistryNotMemberAdmin", caller=intruder.address):
            registry.sponsor(intruder.sender, candidate.address)
    assert state(candidate.address) == before


def test_sponsor__by_suspended_member__reverts(registry, cast, make_party, decide, state):
    candidate = make_party("erin")
    registry.apply(candidate.sender, sample_profile())
    decide("suspend", cast.dave.address)
    before = state(candidate.address)
    with refuses("RegistryMemberNotActive") as refused:
        registry.sponsor(cast.dave.sender, candidate.address)
    assert refused.value.arguments == {"member": cast.dave.address, "status": MemberStatus.SUSPENDED}
    assert state(candidate.address) == before


def test_sponsor__without_application__reverts(registry, cast, outsider):
    with refuses("RegistryNoApplication") as refused:
        registry.sponsor(cast.alice.sender, outsider.address)
    assert refused.value.arguments == {"candidate": outsider.address, "status": MemberStatus.NONE}
    with pytest.raises(ContractRevert) as member:
        registry.sponsor(cast.alice.sender, cast.bob.address)
    assert member.value.arguments == {"candidate": cast.bob.address, "status": MemberStatus.ACTIVE}


def test_sponsor__expired_application__reverts(chain, registry, cast, make_party, state):
    candidate = make_party("erin")
    registry.apply(candidate.sender, sample_profile())
    expires_at = registry.application(candidate.address).expires_at
    chain.advance_time(APPLICATION_TTL)
    before = state(candidate.address)
    with refuses("RegistryApplicationExpired") as refused:
        registry.sponsor(cast.alice.sender, candidate.address)
    assert refused.value.arguments == {"candidate": candidate.address, "expiresAt": expires_at}
    assert state(candidate.address) == before


def test_apply__again_after_expiry__starts_a_new_round_where_old_sponsorships_do_not_count(
    chain, registry, cast, make_party
):
    candidate = make_party("erin")
    registry.apply(candidate.sender, sample_profile())
    registry.sponsor(cast.alice.sender, candidate.address)
    chain.advance_time(APPLICATION_TTL)
    registry.apply(candidate.sender, sample_profile())
    application = registry.application(candidate.address)
    assert (application.round, application.sponsors) == (2, 0)
    assert not registry.has_sponsored(candidate.address, cast.alice.address)
    registry.sponsor(cast.alice.sender, candidate.address)  # alice may sponsor the new round
    assert not registry.is_active(candidate.address)
    registry.sponsor(cast.bob.sender, candidate.address)
    assert registry.is_active(candidate.address)


def test_apply__while_pending_or_as_member__reverts(registry, cast, make_party, state):
    candidate = make_party("erin")
    registry.apply(candidate.sender, sample_profile())
    before = state(candidate.address, cast.alice.address)
    with refuses("RegistryCannotApply") as pending:
        registry.apply(candidate.sender, sample_profile())
    assert pending.value.arguments == {"candidate": candidate.address, "status": MemberStatus.APPLICANT}
    with pytest.raises(ContractRevert) as member:
        registry.apply(cast.alice.sender, sample_profile())
    assert member.value.arguments == {"candidate": cast.alice.address, "status": MemberStatus.ACTIVE}
    assert state(candidate.address, cast.alice.address) == before


def test_apply__from_a_members_key__reverts(registry, cast, make_party, state):
    key = make_party("alice-oracle")
    registry.add_key(cast.alice.sender, key.address, 2)
    before = state(key.address)
    with refuses("RegistryKeyInUse", key=key.address, member=cast.alice.address):
        registry.apply(key.sender, sample_profile())
    assert state(key.address) == before


def test_apply__without_name_or_sonata_url__reverts(registry, make_party, state):
    candidate = make_party("erin")
    before = state(candidate.address)
    with refuses("RegistryProfileIncomplete", nameLength=0, sonataUrlLength=17):
        registry.apply(candidate.sender, Profile(name="", sonata_url="https://x.example"))
    assert state(candidate.address) == before


def test_admit__by_council_proposal__admits_without_sponsors(registry, cast, make_party, decide):
    candidate = make_party("erin")
    registry.apply(candidate.sender, sample_profile())
    receipt = decide("admit", candidate.address)
    admitted = [e.args for e in registry.emitted(receipt) if e.name == "MemberAdmitted"]
    assert admitted == [{"member": candidate.address, "path": AdmissionPath.COUNCIL}]
    assert registry.is_active(candidate.address)


def test_admit__expired_application__fails_the_proposal(chain, registry, cast, make_party, state):
    candidate = make_party("erin")
    registry.apply(candidate.sender, sample_profile())
    chain.advance_time(APPLICATION_TTL - 3600)
    proposal_id, _ = registry.propose_admit(cast.alice.sender, candidate.address)
    chain.advance_time(3600)
    before = state(candidate.address, proposals=(proposal_id,))
    with refuses("RegistryProposalCallFailed") as refused:
        registry.approve(cast.bob.sender, proposal_id)
    assert refused.value.arguments["proposalId"] == proposal_id
    assert refused.value.arguments["target"] == registry.address
    # The target's own error travels in the return data.
    inner = decode_revert(refused.value.arguments["returnData"])
    assert inner.name == "RegistryApplicationExpired"
    assert inner.arguments["candidate"] == candidate.address
    assert state(candidate.address, proposals=(proposal_id,)) == before


def test_left_member__may_apply_again_but_expelled_may_not(registry, cast, admitted, decide):
    erin, frank = admitted("erin"), admitted("frank")
    registry.leave(erin.sender)
    registry.apply(erin.sender, sample_profile("Erin again"))
    assert registry.member_info(erin.address).status == MemberStatus.APPLICANT
    assert registry.application(erin.address).round == 2

    decide("expel", frank.address)
    with pytest.raises(ContractRevert) as refused:
        registry.apply(frank.sender, sample_profile())
    assert refused.value.arguments == {"candidate": frank.address, "status": MemberStatus.EXPELLED}
