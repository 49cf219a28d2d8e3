"""HTTP face of the reference seller: the seller side of Quote v8, ProductOrder v10, TroubleTicket v4
and their hubs at the standard's paths, an OAuth 2.0 token endpoint, and non-MEF simulator endpoints
(``/simulator/...``: clock, fault injection, in-life performance measurements, delivery log)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from offnet.exceptions import SellerError, SonataRefusal
from offnet.sonata.auth import BearerVerifier, TokenIssuer, token_response
from offnet.sonata.errors import MEDIA_TYPE, issues_from, refusal_response
from offnet.sonata.models import (
    PRODUCT_ORDER_API,
    QUOTE_API,
    TROUBLE_TICKET_API,
    CancelProductOrderCreate,
    EventSubscriptionInput,
    ProductOrderCreate,
    QuoteCreate,
    QuoteOperation,
    Reason,
    SonataApi,
    SonataModel,
    TroubleTicketCreate,
    TroubleTicketUpdate,
)
from offnet.sonata.seller.clock import Clock, SimulatedClock
from offnet.sonata.seller.engine import SellerEngine
from offnet.sonata.seller.notifier import NotificationSender
from offnet.sonata.seller.profiles import BehaviourProfile, get_profile
from offnet.sonata.seller.store import SellerStore

M = TypeVar("M", bound=BaseModel)

TOKEN_PATH = "/oauth2/token"
MAX_BODY_BYTES = 1_000_000


@dataclass
class SellerAuth:
    """Who may call the seller: static bearer tokens (every scope) and OAuth clients (the scopes
    they are allowed), each mapped to a buyer id; see ``offnet.sonata.auth``."""

    issuer: TokenIssuer
    verifier: BearerVerifier

    @classmethod
    def build(
        cls,
        tokens: dict[str, str] | None = None,
        clients: dict[str, tuple[Any, ...]] | None = None,
        token_ttl: int = 3600,
    ) -> SellerAuth:
        """``tokens``: token -> buyer id; ``clients``: client id -> (secret, buyer id[, scopes])."""
        registered = {
            client: (
                entry[0],
                entry[1],
                frozenset(entry[2]) if len(entry) > 2 and entry[2] is not None else None,
            )
            for client, entry in (clients or {}).items()
        }
        issuer = TokenIssuer(registered, ttl=token_ttl)
        return cls(issuer, BearerVerifier(dict(tokens or {}), issuer))

    def revoke_issued(self) -> None:
        """Invalidate every token issued so far (static tokens stay valid)."""
        self.issuer.revoke_all()


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """A MEF error answer (see ``offnet.sonata.errors``)."""
    return refusal_response(SonataRefusal(status, code, message))


# Optional operations of the three APIs that this seller does not implement: MEF wants 501.
NOT_IMPLEMENTED: tuple[tuple[SonataApi, str, str], ...] = (
    (PRODUCT_ORDER_API, "PATCH", "/productOrder/{id}"),
    (PRODUCT_ORDER_API, "GET", "/cancelProductOrder"),
    (PRODUCT_ORDER_API, "GET", "/charge"),
    (PRODUCT_ORDER_API, "GET", "/charge/{id}"),
    (PRODUCT_ORDER_API, "PATCH", "/charge/{id}"),
    (PRODUCT_ORDER_API, "GET", "/modifyProductOrderItemRequestedDeliveryDate"),
    (PRODUCT_ORDER_API, "POST", "/modifyProductOrderItemRequestedDeliveryDate"),
    (PRODUCT_ORDER_API, "GET", "/modifyProductOrderItemRequestedDeliveryDate/{id}"),
    (TROUBLE_TICKET_API, "GET", "/incident"),
    (TROUBLE_TICKET_API, "GET", "/incident/{id}"),
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
    database: str | None = None,
) -> FastAPI:
    """The reference seller as an ASGI app.

    ``tokens`` maps static bearer tokens to buyer ids; ``clients`` maps OAuth client ids to
    ``(secret, buyer id)`` for the client-credentials endpoint at ``/oauth2/token``. Notifications
    carry ``Authorization: Bearer {notification_token}``. ``clock`` defaults to a frozen
    SimulatedClock moved by ``POST /simulator/clock/advance``; with ``tick_seconds`` > 0 a background
    task also runs due transitions and sends notifications that often (for real-time clocks).
    ``database`` (a SQLite path or SQLAlchemy URL) keeps quotes, orders, tickets, hub
    subscriptions and planned transitions across restarts.
    """
    behaviour = get_profile(profile) if isinstance(profile, str) else profile
    clock = clock or SimulatedClock()
    engine = SellerEngine(
        behaviour,
        seed,
        clock,
        seller_id=seller_id,
        instance=instance or uuid.uuid4().hex[:6],
        store=SellerStore(database) if database else None,
    )
    auth = SellerAuth.build(tokens, clients)
    sender = NotificationSender(notification_token)
    faults = {"fail_next": 0, "status": 503}
    asked: dict[tuple[str, str], int] = {}
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
                    engine.commit()
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

    @app.exception_handler(SonataRefusal)
    async def refused(request: Request, exc: SonataRefusal) -> JSONResponse:
        return refusal_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Unknown paths and methods still answer as MEF documents.
        code = {404: "notFound", 405: "notImplemented"}.get(exc.status_code, "internalError")
        status = 501 if exc.status_code == 405 else exc.status_code
        return error_response(status, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "invalidQuery", "; ".join(str(e.get("msg")) for e in exc.errors()))

    @app.middleware("http")
    async def progress_and_faults(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        engine.progress()
        if request.url.path.startswith("/mefApi/"):
            if faults["fail_next"] > 0:
                faults["fail_next"] -= 1
                return error_response(faults["status"], "temporarilyUnavailable", "injected fault")
            # Keyed by the request itself (method, path and how often it was asked), not by the order
            # requests arrive in: concurrent callers meet the same failures on every run of a seed.
            key = (request.method, request.url.path)
            attempt = asked[key] = asked.get(key, 0) + 1
            if engine.rng("http", *key, attempt).random() < behaviour.error_probability:
                return error_response(500, "internalError", "simulated seller failure")
        response = await call_next(request)
        engine.commit()
        if engine.outbox:
            task = asyncio.create_task(flush())
            background.add(task)
            task.add_done_callback(background.discard)
        return response

    def caller(scope: str) -> Any:
        """The buyer behind the request's bearer token, which must carry ``scope``."""

        async def buyer(request: Request) -> str:
            return auth.verifier.verify(request.headers.get("authorization"), scope)

        return Depends(buyer)

    simulator = caller("simulator")

    # --- OAuth 2.0 client credentials ---

    @app.post(TOKEN_PATH, tags=["auth"])
    async def token(request: Request) -> JSONResponse:
        status, body, headers = token_response(
            auth.issuer,
            request.headers.get("content-type", ""),
            await request.body(),
            request.headers.get("authorization"),
        )
        return JSONResponse(body, status_code=status, headers=headers)

    # --- Quote v8 ---

    quote = APIRouter(prefix=QUOTE_API.management_base, tags=["quote"])
    _add_collection_routes(
        quote, "quote", QuoteCreate, engine.create_quote, engine.list_quotes, engine.get_quote, caller
    )

    @quote.post("/cancelQuote")
    async def cancel_quote(request: Request, who: str = caller("cancelQuote")) -> JSONResponse:
        op = await _body(request, QuoteOperation)
        return _ok(engine.cancel_quote(op.quoteId, who, op.reason))

    @quote.post("/rejectQuote")
    async def reject_quote(request: Request, who: str = caller("rejectQuote")) -> JSONResponse:
        op = await _body(request, QuoteOperation)
        return _ok(engine.reject_quote(op.quoteId, who, op.reason))

    # --- ProductOrder v10 ---

    order = APIRouter(prefix=PRODUCT_ORDER_API.management_base, tags=["productOrder"])
    _add_collection_routes(
        order,
        "productOrder",
        ProductOrderCreate,
        engine.create_order,
        engine.list_orders,
        engine.get_order,
        caller,
    )

    @order.post("/cancelProductOrder", status_code=201)
    async def cancel_order(request: Request, who: str = caller("createCancelProductOrder")) -> JSONResponse:
        return _created(engine.cancel_order(await _body(request, CancelProductOrderCreate), who))

    @order.get("/cancelProductOrder/{cancel_id}")
    async def get_cancellation(
        cancel_id: str, who: str = caller("retrieveCancelProductOrder")
    ) -> JSONResponse:
        return _ok(engine.get_cancellation(cancel_id, who))

    # --- TroubleTicket v4 ---

    ticket = APIRouter(prefix=TROUBLE_TICKET_API.management_base, tags=["troubleTicket"])
    _add_collection_routes(
        ticket,
        "troubleTicket",
        TroubleTicketCreate,
        engine.create_ticket,
        engine.list_tickets,
        engine.get_ticket,
        caller,
    )

    @ticket.patch("/troubleTicket/{ticket_id}")
    async def update_ticket(
        ticket_id: str, request: Request, who: str = caller("patchTroubleTicket")
    ) -> JSONResponse:
        engine.get_ticket(ticket_id, who)  # 404 before the body is judged
        return _ok(engine.update_ticket(ticket_id, await _body(request, TroubleTicketUpdate), who))

    @ticket.post("/troubleTicket/{ticket_id}/cancel", status_code=204)
    async def cancel_ticket(ticket_id: str, who: str = caller("cancelTroubleTicket")) -> Response:
        engine.cancel_ticket(ticket_id, who)
        return Response(status_code=204)

    @ticket.post("/troubleTicket/{ticket_id}/close", status_code=204)
    async def close_ticket(ticket_id: str, who: str = caller("closeTroubleTicket")) -> Response:
        engine.close_ticket(ticket_id, who)
        return Response(status_code=204)

    @ticket.post("/troubleTicket/{ticket_id}/reopen", status_code=204)
    async def reopen_ticket(
        ticket_id: str, request: Request, who: str = caller("reopenTroubleTicket")
    ) -> Response:
        engine.get_ticket(ticket_id, who)
        engine.reopen_ticket(ticket_id, who, (await _body(request, Reason)).reason)
        return Response(status_code=204)

    for api, method, path in NOT_IMPLEMENTED:
        router = {PRODUCT_ORDER_API.name: order, TROUBLE_TICKET_API.name: ticket}[api.name]
        router.add_api_route(
            path.replace("{id}", "{resource_id}"),
            _not_implemented(method, path),
            methods=[method],
            name=f"{api.name}:{method} {path}",
            status_code=501,
        )

    for router, api in ((quote, QUOTE_API), (order, PRODUCT_ORDER_API), (ticket, TROUBLE_TICKET_API)):
        _add_hub_routes(router, api, engine, caller)
        app.include_router(router)

    # --- simulator (not MEF) ---

    sim = APIRouter(prefix="/simulator", tags=["simulator"])

    @sim.get("/clock")
    async def get_clock(who: str = simulator) -> dict[str, Any]:
        return {"now": clock().isoformat(), "profile": behaviour.name}

    @sim.post("/clock/advance")
    async def advance(request: Request, who: str = simulator) -> dict[str, Any]:
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
        engine.commit()
        return {"now": now.isoformat(), "transitions": transitions, "deliveries": await settle()}

    @sim.post("/faults")
    async def set_faults(request: Request, who: str = simulator) -> dict[str, Any]:
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
    async def performance(order_id: str, period: str, who: str = simulator) -> dict[str, Any]:
        return _jsonable(engine.performance(order_id, period, who))

    @sim.get("/notifications")
    async def deliveries(who: str = simulator) -> dict[str, Any]:
        await settle()
        return {"delivered": [r.to_json() for r in sender.log], "silenced": len(engine.silenced)}

    app.include_router(sim)
    return app


def _add_collection_routes(
    router: APIRouter,
    resource: str,
    create_model: type[M],
    create: Callable[[M, str], SonataModel],
    listing: Callable[[str, dict[str, str]], list[dict[str, Any]]],
    get: Callable[[str, str], SonataModel],
    caller: Any,
) -> None:
    """``POST /{resource}``, ``GET /{resource}`` and ``GET /{resource}/{id}`` of one MEF collection
    (quote, productOrder, troubleTicket), answered by the engine's ``create``, ``listing`` and ``get``;
    the scopes are MEF's operation names (createQuote, listQuote, retrieveQuote, ...)."""
    operation = resource[0].upper() + resource[1:]

    @router.post(f"/{resource}", status_code=201, name=create.__name__)
    async def create_one(request: Request, who: str = caller(f"create{operation}")) -> JSONResponse:
        return _created(create(await _body(request, create_model), who))

    @router.get(f"/{resource}", name=listing.__name__)
    async def list_all(request: Request, who: str = caller(f"list{operation}")) -> JSONResponse:
        return _page(request, listing(who, _filters(request)))

    @router.get(f"/{resource}/{{resource_id}}", name=get.__name__)
    async def get_one(resource_id: str, who: str = caller(f"retrieve{operation}")) -> JSONResponse:
        return _ok(get(resource_id, who))


def _add_hub_routes(router: APIRouter, api: SonataApi, engine: SellerEngine, caller: Any) -> None:
    @router.post("/hub", status_code=201, name=f"register_{api.name}_listener")
    async def register(request: Request, who: str = caller("registerListener")) -> JSONResponse:
        # The hub operations document no 422: a body the schema refuses is a 400 invalidBody.
        try:
            subscription = await _body(request, EventSubscriptionInput)
        except SonataRefusal as exc:
            raise SellerError(
                400, "invalidBody", "; ".join(issue[2] for issue in exc.issues) or exc.message
            ) from None
        return _created(engine.subscribe(api, subscription, who))

    @router.get("/hub/{subscription_id}", name=f"retrieve_{api.name}_listener")
    async def retrieve(subscription_id: str, who: str = caller("retrieveHub")) -> JSONResponse:
        return _ok(engine.subscription(api, subscription_id, who))

    @router.delete("/hub/{subscription_id}", status_code=204, name=f"unregister_{api.name}_listener")
    async def unregister(subscription_id: str, who: str = caller("unregisterListener")) -> Response:
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
    """The body judged by the MEF schema: 400 if it is not JSON, 422 (one issue per property) if
    the schema refuses it."""
    data = await _json(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SellerError(422, "invalidValue", str(exc), issues_from(exc)) from None


def _ok(document: SonataModel) -> JSONResponse:
    return JSONResponse(document.to_json(), media_type=MEDIA_TYPE)


def _created(document: SonataModel) -> JSONResponse:
    return JSONResponse(document.to_json(), status_code=201, media_type=MEDIA_TYPE)


def _filters(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in ("offset", "limit")}


def _page(request: Request, entries: list[dict[str, Any]]) -> JSONResponse:
    """One page of a list (``offset``, ``limit``) with MEF's pagination headers."""
    try:
        offset = int(request.query_params.get("offset", "0"))
        limit = int(request.query_params.get("limit", "100"))
    except ValueError:
        raise SellerError(400, "invalidQuery", "offset and limit must be integers") from None
    if offset < 0 or limit < 0:
        raise SellerError(400, "invalidQuery", "offset and limit must be >= 0")
    page = entries[offset : offset + limit]
    headers = {
        "X-Total-Count": str(len(entries)),
        "X-Result-Count": str(len(page)),
        "X-Pagination-Throttled": "false",
    }
    return JSONResponse(page, headers=headers, media_type=MEDIA_TYPE)


def _not_implemented(method: str, path: str) -> Callable[..., Awaitable[Response]]:
    async def refuse(request: Request) -> Response:
        return error_response(501, "notImplemented", f"this seller does not implement {method} {path}")

    return refuse


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
    database: str | None = None,
) -> None:
    """Serve the reference seller until interrupted (what ``offnet sonata seller`` runs)."""
    from offnet.serving import http_server

    app = create_seller_app(
        profile,
        seed,
        clock=SimulatedClock(rate=clock_rate),
        tokens=tokens,
        clients=clients,
        notification_token=notification_token,
        seller_id=seller_id,
        tick_seconds=tick_seconds,
        database=database,
    )
    http_server(app, host, port, log_level=log_level, lifespan="on").run()
