"""SlaLedger wiring: once, by the deployer, to non-zero addresses; its links and version."""

from offnet.market.ledger import LedgerClient

ZERO = "0x" + "00" * 20


def test_links__name_the_registry_escrow_and_market(ledger):
    assert ledger.client.fn.links().call() == [
        ledger.registry.address,
        ledger.escrow.address,
        ledger.market.address,
    ]
    assert ledger.client.fn.version().call() == "1.0.0"


def test_wire__a_second_time__reverts(ledger):
    ledger.refuse(
        lambda: ledger.client.wire(ledger.deployer.sender, ledger.stranger.address, ledger.stranger.address),
        "SlaAlreadyWired",
    )
    assert ledger.client.fn.links().call()[1] == ledger.escrow.address


def test_wire__by_someone_else_or_to_zero__reverts(ledger):
    fresh, _ = LedgerClient.deploy(ledger.deployer.sender, ledger.registry.address, 60)
    ledger.refuse(
        lambda: fresh.wire(ledger.stranger.sender, ledger.escrow.address, ledger.market.address),
        "SlaNotDeployer",
        caller=ledger.stranger.address,
    )
    ledger.refuse(lambda: fresh.wire(ledger.deployer.sender, ZERO, ledger.market.address), "SlaZeroAddress")
    assert fresh.fn.links().call() == [ledger.registry.address, ZERO, ZERO]
    # Before wiring no market exists, so nobody can record quote timeliness.
    ledger.refuse(
        lambda: fresh.record_quote_timeliness(ledger.market.sender, ledger.seller.address, True),
        "SlaNotMarket",
        caller=ledger.market.address,
    )
