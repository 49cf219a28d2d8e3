"""The notary's own topology: a registry of the buyer and the seller (with its quote key) and a
ContractNotary linked to a plain `escrow` account (the award path is tested with the whole suite)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from offnet.chain import Chain
from offnet.market.notary import NotaryClient
from offnet.market.registry import RegistryClient, Role
from offnet.testing.world import DAY, Party, Roles, party


@dataclass(frozen=True)
class NotaryWorld:
    notary: NotaryClient
    deployer: Party
    escrow: Party  # stands in for the escrow
    buyer: Party
    seller: Party
    outsider: Party

    @property
    def seller_key(self) -> Party:
        return self.seller.quote_key


@pytest.fixture(scope="module")
def world(embedded: Chain, roles: Roles, area: str) -> NotaryWorld:
    escrow = party(embedded, "escrow", prefix=area)
    seller = replace(roles.seller, quote_key=party(embedded, "seller-key", prefix=area))
    members = [roles.buyer.address, seller.address, roles.council.address]
    registry, _ = RegistryClient.deploy(
        roles.deployer.sender,
        members,
        [roles.council.address],
        council_threshold=1,
        sponsors_required=1,
        application_ttl=DAY,
    )
    registry.add_key(seller.sender, seller.quote_key.address, Role.QUOTE)
    notary, _ = NotaryClient.deploy(roles.deployer.sender, registry.address, escrow.address)
    return NotaryWorld(notary, roles.deployer, escrow, roles.buyer, seller, roles.outsider)
