"""A carrier's oracle among hostile peers, as real processes: the buyer's oracle runs as `offnet oracle
run` on a real anvil; an honest seller (the reference Sonata seller) and a hostile peer (a Sonata API
whose every document the test writes) answer over real HTTP; the oracle keeps its state in SQLite.

The hostile peer is a member in good standing that the buyer also trades with, and it tries to make
the buyer's oracle report false facts about the honest seller's orders, to block the oracle's outbox
with one bad value, and to freeze the oracle by answering slowly. None of it costs the honest seller
or the buyer a report, a link or a second of relaying.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse

from offnet.chain.anvil import Anvil, free_port
from offnet.chain.connect import connect
from offnet.market.types import ReportKind
from offnet.serving import serve_in_thread
from offnet.sonata.client import SonataClient
from offnet.sonata.examples import load_example
from offnet.sonata.models import PRODUCT_ORDER_API, TROUBLE_TICKET_API
from offnet.testing.processes import ORDER_EVENT, TICKET_EVENT, OracleProcess, reference_seller
from offnet.testing.world import DAY, World, wait_until

pytestmark = pytest.mark.anvil
TOKENS = {
    "HOSTILE_HONEST_NOTIFIES": "honest-seller-notifies",
    "HOSTILE_BUYER_AT_HONEST": "buyer-at-honest-seller",
    "HOSTILE_MALLORY_NOTIFIES": "mallory-notifies-buyer",
    "HOSTILE_BUYER_AT_MALLORY": "buyer-at-mallory-peer",
}


class HostilePeer:
    """A peer's Sonata API serving whatever documents the test wrote, or trickling them byte by byte."""

    def __init__(self) -> None:
        self.documents: dict[tuple[str, str], dict] = {}
        self.trickle: set[str] = set()  # resource ids answered one byte every second
        self.requests: Counter[str] = Counter()
        app = FastAPI()

        async def answer(kind: str, resource_id: str):
            self.requests[resource_id] += 1
            if resource_id in self.trickle:

                async def drip():
                    for byte in json.dumps({"id": resource_id, "padding": "x" * 120}).encode():
                        yield bytes([byte])
                        await asyncio.sleep(1.0)

                return StreamingResponse(drip(), media_type="application/json")
            document = self.documents.get((kind, resource_id))
            if document is None:
                return JSONResponse({"code": "notFound", "reason": "no such resource"}, status_code=404)
            return JSONResponse(document)

        @app.get(PRODUCT_ORDER_API.management_base + "/productOrder/{resource_id}")
        async def product_order(resource_id: str):
            return await answer("productOrder", resource_id)

        @app.get(TROUBLE_TICKET_API.management_base + "/troubleTicket/{resource_id}")
        async def trouble_ticket(resource_id: str):
            return await answer("troubleTicket", resource_id)

        self.app = app


def completed_order(po_id: str, external_id: str, *, committed: str, completed: str) -> dict:
    document = copy.deepcopy(load_example("product_order"))
    document["id"], document["externalId"] = po_id, external_id
    item = document["productOrderItem"][0]
    item["expectedCompletionDate"], item["completionDate"] = committed, completed
    document["completionDate"] = completed
    return document


def resolved_ticket(ticket_id: str, po_id: str, *, start: str, resolved: str) -> dict:
    document = copy.deepcopy(load_example("trouble_ticket"))
    document["id"] = ticket_id
    document["relatedEntity"][0]["id"] = po_id
    document.update(status="resolved", issueStartDate=start, resolutionDate=resolved)
    return document


@pytest.fixture(scope="module")
def trade(tmp_path_factory):
    """Anvil, the suite, a buyer, an honest seller and Mallory (both members), three awarded orders
    (two with the honest seller, one with Mallory), the honest seller's Sonata API, Mallory's, and the
    buyer's oracle process trading with both."""
    workdir = tmp_path_factory.mktemp("hostile")
    node = Anvil().start()
    oracle = None
    try:
        chain = connect(rpc=node.url)
        world = World.create(chain, "hostile", sellers=("honest", "mallory"), keys=False)
        suite, buyer, (honest, mallory) = world.suite, world.buyer.account, world.sellers
        deployments = workdir / "deployments"
        suite.manifest.save(deployments)
        orders = {
            name: world.open_order(sellers=[seller], request=f"hostile-{name}").order_id
            for name, seller in (("honest", honest), ("honest-unlinked", honest), ("mallory", mallory))
        }
        hostile = HostilePeer()
        honest_tokens = {TOKENS["HOSTILE_BUYER_AT_HONEST"]: buyer.address}
        seller_app = reference_seller("hostile", world, tokens=honest_tokens)
        with serve_in_thread(seller_app) as honest_api, serve_in_thread(hostile.app) as mallory_api:
            oracle = OracleProcess(
                "buyer",
                workdir,
                {
                    "member": buyer.address,
                    "rpc": node.url,
                    "deployments": str(deployments),
                    "listen_port": free_port(),
                    "poll_interval": 0.2,
                    "auto_award": False,
                    "peers": [
                        {
                            "name": "honest",
                            "member": honest.address,
                            "sonata_url": honest_api,
                            "inbound_token": {"env": "HOSTILE_HONEST_NOTIFIES"},
                            "outbound_token": {"env": "HOSTILE_BUYER_AT_HONEST"},
                        },
                        {
                            "name": "mallory",
                            "member": mallory.address,
                            "sonata_url": mallory_api,
                            "inbound_token": {"env": "HOSTILE_MALLORY_NOTIFIES"},
                            "outbound_token": {"env": "HOSTILE_BUYER_AT_MALLORY"},
                        },
                    ],
                },
                buyer,
                secrets=TOKENS,
            )
            oracle.spawn()
            oracle.wait_listening()
            yield {
                "chain": chain,
                "suite": suite,
                "orders": orders,
                "oracle": oracle,
                "hostile": hostile,
                "honest_api": honest_api,
            }
    finally:
        if oracle is not None:
            oracle.stop()
        node.stop()


def place_honest_order(trade, order: bytes) -> str:
    """The buyer's staff order the circuit from the honest seller by hand, naming the offnet order."""

    async def place() -> str:
        request = load_example("product_order_create")
        request["externalId"] = "0x" + order.hex()
        for item in request["productOrderItem"]:
            item.pop("quoteItem", None)
            item.pop("requestedCompletionDate", None)
        async with SonataClient(trade["honest_api"], TOKENS["HOSTILE_BUYER_AT_HONEST"]) as sonata:
            return (await sonata.create_product_order(request)).id

    return asyncio.run(place())


def submitted(suite, order: bytes, kind: ReportKind) -> bool:
    """A report of `kind` about `order` is on chain."""
    return any(e.args.orderId == order and e.args.kind == kind for e in suite.ledger.logs("ReportSubmitted"))


def reports_about(trade, order: bytes) -> list[dict]:
    return [r for r in trade["oracle"].outbox().values() if r["order_id"] == "0x" + order.hex()]


def test_a_peer_cannot_report_on_or_relink_another_sellers_order(trade):
    oracle, hostile, orders = trade["oracle"], trade["hostile"], trade["orders"]
    honest_order = orders["honest"]
    po = place_honest_order(trade, honest_order)
    assert oracle.notify("honest", ORDER_EVENT, "honest-1", po) == 204
    wait_until(lambda: oracle.order(honest_order)["product_order_id"] == po, "the honest order's link")

    # Mallory names the honest seller's product order and the offnet order in its own documents: a
    # 60-day-late completion, a 30-day outage, and (on the not yet linked order) a failure.
    late = completed_order(
        po, "0x" + honest_order.hex(), committed="2026-01-01T00:00:00Z", completed="2026-03-02T00:00:00Z"
    )
    hostile.documents[("productOrder", po)] = late
    hostile.documents[("productOrder", "PO-MALLORY-CLAIM")] = {**late, "id": "PO-MALLORY-CLAIM"}
    hostile.documents[("troubleTicket", "TT-MALLORY")] = resolved_ticket(
        "TT-MALLORY", po, start="2026-03-01T00:00:00Z", resolved="2026-03-31T00:00:00Z"
    )
    unlinked = orders["honest-unlinked"]
    failed = completed_order(
        "PO-MALLORY-FAIL",
        "0x" + unlinked.hex(),
        committed="2026-01-01T00:00:00Z",
        completed="2026-01-02T00:00:00Z",
    )
    failed["state"] = "failed"
    hostile.documents[("productOrder", "PO-MALLORY-FAIL")] = failed
    for event_id, resource in (("m-1", po), ("m-2", "PO-MALLORY-CLAIM"), ("m-4", "PO-MALLORY-FAIL")):
        assert oracle.notify("mallory", ORDER_EVENT, event_id, resource) == 204
    assert oracle.notify("mallory", TICKET_EVENT, "m-3", "TT-MALLORY") == 204
    wait_until(lambda: oracle.event("m-4")["status"] == "done", "the oracle to handle Mallory's events")
    wait_until(lambda: oracle.event("m-3")["attempts"] >= 1, "the oracle to try Mallory's ticket")

    assert oracle.order(honest_order)["product_order_id"] == po, "Mallory relinked the honest order"
    assert oracle.order(unlinked)["product_order_id"] is None, "Mallory linked the honest seller's order"
    assert reports_about(trade, unlinked) == []
    assert {r["kind"] for r in reports_about(trade, honest_order)} <= {ReportKind.ORDER_ACKNOWLEDGED}
    assert oracle.event("m-3")["status"] == "received", (
        "a ticket about another peer's order is never reported"
    )

    # A peer that answers with another document than the event names gets a dead letter, not a report.
    hostile.documents[("productOrder", "PO-SWAP")] = {**late, "id": "PO-OTHER"}
    assert oracle.notify("mallory", ORDER_EVENT, "m-5", "PO-SWAP") == 204
    wait_until(lambda: oracle.event("m-5")["status"] == "dead", "the swapped document to be refused")
    assert "PO-OTHER" in oracle.event("m-5")["last_error"]


def test_a_pre_1970_date_is_a_dead_letter_and_the_other_reports_flow_on(trade):
    oracle, hostile, orders, suite = trade["oracle"], trade["hostile"], trade["orders"], trade["suite"]
    mallory_order = orders["mallory"]
    ancient = completed_order(
        "PO-ANCIENT",
        "0x" + mallory_order.hex(),
        committed="1960-01-01T00:00:00Z",
        completed="1960-02-01T00:00:00Z",
    )
    hostile.documents[("productOrder", "PO-ANCIENT")] = ancient
    assert oracle.notify("mallory", ORDER_EVENT, "ancient-1", "PO-ANCIENT") == 204
    wait_until(lambda: oracle.event("ancient-1")["status"] == "dead", "the pre-1970 completion to be refused")
    assert "1960" in oracle.event("ancient-1")["last_error"]

    # Meanwhile the honest seller's ticket report reaches the chain: the outbox is not blocked.
    honest_order = orders["honest"]
    po = oracle.order(honest_order)["product_order_id"] or place_honest_order(trade, honest_order)

    async def open_ticket() -> str:
        ticket = load_example("trouble_ticket_create")
        ticket["relatedEntity"][0]["id"] = po
        async with SonataClient(trade["honest_api"], TOKENS["HOSTILE_BUYER_AT_HONEST"]) as sonata:
            created = await sonata.create_trouble_ticket(ticket | {"externalId": "TT-FLOW"})
            trade["chain"].advance_time(DAY)
            for _ in range(200):
                if (await sonata.get_trouble_ticket(created.id)).resolutionDate:
                    return created.id
                await asyncio.sleep(0.05)
        raise AssertionError("the honest seller never resolved the ticket")

    ticket = asyncio.run(open_ticket())
    assert oracle.notify("honest", TICKET_EVENT, "flow-1", ticket) == 204
    wait_until(lambda: submitted(suite, honest_order, ReportKind.TROUBLE_TICKET), "the honest ticket report")
    assert not [r for r in reports_about(trade, mallory_order) if r["status"] == "pending"]


def test_a_completion_dated_in_the_future__refused_and_nothing_reported(trade):
    oracle, hostile, orders = trade["oracle"], trade["hostile"], trade["orders"]
    mallory_order = orders["mallory"]
    before = len(reports_about(trade, mallory_order))
    soon = datetime.fromtimestamp(trade["chain"].now() + 3 * DAY, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # The same product order as the pre-1970 one (the order is linked to it once, never relinked):
    # now its seller claims a completion three days ahead of chain time.
    hostile.documents[("productOrder", "PO-ANCIENT")] = completed_order(
        "PO-ANCIENT", "0x" + mallory_order.hex(), committed=soon, completed=soon
    )
    assert oracle.notify("mallory", ORDER_EVENT, "future-1", "PO-ANCIENT") == 204
    wait_until(lambda: oracle.event("future-1")["status"] == "dead", "the future completion to be refused")
    assert "in the future" in oracle.event("future-1")["last_error"]
    assert len(reports_about(trade, mallory_order)) == before
    # Neither refused document left a date behind to poison the next one.
    assert not oracle.order(mallory_order)["committed_date"]
    assert oracle.order(mallory_order)["completed_at"] is None


def test_a_slow_peer_holds_neither_other_peers_nor_the_chain_duties(trade):
    oracle, hostile, orders, suite = trade["oracle"], trade["hostile"], trade["orders"], trade["suite"]
    hostile.trickle.update({f"PO-SLOW-{i}" for i in range(20)})
    for i in range(20):  # back-dated too: a peer's eventTime decides nothing
        assert (
            oracle.notify(
                "mallory", ORDER_EVENT, f"slow-{i}", f"PO-SLOW-{i}", event_time="1999-01-01T00:00:00Z"
            )
            == 204
        )
    wait_until(lambda: hostile.requests["PO-SLOW-0"] >= 1, "the oracle to start the slow fetches")

    honest_order = orders["honest"]
    po = oracle.order(honest_order)["product_order_id"]
    asyncio.run(_complete_at_honest_seller(trade, po))
    started = time.monotonic()
    assert oracle.notify("honest", ORDER_EVENT, "fast-1", po) == 204
    wait_until(
        lambda: submitted(suite, honest_order, ReportKind.ORDER_COMPLETED),
        "the honest completion on chain while Mallory trickles",
        seconds=60,
    )
    # Each slow answer takes minutes to trickle in; the honest report did not wait for one of them.
    assert time.monotonic() - started < 30
    assert all(oracle.event(f"slow-{i}")["status"] == "received" for i in range(20))
    health = httpx.get(f"{oracle.url}/healthz", timeout=5).json()
    assert health["duties"]["submit"]["ok"] and health["duties"]["confirm"]["ok"]


async def _complete_at_honest_seller(trade, po: str) -> None:
    async with SonataClient(trade["honest_api"], TOKENS["HOSTILE_BUYER_AT_HONEST"]) as sonata:
        for _ in range(400):
            order = await sonata.get_product_order(po)
            if str(order.state) == "completed":
                return
            trade["chain"].advance_time(DAY)
            await asyncio.sleep(0.05)
    raise AssertionError("the honest seller never completed the order")
