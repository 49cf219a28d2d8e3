"""Escrow fixtures: the parties, a wired OrderEscrow and a 2-of-2 council registry, deployed once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from escrow_support import DAY, Escrow, Party, QuickSender
from web3.contract import Contract

from offnet.chain import Chain, load_artifact
from offnet.market.escrow import EscrowClient
from offnet.testing.accounts import funded_account


@dataclass(frozen=True)
class World:
    """What every escrow test starts from, deployed once per session (each test runs in a snapshot)."""

    parties: dict[str, Party]
    registry: Contract
    stablecoin: Contract
    client: EscrowClient
    snapshot: object  # the embedded chain right after the world was deployed


@pytest.fixture(scope="session")
def escrow_world(embedded: Chain) -> World:
    """A 2-of-2 council registry, the stablecoin, an escrow linked to plain market and ledger accounts."""
    labels = ("deployer", "market", "ledger", "buyer", "seller", "outsider", "council-a", "council-b")
    parties = {}
    for label in labels:
        account = funded_account(embedded, f"escrow-{label}")
        parties[label] = Party(account, QuickSender(embedded, account))
    deployer = parties["deployer"].sender
    council = [parties["council-a"].address, parties["council-b"].address]
    registry, _ = deployer.deploy(load_artifact("CarrierRegistry"), council, council, 2, 1, 7 * DAY)
    stablecoin, _ = deployer.deploy(load_artifact("TestStablecoin"))
    client, _ = EscrowClient.deploy(
        deployer, registry.address, parties["market"].address, parties["ledger"].address, [stablecoin.address]
    )
    return World(parties, registry, stablecoin, client, embedded.snapshot())


@pytest.fixture
def escrow(escrow_world: World, chain: Chain) -> Escrow:
    """The session's escrow world, in this test's snapshot, with a fresh harness."""
    # The per-test `chain` snapshot may have been taken before the world was first deployed (the
    # ape plugin orders fixtures its own way): move to the world's block, which the test's own
    # snapshot then undoes when it ends.
    chain.revert(escrow_world.snapshot)
    p = escrow_world.parties
    harness = Escrow(
        chain,
        escrow_world.client,
        escrow_world.stablecoin,
        escrow_world.registry,
        p["deployer"],
        p["market"],
        p["ledger"],
        p["buyer"],
        p["seller"],
        p["outsider"],
        (p["council-a"], p["council-b"]),
        tokens=[escrow_world.stablecoin],
    )
    return harness


@pytest.fixture
def hostile(escrow: Escrow) -> Callable[[str], Contract]:
    """Factory: deploy a hostile test token by contract name and allow it through the council."""

    def run(name: str) -> Contract:
        token, _ = escrow.deployer.sender.deploy(load_artifact(name))
        escrow.tokens.append(token)
        escrow.council_decides(escrow.client.set_token_allowed_call(token.address, True))
        return token

    return run
