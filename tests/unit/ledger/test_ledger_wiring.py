"""SlaLedger links: fixed at deployment (immutable), never zero; its links and version."""

import pytest

from offnet.market.ledger import LedgerClient

ZERO = "0x" + "00" * 20


def test_links__name_the_registry_escrow_and_market(ledger):
    assert ledger.ledger.fn.links().call() == [
        ledger.registry.address,
        ledger.escrow.address,
        ledger.market.address,
    ]
    assert ledger.ledger.fn.version().call() == "2.0.0"


@pytest.mark.parametrize("missing", ["registry", "escrow", "market"])
def test_deploy__zero_link__reverts(ledger, missing):
    links = {
        "registry": ledger.registry.address,
        "escrow": ledger.escrow.address,
        "market": ledger.market.address,
    }
    links[missing] = ZERO
    ledger.refuse(
        lambda: LedgerClient.deploy(
            ledger.deployer.sender, links["registry"], links["escrow"], links["market"], 60
        ),
        "SlaZeroAddress",
    )


def test_record_quote_timeliness__by_anyone_but_the_market__reverts(ledger):
    ledger.refuse(
        lambda: ledger.ledger.record_quote_timeliness(ledger.stranger.sender, ledger.seller.address, True),
        "SlaNotMarket",
        caller=ledger.stranger.address,
    )
