"""The registry's own topology: four founders, three of them on a 2-of-3 council, two sponsors to
admit, 14-day applications; council decisions, admitted members, and what a refusal must not change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from offnet.chain import Chain, Receipt
from offnet.market.registry import RegistryClient
from offnet.testing.world import APPLICATION_TTL, Party, Roles, council_decides, party, sample_profile


@dataclass(frozen=True)
class Cast:
    """The founders: alice, bob, carol on the council; dave a plain founder."""

    alice: Party
    bob: Party
    carol: Party
    dave: Party


@dataclass(frozen=True)
class RegistryWorld:
    cast: Cast
    registry: RegistryClient


@pytest.fixture(scope="module")
def world(embedded: Chain, roles: Roles, area: str) -> RegistryWorld:
    """The founders and their registry (deployed by alice), once per module."""
    cast = Cast(*(party(embedded, name, prefix=area) for name in ("alice", "bob", "carol", "dave")))
    client, _ = RegistryClient.deploy(
        cast.alice.sender,
        [cast.alice.address, cast.bob.address, cast.carol.address, cast.dave.address],
        [cast.alice.address, cast.bob.address, cast.carol.address],
        council_threshold=2,
        sponsors_required=2,
        application_ttl=APPLICATION_TTL,
    )
    return RegistryWorld(cast, client)


@pytest.fixture
def cast(world: RegistryWorld, chain: Chain) -> Cast:
    return world.cast


@pytest.fixture
def registry(world: RegistryWorld, chain: Chain) -> RegistryClient:
    return world.registry


@pytest.fixture
def deploy_registry(cast: Cast) -> Callable[..., tuple[RegistryClient, Receipt]]:
    """Factory: another registry deployed by alice, of `founders` and `council` (addresses); a one-seat
    threshold and one sponsor to admit unless told."""

    def run(founders: list[str], council: list[str], **parameters: int) -> tuple[RegistryClient, Receipt]:
        settings = {"council_threshold": 1, "sponsors_required": 1, "application_ttl": 60, **parameters}
        return RegistryClient.deploy(cast.alice.sender, founders, council, **settings)

    return run


@pytest.fixture
def decide(registry: RegistryClient, cast: Cast) -> Callable[..., Receipt]:
    """Factory: alice proposes a registry call, bob approves, which executes it; returns bob's receipt."""
    return lambda function, *args: council_decides(
        registry, [cast.alice, cast.bob], registry.address, registry.council_call(function, *args)
    )


@pytest.fixture
def admitted(registry: RegistryClient, cast: Cast, make_party) -> Callable[[str], Party]:
    """Factory: a new member that applied and was sponsored by alice and dave."""

    def run(label: str) -> Party:
        member = make_party(label)
        registry.apply(member.sender, sample_profile(label.title()))
        registry.sponsor(cast.alice.sender, member.address)
        registry.sponsor(cast.dave.sender, member.address)
        return member

    return run


@pytest.fixture
def state(registry: RegistryClient) -> Callable[..., tuple]:
    """Factory: everything the registry stores about some addresses, to assert nothing changed."""

    def run(*addresses: str, proposals: tuple[int, ...] = ()) -> tuple:
        return (
            tuple(
                (
                    registry.member_info(a),
                    registry.key_of(a),
                    registry.application(a),
                    registry.pending_admin(a),
                )
                for a in addresses
            ),
            tuple(registry.proposal(p) for p in proposals),
            registry.parameters(),
            registry.proposal_count(),
        )

    return run
