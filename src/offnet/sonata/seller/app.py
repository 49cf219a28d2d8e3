"""HTTP face of the reference seller: the seller side of Quote v8, ProductOrder v10, TroubleTicket v4
and their hubs at the standard's paths, an OAuth 2.0 token endpoint, and non-MEF simulator endpoints
(``/simulator/...``: clock, fault injection, in-life performance measurements, delivery log)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from offnet.exceptions import SellerError
from offnet.sonata.models import (
    PRODUCT_ORDER_API,
    QUOTE_API,
    TROUBLE_TICKET_API,
    CancelProductOrderCreate,
    EventSubscriptionInput,
    ProductOrderCreate,
    QuoteCreate,
    QuoteOperation,
    SonataApi,
    TroubleTicketCreate,
    validate,
)
from offnet.sonata.seller.clock import Clock, SimulatedClock
from offnet.sonata.seller.engine import SellerEngine
from offnet.sonata.seller.notifier import NotificationSender
from offnet.sonata.seller.profiles import BehaviourProfile, get_profile

M = TypeVar("M", bound=BaseModel)

TOKEN_PATH = "/oauth2/token"
MAX_BODY_BYTES = 1_000_000


@dataclass
class SellerAuth:
    """Who may call the seller: static bearer tokens and OAuth clients, each mapped to a buyer id."""

    tokens: dict[str, str] = field(default_factory=dict)  # token -> buyer id
    clients: dict[str, tuple[str, str]] = field(default_factory=dict)  # client id -> (secret, buyer id)
    token_ttl: int = 3600
    _issued: dict[str, tuple[str, float]] = field(default_factory=dict)

    def buyer_for(self, token: str) -> str | None:
        """The buyer a bearer token belongs to, or None if unknown or expired."""
        if token in self.tokens:
            return self.tokens[token]
        issued = self._issued.get(token)
        if issued is None or time.monotonic() >= issued[1]:
            return None
        return issued[0]

    def revoke_issued(self) -> None:
        """Invalidate every token issued so far (static tokens stay valid)."""
        self._issued.clear()

    def issue(self, client_id: str, secret: str) -> str | None:
        """A new access token for valid client credentials, else None."""
        known = self.clients.get(client_id)
        if known is None or not secrets.compare_digest(known[0], secret):
            return None
        token = secrets.token_urlsafe(32)
        self._issued[token] = (known[1], time.monotonic() + self.token_ttl)
        return token


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A Sonata-style error body: ``{code, reason, message}``."""
    return JSONResponse(
        {"code": code, "reason": message[:255], "message": message}, status_code=status, headers=headers
    )


def create_seller_app(
    profile: BehaviourProfile | str = "prompt-and-punctual",
    seed: int | str = 0,
    *,
    clock: Clock | None = None,
    tokens: dict[str, str] | None = None,
    clients: dict[str, tuple[str, str]] | None = None,
    notification_token: str | None = None,
    seller_id: str = "offnet-seller",
    instance: str | None = None,
    tick_seconds: float = 0.0,
) -> FastAPI:
    """The reference seller as an ASGI app.

    ``tokens`` maps static bearer tokens to buyer ids; ``clients`` maps OAuth client ids to
    ``(secret, buyer id)`` for the client-credentials endpoint at ``/oauth2/token``. Notifications
    carry ``Authorization: Bearer {notification_token}``. ``clock`` defaults to a frozen
    SimulatedClock moved by ``POST /simulator/clock/advance``; with ``tick_seconds`` > 0 a background
    task also runs due transitions and sends notifications that often (for real-time clocks).
    """
    behaviour = get_profile(profile) if isinstance(profile, str) else profile
    clock = clock or SimulatedClock()
    engine = SellerEngine(
        behaviour, seed, clock, seller_id=seller_id, instance=instance or uuid.uuid4().hex[:6]
    )
    auth = SellerAuth(tokens=dict(tokens or {}), clients=dict(clients or {}))
    sender = NotificationSender(notification_token)
    faults = {"fail_next": 0, "status": 503}
    counter = iter(range(1, 1 << 62))
    background: set[asyncio.Task[Any]] = set()

    async def flush() -> list[dict[str, Any]]:
        records = await sender.send(engine.take_outbox())
        return [r.to_json() for r in records]

    async def settle() -> list[dict[str, Any]]:
        # Wait for the flushes already started by requests, then send what is left.
        while background:
            await asyncio.gather(*list(background), return_exceptions=True)
        return await flush()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ticker = None
        if tick_seconds > 0:

            async def tick() -> None:
                while True:
                    await asyncio.sleep(tick_seconds)
                    engine.progress()
                    await flush()

            ticker = asyncio.create_task(tick())
        try:
            yield
        finally:
            if ticker:
                ticker.cancel()
            await settle()
            await sender.aclose()

    app = FastAPI(
        title="offnet reference Sonata seller",
        version="1",
        lifespan=lifespan,
        description="Seller side of MEF LSO Sonata Quote v8, ProductOrder v10 and TroubleTicket v4, "
        "with behaviour profiles. /simulator/* endpoints are not MEF APIs: they drive "
        "the simulated clock and serve the simulator's in-life performance data.",
    )
    app.state.engine = engine
    app.state.sender = sender
    app.state.auth = auth

    @app.exception_handler(SellerError)
    async def seller_error(request: Request, exc: SellerError) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="sonata"'} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, headers)

    @app.middleware("http")
    async def progress_and_faults(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        engine.progress()
        if request.url.path.startswith("/mefApi/"):
            if faults["fail_next"] > 0:
                faults["fail_next"] -= 1
                return error_response(faults["status"], "temporarilyUnavailable", "injected fault")
            if engine.rng("http", next(counter)).random() < behaviour.error_probability:
                return error_response(500, "internalError", "simulated seller failure")
        response = await call_next(request)
        if engine.outbox:
            task = asyncio.create_task(flush())
            background.add(task)
            task.add_done_callback(background.discard)
        return response

    async def buyer(request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SellerError(401, "missingCredentials", "missing bearer token")
        who = auth.buyer_for(token.strip())
        if who is None:
            raise SellerError(401, "invalidCredentials", "unknown or expired bearer token")
        return who

    caller = Depends(buyer)

    # --- OAuth 2.0 client credentials ---

    @app.post(TOKEN_PATH, tags=["auth"])
    async def token(request: Request) -> JSONResponse:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            return JSONResponse(
                {"error": "invalid_request", "error_description": "use application/x-www-form-urlencoded"},
                status_code=400,
            )
        try:
            form = {
                k: v[0] for k, v in parse_qs((await request.body()).decode(), strict_parsing=False).items()
            }
        except UnicodeDecodeError:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        client_id, secret = _client_credentials(request, form)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        issued = auth.issue(client_id or "", secret or "")
        if issued is None:
            return JSONResponse(
                {"error": "invalid_client"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="sonata"'},
            )
        return JSONResponse(
            {"access_token": issued, "token_type": "Bearer", "expires_in": auth.token_ttl},
            headers={"Cache-Control": "no-store"},
        )

    # --- Quote v8 ---

    quote = APIRouter(prefix=QUOTE_API.management_base, tags=["quote"])

    @quote.post("/quote", status_code=201)
    async def create_quote(request: Request, who: str = caller) -> dict[str, Any]:
        return engine.create_quote(await _body(request, QuoteCreate), who).to_json()

    @quote.get("/quote/{quote_id}")
    async def get_quote(quote_id: str, who: str = caller) -> dict[str, Any]:
        return engine.get_quote(quote_id, who).to_json()

    @quote.post("/cancelQuote")
    async def cancel_quote(request: Request, who: str = caller) -> dict[str, Any]:
        op = await _body(request, QuoteOperation)
        return engine.cancel_quote(op.quoteId, who, op.reason).to_json()

    @quote.post("/rejectQuote")
    async def reject_quote(request: Request, who: str = caller) -> dict[str, Any]:
        op = await _body(request, QuoteOperation)
        return engine.reject_quote(op.quoteId, who, op.reason).to_json()

    # --- ProductOrder v10 ---

    order = APIRouter(prefix=PRODUCT_ORDER_API.management_base, tags=["productOrder"])

    @order.post("/productOrder", status_code=201)
    async def create_order(request: Request, who: str = caller) -> dict[str, Any]:
        return engine.create_order(await _body(request, ProductOrderCreate), who).to_json()

    @order.get("/productOrder/{order_id}")
    async def get_order(order_id: str, who: str = caller) -> dict[str, Any]:
        return engine.get_order(order_id, who).to_json()

    @order.post("/cancelProductOrder", status_code=201)
    async def cancel_order(request: Request, who: str = caller) -> dict[str, Any]:
        return engine.cancel_order(await _body(request, CancelProductOrderCreate), who).to_json()

    # --- TroubleTicket v4 ---

    ticket = APIRouter(prefix=TROUBLE_TICKET_API.management_base, tags=["troubleTicket"])

    @ticket.post("/troubleTicket", status_code=201)
    async def create_ticket(request: Request, who: str = caller) -> dict[str, Any]:
        return engine.create_ticket(await _body(request, TroubleTicketCreate), who).to_json()

    @ticket.get("/troubleTicket/{ticket_id}")
    async def get_ticket(ticket_id: str, who: str = caller) -> dict[str, Any]:
        return engine.get_ticket(ticket_id, who).to_json()

    for router, api in ((quote, QUOTE_API), (order, PRODUCT_ORDER_API), (ticket, TROUBLE_TICKET_API)):
        _add_hub_routes(router, api, engine, caller)
        app.include_router(router)

    # --- simulator (not MEF) ---

    sim = APIRouter(prefix="/simulator", tags=["simulator"])

    @sim.get("/clock")
    async def get_clock(who: str = caller) -> dict[str, Any]:
        return {"now": clock().isoformat(), "profile": behaviour.name}

    @sim.post("/clock/advance")
    async def advance(request: Request, who: str = caller) -> dict[str, Any]:
        body = await _json(request)
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise SellerError(400, "invalidBody", 'body must be {"seconds": <number >= 0>}')
        if not isinstance(clock, SimulatedClock):
            raise SellerError(
                409, "invalidValue", "this seller runs on an external clock that it cannot advance"
            )
        now = clock.advance(seconds)
        transitions = engine.progress()
        return {"now": now.isoformat(), "transitions": transitions, "deliveries": await settle()}

    @sim.post("/faults")
    async def set_faults(request: Request, who: str = caller) -> dict[str, Any]:
        body = await _json(request)
        fail_next = body.get("failNext") if isinstance(body, dict) else None
        status = body.get("status", 503) if isinstance(body, dict) else None
        if not isinstance(fail_next, int) or fail_next < 0 or status not in (500, 502, 503, 504):
            raise SellerError(
                400, "invalidBody", 'body must be {"failNext": <int >= 0>, "status": 500|502|503|504}'
            )
        faults.update(fail_next=fail_next, status=status)
        return {"failNext": fail_next, "status": status}

    @sim.get("/performance/{order_id}")
    async def performance(order_id: str, period: str, who: str = caller) -> dict[str, Any]:
        return _jsonable(engine.performance(order_id, period, who))

    @sim.get("/notifications")
    async def deliveries(who: str = caller) -> dict[str, Any]:
        await settle()
        return {"delivered": [r.to_json() for r in sender.log], "silenced": len(engine.silenced)}

    app.include_router(sim)
    return app


def _add_hub_routes(router: APIRouter, api: SonataApi, engine: SellerEngine, caller: Any) -> None:
    @router.post("/hub", status_code=201, name=f"register_{api.name}_listener")
    async def register(request: Request, who: str = caller) -> dict[str, Any]:
        return engine.subscribe(api, await _body(request, EventSubscriptionInput), who).to_json()

    @router.delete("/hub/{subscription_id}", status_code=204, name=f"unregister_{api.name}_listener")
    async def unregister(subscription_id: str, who: str = caller) -> Response:
        engine.unsubscribe(api, subscription_id, who)
        return Response(status_code=204)


async def _json(request: Request) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise SellerError(
            400, "invalidBody", f"Content-Type must be application/json, got {media or 'none'!r}"
        )
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise SellerError(400, "invalidBody", f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SellerError(400, "invalidBody", f"body is not JSON: {exc}") from None


async def _body(request: Request, model: type[M]) -> M:
    data = await _json(request)
    try:
        return validate(model, data)
    except ValueError as exc:
        raise SellerError(400, "invalidBody", str(exc)) from None


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
            return client_id, secret
        except (binascii.Error, UnicodeDecodeError):
            return None, None
    return form.get("client_id"), form.get("client_secret")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    return value


def run_seller(
    host: str = "127.0.0.1",
    port: int = 8080,
    profile: BehaviourProfile | str = "prompt-and-punctual",
    seed: int | str = 0,
    *,
    tokens: dict[str, str] | None = None,
    clients: dict[str, tuple[str, str]] | None = None,
    notification_token: str | None = None,
    clock_rate: float = 1.0,
    tick_seconds: float = 1.0,
    seller_id: str = "offnet-seller",
    log_level: str = "info",
) -> None:
    """Serve the reference seller until interrupted (what ``offnet sonata seller`` runs)."""
    import uvicorn

    app = create_seller_app(
        profile,
        seed,
        clock=SimulatedClock(rate=clock_rate),
        tokens=tokens,
        clients=clients,
        notification_token=notification_token,
        seller_id=seller_id,
        tick_seconds=tick_seconds,
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level)
