"""The HTTP transport of the Sonata clients: httpx's interface over aiohttp's pooled connections.

httpx stays the interface (requests, responses, auth, tests' transports), but its default transport
(httpcore over anyio) costs about 0.6 ms of CPU per request on loopback; aiohttp's keep-alive pool
and C parser do the same exchange for about a tenth of that. Behaviour is httpx's: redirects are
never followed (the client decides, and it refuses them), bodies stream (the caller enforces its
size cap and stops reading), compressed bodies are handed over undecoded (httpx decodes them), no
cookie jar and no proxy from the environment here, TLS verified with the shared default context,
and each failure is the httpx exception the client already retries or reports: a connection not
made (`ConnectError`, `ConnectTimeout`), an answer not arriving (`ReadTimeout`), a connection lost or
a malformed answer (`ReadError`, `RemoteProtocolError`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx
from yarl import URL

CHUNK = 64 * 1024
# aiohttp adds these unless told not to; httpx's request already carries the ones it wants.
_OWN_HEADERS = frozenset({"User-Agent", "Accept-Encoding", "Accept", "Content-Type"})


class PooledTransport(httpx.AsyncBaseTransport):
    """Keep-alive HTTP/1.1 connections (per host and port, at most `limit` open) for one client."""

    def __init__(self, ssl_context: ssl.SSLContext, *, limit: int = 100, keepalive: float = 5.0):
        self._ssl = ssl_context
        self._limit = limit
        self._keepalive = keepalive
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> aiohttp.ClientSession:
        """The session of the running event loop (a pool cannot outlive the loop it was made in)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                ssl=self._ssl,
                keepalive_timeout=self._keepalive,
                enable_cleanup_closed=False,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                skip_auto_headers=_OWN_HEADERS,
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        connect, read = timeouts.get("connect"), timeouts.get("read")
        pool = timeouts.get("pool")
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        body = await request.aread()
        try:
            answer = await self._current().request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
                data=body or None,
                allow_redirects=False,
                timeout=timeout,
            )
        except Exception as exc:
            raise _as_httpx(exc, request, connecting=True) from exc
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            stream=_Body(answer, request),
            extensions={
                "http_version": f"HTTP/{answer.version.major}.{answer.version.minor}".encode(),
                "reason_phrase": (answer.reason or "").encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()


class _Body(httpx.AsyncByteStream):
    """An answer's body as it arrives; closing it early closes the connection (never reused half-read)."""

    def __init__(self, answer: aiohttp.ClientResponse, request: httpx.Request):
        self._answer = answer
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._answer.content.iter_chunked(CHUNK):
                yield chunk
        except Exception as exc:
            raise _as_httpx(exc, self._request, connecting=False) from exc

    async def aclose(self) -> None:
        if self._answer.content.at_eof():
            self._answer.release()  # read to the end: the connection goes back to the pool
        else:
            self._answer.close()


def _as_httpx(exc: Exception, request: httpx.Request, *, connecting: bool) -> Exception:
    """The httpx exception of an aiohttp failure (anything else is returned as it is)."""
    message = f"{exc.__class__.__name__}: {exc}"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError, TimeoutError)):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(
        exc, (aiohttp.ClientResponseError, aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)
    ):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        return (httpx.ConnectError if connecting else httpx.ReadError)(message, request=request)
    return exc
