"""Fixtures of the Sonata tests: the reference seller and a notification listener, both served by
uvicorn on free loopback ports (real HTTP), and the seller's simulated clock."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from sonata_support import (
    BUYER_TOKEN,
    NOTIFY_TOKEN,
    OAUTH_CLIENT,
    OTHER_BUYER_TOKEN,
    START,
    Listener,
    Received,
    RunningSeller,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offnet.serving import serve_in_thread
from offnet.sonata.client import shared_ssl_context
from offnet.sonata.seller import SimulatedClock, create_seller_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_seller() -> Iterator[Callable[..., RunningSeller]]:
    """Factory: ``make_seller(profile="prompt-and-punctual", seed=7)`` starts a seller on a free port."""
    with ExitStack() as stack:

        def start(
            profile: Any = "prompt-and-punctual", seed: int | str = 7, clock_rate: float = 0.0, **options: Any
        ) -> RunningSeller:
            clock = SimulatedClock(START, rate=clock_rate)
            app = create_seller_app(
                profile,
                seed,
                clock=clock,
                tokens={BUYER_TOKEN: "buyer-a", OTHER_BUYER_TOKEN: "buyer-b"},
                clients={OAUTH_CLIENT[0]: (OAUTH_CLIENT[1], "buyer-a")},
                notification_token=NOTIFY_TOKEN,
                instance="t",
                **options,
            )
            url = stack.enter_context(serve_in_thread(app))
            http = stack.enter_context(
                httpx.Client(
                    base_url=url,
                    timeout=10,
                    verify=shared_ssl_context(),
                    headers={"Authorization": f"Bearer {BUYER_TOKEN}"},
                )
            )
            return RunningSeller(url, clock, app.state.engine, app.state.auth, http)

        yield start


@pytest.fixture
def seller(make_seller: Callable[..., RunningSeller]) -> RunningSeller:
    return make_seller()


@pytest.fixture
def listener() -> Iterator[Listener]:
    recorder = Listener()

    async def record(request: Request) -> Response:
        body = await request.json()
        with recorder.lock:
            recorder.received.append(
                Received(
                    request.url.path,
                    request.headers.get("authorization"),
                    request.headers.get("content-type"),
                    copy.deepcopy(body),
                )
            )
        return Response(status_code=204)

    app = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])
    with serve_in_thread(app) as url:
        recorder.url = url
        yield recorder
