"""The oracle listener over real HTTP: MEF paths, authentication, validation, durability, operations."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offnet.oracle.listener import MAX_BODY_BYTES, MAX_ID, Peer, create_listener_app
from offnet.oracle.store import Store
from offnet.serving import serve_in_thread
from offnet.sonata.examples import load_example

QUOTE_PATH = "/mefApi/sonata/quoteNotification/v8/listener/quoteStateChangeEvent"
ORDER_PATH = "/mefApi/sonata/productOrderingNotification/v10/listener/productOrderItemStateChangeEvent"
TICKET_PATH = "/mefApi/sonata/troubleTicketNotification/v4/listener/troubleTicketStatusChangeEvent"
GOOD = {"Authorization": "Bearer seller-token", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def listener(tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('listener') / 'oracle.db'}")
    app = create_listener_app(store, [Peer("seller", "seller-token"), Peer("other", "other-token")])
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield http, store


def quote_event(event_id: str = "EV-1") -> dict:
    return {
        "eventId": event_id,
        "eventTime": "2026-03-01T10:00:00Z",
        "eventType": "quoteStateChangeEvent",
        "event": {"id": "Q-1", "href": "/quote/Q-1", "buyerId": "b", "sellerId": "s"},
    }


def stored(store: Store) -> int:
    return sum(v for k, v in store.counts().items() if k.startswith("events_"))


def test_listener__valid_event__is_stored_then_answered_204(listener):
    http, store = listener
    before = stored(store)
    response = http.post(QUOTE_PATH, json=quote_event("EV-ok"), headers=GOOD)
    assert response.status_code == 204 and response.content == b""
    assert stored(store) == before + 1
    [event] = [e for e in store.due_events(1000) if e.event_id == "EV-ok"]
    assert (event.peer, event.api, event.resource_id) == ("seller", "quote", "Q-1")


def test_listener__repeated_event_id__is_acknowledged_and_stored_once(listener):
    http, store = listener
    for _ in range(3):
        assert http.post(QUOTE_PATH, json=quote_event("EV-dup"), headers=GOOD).status_code == 204
    assert len([e for e in store.due_events(1000) if e.event_id == "EV-dup"]) == 1


@pytest.mark.parametrize(
    "example, path",
    [
        ("notifications/productOrderingNotification.productOrderItemStateChangeEvent", ORDER_PATH),
        ("notifications/troubleTicketNotification.troubleTicketStatusChangeEvent", TICKET_PATH),
    ],
)
def test_listener__every_api_path_accepts_its_example(listener, example, path):
    http, _ = listener
    assert http.post(path, json=load_example(example), headers=GOOD).status_code == 204


@pytest.mark.parametrize(
    "headers, status, reason",
    [
        ({"Content-Type": "application/json"}, 401, "unknown sender"),
        ({"Authorization": "Bearer wrong", "Content-Type": "application/json"}, 401, "unknown sender"),
        ({"Authorization": "Basic c2VsbGVyOng=", "Content-Type": "application/json"}, 401, "unknown sender"),
        ({"Authorization": "Bearer seller-token", "Content-Type": "text/plain"}, 400, "application/json"),
    ],
)
def test_listener__bad_sender_or_content_type__refused_with_nothing_recorded(
    listener, headers, status, reason
):
    http, store = listener
    before = stored(store)
    response = http.post(QUOTE_PATH, content=json.dumps(quote_event("EV-refused")), headers=headers)
    assert response.status_code == status and reason in response.json()["reason"]
    assert stored(store) == before


def test_listener__oversize_body__400_with_nothing_recorded(listener):
    http, store = listener
    before = stored(store)
    body = quote_event("EV-big") | {"padding": "x" * (MAX_BODY_BYTES + 1)}
    response = http.post(QUOTE_PATH, json=body, headers=GOOD)
    assert (response.status_code, response.json()["code"]) == (400, "invalidBody")
    assert stored(store) == before


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b"{not json", "not JSON"),
        (b"[]", "JSON object"),
        (
            json.dumps(quote_event() | {"eventType": "productOrderStateChangeEvent"}).encode(),
            "eventType: Input should be 'quoteStateChangeEvent' or 'quoteItemStateChangeEvent'",
        ),
        (json.dumps({k: v for k, v in quote_event().items() if k != "eventId"}).encode(), "eventId"),
        (json.dumps(quote_event() | {"eventTime": "yesterday"}).encode(), "eventTime"),
    ],
)
def test_listener__malformed_envelope__400_with_message_and_nothing_recorded(listener, body, fragment):
    http, store = listener
    before = stored(store)
    response = http.post(QUOTE_PATH, content=body, headers=GOOD)
    assert response.status_code == 400 and fragment in response.json()["message"]
    assert response.json()["code"] == "invalidBody" and len(response.json()["reason"]) <= 255
    assert stored(store) == before


def test_listener__unknown_event_type_or_api__is_not_served(listener):
    http, store = listener
    before = stored(store)
    unknown_type = "/mefApi/sonata/quoteNotification/v8/listener/quoteExplodedEvent"
    wrong_version = "/mefApi/sonata/quoteNotification/v7/listener/quoteStateChangeEvent"
    assert http.post(unknown_type, json=quote_event(), headers=GOOD).status_code == 404
    assert http.post(wrong_version, json=quote_event(), headers=GOOD).status_code == 404
    assert stored(store) == before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["eventId", "eventTime", "eventType", "event", "extra"]), json_values
    )
)
def test_listener__fuzzed_envelopes__never_5xx_and_never_store_invalid_events(listener, body):
    http, store = listener
    before = stored(store)
    response = http.post(QUOTE_PATH, content=json.dumps(body), headers=GOOD)
    assert response.status_code in (204, 400)
    assert stored(store) == before + (1 if response.status_code == 204 else 0)


def test_listener__serves_openapi_health_and_metrics(listener):
    http, _ = listener
    paths = http.get("/openapi.json").json()["paths"]
    assert QUOTE_PATH in paths and ORDER_PATH in paths and TICKET_PATH in paths
    assert http.get("/healthz").json()["status"] == "ok"
    metrics = http.get("/metrics").text
    assert "offnet_events_received_total" in metrics and "offnet_events_rejected_total" in metrics


def test_listener__id_with_a_nul_character__refused_400_and_nothing_stored(listener):
    http, store = listener
    before = stored(store)
    for event in (quote_event("EV-\u0000"), {**quote_event("EV-nul"), "event": {"id": "Q-\u00001"}}):
        response = http.post(QUOTE_PATH, json=event, headers=GOOD)
        assert response.status_code == 400 and "NUL character" in response.json()["reason"]
    assert stored(store) == before
    # Any other character is an id's own (MEF does not restrict them), stored as it came.
    assert http.post(QUOTE_PATH, json=quote_event("EV-\n\t\u0001"), headers=GOOD).status_code == 204
    assert stored(store) == before + 1


def test_listener__id_longer_than_its_column__refused_400_and_nothing_stored(listener):
    assert MAX_ID == 128  # the README states it
    http, store = listener
    before = stored(store)
    long_id = "E" * (MAX_ID + 1)
    for event in (quote_event(long_id), {**quote_event("EV-long"), "event": {"id": long_id}}):
        response = http.post(QUOTE_PATH, json=event, headers=GOOD)
        assert response.status_code == 400 and f"longer than {MAX_ID}" in response.json()["reason"]
    assert http.post(QUOTE_PATH, json=quote_event("E" * MAX_ID), headers=GOOD).status_code == 204
    assert stored(store) == before + 1


def test_listener__concurrent_posts_on_either_database__each_event_stored_once(database):
    store = Store(database)
    app = create_listener_app(store, [Peer("seller", "seller-token")])

    async def post_all(url: str) -> list[int]:
        async with httpx.AsyncClient(base_url=url, headers=GOOD, timeout=30) as client:
            posts = [client.post(QUOTE_PATH, json=quote_event(f"EV-{i % 150}")) for i in range(300)]
            return [r.status_code for r in await asyncio.gather(*posts)]

    try:
        with serve_in_thread(app) as url:
            assert asyncio.run(post_all(url)) == [204] * 300
        assert store.counts()["events_received"] == 150
    finally:
        store.close()


class BrokenStore(Store):
    """A store whose event writes fail unexpectedly (not a busy database: a fault)."""

    def record_events(self, *args, **kwargs):
        raise RuntimeError("disk controller on fire")


def test_listener__an_unexpected_fault__is_a_mef_500_and_the_listener_keeps_serving(tmp_path):
    store = BrokenStore(f"sqlite:///{tmp_path / 'oracle.db'}")
    app = create_listener_app(store, [Peer("seller", "seller-token")])
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        for event_id in ("EV-a", "EV-b"):
            answer = http.post(QUOTE_PATH, json=quote_event(event_id), headers=GOOD)
            assert answer.status_code == 500
            assert answer.json()["code"] == "internalError"
            assert "disk controller" not in answer.text  # the fault's details stay in the log
        # Requests outside the notification paths take the application's usual way.
        assert http.get(QUOTE_PATH, headers=GOOD).status_code == 405
        assert QUOTE_PATH in http.get("/openapi.json").json()["paths"]
