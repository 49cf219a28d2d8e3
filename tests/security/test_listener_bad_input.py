"""The oracle listener fuzzed from its own OpenAPI document over real HTTP: bodies generated from each
notification path's JSON schema (valid, then mutated: fields dropped, wrong types, junk JSON) get 204 or a
400 with a reason, never a server error; only an accepted, new event is stored, once; a refused request
stores nothing. Unauthenticated, non-JSON and oversize requests are refused the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offnet.oracle.listener import MAX_BODY_BYTES, Peer, create_listener_app
from offnet.oracle.store import Store
from offnet.serving import serve_in_thread
from offnet.sonata.models import ANY_MEDIA_TYPE_EVENTS

TOKEN = "seller-notifies"
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
JUNK = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
DATES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC).isoformat()
)


def from_schema(schema: dict, defs: dict) -> st.SearchStrategy[Any]:
    """A strategy of JSON values valid against the (small) subset of JSON Schema pydantic emits here."""
    if "$ref" in schema:
        return st.deferred(lambda: from_schema(defs[schema["$ref"].split("/")[-1]], defs))
    if "anyOf" in schema or "oneOf" in schema:
        return st.one_of([from_schema(s, defs) for s in schema.get("anyOf", schema.get("oneOf"))])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        fixed = {k: from_schema(v, defs) for k, v in props.items() if k in required}
        optional = {k: from_schema(v, defs) for k, v in props.items() if k not in required}
        return st.fixed_dictionaries(fixed, optional=optional)
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), defs), max_size=3)
    if kind == "string":
        return DATES if schema.get("format") == "date-time" else st.text(min_size=1, max_size=24)
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JUNK


@st.composite
def mutated(draw, valid: st.SearchStrategy[dict]) -> dict | Any:
    """A valid body with one thing broken: a field dropped, replaced by junk, or the body itself junk."""
    body = draw(valid)
    how = draw(st.sampled_from(["keep", "drop", "retype", "nested", "junk"]))
    if how == "keep" or not isinstance(body, dict) or not body:
        return body
    key = draw(st.sampled_from(sorted(body)))
    if how == "drop":
        return {k: v for k, v in body.items() if k != key}
    if how == "retype":
        return {**body, key: draw(JUNK)}
    if how == "nested" and isinstance(body.get("event"), dict) and body["event"]:
        inner = draw(st.sampled_from(sorted(body["event"])))
        return {**body, "event": {**body["event"], inner: draw(JUNK)}}
    return draw(JUNK)


@pytest.fixture(scope="module")
def listener(tmp_path_factory) -> Iterator[SimpleNamespace]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('listener') / 'oracle.db'}")
    app = create_listener_app(store, [Peer("seller", TOKEN)])
    spec = app.openapi()
    paths = {}
    for path, item in sorted(spec["paths"].items()):
        if "post" in item:
            schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
            event_type = path.rsplit("/", 1)[-1]
            valid = from_schema(schema, schema.get("$defs", {})).map(
                lambda b, t=event_type: {**b, "eventType": t}
            )
            paths[path] = valid
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield SimpleNamespace(store=store, client=client, paths=paths, accepted=set())


def stored(store: Store) -> int:
    return sum(n for key, n in store.counts().items() if key.startswith("events_"))


def post(listener: SimpleNamespace, path: str, body: Any, **headers: str) -> httpx.Response:
    return listener.client.post(
        path,
        content=json.dumps(body).encode(),
        headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json", **headers},
    )


def test_listener__openapi_lists_every_sonata_notification_path(listener):
    assert len(listener.paths) >= 10
    assert all("/listener/" in p for p in listener.paths)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_listener__any_body_from_its_openapi__gets_204_or_400_with_a_reason_and_stores_at_most_once(
    listener, data
):
    path = data.draw(st.sampled_from(sorted(listener.paths)))
    body = data.draw(mutated(listener.paths[path]))
    before = stored(listener.store)
    response = post(listener, path, body)
    assert response.status_code in (204, 400), response.text
    if response.status_code == 400:
        reason = response.json()["reason"]
        assert isinstance(reason, str) and reason.strip()
        assert stored(listener.store) == before, "a refused notification was stored"
        return
    new = body["eventId"] not in listener.accepted
    assert stored(listener.store) == before + int(new)
    listener.accepted.add(body["eventId"])
    again = post(listener, path, body)  # the seller retries: acknowledged again, stored once
    assert again.status_code == 204
    assert stored(listener.store) == before + int(new)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"authorization": ""}, 401),
        ({"authorization": "Bearer not-a-peer"}, 401),
        ({"authorization": f"Basic {TOKEN}"}, 401),
        ({"content-type": "text/plain"}, 400),
        ({"content-type": "application/x-www-form-urlencoded"}, 400),
    ],
    ids=["no token", "unknown token", "wrong scheme", "text", "form"],
)
def test_listener__unauthenticated_or_not_json__is_refused_with_a_reason_and_stores_nothing(
    listener, headers, status
):
    path = sorted(p for p in listener.paths if p.rsplit("/", 1)[-1] not in ANY_MEDIA_TYPE_EVENTS)[0]
    body = {
        "eventId": "e-refused",
        "eventTime": "2026-01-01T00:00:00Z",
        "eventType": path.rsplit("/", 1)[-1],
        "event": {"id": "x"},
    }
    before = stored(listener.store)
    response = post(listener, path, body, **headers)
    assert response.status_code == status
    assert response.json()["reason"]
    assert stored(listener.store) == before


def test_listener__oversize_body__is_refused_with_400_and_stores_nothing(listener):
    path = sorted(listener.paths)[0]
    body = {
        "eventId": "e-big",
        "eventTime": "2026-01-01T00:00:00Z",
        "eventType": path.rsplit("/", 1)[-1],
        "event": {"id": "x", "padding": "p" * (MAX_BODY_BYTES + 1)},
    }
    before = stored(listener.store)
    response = post(listener, path, body)
    assert (response.status_code, response.json()["code"]) == (400, "invalidBody")
    assert "larger than" in response.json()["reason"]
    assert stored(listener.store) == before


def test_listener__not_json_at_all__is_refused_with_400(listener):
    path = sorted(listener.paths)[0]
    before = stored(listener.store)
    response = listener.client.post(
        path,
        content=b"\xff{not json",
        headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "not JSON" in response.json()["reason"]
    assert stored(listener.store) == before


def test_listener__the_fuzz_run_accepted_valid_events_too(listener):
    """The property above is not vacuous: generated valid bodies were accepted and stored."""
    assert len(listener.accepted) >= 10
