"""OAuth2 client credentials with the scopes of the SDK's security variants: the reference seller
and the oracle listener ask, for every operation, exactly the scope the variant names (a token
with it passes, a token without it gets a MEF 403; no token gets a MEF 401)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mef import SECURITY_SPECS, base_path, load

from offnet.oracle.listener import Peer, create_listener_app
from offnet.oracle.store import Store
from offnet.serving import serve_in_thread
from offnet.sonata.auth import TokenIssuer
from offnet.sonata.seller import create_seller_app

CLIENT = ("conformance-client", "s3cret")


def _operations(sdk: Path, which: int) -> Iterator[tuple[str, str, str, str]]:
    """(base path, method, path, scope) of every operation of the management (0) or notification
    (1) security variants."""
    for specs in SECURITY_SPECS.values():
        spec = load(sdk / specs[which])
        for path, methods in spec["paths"].items():
            for method, operation in methods.items():
                if isinstance(operation, dict) and "security" in operation:
                    [requirement] = operation["security"]
                    [scope] = requirement["oauth2MEFLSOAPI"]
                    yield base_path(spec), method.upper(), path, scope


def _token(url: str, scope: str) -> str:
    response = httpx.post(
        f"{url}/oauth2/token", data={"grant_type": "client_credentials", "scope": scope}, auth=CLIENT
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == scope
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def oauth_seller() -> Iterator[str]:
    app = create_seller_app(clients={CLIENT[0]: (CLIENT[1], "buyer")}, instance="sec")
    with serve_in_thread(app) as url:
        yield url


def test_seller__every_operation_asks_the_scope_of_the_sdks_security_variant(
    sdk: Path, oauth_seller: str
) -> None:
    checked = 0
    for base, method, path, scope in _operations(sdk, 0):
        target = oauth_seller + base + path.replace("{id}", "unknown")
        answers: dict[str, Any] = {}
        for name, headers in (
            ("with", {"Authorization": f"Bearer {_token(oauth_seller, scope)}"}),
            ("without", {"Authorization": f"Bearer {_token(oauth_seller, 'default')}"}),
            ("none", {}),
        ):
            answers[name] = httpx.request(method, target, headers=headers, json={})
        if answers["with"].status_code == 501:  # an optional operation this seller does not do
            continue
        assert answers["with"].status_code not in (401, 403), (method, path, answers["with"].text)
        assert (answers["without"].status_code, answers["without"].json()["code"]) == (403, "accessDenied")
        assert (answers["none"].status_code, answers["none"].json()["code"]) == (401, "missingCredentials")
        checked += 1
    assert checked == 25  # the 35 operations less the 10 optional ones answered 501


def test_listener__every_event_type_asks_the_scope_of_the_sdks_security_variant(
    sdk: Path, tmp_path: Path
) -> None:
    issuer = TokenIssuer({CLIENT[0]: (CLIENT[1], "seller", None)})
    store = Store(f"sqlite:///{tmp_path / 'oracle.db'}")
    app = create_listener_app(store, [Peer("seller", "static-token")], issuer=issuer)
    event_types = 0
    with serve_in_thread(app) as url:
        for base, _method, path, scope in _operations(sdk, 1):
            event_type = path.rsplit("/", 1)[-1]
            body = {
                "eventId": f"e-{event_type}",
                "eventTime": "2026-01-01T00:00:00Z",
                "eventType": event_type,
                "event": {"id": "x"},
            }
            right = issuer.issue(*CLIENT, scope)
            wrong = issuer.issue(*CLIENT, "default")
            assert not isinstance(right, str) and not isinstance(wrong, str)
            refused = httpx.post(
                url + base + path, json=body, headers={"Authorization": f"Bearer {wrong[0]}"}
            )
            assert (refused.status_code, refused.json()["code"]) == (403, "accessDenied")
            accepted = httpx.post(
                url + base + path, json=body, headers={"Authorization": f"Bearer {right[0]}"}
            )
            assert accepted.status_code == 204, accepted.text
            event_types += 1
    assert event_types == 18
