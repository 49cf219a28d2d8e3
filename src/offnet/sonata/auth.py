"""Bearer tokens for Sonata calls, both ways.

Client side: a static token per peer, or OAuth 2.0 client-credentials tokens fetched from the
peer's token endpoint and cached until they expire. Server side (the reference seller, the oracle
listener): a token issuer for the client-credentials grant with per-operation scopes as in the
MEF SDK's security variants, and a verifier that accepts static tokens beside issued ones.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlencode

from offnet.exceptions import AuthError

if TYPE_CHECKING:
    from offnet.sonata.transport import HttpPool


class TokenSource(Protocol):
    """Where a client gets the bearer token for its next request."""

    async def token(self, http: HttpPool) -> str:
        """A currently valid access token."""
        ...

    def invalidate(self) -> bool:
        """Forget the cached token (the peer answered 401 with it); True if a new one may be fetched."""
        ...


@dataclass(frozen=True)
class StaticToken:
    """A long-lived token agreed with the peer out of band."""

    value: str

    async def token(self, http: HttpPool) -> str:
        """The configured token."""
        return self.value

    def invalidate(self) -> bool:
        """Nothing to forget: a static token cannot be refreshed."""
        return False


@dataclass
class ClientCredentials:
    """OAuth 2.0 client-credentials grant (RFC 6749 section 4.4), client authenticated by HTTP Basic.

    The token is reused until ``refresh_margin`` seconds before its ``expires_in``; concurrent
    callers share one fetch.
    """

    token_url: str
    client_id: str
    client_secret: str
    scope: str | None = None
    refresh_margin: float = 30.0
    monotonic: Callable[[], float] = time.monotonic
    _token: str | None = field(default=None, init=False, repr=False)
    _expires_at: float = field(default=0.0, init=False, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def token(self, http: HttpPool) -> str:
        """A cached token, or a fresh one from the token endpoint."""
        async with self._lock:
            if self._token is None or self.monotonic() >= self._expires_at:
                await self._fetch(http)
            assert self._token is not None
            return self._token

    def invalidate(self) -> bool:
        """Drop the cached token so the next request fetches a new one."""
        self._token = None
        return True

    async def _fetch(self, http: HttpPool) -> None:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        headers = [
            ("Accept", "application/json"),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", f"Basic {basic}"),
        ]
        try:
            response = await http.request(
                "POST", self.token_url, headers=headers, body=urlencode(form).encode(), max_bytes=64 * 1024
            )
        except Exception as exc:  # unreachable, too slow, malformed or oversized: no token
            raise AuthError(f"token endpoint {self.token_url} unreachable: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status != 200:
            reason = body.get("error_description") or body.get("error") or response.reason
            raise AuthError(f"token endpoint refused client {self.client_id!r}: {response.status} {reason}")
        token, kind = body.get("access_token"), str(body.get("token_type", "")).lower()
        if not isinstance(token, str) or not token or kind != "bearer":
            raise AuthError(f"token endpoint {self.token_url} returned no bearer access_token")
        if not (token.isascii() and token.isprintable()) or " " in token:
            # RFC 6750's token characters only: anything else could not be sent, or would split the header
            raise AuthError(
                f"token endpoint {self.token_url} returned an access_token that is not a bearer token"
            )
        expires_in = body.get("expires_in", 3600)
        if not isinstance(expires_in, int | float) or expires_in <= 0:
            raise AuthError(f"token endpoint {self.token_url} returned expires_in={expires_in!r}")
        self._token = token
        self._expires_at = self.monotonic() + max(0.0, expires_in - self.refresh_margin)


# --- the resource-server side: who may call a Sonata endpoint, and with which scope ------------------

# The SDK's security variants name one OAuth2 scope per operation: management operations by their
# operationId, notifications by "listenTo<EventType>" (the Product Order API by the event type).


def notification_scope(api_name: str, event_type: str) -> str:
    """The scope a notifier needs to POST ``event_type`` to a listener of API ``api_name``."""
    if api_name == "productOrder":
        return event_type
    return "listenTo" + event_type[0].upper() + event_type[1:]


@dataclass(frozen=True)
class Grant:
    """Who a bearer token speaks for, and what it may do (None = every operation)."""

    subject: str
    scopes: frozenset[str] | None


@dataclass
class TokenIssuer:
    """An OAuth 2.0 authorization server for the client-credentials grant (RFC 6749 4.4).

    ``clients`` maps a client id to ``(secret, subject, allowed scopes or None for all)``. A token
    carries the scopes asked for (all the allowed ones when none are asked); asking for a scope the
    client may not have is ``invalid_scope``. Tokens are opaque and expire after ``ttl`` seconds.
    """

    clients: dict[str, tuple[str, str, frozenset[str] | None]] = field(default_factory=dict)
    ttl: int = 3600
    monotonic: Callable[[], float] = time.monotonic
    _issued: dict[str, tuple[Grant, float]] = field(default_factory=dict, repr=False)

    def issue(self, client_id: str, secret: str, scope: str | None) -> tuple[str, Grant] | str:
        """A new token and its grant, or the OAuth error code (``invalid_client``, ``invalid_scope``)."""
        known = self.clients.get(client_id)
        if known is None or not secrets.compare_digest(known[0].encode(), secret.encode()):
            return "invalid_client"
        allowed = known[2]
        asked = frozenset(scope.split()) if scope and scope.strip() else None
        if asked is not None and allowed is not None and not asked <= allowed:
            return "invalid_scope"
        grant = Grant(known[1], asked if asked is not None else allowed)
        token = secrets.token_urlsafe(32)
        self._issued[token] = (grant, self.monotonic() + self.ttl)
        return token, grant

    def grant(self, token: str) -> Grant | None:
        """The grant of a live token, or None."""
        issued = self._issued.get(token)
        if issued is None or self.monotonic() >= issued[1]:
            return None
        return issued[0]

    def revoke_all(self) -> None:
        """Invalidate every token issued so far."""
        self._issued.clear()


@dataclass
class BearerVerifier:
    """Checks the ``Authorization: Bearer`` header of a request against static tokens (each for one
    subject, every scope) and the tokens of an issuer (their own scopes)."""

    static: dict[str, str] = field(default_factory=dict)  # token -> subject
    issuer: TokenIssuer | None = None

    def verify(self, authorization: str | None, scope: str) -> str:
        """The subject the header speaks for; ``SonataRefusal`` 401 without a valid token, 403 when
        the token lacks ``scope``."""
        from offnet.sonata.errors import SonataRefusal

        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise SonataRefusal(401, "missingCredentials", "a bearer token is required")
        for known, subject in self.static.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return subject
        grant = self.issuer.grant(token) if self.issuer is not None else None
        if grant is None:
            raise SonataRefusal(401, "invalidCredentials", "unknown or expired bearer token")
        if grant.scopes is not None and scope not in grant.scopes:
            raise SonataRefusal(403, "accessDenied", f"the token's scopes do not include {scope}")
        return grant.subject


def token_response(
    issuer: TokenIssuer, content_type: str, form_body: bytes, authorization: str | None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The token endpoint: ``(status, JSON body, headers)`` for a client-credentials request.

    Client authentication by HTTP Basic or by ``client_id``/``client_secret`` in the form.
    """
    media = content_type.split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return (
            400,
            {"error": "invalid_request", "error_description": "use application/x-www-form-urlencoded"},
            {},
        )
    try:
        form = {k: v[0] for k, v in parse_qs(form_body.decode()).items()}
    except UnicodeDecodeError:
        return 400, {"error": "invalid_request"}, {}
    client_id, secret = form.get("client_id"), form.get("client_secret")
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id = secret = None
    if form.get("grant_type") != "client_credentials":
        return 400, {"error": "unsupported_grant_type"}, {}
    outcome = issuer.issue(client_id or "", secret or "", form.get("scope"))
    if outcome == "invalid_client":
        return 401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="sonata"'}
    if isinstance(outcome, str):
        return 400, {"error": outcome}, {}
    token, grant = outcome
    body: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": issuer.ttl}
    if grant.scopes is not None:
        body["scope"] = " ".join(sorted(grant.scopes))
    return 200, body, {"Cache-Control": "no-store"}
