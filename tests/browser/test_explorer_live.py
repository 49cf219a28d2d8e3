"""`offnet explorer --rpc` following a real anvil as blocks arrive: what happens on chain shows on the
page within a few polls, and an RFQ's sealed quotes are counted but never priced before the award."""

from __future__ import annotations

import json

import pytest
from eth_utils import keccak

from offnet.chain import Sender
from offnet.market.quotes import Quote, sign_quote
from offnet.market.registry import ACCESS_ELINE, Profile, location_key
from offnet.market.rfq import Rfq
from offnet.market.types import CreditSchedule
from offnet.testing.accounts import funded_account
from offnet.testing.explorer import ExplorerProcess
from offnet.testing.processes import eventually

pytestmark = pytest.mark.anvil


@pytest.fixture
def live(anvil_suite, tmp_path):
    """The suite on anvil (one founder, one sponsor admits) and the explorer following it."""
    chain, suite, founder = anvil_suite
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
    yield chain, suite, founder, explorer
    explorer.stop()


def test_follows_the_chain__a_new_member_and_an_rfq_appear_as_their_blocks_arrive(live, page):
    chain, suite, founder, explorer = live
    status = explorer.api("/status")
    assert status["following"]["rpc"] == chain.url and status["confirmations"] == 0  # a local chain

    erin = funded_account(chain, "live erin")
    suite.registry.apply(
        Sender(chain, erin), Profile("Erin Telecom", "https://erin.example", (ACCESS_ELINE,), ("NL",))
    )
    member = eventually(lambda: explorer.api(f"/providers/{erin.address}")["member"], "erin's application")
    assert member["status"] == "applicant"
    suite.registry.sponsor(Sender(chain, founder), erin.address)
    eventually(
        lambda: [
            p for p in explorer.api("/providers?country=NL")["providers"] if p["address"] == erin.address
        ],
        "erin listed as a provider",
    )
    page.goto(f"{explorer.url}/providers?country=NL")
    row = page.locator(f"tr[data-address='{erin.address}']")
    assert "Erin Telecom" in row.inner_text() and "new" in row.inner_text()

    rfq = Rfq(
        founder.address,
        chain.now() + 3600,
        suite.token.address,
        keccak(text="live request"),
        ACCESS_ELINE,
        location_key("NL"),
        (erin.address,),
    )
    suite.market.post(Sender(chain, founder), rfq)
    quote = Quote(
        rfq.rfq_id,
        erin.address,
        founder.address,
        rfq.token,
        1_500_000_000,
        900_000_000,
        12,
        30,
        bytes(32),
        CreditSchedule.none(),
        0,
        chain.now() + 7200,
        1,
    )
    suite.market.commit(Sender(chain, erin), rfq, sign_quote(erin, quote, suite.market.domain))
    rfq_id = f"0x{rfq.rfq_id:064x}"
    found = eventually(
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
    assert eventually(
        lambda: explorer.api("/status")["indexedThrough"]["number"] >= head, "the index at the tip"
    )
