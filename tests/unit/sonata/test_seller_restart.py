"""The reference seller keeps its state in a real SQLite file: stopped and started again on the same
file, it serves the same quotes, orders, cancellations, tickets and hubs, carries on with the
transitions it had planned, and never reuses an id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sonata_support import BUYER_TOKEN, DAY, START

from offnet.serving import serve_in_thread
from offnet.sonata.examples import load_example
from offnet.sonata.seller import SimulatedClock, create_seller_app

QUOTE = "/mefApi/sonata/quoteManagement/v8"
ORDER = "/mefApi/sonata/productOrderingManagement/v10"
TICKET = "/mefApi/sonata/troubleTicket/v4"
AUTH = {"Authorization": f"Bearer {BUYER_TOKEN}"}


def serve(database: Path, clock: SimulatedClock) -> Any:
    app = create_seller_app(tokens={BUYER_TOKEN: "buyer-a"}, clock=clock, database=str(database), seed=3)
    return serve_in_thread(app)


def test_restart__keeps_quotes_orders_tickets_and_hubs_and_carries_on(tmp_path: Path) -> None:
    database = tmp_path / "seller.db"
    clock = SimulatedClock(START)
    with serve(database, clock) as url, httpx.Client(base_url=url, headers=AUTH) as http:
        quote = http.post(
            f"{QUOTE}/quote", json=load_example("quote_create") | {"instantSyncQuote": True}
        ).json()
        order_request = load_example("product_order_create")
        order_request["productOrderItem"][0]["quoteItem"] = {"id": "1", "quoteId": quote["id"]}
        order = http.post(f"{ORDER}/productOrder", json=order_request).json()
        hub = http.post(f"{TICKET}/hub", json={"callback": "http://127.0.0.1:9/cb"}).json()
        http.post("/simulator/clock/advance", json={"seconds": 90 * DAY}).raise_for_status()
        ticket_request = load_example("trouble_ticket_create")
        ticket_request["relatedEntity"][0]["id"] = order["id"]
        ticket_request.pop("issueStartDate")
        ticket = http.post(f"{TICKET}/troubleTicket", json=ticket_request).json()
        pending = http.post(f"{QUOTE}/quote", json=load_example("quote_create")).json()
        before = {
            "quote": http.get(f"{QUOTE}/quote/{quote['id']}").json(),
            "order": http.get(f"{ORDER}/productOrder/{order['id']}").json(),
            "ticket": http.get(f"{TICKET}/troubleTicket/{ticket['id']}").json(),
        }
    assert before["order"]["state"] == "completed" and before["ticket"]["status"] == "acknowledged"

    with serve(database, clock) as url, httpx.Client(base_url=url, headers=AUTH) as http:
        assert http.get(f"{QUOTE}/quote/{quote['id']}").json() == before["quote"]
        assert http.get(f"{ORDER}/productOrder/{order['id']}").json() == before["order"]
        assert http.get(f"{TICKET}/troubleTicket/{ticket['id']}").json() == before["ticket"]
        assert http.get(f"{TICKET}/hub/{hub['id']}").json()["callback"] == "http://127.0.0.1:9/cb"
        assert [q["id"] for q in http.get(f"{QUOTE}/quote").json()] == [quote["id"], pending["id"]]
        # The transitions planned before the restart still happen.
        http.post("/simulator/clock/advance", json={"seconds": 3 * DAY}).raise_for_status()
        assert http.get(f"{TICKET}/troubleTicket/{ticket['id']}").json()["status"] == "closed"
        assert http.get(f"{QUOTE}/quote/{pending['id']}").json()["state"] == "approved.orderable"
        again = http.post(f"{QUOTE}/quote", json=load_example("quote_create")).json()
    assert again["id"] not in (quote["id"], pending["id"])
    assert again["id"].rsplit("-", 1)[0] == quote["id"].rsplit("-", 1)[0]  # same instance prefix
