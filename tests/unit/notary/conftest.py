"""Notary fixtures: a registry of two members (buyer, seller with a quote key) and a wired notary."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount

from offnet.chain import Chain, Sender
from offnet.market.notary import NotaryClient
from offnet.market.registry import RegistryClient, Role


@dataclass
class NotaryWorld:
    chain: Chain
    notary: NotaryClient
    deployer: Sender
    escrow: LocalAccount  # stands in for the escrow (the award functions are tested with the suite)
    buyer: LocalAccount
    seller: LocalAccount
    seller_key: LocalAccount
    stranger: LocalAccount

    def send(self, account: LocalAccount) -> Sender:
        return Sender(self.chain, account)


@pytest.fixture
def world(chain: Chain, make_account) -> NotaryWorld:
    deployer, escrow, buyer, seller, seller_key, stranger = (
        make_account(f"notary-{label}")
        for label in ("deployer", "escrow", "buyer", "seller", "seller-key", "stranger")
    )
    registry, _ = RegistryClient.deploy(
        Sender(chain, deployer),
        [buyer.address, seller.address],
        [buyer.address],
        council_threshold=1,
        sponsors_required=1,
        application_ttl=86_400,
    )
    registry.add_key(Sender(chain, seller), seller_key.address, Role.QUOTE)
    notary, _ = NotaryClient.deploy(Sender(chain, deployer), registry.address, escrow.address)
    return NotaryWorld(chain, notary, Sender(chain, deployer), escrow, buyer, seller, seller_key, stranger)
