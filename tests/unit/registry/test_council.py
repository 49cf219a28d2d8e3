"""The m-of-n council: proposals, approvals, execution on the registry and on other contracts."""

import pytest

from offnet.chain import decode_revert
from offnet.chain.tx import call
from offnet.exceptions import ContractRevert
from offnet.market.registry import MemberStatus, Role
from offnet.testing.world import refuses, sample_profile

ZERO = "0x" + "00" * 20


def inner_error(refused: pytest.ExceptionInfo) -> ContractRevert:
    """The target's own error inside a RegistryProposalCallFailed."""
    assert refused.value.name == "RegistryProposalCallFailed"
    return decode_revert(refused.value.arguments["returnData"])


def test_proposal__reaching_the_threshold__executes_at_once(chain, registry, cast, gas):
    proposal_id, proposed = registry.propose_suspend(cast.alice.sender, cast.dave.address)
    assert proposal_id == 1
    assert [e.name for e in registry.emitted(proposed)] == ["ProposalCreated", "ProposalApproved"]
    created = registry.emitted(proposed)[0].args
    assert created == {
        "proposalId": 1,
        "proposer": cast.alice.address,
        "target": registry.address,
        "data": registry.council_call("suspend", cast.dave.address),
        "expiresAt": chain.now() + registry.proposal_lifetime(),
    }
    assert registry.is_active(cast.dave.address)  # one approval of two: nothing happened yet

    approved = registry.approve(cast.bob.sender, proposal_id)
    gas.check("CarrierRegistry.propose", proposed.gas_used)
    gas.check("CarrierRegistry.approveAndExecute (suspend)", approved.gas_used)
    assert [e.name for e in registry.emitted(approved)] == [
        "ProposalApproved",
        "MemberSuspended",
        "ProposalExecuted",
    ]
    assert registry.member_info(cast.dave.address).status == MemberStatus.SUSPENDED
    proposal = registry.proposal(proposal_id)
    assert (proposal.approvals, proposal.executed) == (2, True)
    assert registry.has_approved(proposal_id, cast.alice.address)
    assert registry.has_approved(proposal_id, cast.bob.address)


def test_proposal__on_another_contract__is_performed_by_the_registry(registry, cast, stablecoin, outsider):
    data = bytes.fromhex(stablecoin.encode_abi("approve", args=[outsider.address, 123])[2:])
    proposal_id, _ = registry.propose(cast.alice.sender, stablecoin.address, data)
    receipt = registry.approve(cast.carol.sender, proposal_id)
    # The target saw the registry as msg.sender.
    assert call(stablecoin.functions.allowance(registry.address, outsider.address)) == 123
    executed = [e.args for e in registry.emitted(receipt) if e.name == "ProposalExecuted"]
    assert executed == [{"proposalId": proposal_id, "returnData": (1).to_bytes(32, "big")}]


def test_proposal__target_call_reverts__approval_reverts_with_the_targets_error(
    registry, cast, stablecoin, state
):
    data = bytes.fromhex(stablecoin.encode_abi("transfer", args=[cast.bob.address, 1])[2:])
    proposal_id, _ = registry.propose(cast.alice.sender, stablecoin.address, data)
    before = state(cast.bob.address, proposals=(proposal_id,))
    with pytest.raises(ContractRevert) as refused:
        registry.approve(cast.bob.sender, proposal_id)
    assert refused.value.arguments["proposalId"] == proposal_id
    assert refused.value.arguments["target"] == stablecoin.address
    inner = inner_error(refused)
    assert (inner.name, inner.arguments) == (
        "ERC20InsufficientBalance",
        {"sender": registry.address, "balance": 0, "needed": 1},
    )
    assert state(cast.bob.address, proposals=(proposal_id,)) == before
    assert not registry.has_approved(proposal_id, cast.bob.address)


@pytest.mark.parametrize("target", ["stranger", "zero"])
def test_propose__target_without_code__reverts(registry, cast, outsider, state, target):
    address = outsider.address if target == "stranger" else ZERO
    before = state(cast.alice.address)
    with refuses("RegistryInvalidTarget", target=address):
        registry.propose(cast.alice.sender, address, b"\x12\x34\x56\x78")
    assert state(cast.alice.address) == before


def test_propose__by_non_council_caller__reverts(registry, cast, make_party, outsider, decide, state):
    key = make_party("alice-quote")
    registry.add_key(cast.alice.sender, key.address, Role.QUOTE)
    decide("suspend", cast.carol.address)  # a suspended council member
    before = state(cast.dave.address)
    for intruder in (outsider, cast.dave, key, cast.carol):
        with refuses("RegistryNotCouncil", caller=intruder.address):
            registry.propose_suspend(intruder.sender, cast.dave.address)
    assert state(cast.dave.address) == before
    assert not registry.is_council(cast.carol.address)


def test_approve__by_non_council_caller__reverts(registry, cast, outsider, decide, state):
    decide("suspend", cast.carol.address)  # a suspended council member
    proposal_id, _ = registry.propose_suspend(cast.alice.sender, cast.dave.address)
    before = state(cast.dave.address, proposals=(proposal_id,))
    for intruder in (outsider, cast.dave, cast.carol):
        with refuses("RegistryNotCouncil", caller=intruder.address):
            registry.approve(intruder.sender, proposal_id)
    assert state(cast.dave.address, proposals=(proposal_id,)) == before


def test_approve__twice__reverts(registry, cast, state):
    proposal_id, _ = registry.propose_suspend(cast.alice.sender, cast.dave.address)
    before = state(cast.dave.address, proposals=(proposal_id,))
    with refuses("RegistryAlreadyApproved", proposalId=proposal_id, member=cast.alice.address):
        registry.approve(cast.alice.sender, proposal_id)
    assert state(cast.dave.address, proposals=(proposal_id,)) == before


def test_approve__executed_unknown_or_expired_proposal__reverts(chain, registry, cast, decide):
    decide("suspend", cast.dave.address)
    with refuses("RegistryProposalAlreadyExecuted", proposalId=1):
        registry.approve(cast.carol.sender, 1)
    with refuses("RegistryUnknownProposal", proposalId=99):
        registry.approve(cast.carol.sender, 99, b"")

    proposal_id, _ = registry.propose_reinstate(cast.alice.sender, cast.dave.address)
    expires_at = registry.proposal(proposal_id).expires_at
    chain.advance_time(registry.proposal_lifetime())
    with refuses("RegistryProposalExpired", proposalId=proposal_id, expiresAt=expires_at):
        registry.approve(cast.bob.sender, proposal_id)
    assert registry.member_info(cast.dave.address).status == MemberStatus.SUSPENDED


def test_execute__without_enough_approvals__reverts(registry, cast, outsider, state):
    proposal_id, _ = registry.propose_suspend(cast.alice.sender, cast.dave.address)
    before = state(cast.dave.address, proposals=(proposal_id,))
    with refuses("RegistryProposalNotApproved", proposalId=proposal_id, approvals=1, threshold=2):
        registry.execute(cast.bob.sender, proposal_id)
    for intruder in (outsider, cast.dave):
        with refuses("RegistryNotCouncil", caller=intruder.address):
            registry.execute(intruder.sender, proposal_id)
    assert state(cast.dave.address, proposals=(proposal_id,)) == before


def test_execute__after_threshold_lowered__runs_a_waiting_proposal(registry, cast, decide, gas):
    waiting, _ = registry.propose_suspend(cast.alice.sender, cast.dave.address)
    decide("setCouncilThreshold", 1)
    assert registry.parameters().council_threshold == 1
    receipt = registry.execute(cast.carol.sender, waiting)
    gas.check("CarrierRegistry.execute (suspend)", receipt.gas_used)
    assert not registry.is_active(cast.dave.address)


def test_threshold_of_one__propose_executes_immediately(registry, cast, make_party, deploy_registry):
    solo, _ = deploy_registry(
        [cast.alice.address, cast.bob.address], [cast.alice.address], application_ttl=3600
    )
    _, receipt = solo.propose_suspend(cast.alice.sender, cast.bob.address)
    assert "MemberSuspended" in [e.name for e in solo.emitted(receipt)]
    assert not solo.is_active(cast.bob.address)


@pytest.mark.parametrize(
    ("function", "args"),
    [
        ("admit", ("stranger",)),
        ("suspend", ("dave",)),
        ("reinstate", ("dave",)),
        ("expel", ("dave",)),
        ("setCouncilSeat", ("dave", True)),
        ("setCouncilThreshold", (1,)),
        ("setSponsorsRequired", (1,)),
    ],
)
def test_council_only_function__called_directly_even_by_council__reverts(
    registry, cast, outsider, state, function, args
):
    people = {"stranger": outsider.address, "dave": cast.dave.address}
    resolved = [people.get(a, a) if isinstance(a, str) else a for a in args]
    before = state(cast.dave.address, outsider.address)
    for caller in (cast.alice, outsider):
        with refuses("RegistryOnlyCouncilExecution", caller=caller.address):
            caller.sender.transact(getattr(registry.contract.functions, function)(*resolved))
    assert state(cast.dave.address, outsider.address) == before


def test_suspend_and_reinstate__toggle_activity(registry, cast, decide):
    decide("suspend", cast.dave.address)
    assert not registry.is_active(cast.dave.address)
    receipt = decide("reinstate", cast.dave.address)
    assert "MemberReinstated" in [e.name for e in registry.emitted(receipt)]
    assert registry.is_active(cast.dave.address)


def test_suspend_or_reinstate__wrong_status__fails_the_proposal(registry, cast, outsider):
    cases = (
        ("suspend", outsider.address, "RegistryMemberNotActive", MemberStatus.NONE),
        ("reinstate", cast.dave.address, "RegistryMemberNotSuspended", MemberStatus.ACTIVE),
    )
    for function, member, error, status in cases:
        proposal_id, _ = registry.propose_to_registry(cast.alice.sender, function, member)
        with pytest.raises(ContractRevert) as refused:
            registry.approve(cast.bob.sender, proposal_id)
        inner = inner_error(refused)
        assert (inner.name, inner.arguments) == (error, {"member": member, "status": status})
    assert registry.is_active(cast.dave.address)


def test_expel__ends_membership_kills_keys_and_frees_the_council_seat(
    registry, cast, make_party, decide, gas
):
    key = make_party("carol-oracle")
    registry.add_key(cast.carol.sender, key.address, Role.ORACLE)
    receipt = decide("expel", cast.carol.address)
    gas.check("CarrierRegistry.approveAndExecute (expel council member)", receipt.gas_used)
    names = [e.name for e in registry.emitted(receipt)]
    assert names == ["ProposalApproved", "CouncilSeatChanged", "MemberExpelled", "ProposalExecuted"]
    assert registry.member_info(cast.carol.address).status == MemberStatus.EXPELLED
    assert registry.member_of(key.address) is None
    assert not registry.is_council(cast.carol.address)
    assert registry.parameters().council_size == 2


def test_expel__council_member_when_council_would_fall_below_threshold__fails(registry, cast, decide):
    decide("setCouncilThreshold", 3)
    proposal_id, _ = registry.propose_expel(cast.alice.sender, cast.carol.address)
    registry.approve(cast.bob.sender, proposal_id)
    with pytest.raises(ContractRevert) as refused:
        registry.approve(cast.carol.sender, proposal_id)
    inner = inner_error(refused)
    assert (inner.name, inner.arguments) == ("RegistryInvalidThreshold", {"threshold": 3, "councilSize": 2})
    assert registry.is_council(cast.carol.address)


def test_leave__last_council_seat_above_threshold__reverts(registry, cast, state):
    registry.leave(cast.carol.sender)  # 3 seats -> 2, threshold 2: allowed
    before = state(cast.bob.address)
    with refuses("RegistryInvalidThreshold", threshold=2, councilSize=1):
        registry.leave(cast.bob.sender)
    assert state(cast.bob.address) == before


def test_council_seat__given_and_taken(registry, cast, decide):
    decide("setCouncilSeat", cast.dave.address, True)
    assert registry.is_council(cast.dave.address)
    assert registry.parameters().council_size == 4
    decide("setCouncilSeat", cast.dave.address, False)
    assert not registry.is_council(cast.dave.address)
    assert registry.parameters().council_size == 3


def test_council_seat__unchanged_or_for_a_non_member__fails_the_proposal(registry, cast, outsider):
    cases = (
        (
            cast.alice.address,
            True,
            "RegistryCouncilSeatUnchanged",
            {"member": cast.alice.address, "seated": True},
        ),
        (
            outsider.address,
            True,
            "RegistryMemberNotActive",
            {"member": outsider.address, "status": MemberStatus.NONE},
        ),
    )
    for member, seated, error, arguments in cases:
        proposal_id, _ = registry.propose_council_seat(cast.alice.sender, member, seated)
        with pytest.raises(ContractRevert) as refused:
            registry.approve(cast.bob.sender, proposal_id)
        inner = inner_error(refused)
        assert (inner.name, inner.arguments) == (error, arguments)
    assert registry.parameters().council_size == 3


@pytest.mark.parametrize(
    ("function", "value", "error", "arguments"),
    [
        ("setCouncilThreshold", 0, "RegistryInvalidThreshold", {"threshold": 0, "councilSize": 3}),
        ("setCouncilThreshold", 4, "RegistryInvalidThreshold", {"threshold": 4, "councilSize": 3}),
        ("setSponsorsRequired", 0, "RegistryInvalidSponsorsRequired", {"sponsorsRequired": 0}),
    ],
)
def test_parameters__invalid_value__fails_the_proposal(registry, cast, function, value, error, arguments):
    before = registry.parameters()
    proposal_id, _ = registry.propose_to_registry(cast.alice.sender, function, value)
    with pytest.raises(ContractRevert) as refused:
        registry.approve(cast.bob.sender, proposal_id)
    inner = inner_error(refused)
    assert (inner.name, inner.arguments) == (error, arguments)
    assert registry.parameters() == before


def test_sponsors_required__lowered_to_one__a_single_sponsor_admits(registry, cast, make_party, decide):
    receipt = decide("setSponsorsRequired", 1)
    assert [e.args for e in registry.emitted(receipt) if e.name == "SponsorsRequiredChanged"] == [
        {"sponsorsRequired": 1}
    ]
    candidate = make_party("erin")
    registry.apply(candidate.sender, sample_profile())
    registry.sponsor(cast.dave.sender, candidate.address)
    assert registry.is_active(candidate.address)


@pytest.mark.parametrize(
    ("change", "args"),
    [
        ("setCouncilSeat", ("dave", True)),  # a new voter
        ("suspend", ("carol",)),  # a voter loses its vote
    ],
)
def test_approve__after_the_council_changed__open_proposal_is_stale(
    registry, cast, decide, state, change, args
):
    waiting, _ = registry.propose_suspend(cast.alice.sender, cast.dave.address)
    people = {"dave": cast.dave.address, "carol": cast.carol.address}
    decide(change, *[people.get(a, a) if isinstance(a, str) else a for a in args])
    assert registry.parameters().council_epoch == 1
    before = state(cast.dave.address, proposals=(waiting,))
    with refuses("RegistryProposalStale", proposalId=waiting, proposalEpoch=0, currentEpoch=1):
        registry.approve(cast.bob.sender, waiting)
    assert state(cast.dave.address, proposals=(waiting,)) == before
