"""Shared pieces of the Sonata tests: the running seller handle, the recording listener, constants."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from offnet.sonata.examples import load_example
from offnet.sonata.seller import SellerAuth, SellerEngine, SimulatedClock

START = datetime(2026, 1, 27, 9, 0, tzinfo=UTC)
BUYER_TOKEN = "buyer-a-token"
OTHER_BUYER_TOKEN = "buyer-b-token"
NOTIFY_TOKEN = "seller-notification-token"
OAUTH_CLIENT = ("buyer-a-client", "buyer-a-secret")
DAY = 86_400


@dataclass
class RunningSeller:
    """A reference seller on a real port, with a buyer's authenticated HTTP client."""

    url: str
    clock: SimulatedClock
    engine: SellerEngine
    auth: SellerAuth
    http: httpx.Client

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the simulated clock; transitions run and notifications are delivered before it returns."""
        response = self.http.post("/simulator/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(path, json=body)

    def quote(self, **changes: Any) -> dict[str, Any]:
        """Create the example quote request (with top-level changes) and return the answer body."""
        body = {**load_example("quote_create"), **changes}
        response = self.post("/mefApi/sonata/quoteManagement/v8/quote", body)
        assert response.status_code == 201, response.text
        return response.json()

    def orderable_quote(self, days: int = 3) -> dict[str, Any]:
        """A quote request answered after ``days`` of simulated time (orderable for a prompt seller)."""
        quote = self.quote()
        self.advance(days * DAY)
        return self.http.get(f"/mefApi/sonata/quoteManagement/v8/quote/{quote['id']}").json()

    def order(self, quote_id: str, item_id: str = "1") -> httpx.Response:
        body = load_example("product_order_create")
        body["productOrderItem"][0]["quoteItem"] = {"id": item_id, "quoteId": quote_id}
        return self.post("/mefApi/sonata/productOrderingManagement/v10/productOrder", body)


@dataclass
class Received:
    path: str
    authorization: str | None
    content_type: str | None
    body: dict[str, Any]


@dataclass
class Listener:
    """A buyer's notification endpoint: records every POST and answers 204."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self, event_type: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received if event_type is None or r.body.get("eventType") == event_type]

    def types(self) -> list[str]:
        return [r.body["eventType"] for r in self.events()]
