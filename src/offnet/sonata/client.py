"""Async client of a seller's Sonata APIs: Quote v8, ProductOrder v10, TroubleTicket v4 and their hubs.

It sends only requests MEF's schemas accept (each is validated before it leaves) and reads every
answer they accept (any item state, an item without a state, ``QuoteOperationData``). Retries with
exponential backoff on connection errors, timeouts and 5xx answers (never on 4xx; a POST or PATCH
after a lost connection or a timeout only if it never left, so the seller never gets it twice
unasked); refreshes an OAuth token once on 401. Every failure surfaces as SonataError with the HTTP status, the MEF code
and the seller's reasons (each issue of a 422 array).
"""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel

from offnet.exceptions import AuthError, SonataError
from offnet.sonata.auth import StaticToken, TokenSource
from offnet.sonata.errors import read_errors
from offnet.sonata.models import (
    PRODUCT_ORDER_API,
    QUOTE_API,
    SONATA_APIS,
    TROUBLE_TICKET_API,
    CancelProductOrder,
    CancelProductOrderCreate,
    EventSubscription,
    EventSubscriptionInput,
    ProductOrder,
    ProductOrderCreate,
    ProductOrderSummary,
    Quote,
    QuoteCreate,
    QuoteOperation,
    QuoteSummary,
    Reason,
    RelatedContactInformation,
    SonataApi,
    SonataModel,
    TroubleTicket,
    TroubleTicketCreate,
    TroubleTicketSummary,
    TroubleTicketUpdate,
    validate,
)
from offnet.sonata.transport import IDEMPOTENT, Answer, AnswerTooLarge, HttpPool

M = TypeVar("M", bound=BaseModel)

_RETRYABLE = (httpx.TransportError,)  # connect/read/write errors and timeouts
# Failures before the request could have reached the seller: the only ones a POST or PATCH is sent
# again after (after any other, the seller may have acted on it: a second quote or order).
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
INVALID_ANSWER = "invalidAnswer"  # SonataError.code of an answer that is not the document asked for


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One default TLS context for every client: building one costs ~0.1 s of CPU each time."""
    return ssl.create_default_context()


class SonataClient:
    """Buyer-side client of one seller: ``SonataClient("https://seller.example", auth)``.

    ``base_url`` is the seller's server base; the standard's paths (``/mefApi/sonata/...``) are
    appended. ``auth`` is a TokenSource, a static token string, or None.
    """

    def __init__(
        self,
        base_url: str,
        auth: TokenSource | str | None = None,
        *,
        timeout: float = 10.0,
        deadline: float = 30.0,
        max_bytes: int = 1 << 20,
        retries: int = 3,
        backoff: float = 0.25,
        max_backoff: float = 5.0,
        buyer_id: str | None = None,
        seller_id: str | None = None,
        transport: HttpPool | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # A peer that trickles bytes or sends a huge document must not hold a worker: every call has
        # a total deadline (retries included) and every answer a size cap.
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.auth: TokenSource | None = StaticToken(auth) if isinstance(auth, str) else auth
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.buyer_id = buyer_id
        self.seller_id = seller_id
        self.timeout = timeout
        # Every request names the buyer and the seller it is about when the client knows them.
        self._ids = {k: v for k, v in (("buyerId", buyer_id), ("sellerId", seller_id)) if v}
        self._ids_query = urlencode(self._ids)
        self._http = transport or HttpPool(shared_ssl_context())

    async def __aenter__(self) -> SonataClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # --- Quote v8 ---

    async def create_quote(self, quote: QuoteCreate | dict[str, Any]) -> Quote:
        """POST /quote."""
        return await self._call(Quote, "POST", QUOTE_API, "/quote", _body(QuoteCreate, quote))

    async def get_quote(self, quote_id: str) -> Quote:
        """GET /quote/{id}."""
        return await self._call(Quote, "GET", QUOTE_API, f"/quote/{_segment(quote_id)}")

    async def list_quotes(self, **filters: str) -> list[QuoteSummary]:
        """GET /quote (filters as query parameters, e.g. ``state="approved.orderable"``)."""
        return await self._list(QuoteSummary, QUOTE_API, "/quote", filters)

    async def cancel_quote(self, quote_id: str, reason: str | None = None) -> QuoteOperation:
        """POST /cancelQuote: withdraw a quote request still in progress."""
        body = QuoteOperation(quoteId=quote_id, **_given(reason=reason)).to_json()
        return await self._call(QuoteOperation, "POST", QUOTE_API, "/cancelQuote", body)

    async def reject_quote(self, quote_id: str, reason: str | None = None) -> QuoteOperation:
        """POST /rejectQuote: decline an answered quote."""
        body = QuoteOperation(quoteId=quote_id, **_given(reason=reason)).to_json()
        return await self._call(QuoteOperation, "POST", QUOTE_API, "/rejectQuote", body)

    # --- ProductOrder v10 ---

    async def create_product_order(self, order: ProductOrderCreate | dict[str, Any]) -> ProductOrder:
        """POST /productOrder (an item accepts a quote through ``quoteItem {id, quoteId}``)."""
        return await self._call(
            ProductOrder, "POST", PRODUCT_ORDER_API, "/productOrder", _body(ProductOrderCreate, order)
        )

    async def find_product_orders(self, *, external_id: str) -> list[str]:
        """GET /productOrder?externalId=...: the ids of the buyer's orders carrying that externalId.

        A seller that does not list orders (404, 405, 501) gives an empty list: the caller then knows
        nothing more and decides alone (the oracle places the order, which carries the externalId).
        """
        try:
            response = await self._send(
                "GET", PRODUCT_ORDER_API, "/productOrder?" + urlencode({"externalId": external_id})
            )
        except SonataError as exc:
            if exc.status in (404, 405, 501):
                return []
            raise
        try:
            found = response.json()
        except ValueError:
            found = None
        if not isinstance(found, list):
            raise SonataError(response.status, "order list is not a JSON array", code=INVALID_ANSWER)
        return [
            str(entry["id"])
            for entry in found
            if isinstance(entry, dict) and entry.get("id") and entry.get("externalId") == external_id
        ]

    async def get_product_order(self, order_id: str) -> ProductOrder:
        """GET /productOrder/{id}."""
        return await self._call(ProductOrder, "GET", PRODUCT_ORDER_API, f"/productOrder/{_segment(order_id)}")

    async def list_product_orders(self, **filters: str) -> list[ProductOrderSummary]:
        """GET /productOrder."""
        return await self._list(ProductOrderSummary, PRODUCT_ORDER_API, "/productOrder", filters)

    async def cancel_product_order(
        self,
        order_id: str,
        contacts: list[RelatedContactInformation | dict[str, Any]],
        reason: str | None = None,
    ) -> CancelProductOrder:
        """POST /cancelProductOrder: ask to cancel an order (MEF wants who to contact about it)."""
        body = _body(
            CancelProductOrderCreate,
            {
                "productOrder": {"productOrderId": order_id},
                "relatedContactInformation": [_plain(c) for c in contacts],
                **_given(cancellationReason=reason),
            },
        )
        return await self._call(CancelProductOrder, "POST", PRODUCT_ORDER_API, "/cancelProductOrder", body)

    async def get_cancellation(self, cancel_id: str) -> CancelProductOrder:
        """GET /cancelProductOrder/{id}."""
        return await self._call(
            CancelProductOrder, "GET", PRODUCT_ORDER_API, f"/cancelProductOrder/{_segment(cancel_id)}"
        )

    # --- TroubleTicket v4 ---

    async def create_trouble_ticket(self, ticket: TroubleTicketCreate | dict[str, Any]) -> TroubleTicket:
        """POST /troubleTicket."""
        return await self._call(
            TroubleTicket, "POST", TROUBLE_TICKET_API, "/troubleTicket", _body(TroubleTicketCreate, ticket)
        )

    async def get_trouble_ticket(self, ticket_id: str) -> TroubleTicket:
        """GET /troubleTicket/{id}."""
        return await self._call(
            TroubleTicket, "GET", TROUBLE_TICKET_API, f"/troubleTicket/{_segment(ticket_id)}"
        )

    async def list_trouble_tickets(self, **filters: str) -> list[TroubleTicketSummary]:
        """GET /troubleTicket."""
        return await self._list(TroubleTicketSummary, TROUBLE_TICKET_API, "/troubleTicket", filters)

    async def update_trouble_ticket(
        self, ticket_id: str, update: TroubleTicketUpdate | dict[str, Any]
    ) -> TroubleTicket:
        """PATCH /troubleTicket/{id}."""
        path = f"/troubleTicket/{_segment(ticket_id)}"
        return await self._call(
            TroubleTicket, "PATCH", TROUBLE_TICKET_API, path, _body(TroubleTicketUpdate, update)
        )

    async def cancel_trouble_ticket(self, ticket_id: str) -> None:
        """POST /troubleTicket/{id}/cancel."""
        await self._send("POST", TROUBLE_TICKET_API, f"/troubleTicket/{_segment(ticket_id)}/cancel")

    async def close_trouble_ticket(self, ticket_id: str) -> None:
        """POST /troubleTicket/{id}/close: confirm a resolved ticket."""
        await self._send("POST", TROUBLE_TICKET_API, f"/troubleTicket/{_segment(ticket_id)}/close")

    async def reopen_trouble_ticket(self, ticket_id: str, reason: str) -> None:
        """POST /troubleTicket/{id}/reopen: the issue is not resolved."""
        body = _body(Reason, {"reason": reason})
        await self._send("POST", TROUBLE_TICKET_API, f"/troubleTicket/{_segment(ticket_id)}/reopen", body)

    # --- hubs ---

    async def register_hub(
        self, api: SonataApi | str, callback: str, event_types: list[str] | None = None
    ) -> EventSubscription:
        """POST /hub on ``api``: the seller will POST events to ``{callback}{listener path}``."""
        sonata_api = _api(api)
        unknown = [t for t in event_types or [] if t not in sonata_api.events]
        if unknown:
            raise ValueError(f"not {sonata_api.notification} event types: {', '.join(unknown)}")
        query = f"eventType={','.join(event_types)}" if event_types else None
        body = EventSubscriptionInput(callback=callback, **({"query": query} if query else {})).to_json()
        return await self._call(EventSubscription, "POST", sonata_api, "/hub", body)

    async def get_hub(self, api: SonataApi | str, subscription_id: str) -> EventSubscription:
        """GET /hub/{id} on ``api``."""
        return await self._call(EventSubscription, "GET", _api(api), f"/hub/{_segment(subscription_id)}")

    async def unregister_hub(self, api: SonataApi | str, subscription_id: str) -> None:
        """DELETE /hub/{id} on ``api``."""
        await self._send("DELETE", _api(api), f"/hub/{_segment(subscription_id)}")

    # --- plumbing ---

    async def _list(self, model: type[M], api: SonataApi, path: str, filters: dict[str, str]) -> list[M]:
        response = await self._send("GET", api, path, params=filters)
        data = _json(response, "GET")
        if not isinstance(data, list):
            raise SonataError(
                response.status,
                "unexpected answer: not a JSON array",
                code=INVALID_ANSWER,
                method="GET",
                url=response.url,
            )
        return [_answer(model, entry, response, "GET") for entry in data]

    async def _call(
        self, model: type[M], method: str, api: SonataApi, path: str, body: dict[str, Any] | None = None
    ) -> M:
        response = await self._send(method, api, path, body)
        return _answer(model, _json(response, method), response, method)

    async def _send(
        self,
        method: str,
        api: SonataApi,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        url = self.base_url + api.management_base + path
        try:
            async with asyncio.timeout(self.deadline):
                return await self._attempts(method, url, body, params)
        except TimeoutError:
            raise SonataError(
                None, f"no complete answer within {self.deadline:g} s", code="timeout", method=method, url=url
            ) from None

    async def _attempts(
        self, method: str, url: str, body: dict[str, Any] | None, params: dict[str, str] | None
    ) -> Answer:
        query = urlencode({**params, **self._ids}) if params else self._ids_query
        if query:
            url += ("&" if "?" in url else "?") + query
        content = None
        headers = [("Accept", "application/json")]
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            headers.append(("Content-Type", "application/json"))
        refreshed = False
        attempt = 0
        while True:
            try:
                sent = headers
                if self.auth is not None:
                    sent = [*headers, ("Authorization", f"Bearer {await self.auth.token(self._http)}")]
                response = await self._http.request(
                    method, url, headers=sent, body=content, timeout=self.timeout, max_bytes=self.max_bytes
                )
            except AuthError as exc:
                raise SonataError(None, str(exc), code="invalidCredentials", method=method, url=url) from exc
            except AnswerTooLarge as exc:
                raise SonataError(exc.status, str(exc), method=method, url=url) from None
            except _RETRYABLE as exc:
                if attempt >= self.retries or not (method in IDEMPOTENT or isinstance(exc, _NOT_SENT)):
                    raise SonataError(None, f"{type(exc).__name__}: {exc}", method=method, url=url) from exc
            else:
                if (
                    response.status == 401
                    and self.auth is not None
                    and not refreshed
                    and self.auth.invalidate()
                ):
                    # A token the seller no longer accepts: fetch a new one, once.
                    refreshed = True
                    continue
                if response.status < 400:
                    return response
                if response.status < 500 or attempt >= self.retries:
                    raise _error(method, response)
            await asyncio.sleep(min(self.max_backoff, self.backoff * 2**attempt))
            attempt += 1


def _error(method: str, response: Answer) -> SonataError:
    try:
        body = response.json()
    except ValueError:
        body = None
    reasons = tuple(read_errors(body)) if body is not None else ()
    entries = body if isinstance(body, list) else [body]
    code = next((e.get("code") for e in entries if isinstance(e, dict) and e.get("code")), None)
    message = "; ".join(r for r in read_errors(body, with_code=False) if r) if body is not None else ""
    message = message or response.reason
    return SonataError(response.status, message, code=code, method=method, url=response.url, reasons=reasons)


def _json(response: Answer, method: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise SonataError(response.status, "answer is not JSON", method=method, url=response.url) from None


def _answer(model: type[M], data: Any, response: Answer, method: str) -> M:
    try:
        return validate(model, data)
    except ValueError as exc:
        raise SonataError(
            response.status,
            f"unexpected answer: {exc}",
            code=INVALID_ANSWER,
            method=method,
            url=response.url,
        ) from None


def _given(**values: Any) -> dict[str, Any]:
    """Only the values that are set: the schemas refuse an explicit null."""
    return {k: v for k, v in values.items() if v is not None}


def _plain(value: Any) -> Any:
    return value.to_json() if isinstance(value, SonataModel) else value


def _body(model: type[BaseModel], value: BaseModel | dict[str, Any]) -> dict[str, Any]:
    # Validate before sending: a bad request is the caller's bug, reported without a round trip.
    document = value if isinstance(value, model) else validate(model, value)
    return document.to_json()  # type: ignore[attr-defined]


def _api(api: SonataApi | str) -> SonataApi:
    if isinstance(api, SonataApi):
        return api
    for candidate in SONATA_APIS:
        if api in (candidate.name, candidate.management, candidate.notification):
            return candidate
    raise ValueError(f"unknown Sonata API {api!r}; known: {', '.join(a.name for a in SONATA_APIS)}")


def _segment(identifier: str) -> str:
    if not identifier:
        raise ValueError("empty resource id")
    return quote(identifier, safe="")
