"""No registry operation costs more with more members: the same journey at 10 and at 1,000 members."""

from eth_utils import keccak, to_checksum_address

from offnet.market.registry import RegistryClient, Role
from offnet.testing.world import sample_profile

# 1,000 founders cost about 25M gas to seed: more than a Sender's estimate leaves room for in a
# 30M block, so the deployment names its gas.
DEPLOY_GAS = 29_000_000


def _filler(count: int) -> list[str]:
    return [to_checksum_address(keccak(text=f"registry filler founder {i}")[12:]) for i in range(count)]


def _journey(cast, make_party, like: RegistryClient, members: int) -> tuple[dict[str, int], int]:
    """Every kind of registry operation once, on a registry of `members` founders with the parameters
    of `like`; gas per operation."""
    founders = [cast.alice.address, cast.bob.address, cast.carol.address, cast.dave.address]
    parameters = like.parameters()
    registry, deployed = RegistryClient.deploy(
        cast.alice.sender,
        founders + _filler(members - len(founders)),
        founders[:3],
        council_threshold=parameters.council_threshold,
        sponsors_required=parameters.sponsors_required,
        application_ttl=parameters.application_ttl,
        gas=DEPLOY_GAS,
    )
    erin, key, new_key, new_admin = (
        make_party("erin"),
        make_party("erin-key"),
        make_party("erin-key-2"),
        make_party("erin-admin"),
    )
    used = {
        "apply": registry.apply(erin.sender, sample_profile("Erin")),
        "sponsor": registry.sponsor(cast.alice.sender, erin.address),
        "sponsorAndAdmit": registry.sponsor(cast.dave.sender, erin.address),
        "addKey": registry.add_key(erin.sender, key.address, Role.QUOTE | Role.ORACLE),
        "rotateKey": registry.rotate_key(erin.sender, key.address, new_key.address),
        "revokeKey": registry.revoke_key(erin.sender, new_key.address),
        "updateProfile": registry.update_profile(erin.sender, sample_profile("Erin Telecom")),
        "proposeAdmin": registry.propose_admin(erin.sender, new_admin.address),
        "acceptAdmin": registry.accept_admin(new_admin.sender, erin.address),
    }
    proposal_id, used["propose"] = registry.propose_suspend(cast.alice.sender, erin.address)
    used["approveAndExecute"] = registry.approve(cast.bob.sender, proposal_id)
    # A suspended member cannot leave: reinstated first.
    reinstating, _ = registry.propose_reinstate(cast.alice.sender, erin.address)
    registry.approve(cast.bob.sender, reinstating)
    used["leave"] = registry.leave(new_admin.sender)
    gas = {name: receipt.gas_used for name, receipt in used.items()}
    views = registry.contract.functions
    for name, fn in {
        "view isActive": views.isActive(cast.dave.address),
        "view memberOf": views.memberOf(new_admin.address),
        "view isQuoteSigner": views.isQuoteSigner(cast.dave.address, cast.dave.address),
        "view isOracle": views.isOracle(cast.dave.address, key.address),
        "view isCouncil": views.isCouncil(cast.bob.address),
    }.items():
        gas[name] = fn.estimate_gas()
    return gas, deployed.gas_used


def test_every_operation__costs_the_same_at_10_and_at_1000_members(chain, cast, make_party, registry, gas):
    measured = {}
    for members in (10, 1000):
        snapshot = chain.snapshot()
        measured[members] = _journey(cast, make_party, registry, members)
        chain.revert(snapshot)
    (small, _), (large, deploy_large) = measured[10], measured[1000]
    assert small == large
    gas.check("CarrierRegistry.deploy (1000 founders)", deploy_large)
