"""The oracle's HTTP face: the MEF LSO Sonata notification paths, the signed quotes a seller serves to
its buyers, and the operations endpoints (/healthz, /metrics).

A notification is authenticated (a per-peer bearer token, or an OAuth token carrying the event's
scope), read within a deadline and a size cap (streamed: a chunked body is cut off at the cap, not
read whole first), validated, and stored in a group commit before it is answered 204; the event loop
never waits on the database. Refusals of the notification paths are MEF error bodies
(``offnet.sonata.errors``): unknown sender 401, a token without the event's scope 403, too slow a
body 408 ``timeOut``, a wrong content type, an oversize or a malformed body 400 ``invalidBody`` with
the reason. Storage busy: 503 with Retry-After. Nothing is recorded for a refused request, and a
repeated eventId from the same peer is acknowledged again (204) and stored once.

The HTTP server (`offnet.serving`) closes a connection whose request head does not arrive in time or
grows past its cap, so half-sent requests cannot pile up; its concurrency limit answers 503 beyond it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from offnet import __version__
from offnet.exceptions import SonataRefusal
from offnet.oracle.committer import Committer, StorageBusy
from offnet.oracle.config import OracleConfig
from offnet.oracle.peers import SELF
from offnet.oracle.store import ID, Store
from offnet.sonata.auth import BearerVerifier, TokenIssuer, notification_scope, token_response
from offnet.sonata.errors import refusal_response
from offnet.sonata.models import ANY_MEDIA_TYPE_EVENTS, SONATA_APIS, SonataApi, parse_notification

log = logging.getLogger("offnet.oracle.listener")
MAX_BODY_BYTES = 64 * 1024
MAX_ID = ID  # the longest event, resource or item id stored
BODY_TIMEOUT = 10.0  # seconds to receive a whole body once its head arrived
STORE_TIMEOUT = 5.0  # seconds an event may wait for its group commit before the peer is told to retry
RETRY_AFTER = "5"
SIGNED_QUOTE_SCOPE = "offnetSignedQuotes"  # static peer-oracle tokens carry every scope
OPERATIONS_SCOPE = "offnetOperations"


@dataclass(frozen=True)
class Peer:
    """A counterparty allowed to call us, known by the bearer token it presents."""

    name: str
    token: str
    member: str | None = None  # its member address (None for our own Sonata system)


def _refused(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error body of every oracle endpoint: MEF's (offnet.sonata.errors)."""
    return refusal_response(SonataRefusal(status, code, message), headers)


class ListenerApp(FastAPI):
    """The FastAPI application of the listener, with one short way in: a POST to a notification path
    goes straight to its handler, skipping the router and the middleware stack (most of the CPU a
    notification would otherwise cost). The routes stay registered, so the OpenAPI document is the
    same; any other request, or a path that is not exactly a notification path, takes the usual way."""

    notifications: dict[str, Callable[[Request], Awaitable[Response]]]

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        if scope["type"] == "http" and scope["method"] == "POST":
            handler = self.notifications.get(scope["path"])
            if handler is not None:
                try:
                    response = await handler(Request(scope, receive))
                except Exception:  # what the server error middleware would do, in MEF's error shape
                    log.exception("notification to %s failed", scope["path"])
                    response = _refused(500, "internalError", "the notification could not be handled")
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


# SignedQuotes(buyer member, rfq id) -> the signed quote JSON for that buyer, or None.
SignedQuotes = Callable[[str, str], dict | None]
# Health() -> (healthy, the report served at /healthz)
Health = Callable[[], Awaitable[tuple[bool, dict]]]


class Metrics:
    """Prometheus metrics of one oracle (its own registry, so several can live in one process)."""

    def __init__(self, store: Store):
        self.registry = CollectorRegistry()
        self.received = Counter(
            "offnet_events_received",
            "Sonata notifications accepted",
            ["api", "event_type"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "offnet_events_rejected", "Sonata notifications refused", ["reason"], registry=self.registry
        )
        self.duplicates = Counter(
            "offnet_events_duplicate", "notifications with an eventId already stored", registry=self.registry
        )
        self.backlog = Gauge(
            "offnet_backlog",
            "events and reports by status (dead = dead letters)",
            ["item", "status"],
            registry=self.registry,
        )
        self.duty_ok = Gauge(
            "offnet_duty_ok", "1 while a duty is not stuck", ["duty"], registry=self.registry
        )
        self.store = store

    async def render(self, health: Health | None) -> bytes:
        counts = await asyncio.to_thread(self.store.counts)
        for key, value in counts.items():
            item, _, status = key.partition("_")
            self.backlog.labels(item, status).set(value)
        if health is not None:
            _, report = await health()
            for name, duty in report.get("duties", {}).items():
                self.duty_ok.labels(name).set(1 if duty["ok"] else 0)
        return generate_latest(self.registry)


def create_listener_app(
    store: Store,
    peers: list[Peer],
    *,
    committer: Committer | None = None,
    on_event: Callable[[], None] | None = None,
    health: Health | None = None,
    max_body: int = MAX_BODY_BYTES,
    oracle_peers: list[Peer] = (),
    signed_quotes: SignedQuotes | None = None,
    operations: bool = True,
    admin_token: str | None = None,
    issuer: TokenIssuer | None = None,
) -> FastAPI:
    """The HTTP application of one carrier's oracle: `peers` notify it (with their static tokens, or
    with OAuth tokens of `issuer` whose subject is a peer name), `oracle_peers` (other carriers'
    oracles) fetch the signed quotes `signed_quotes` holds for them. `operations`: serve /healthz and
    /metrics here too (False when they have an admin address of their own); `admin_token` protects them.
    """
    app = ListenerApp(
        title="offnet oracle listener",
        version=__version__,
        description="MEF LSO Sonata notification listener of an offnet oracle relay.",
    )
    committer = committer or Committer(store.engine).start()
    metrics = Metrics(store)
    app.state.metrics = metrics
    app.state.store = store
    # The one bearer check, three audiences: notifying peers (static tokens or our issuer's OAuth
    # tokens), peer oracles fetching signed quotes, and operators (the admin token).
    notifiers = BearerVerifier({peer.token: peer.name for peer in peers}, issuer)
    oracles = BearerVerifier({peer.token: peer.name for peer in oracle_peers})
    members = {peer.name: peer.member for peer in oracle_peers}
    woken = on_event or (lambda: None)

    def refuse(
        reason: str, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        metrics.rejected.labels(reason).inc()
        return _refused(status, code, message, headers)

    async def read_body(request: Request) -> bytes | JSONResponse:
        too_large = f"body larger than {max_body} bytes"
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_body:
            return refuse("too_large", 400, "invalidBody", too_large)
        chunks, size = [], 0
        try:
            async with asyncio.timeout(BODY_TIMEOUT):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > max_body:
                        return refuse("too_large", 400, "invalidBody", too_large)
                    chunks.append(chunk)
        except TimeoutError:
            return refuse("slow_body", 408, "timeOut", f"the body did not arrive within {BODY_TIMEOUT:g} s")
        return b"".join(chunks)

    def make_handler(api: SonataApi, event_type: str):
        scope = notification_scope(api.name, event_type)
        any_media_type = event_type in ANY_MEDIA_TYPE_EVENTS  # the spec declares "*/*" there

        async def handle(request: Request) -> Response:
            try:
                sender = notifiers.verify(request.headers.get("authorization"), scope)
            except SonataRefusal as refusal:
                reason = "unauthenticated" if refusal.status == 401 else "forbidden"
                return refuse(reason, refusal.status, refusal.code, f"unknown sender: {refusal.message}")
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if (
                not any_media_type
                and content_type != "application/json"
                and not content_type.endswith("+json")
            ):
                message = f"content type must be application/json, not {content_type[:40] or 'none'!r}"
                return refuse("content_type", 400, "invalidBody", message)
            body = await read_body(request)
            if isinstance(body, Response):
                return body
            try:
                envelope = parse_notification(f"{api.notification}/v{api.version}", event_type, body)
                data = envelope.model_dump(mode="json", by_alias=True, exclude_none=True)
            except Exception as exc:  # any malformed body (bad JSON, too deep, wrong shape) is the sender's
                return refuse("invalid", 400, "invalidBody", _reason(exc))
            item_id = envelope.item_id
            ids = [("eventId", data["eventId"]), ("event.id", data["event"]["id"]), ("item id", item_id)]
            ids = [(name, str(value)) for name, value in ids if value is not None]
            too_long = [name for name, value in ids if len(value) > MAX_ID]
            if too_long:
                return refuse(
                    "invalid", 400, "invalidBody", f"{', '.join(too_long)} longer than {MAX_ID} characters"
                )
            # A NUL character is the one text a PostgreSQL column cannot hold: refused on either database.
            nul = [name for name, value in ids if "\x00" in value]
            if nul:
                return refuse("invalid", 400, "invalidBody", f"{', '.join(nul)} holds a NUL character")
            try:
                stored = await committer.execute_batched(
                    store.record_events, (sender, api.name, data, item_id), timeout=STORE_TIMEOUT
                )
            except StorageBusy as busy:
                return refuse(
                    "busy",
                    503,
                    "serviceUnavailable",
                    f"storage busy, retry later ({busy})",
                    {"Retry-After": RETRY_AFTER},
                )
            if stored:
                metrics.received.labels(api.name, envelope.eventType).inc()
                woken()
            else:
                metrics.duplicates.inc()
            return Response(status_code=204)

        return handle

    app.notifications = {}
    for api in SONATA_APIS:
        for event_type, envelope in sorted(api.events.items()):
            handler = app.notifications[api.listener_path(event_type)] = make_handler(api, event_type)
            app.add_api_route(
                api.listener_path(event_type),
                handler,
                methods=["POST"],
                status_code=204,
                name=f"{api.notification}.{event_type}",
                summary=f"Receive a {event_type} notification",
                tags=[api.notification],
                response_class=Response,
                responses={
                    204: {"description": "stored"},
                    400: {"description": "not JSON, too large or not a valid envelope (invalidBody)"},
                    401: {"description": "unknown sender"},
                    403: {"description": "a token without this event's scope"},
                    408: {"description": "body too slow (timeOut)"},
                    503: {"description": "storage busy: retry after the Retry-After header's seconds"},
                },
                openapi_extra={
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": envelope.model_json_schema(by_alias=True)}
                        },
                    }
                },
            )

    if signed_quotes is not None:

        @app.get("/offnet/v1/signedQuotes/{rfq_id}", tags=["offnet"])
        async def signed_quote(rfq_id: str, request: Request) -> JSONResponse:
            """The signed quote this seller committed for an RFQ (only to that RFQ's buyer)."""
            try:
                peer = oracles.verify(request.headers.get("authorization"), SIGNED_QUOTE_SCOPE)
            except SonataRefusal as refusal:
                return refusal_response(refusal)
            if not rfq_id.isdigit() or len(rfq_id) > 80:
                return _refused(400, "invalidQuery", "rfq id must be a decimal integer")
            stored = await asyncio.to_thread(signed_quotes, members[peer], rfq_id)
            if stored is None:
                return _refused(404, "notFound", f"no signed quote for RFQ {rfq_id}")
            return JSONResponse(stored)

    if issuer is not None:

        @app.post("/oauth2/token", tags=["offnet"])
        async def token(request: Request) -> JSONResponse:
            """OAuth 2.0 client credentials for the peers that notify us (client id = the peer's name)."""
            body = await read_body(request)
            if isinstance(body, Response):
                return body
            status, answer, headers = token_response(
                issuer, request.headers.get("content-type", ""), body, request.headers.get("authorization")
            )
            return JSONResponse(answer, status_code=status, headers=headers)

    if operations:
        add_operations(app, metrics, health, admin_token)
    return app


def listener_apps(
    config: OracleConfig,
    store: Store,
    committer: Committer,
    *,
    on_event: Callable[[], None],
    health: Health,
    signed_quotes: SignedQuotes | None,
) -> tuple[FastAPI, FastAPI | None]:
    """The listener of `config`'s oracle, and its admin app when the config gives operations an address
    of their own. Who may call: each peer with its inbound token (or an OAuth token of the clients the
    config names), our own Sonata system with its notification token, peer oracles (for signed quotes)
    with their oracle token, operators with the admin token."""
    notifiers = [Peer(p.name, p.inbound_token.read(), p.member) for p in config.peers]
    if config.seller:
        notifiers.append(Peer(SELF, config.seller.notification_token.read()))
    clients = {
        p.name: (p.inbound_client_secret.read(), p.name, None)
        for p in config.peers
        if p.inbound_client_secret
    }
    admin_token = config.admin.token.read() if config.admin.token else None
    separate = config.admin.listen_host is not None
    app = create_listener_app(
        store,
        notifiers,
        committer=committer,
        on_event=on_event,
        health=health,
        oracle_peers=[
            Peer(p.name, (p.oracle_token or p.inbound_token).read(), p.member) for p in config.peers
        ],
        signed_quotes=signed_quotes,
        operations=not separate,
        admin_token=admin_token,
        issuer=TokenIssuer(clients) if clients else None,
    )
    return app, create_admin_app(store, health, admin_token) if separate else None


def create_admin_app(store: Store, health: Health | None, admin_token: str | None = None) -> FastAPI:
    """/healthz and /metrics alone, for an admin address of their own."""
    app = FastAPI(title="offnet oracle operations", version=__version__)
    add_operations(app, Metrics(store), health, admin_token)
    return app


def add_operations(app: FastAPI, metrics: Metrics, health: Health | None, admin_token: str | None) -> None:
    """/healthz (each duty's last success; 503 when one is stuck) and /metrics (Prometheus)."""
    admins = BearerVerifier({admin_token: "admin"}) if admin_token else None

    def refusal(request: Request) -> JSONResponse | None:
        if admins is None:
            return None
        try:
            admins.verify(request.headers.get("authorization"), OPERATIONS_SCOPE)
        except SonataRefusal as refused:
            return refusal_response(refused)
        return None

    @app.get("/healthz", tags=["operations"])
    async def healthz(request: Request) -> JSONResponse:
        if (refused := refusal(request)) is not None:
            return refused
        report: dict = {"status": "ok", "version": __version__}
        healthy = True
        if health is not None:
            healthy, details = await health()
            report.update(details)
        if not healthy:
            report["status"] = "unhealthy"
        return JSONResponse(report, status_code=200 if healthy else 503)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def prometheus(request: Request) -> Response:
        if (refused := refusal(request)) is not None:
            return refused
        return Response(await metrics.render(health), media_type=CONTENT_TYPE_LATEST)


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "body nested too deeply"
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        return "body is not valid JSON"
    return " ".join(str(exc).split())[:255] or exc.__class__.__name__
