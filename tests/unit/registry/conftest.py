"""Registry fixtures: four founders (three on a 2-of-3 council), applicants, council decisions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount
from registry_support import APPLICATION_TTL, COUNCIL_THRESHOLD, SPONSORS_REQUIRED, sample_profile

from offnet.chain import Chain, Receipt, Sender
from offnet.market.registry import RegistryClient
from offnet.testing.accounts import funded_account


@dataclass
class Actor:
    """An account with its Sender."""

    account: LocalAccount
    sender: Sender

    @property
    def address(self) -> str:
        return self.account.address


def _funded_actor(chain: Chain, label: str) -> Actor:
    account = funded_account(chain, f"registry-{label}")
    return Actor(account, Sender(chain, account))


@pytest.fixture
def actor(chain: Chain) -> Callable[[str], Actor]:
    """Factory: a funded actor with a fixed label (same address, same gas on every run)."""
    return lambda label: _funded_actor(chain, label)


@dataclass
class Cast:
    """The founders of the test registry: alice, bob, carol on the council; dave a plain founder."""

    alice: Actor
    bob: Actor
    carol: Actor
    dave: Actor


@dataclass
class World:
    cast: Cast
    registry_address: str


@pytest.fixture(scope="module")
def world(embedded: Chain) -> Iterator[World]:
    """The founders and their registry, deployed once per test module (each test still runs in
    its own snapshot), and removed again when the module is done so no other test sees them."""
    base = embedded.snapshot()
    cast = Cast(*(_funded_actor(embedded, name) for name in ("alice", "bob", "carol", "dave")))
    client, _ = RegistryClient.deploy(
        cast.alice.sender,
        [cast.alice.address, cast.bob.address, cast.carol.address, cast.dave.address],
        [cast.alice.address, cast.bob.address, cast.carol.address],
        council_threshold=COUNCIL_THRESHOLD,
        sponsors_required=SPONSORS_REQUIRED,
        application_ttl=APPLICATION_TTL,
    )
    yield World(cast, client.address)
    embedded.revert(base)


@pytest.fixture
def chain(world: World, embedded: Chain) -> Iterator[Chain]:
    """The embedded chain with the module's registry, returned to that state after the test.

    Overrides the shared `chain` so that its snapshot is always taken after `world` exists
    (pytest may otherwise set `chain` up first, and its revert would remove the module's registry).
    """
    snapshot = embedded.snapshot()
    yield embedded
    embedded.revert(snapshot)


@pytest.fixture
def cast(world: World, chain: Chain) -> Cast:
    return world.cast


@pytest.fixture
def stranger(actor) -> Actor:
    return actor("stranger")


@pytest.fixture
def registry(world: World, chain: Chain) -> RegistryClient:
    """A registry with four founders, a 2-of-3 council, two sponsors to admit, 14-day applications."""
    return RegistryClient(chain, world.registry_address)


@pytest.fixture
def decide(registry: RegistryClient, cast: Cast) -> Callable[..., Receipt]:
    """Factory: alice proposes a registry call, bob approves, which executes it; returns bob's receipt."""

    def run(function: str, *args) -> Receipt:
        proposal_id, _ = registry.propose_to_registry(cast.alice.sender, function, *args)
        return registry.approve(cast.bob.sender, proposal_id)

    return run


@pytest.fixture
def admitted(registry: RegistryClient, cast: Cast, actor) -> Callable[[str], Actor]:
    """Factory: a new member that applied and was sponsored by alice and dave."""

    def run(label: str) -> Actor:
        member = actor(label)
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
