"""Fixtures of the Sonata tests: the reference seller and a notification listener, both served by
uvicorn on free loopback ports (real HTTP), and the seller's simulated clock."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offnet.sonata.examples import load_example
from offnet.sonata.seller import SellerEngine, SimulatedClock, create_seller_app, serve_in_thread

START = datetime(2026, 1, 27, 9, 0, tzinfo=UTC)
BUYER_TOKEN = "buyer-a-token"
OTHER_BUYER_TOKEN = "buyer-b-token"
NOTIFY_TOKEN = "seller-notification-token"
OAUTH_CLIENT = ("buyer-a-client", "buyer-a-secret")
DAY = 86_400


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class RunningSeller:
    """A reference seller on a real port, with a buyer's authenticated HTTP client."""

    url: str
    clock: SimulatedClock
    engine: SellerEngine
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

    def orderable_quote(self) -> dict[str, Any]:
        quote = self.quote()
        self.advance(3 * DAY)
        return self.http.get(f"/mefApi/sonata/quoteManagement/v8/quote/{quote['id']}").json()

    def order(self, quote_id: str, item_id: str = "1") -> httpx.Response:
        body = load_example("product_order_create")
        body["productOrderItem"][0]["quoteItem"] = {"id": item_id, "quoteId": quote_id}
        return self.post("/mefApi/sonata/productOrderingManagement/v10/productOrder", body)


@pytest.fixture
def make_seller() -> Iterator[Callable[..., RunningSeller]]:
    """Factory: ``make_seller(profile="prompt-and-punctual", seed=7)`` starts a seller on a free port."""
    with ExitStack() as stack:
        def start(profile: Any = "prompt-and-punctual", seed: int | str = 7, **options: Any) -> RunningSeller:
            clock = SimulatedClock(START)
            app = create_seller_app(profile, seed, clock=clock,
                                    tokens={BUYER_TOKEN: "buyer-a", OTHER_BUYER_TOKEN: "buyer-b"},
                                    clients={OAUTH_CLIENT[0]: (OAUTH_CLIENT[1], "buyer-a")},
                                    notification_token=NOTIFY_TOKEN, instance="t", **options)
            url = stack.enter_context(serve_in_thread(app))
            http = stack.enter_context(httpx.Client(base_url=url, timeout=10,
                                                    headers={"Authorization": f"Bearer {BUYER_TOKEN}"}))
            return RunningSeller(url, clock, app.state.engine, http)
        yield start


@pytest.fixture
def seller(make_seller: Callable[..., RunningSeller]) -> RunningSeller:
    return make_seller()


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


@pytest.fixture
def listener() -> Iterator[Listener]:
    recorder = Listener()

    async def record(request: Request) -> Response:
        body = await request.json()
        with recorder.lock:
            recorder.received.append(Received(request.url.path, request.headers.get("authorization"),
                                              request.headers.get("content-type"), copy.deepcopy(body)))
        return Response(status_code=204)

    app = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])
    with serve_in_thread(app) as url:
        recorder.url = url
        yield recorder
