"""The explorer app over an index the indexer built from the embedded chain: pages and JSON twins,
hostile names escaped, bad input refused with 400 and one line, unknown things 404, read-only."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from offnet.explorer import create_app
from offnet.indexer import EventIndexer, IndexStore
from offnet.market.registry import ACCESS_ELINE, Profile
from offnet.testing.world import World

HOSTILE = '<script>alert("x")</script> & Co'


@pytest.fixture
def client(world: World, make_party, tmp_path) -> Iterator[tuple[TestClient, str]]:
    carrier = make_party("carrier")
    world.registry.apply(carrier.sender, Profile(HOSTILE, "https://x.example", (ACCESS_ELINE,), ("FR",)))
    world.registry.sponsor(world.council.sender, carrier.address)
    store = IndexStore(f"sqlite:///{tmp_path / 'index.db'}")
    EventIndexer.of(world.suite, store).sync()
    with TestClient(create_app(store)) as http:
        yield http, carrier.address
    store.close()


def test_providers__the_page_and_its_twin_list_the_new_member_as_new(client):
    http, carrier = client
    api = http.get("/api/providers?product=access-eline&country=FR").json()
    [row] = api["providers"]
    assert (row["address"], row["name"], row["reputation"]) == (
        carrier,
        HOSTILE,
        {"text": "new", "ppm": 0, "samples": 0, "new": True},
    )
    assert api["index"]["indexedThrough"]["number"] > 0
    page = http.get("/providers?country=FR")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in page.text
    assert '<script>alert("x")' not in page.text  # a member's name is data, never markup


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/providers?min_reputation=2", "minimum reputation '2'"),
        ("/providers?product=fibre", "unknown product 'fibre'"),
        ("/providers?new=sometimes", "new members: one of include, exclude, only"),
        ("/providers?page=0", "page must be 1 or more"),
        ("/providers?page=abc", "page"),
        ("/orders/0x1234", "order id: expected 32 bytes, got 2"),
        ("/rfqs?state=pending", "state: one of all, open, closed"),
        ("/providers/not-an-address", "is not a 0x-prefixed 20-byte address"),
    ],
)
def test_bad_input__400_with_one_line_on_the_page_and_in_json(client, path, says):
    http, _ = client
    page = http.get(path)
    assert page.status_code == 400 and says in html.unescape(page.text)
    api = http.get(f"/api{path}")
    assert api.status_code == 400 and says in api.json()["error"] and "\n" not in api.json()["error"]


def test_unknown_things__404(client):
    http, _ = client
    for path in (
        "/orders/0x" + "ab" * 32,
        "/rfqs/0x" + "cd" * 32,
        "/providers/0x" + "11" * 20,
        "/blocks/999999",
    ):
        assert http.get(path).status_code == 404
        assert http.get(f"/api{path}").status_code == 404


def test_read_only__no_method_writes(client):
    http, _ = client
    for path in ("/api/providers", "/providers", "/api/orders"):
        assert http.post(path).status_code == 405
        assert http.delete(path).status_code == 405
    too_big = {"order": "0x" + "ab" * 32, "salt": "0x" + "00" * 32, "document": "x" * ((1 << 20) + 1)}
    assert http.post("/api/contract-check", json=too_big).status_code == 400
    assert http.post("/api/contract-check", json={**too_big, "document": "{}"}).status_code == 404


def test_oversized_or_unmeasured_bodies__413_before_anything_is_read(client):
    http, _ = client
    huge = "x" * (3 << 20)
    answer = http.post(
        "/contract-check", data={"order": "0x" + "ab" * 32, "salt": "0x" + "00" * 32, "document": huge}
    )
    assert answer.status_code == 413 and "must give its length" in html.unescape(answer.text)
    chunked = http.post(
        "/api/contract-check",
        content=iter([b'{"order": "0x"}']),
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413


@pytest.mark.parametrize(("path", "field"), [("/orders", "status"), ("/rfqs", "state")])
def test_lists_of_one_party__the_filter_keeps_the_party_and_names_it(client, path, field):
    http, carrier = client
    page = http.get(f"{path}?party={carrier}&{field}=closed")
    assert page.status_code == 200
    assert f'<input type="hidden" name="party" value="{carrier}">' in page.text
    assert '<option value="closed" selected>' in page.text
    assert f'href="/providers/{carrier}"' in page.text
    assert http.get(f"/api{path}?party={carrier}").json()["filters"]["party"]["address"] == carrier
