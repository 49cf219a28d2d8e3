"""The oracle's HTTP face: the MEF LSO Sonata notification paths, the signed quotes a seller serves
to its buyers, /healthz and /metrics.

Each event is authenticated (a per-peer bearer token, or an OAuth token carrying the event's
scope), validated, stored durably, and only then answered 204. Refusals of the notification paths
are MEF error bodies (``offnet.sonata.errors``): unknown sender 401, a token without the event's
scope 403, a body that is not JSON, too large or not a valid envelope 400 ``invalidBody`` with the
reason. Nothing is recorded for a refused request. A repeated eventId from the same peer is
acknowledged again (204) and stored once.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from offnet import __version__
from offnet.exceptions import SonataRefusal
from offnet.oracle.store import Store
from offnet.sonata.auth import BearerVerifier, TokenIssuer, notification_scope
from offnet.sonata.errors import refusal_response
from offnet.sonata.models import ANY_MEDIA_TYPE_EVENTS, SONATA_APIS, SonataApi, parse_notification

MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Peer:
    """A counterparty allowed to call us, known by the bearer token it presents."""

    name: str
    token: str
    member: str | None = None  # its member address (None for our own Sonata system)


class PeerAuth:
    """The one bearer-token check: which peer presented this request's token (constant-time compare)."""

    def __init__(self, peers: list[Peer]):
        self.peers = list(peers)

    def peer(self, request: Request) -> Peer | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        return next((p for p in self.peers if hmac.compare_digest(p.token.encode(), token.encode())), None)


def error_response(status: int, message: str) -> JSONResponse:
    """The one error body of the oracle's endpoints."""
    return JSONResponse({"code": str(status), "reason": message}, status_code=status)


# SignedQuotes(buyer member, rfq id) -> the signed quote JSON for that buyer, or None.
SignedQuotes = Callable[[str, str], dict | None]


class Metrics:
    """Prometheus metrics of one listener (its own registry, so several can live in one process)."""

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
        backlog = Gauge(
            "offnet_backlog", "events and reports by status", ["item", "status"], registry=self.registry
        )

        def collect_backlog() -> None:
            for key, value in store.counts().items():
                item, _, status = key.partition("_")
                backlog.labels(item, status).set(value)

        self._refresh = collect_backlog

    def render(self) -> bytes:
        self._refresh()
        return generate_latest(self.registry)


def create_listener_app(
    store: Store,
    peers: list[Peer],
    *,
    health: Callable[[], dict] | None = None,
    max_body: int = MAX_BODY_BYTES,
    oracle_peers: list[Peer] = (),
    signed_quotes: SignedQuotes | None = None,
    issuer: TokenIssuer | None = None,
) -> FastAPI:
    """Build the HTTP application of one carrier's oracle: `peers` notify it (with their static
    tokens, or with OAuth tokens of `issuer` whose subject is a peer name), `oracle_peers` (other
    carriers' oracles) fetch the signed quotes `signed_quotes` holds for them."""
    app = FastAPI(
        title="offnet oracle listener",
        version=__version__,
        description="MEF LSO Sonata notification listener of an offnet oracle relay.",
    )
    metrics = Metrics(store)
    app.state.metrics = metrics
    app.state.store = store

    notifiers = BearerVerifier({peer.token: peer.name for peer in peers}, issuer)
    oracles = PeerAuth(list(oracle_peers))

    def refuse(reason: str, refusal: SonataRefusal) -> Response:
        metrics.rejected.labels(reason).inc()
        return refusal_response(refusal)

    def make_handler(api: SonataApi, event_type: str):
        scope = notification_scope(api.name, event_type)
        any_media_type = event_type in ANY_MEDIA_TYPE_EVENTS

        async def handle(request: Request) -> Response:
            try:
                sender = notifiers.verify(request.headers.get("authorization"), scope)
            except SonataRefusal as refusal:
                if refusal.status == 401:
                    refusal = SonataRefusal(401, refusal.code, f"unknown sender: {refusal.message}")
                return refuse("unauthenticated" if refusal.status == 401 else "forbidden", refusal)
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if (
                not any_media_type
                and content_type != "application/json"
                and not content_type.endswith("+json")
            ):
                message = f"content type must be application/json, not {content_type or 'none'!r}"
                return refuse("content_type", SonataRefusal(400, "invalidBody", message))
            declared = request.headers.get("content-length")
            too_large = SonataRefusal(400, "invalidBody", f"body larger than {max_body} bytes")
            if declared and declared.isdigit() and int(declared) > max_body:
                return refuse("too_large", too_large)
            body = await request.body()
            if len(body) > max_body:
                return refuse("too_large", too_large)
            try:
                envelope = parse_notification(f"{api.notification}/v{api.version}", event_type, body)
            except ValueError as exc:
                return refuse("invalid", SonataRefusal(400, "invalidBody", str(exc)))
            data = envelope.model_dump(mode="json", by_alias=True, exclude_none=True)
            if store.record_event(sender, api.name, data, envelope.item_id):
                metrics.received.labels(api.name, envelope.eventType).inc()
            else:
                metrics.duplicates.inc()
            return Response(status_code=204)

        return handle

    for api in SONATA_APIS:
        for event_type, envelope in sorted(api.events.items()):
            app.add_api_route(
                api.listener_path(event_type),
                make_handler(api, event_type),
                methods=["POST"],
                status_code=204,
                name=f"{api.notification}.{event_type}",
                summary=f"Receive a {event_type} notification",
                tags=[api.notification],
                response_class=Response,
                responses={
                    204: {"description": "stored"},
                    400: {"description": "not JSON, too large, or not a valid envelope (invalidBody)"},
                    401: {"description": "unknown sender"},
                    403: {"description": "a token without this event's scope"},
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
        def signed_quote(rfq_id: str, request: Request) -> JSONResponse:
            """The signed quote this seller committed for an RFQ (only to that RFQ's buyer)."""
            peer = oracles.peer(request)
            if peer is None or peer.member is None:
                return error_response(401, "unknown peer")
            if not rfq_id.isdigit():
                return error_response(400, "rfq id must be a decimal integer")
            stored = signed_quotes(peer.member, rfq_id)
            if stored is None:
                return error_response(404, f"no signed quote for RFQ {rfq_id}")
            return JSONResponse(stored)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        status = {"status": "ok", "version": __version__}
        try:
            status["backlog"] = store.counts()
            if health:
                status.update(health())
        except Exception as exc:  # any dependency failure makes the oracle unhealthy, with the reason
            return JSONResponse(
                {"status": "unhealthy", "reason": f"{exc.__class__.__name__}: {exc}"}, status_code=503
            )
        return JSONResponse(status)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app
