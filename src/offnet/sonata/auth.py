"""Bearer tokens for Sonata calls (MEF 128.1 style): a static token per peer, or OAuth 2.0
client-credentials tokens fetched from the peer's token endpoint and cached until they expire."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from offnet.exceptions import AuthError


class TokenSource(Protocol):
    """Where a client gets the bearer token for its next request."""

    async def token(self, http: httpx.AsyncClient) -> str:
        """A currently valid access token."""
        ...

    def invalidate(self) -> bool:
        """Forget the cached token (the peer answered 401 with it); True if a new one may be fetched."""
        ...


@dataclass(frozen=True)
class StaticToken:
    """A long-lived token agreed with the peer out of band."""

    value: str

    async def token(self, http: httpx.AsyncClient) -> str:
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

    async def token(self, http: httpx.AsyncClient) -> str:
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

    async def _fetch(self, http: httpx.AsyncClient) -> None:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        try:
            response = await http.post(
                self.token_url,
                data=form,
                auth=(self.client_id, self.client_secret),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise AuthError(f"token endpoint {self.token_url} unreachable: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200:
            reason = body.get("error_description") or body.get("error") or response.reason_phrase
            raise AuthError(
                f"token endpoint refused client {self.client_id!r}: {response.status_code} {reason}"
            )
        token, kind = body.get("access_token"), str(body.get("token_type", "")).lower()
        if not isinstance(token, str) or not token or kind != "bearer":
            raise AuthError(f"token endpoint {self.token_url} returned no bearer access_token")
        expires_in = body.get("expires_in", 3600)
        if not isinstance(expires_in, int | float) or expires_in <= 0:
            raise AuthError(f"token endpoint {self.token_url} returned expires_in={expires_in!r}")
        self._token = token
        self._expires_at = self.monotonic() + max(0.0, expires_in - self.refresh_margin)
