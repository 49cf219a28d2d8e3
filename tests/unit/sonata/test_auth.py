"""Server-side OAuth2 client credentials: tokens carry the scopes asked for (within what the client
may have), expire, and the verifier answers MEF 401/403; static tokens stay valid for everything."""

from __future__ import annotations

import base64

import pytest

from offnet.sonata.auth import BearerVerifier, TokenIssuer, notification_scope, token_response
from offnet.sonata.errors import SonataRefusal


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def issuer(clock: Clock) -> TokenIssuer:
    return TokenIssuer(
        {"full": ("s1", "buyer-a", None), "narrow": ("s2", "buyer-b", frozenset({"retrieveQuote"}))},
        ttl=60,
        monotonic=clock,
    )


def form(**fields: str) -> bytes:
    return "&".join(f"{k}={v}" for k, v in fields.items()).encode()


def basic(client: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()


def test_token__carries_the_scopes_asked_for_and_the_verifier_enforces_them(issuer: TokenIssuer) -> None:
    status, body, _ = token_response(
        issuer,
        "application/x-www-form-urlencoded",
        form(grant_type="client_credentials", scope="createQuote+retrieveQuote"),
        basic("full", "s1"),
    )
    assert status == 200 and body["scope"] == "createQuote retrieveQuote" and body["token_type"] == "Bearer"
    verifier = BearerVerifier({}, issuer)
    assert verifier.verify(f"Bearer {body['access_token']}", "createQuote") == "buyer-a"
    with pytest.raises(SonataRefusal) as refused:
        verifier.verify(f"Bearer {body['access_token']}", "cancelQuote")
    assert (refused.value.status, refused.value.code) == (403, "accessDenied")


def test_token__beyond_the_clients_scopes_is_invalid_scope_and_bad_secrets_invalid_client(
    issuer: TokenIssuer,
) -> None:
    media = "application/x-www-form-urlencoded"
    assert token_response(
        issuer, media, form(grant_type="client_credentials", scope="createQuote"), basic("narrow", "s2")
    )[:2] == (400, {"error": "invalid_scope"})
    status, body, headers = token_response(
        issuer, media, form(grant_type="client_credentials"), basic("narrow", "x")
    )
    assert (status, body["error"], headers["WWW-Authenticate"]) == (
        401,
        "invalid_client",
        'Basic realm="sonata"',
    )
    assert token_response(issuer, media, form(grant_type="password"), basic("full", "s1"))[:2] == (
        400,
        {"error": "unsupported_grant_type"},
    )
    assert token_response(issuer, "application/json", b"{}", None)[0] == 400


def test_tokens_expire_and_static_tokens_pass_every_scope(issuer: TokenIssuer, clock: Clock) -> None:
    outcome = issuer.issue("full", "s1", None)
    assert not isinstance(outcome, str)
    token, grant = outcome
    assert grant.scopes is None  # all the client may have
    verifier = BearerVerifier({"static": "buyer-c"}, issuer)
    assert verifier.verify(f"Bearer {token}", "anything") == "buyer-a"
    clock.now = 61
    with pytest.raises(SonataRefusal) as expired:
        verifier.verify(f"Bearer {token}", "anything")
    assert (expired.value.status, expired.value.code) == (401, "invalidCredentials")
    assert verifier.verify("Bearer static", "patchTroubleTicket") == "buyer-c"
    with pytest.raises(SonataRefusal) as missing:
        verifier.verify("Basic abc", "retrieveQuote")
    assert (missing.value.status, missing.value.code) == (401, "missingCredentials")


def test_notification_scopes__follow_the_sdks_naming() -> None:
    assert notification_scope("quote", "quoteStateChangeEvent") == "listenToQuoteStateChangeEvent"
    assert notification_scope("troubleTicket", "incidentCreateEvent") == "listenToIncidentCreateEvent"
    assert notification_scope("productOrder", "chargeCreateEvent") == "chargeCreateEvent"
