"""Notary fixtures: the unit tests' shared world (a real registry and escrow with an opened order) and
a ContractNotary wired to them; the seller also has a quote key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from offnet.chain import Sender
from offnet.market.notary import NotaryClient
from offnet.market.registry import Role
from offnet.market.types import OrderTerms
from offnet.testing.accounts import funded_account
from offnet.testing.world import EscrowWorld, UnestimatedSender


@dataclass
class NotaryWorld:
    suite: EscrowWorld
    notary: NotaryClient
    seller_key: LocalAccount

    def __getattr__(self, name: str) -> Any:  # the suite's parties and helpers
        return getattr(self.suite, name)

    def send(self, who: Any) -> Sender:
        """The Sender of a party, a member (its admin) or a bare account."""
        if isinstance(who, LocalAccount):
            return UnestimatedSender(self.suite.chain, who)
        return who.sender

    def order(self) -> OrderTerms:
        """An order the escrow opened between the world's buyer and seller."""
        return self.suite.open()


@pytest.fixture(scope="module")
def notary_deployed(suite_world: EscrowWorld) -> Iterator[NotaryWorld]:
    chain = suite_world.chain
    seller_key = funded_account(chain, "notary-seller-key")
    suite_world.registry.add_key(suite_world.seller.sender, seller_key.address, Role.QUOTE)
    notary, _ = NotaryClient.deploy(
        suite_world.deployer.sender, suite_world.registry.address, suite_world.escrow.address
    )
    yield NotaryWorld(suite_world, notary, seller_key)


@pytest.fixture
def notary_world(notary_deployed: NotaryWorld, suite: EscrowWorld) -> NotaryWorld:
    return notary_deployed
