"""SlaLedger links: fixed at deployment (immutable), never zero; its links and version."""

import pytest

from offnet.market.ledger import LedgerClient

ZERO = "0x" + "00" * 20


def test_links__name_the_registry_escrow_and_market(ledger):
    assert ledger.client.fn.links().call() == [
        ledger.registry.address,
        ledger.escrow.address,
        ledger.market.address,
    ]
    assert ledger.client.fn.version().call() == "1.0.0"


@pytest.mark.parametrize("missing", ["registry", "escrow", "market"])
def test_deploy__zero_link__reverts(ledger, missing):
    links = [
        ZERO if link == missing else getattr(ledger, link).address
        for link in ("registry", "escrow", "market")
    ]
    with ledger.refuses("SlaZeroAddress"):
        LedgerClient.deploy(ledger.deployer.sender, *links, 60)


def test_record_quote_timeliness__by_anyone_but_the_market__reverts(ledger):
    with ledger.refuses("SlaNotMarket", caller=ledger.outsider.address):
        ledger.client.record_quote_timeliness(ledger.outsider.sender, ledger.seller.address, True)
