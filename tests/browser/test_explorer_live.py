"""`offnet explorer --rpc` following a real anvil as blocks arrive: what happens on chain shows on the
page within a few polls, and an RFQ's sealed quotes are counted but never priced before the award."""

from __future__ import annotations

import json

import pytest

from offnet.market.registry import ACCESS_ELINE, Profile
from offnet.testing.explorer import ExplorerProcess
from offnet.testing.world import World, party, wait_until

pytestmark = pytest.mark.anvil


@pytest.fixture
def live(anvil, tmp_path):
    """The test world on anvil (one sponsor admits) and the explorer following it; anvil rewound after."""
    base = anvil.snapshot()
    chain, world = anvil, World.create(anvil, "live", keys=False)
    suite = world.suite
    suite.manifest.save(tmp_path / "deployments")
    explorer = ExplorerProcess(
        "--rpc",
        chain.url,
        "--deployments",
        str(tmp_path / "deployments"),
        "--database",
        str(tmp_path / "index.db"),
        "--poll",
        "0.2",
        log=tmp_path / "explorer.log",
    ).start()
    yield world, explorer
    explorer.stop()
    anvil.revert(base)


def test_follows_the_chain__a_new_member_and_an_rfq_appear_as_their_blocks_arrive(live, page):
    world, explorer = live
    chain, suite = world.chain, world.suite
    status = explorer.api("/status")
    assert status["following"]["rpc"] == chain.url and status["confirmations"] == 0  # a local chain

    erin = party(chain, "erin", prefix="live")
    suite.registry.apply(
        erin.sender, Profile("Erin Telecom", "https://erin.example", (ACCESS_ELINE,), ("NL",))
    )
    member = wait_until(lambda: explorer.api(f"/providers/{erin.address}")["member"], "erin's application")
    assert member["status"] == "applicant"
    suite.registry.sponsor(world.council.sender, erin.address)
    wait_until(
        lambda: [
            p for p in explorer.api("/providers?country=NL")["providers"] if p["address"] == erin.address
        ],
        "erin listed as a provider",
    )
    page.goto(f"{explorer.url}/providers?country=NL")
    row = page.locator(f"tr[data-address='{erin.address}']")
    assert "Erin Telecom" in row.inner_text() and "new" in row.inner_text()

    rfq = world.post_rfq(invited=[erin.address], request="live request")
    quote = world.quote(rfq, erin, one_time_charge=1_500_000_000, monthly_charge=900_000_000)
    suite.market.commit(erin.sender, rfq, world.sign(quote, erin))
    rfq_id = f"0x{rfq.rfq_id:064x}"
    found = wait_until(
        lambda: explorer.api(f"/rfqs/{rfq_id}")["sealedQuotes"] == 1 and explorer.api(f"/rfqs/{rfq_id}"),
        "the sealed quote",
    )
    assert found["state"] == "taking quotes" and found["awarded"] is None
    assert [p["sealedQuote"] for p in found["providers"]] == [True]
    # Sealed means sealed: neither the page nor its JSON twin carries a price before the award.
    assert "1,500" not in json.dumps(found) and "tUSD" not in json.dumps(found)
    page.goto(f"{explorer.url}/rfqs/{rfq_id}")
    assert page.locator("#sealed-quotes").inner_text() == "1"
    assert "tUSD" not in page.content() and "1,500" not in page.content()
    # The status line follows the tip.
    head = chain.w3.eth.block_number
    assert wait_until(
        lambda: explorer.api("/status")["indexedThrough"]["number"] >= head, "the index at the tip"
    )
