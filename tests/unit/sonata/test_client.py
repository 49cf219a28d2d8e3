"""SonataClient against the reference seller over real HTTP: every operation, retries on 5xx and
connection errors (never on 4xx), typed errors, static and OAuth client-credentials tokens."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from sonata_support import BUYER_TOKEN, DAY, OAUTH_CLIENT, RunningSeller

from offnet.exceptions import SonataError
from offnet.sonata.auth import ClientCredentials
from offnet.sonata.client import SonataClient, shared_ssl_context
from offnet.sonata.examples import load_example
from offnet.sonata.models import (
    ProductOrderItemState,
    ProductOrderState,
    QuoteState,
    TroubleTicketStatus,
)
from offnet.sonata.transport import Answer, HttpPool

pytestmark = pytest.mark.anyio


class CountingTransport(HttpPool):
    """The client's own HTTP pool, counting the requests that go out (method, path)."""

    def __init__(self) -> None:
        super().__init__(shared_ssl_context())
        self.sent: list[tuple[str, str]] = []

    async def request(self, method: str, url: str, **options: Any) -> Answer:
        self.sent.append((method, urlsplit(url).path))
        return await super().request(method, url, **options)


def client(seller: RunningSeller, auth: Any = BUYER_TOKEN, **options: Any) -> SonataClient:
    return SonataClient(seller.url, auth, backoff=0.01, **options)


async def failure(
    seller: RunningSeller, call: Callable[[SonataClient], Awaitable[Any]], **options: Any
) -> tuple[SonataError, int]:
    """The SonataError ``call`` raises through a client made with ``options``, and how many requests
    went out for it."""
    transport = CountingTransport()
    async with client(seller, transport=transport, **options) as sonata:
        with pytest.raises(SonataError) as failed:
            await call(sonata)
    return failed.value, len(transport.sent)


async def test_quote_order_and_ticket__full_cycle_through_the_client(seller: RunningSeller) -> None:
    async with client(seller) as sonata:
        quote = await sonata.create_quote(load_example("quote_create"))
        assert quote.state is QuoteState.ACKNOWLEDGED
        seller.advance(3 * DAY)
        quote = await sonata.get_quote(quote.id)
        assert quote.state is QuoteState.APPROVED_ORDERABLE

        request = load_example("product_order_create")
        request["productOrderItem"][0]["quoteItem"] = {"id": "1", "quoteId": quote.id}
        order = await sonata.create_product_order(request)
        assert order.state is ProductOrderState.ACKNOWLEDGED
        assert (await sonata.get_quote(quote.id)).state is QuoteState.ACCEPTED
        seller.advance(60 * DAY)
        order = await sonata.get_product_order(order.id)
        assert order.state is ProductOrderState.COMPLETED
        assert order.item("1").state is ProductOrderItemState.COMPLETED

        ticket_request = load_example("trouble_ticket_create")
        ticket_request["relatedEntity"][0]["id"] = order.id
        ticket_request["issueStartDate"] = seller.clock().isoformat()
        ticket = await sonata.create_trouble_ticket(ticket_request)
        assert ticket.status is TroubleTicketStatus.ACKNOWLEDGED
        seller.advance(DAY // 2)
        ticket = await sonata.get_trouble_ticket(ticket.id)
        assert ticket.status is TroubleTicketStatus.RESOLVED
        assert ticket.resolutionDate is not None


async def test_cancel_and_reject_quote__through_the_client(seller: RunningSeller) -> None:
    async with client(seller) as sonata:
        pending = await sonata.create_quote(load_example("quote_create"))
        seller.advance(1800)  # in progress
        cancelled = await sonata.cancel_quote(pending.id, "project postponed")
        assert (cancelled.quoteId, cancelled.reason) == (pending.id, "project postponed")
        quote = await sonata.get_quote(pending.id)
        assert quote.state is QuoteState.CANCELLED
        assert quote.stateChange[-1].changeReason == "project postponed"

        answered = await sonata.create_quote(load_example("quote_create"))
        seller.advance(3 * DAY)
        assert (await sonata.reject_quote(answered.id, "too expensive")).quoteId == answered.id
        assert (await sonata.get_quote(answered.id)).state is QuoteState.DECLINED
        listed = await sonata.list_quotes(state="declined")
        assert [q.id for q in listed] == [answered.id]
        with pytest.raises(SonataError) as refused:
            await sonata.reject_quote(answered.id)
    assert (refused.value.status, refused.value.code) == (422, "invalidValue")
    assert refused.value.reasons == (
        f"invalidValue: /quoteId: quote {answered.id} is declined; only an answered or approved quote can be rejected",
    )


async def test_cancel_product_order__through_the_client(seller: RunningSeller) -> None:
    quote = seller.orderable_quote()
    order_id = seller.order(quote["id"]).json()["id"]
    async with client(seller) as sonata:
        contacts = load_example("product_order_create")["relatedContactInformation"]
        cancellation = await sonata.cancel_product_order(order_id, contacts, "customer withdrew")
        assert (cancellation.state, cancellation.productOrder.productOrderId) == ("acknowledged", order_id)
        seller.advance(3600)
        assert (await sonata.get_cancellation(cancellation.id)).state == "done"
        order = await sonata.get_product_order(order_id)
        assert order.state is ProductOrderState.CANCELLED
        assert order.cancellationReason == "customer withdrew"


async def test_hub__register_and_unregister_on_each_api(seller: RunningSeller) -> None:
    async with client(seller) as sonata:
        for api in ("quote", "productOrder", "troubleTicket"):
            hub = await sonata.register_hub(api, "http://buyer.example/cb")
            assert hub.callback == "http://buyer.example/cb"
            await sonata.unregister_hub(api, hub.id)
            with pytest.raises(SonataError) as gone:
                await sonata.unregister_hub(api, hub.id)
            assert (gone.value.status, gone.value.code) == (404, "notFound")
        with pytest.raises(ValueError, match="not quoteNotification event types: orderEvent"):
            await sonata.register_hub("quote", "http://buyer.example/cb", ["orderEvent"])


async def test_5xx__is_retried_with_backoff_until_it_succeeds(seller: RunningSeller) -> None:
    assert seller.post("/simulator/faults", {"failNext": 2, "status": 503}).status_code == 200
    transport = CountingTransport()
    async with client(seller, retries=3, transport=transport) as sonata:
        quote = await sonata.create_quote(load_example("quote_create"))
    assert quote.state is QuoteState.ACKNOWLEDGED
    assert transport.sent == [("POST", "/mefApi/sonata/quoteManagement/v8/quote")] * 3


async def test_5xx__after_the_last_retry__raises_the_status_and_message(seller: RunningSeller) -> None:
    seller.post("/simulator/faults", {"failNext": 10, "status": 502})
    failed, sent = await failure(seller, lambda sonata: sonata.get_quote("Q-t-0001"), retries=2)
    assert (failed.status, failed.code, failed.message) == (502, "temporarilyUnavailable", "injected fault")
    assert sent == 3
    assert "GET" in str(failed) and "/quote/Q-t-0001" in str(failed)


async def test_flaky_seller__random_5xx_are_absorbed_by_retries(make_seller: Any) -> None:
    flaky = make_seller("flaky-api", seed=3)
    transport = CountingTransport()
    async with client(flaky, retries=6, transport=transport) as sonata:
        quotes = [await sonata.create_quote(load_example("quote_create")) for _ in range(6)]
    assert len({q.id for q in quotes}) == 6
    assert len(transport.sent) > 6  # some calls needed a retry, and every one got through


async def test_4xx__is_not_retried(seller: RunningSeller) -> None:
    missing, sent = await failure(seller, lambda sonata: sonata.get_product_order("PO-nope"), retries=3)
    assert (missing.status, missing.code, missing.message) == (404, "notFound", "no product order 'PO-nope'")
    assert sent == 1


async def test_wrong_static_token__raises_401_without_retry(seller: RunningSeller) -> None:
    refused, sent = await failure(seller, lambda sonata: sonata.get_quote("Q-t-0001"), auth="stolen")
    assert (refused.status, refused.code) == (401, "invalidCredentials")
    assert sent == 1


async def test_unreachable_seller__raises_after_retrying_connection_errors() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = CountingTransport()
    async with SonataClient(
        f"http://127.0.0.1:{port}", "t", retries=2, backoff=0.01, transport=transport
    ) as sonata:
        with pytest.raises(SonataError) as unreachable:
            await sonata.get_quote("Q-1")
    assert unreachable.value.status is None
    assert "ConnectError" in unreachable.value.message
    assert len(transport.sent) == 3


async def test_invalid_request__is_refused_before_sending(seller: RunningSeller) -> None:
    transport = CountingTransport()
    body = load_example("quote_create")
    body["quoteItem"] = []
    async with client(seller, transport=transport) as sonata:
        with pytest.raises(
            ValueError, match="invalid QuoteCreate: quoteItem: List should have at least 1 item"
        ):
            await sonata.create_quote(body)
    assert transport.sent == []


async def test_oauth_client_credentials__token_fetched_once_and_reused(seller: RunningSeller) -> None:
    transport = CountingTransport()
    credentials = ClientCredentials(f"{seller.url}/oauth2/token", *OAUTH_CLIENT)
    async with client(seller, auth=credentials, transport=transport) as sonata:
        quote = await sonata.create_quote(load_example("quote_create"))
        assert (await sonata.get_quote(quote.id)).id == quote.id
    assert [path for _, path in transport.sent].count("/oauth2/token") == 1
    assert len(transport.sent) == 3


async def test_oauth_revoked_token__is_refreshed_once_on_401(seller: RunningSeller) -> None:
    transport = CountingTransport()
    credentials = ClientCredentials(f"{seller.url}/oauth2/token", *OAUTH_CLIENT)
    async with client(seller, auth=credentials, transport=transport) as sonata:
        quote = await sonata.create_quote(load_example("quote_create"))
        seller.auth.revoke_issued()  # as after a seller restart: cached token no longer valid
        assert (await sonata.get_quote(quote.id)).id == quote.id
    get = ("GET", f"/mefApi/sonata/quoteManagement/v8/quote/{quote.id}")
    assert transport.sent[-3:] == [get, ("POST", "/oauth2/token"), get]
    assert transport.sent.count(("POST", "/oauth2/token")) == 2


async def test_oauth_wrong_secret__raises_invalid_credentials(seller: RunningSeller) -> None:
    credentials = ClientCredentials(f"{seller.url}/oauth2/token", OAUTH_CLIENT[0], "wrong")
    transport = CountingTransport()
    async with client(seller, auth=credentials, transport=transport) as sonata:
        with pytest.raises(SonataError) as refused:
            await sonata.get_quote("Q-t-0001")
    assert refused.value.code == "invalidCredentials"
    assert "token endpoint refused client 'buyer-a-client': 401 invalid_client" in refused.value.message
    assert transport.sent == [("POST", "/oauth2/token")]
