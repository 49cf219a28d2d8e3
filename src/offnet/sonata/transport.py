"""The HTTP/1.1 client of the Sonata clients: keep-alive connections on asyncio, answers parsed by
httptools (llhttp, the C parser Node.js uses).

A relaying oracle fetches one Sonata document per event; general-purpose clients (httpx, aiohttp)
spend most of a loopback exchange's CPU in their own layers. This one does only what a Sonata client
needs, and bounds everything a hostile peer controls:

- one request at a time per connection, kept alive and reused (per scheme, host and port, at most
  `limit` open; idle ones close after `keepalive` seconds); a connection is reused only after its
  answer was read to the end and the peer allows it;
- redirects are never followed (the client decides, and it refuses them); no cookies; no proxy;
- TLS verified with the given context (its host name checked);
- the answer's head capped (`max_head` bytes) and its body capped (`max_bytes`, decoded: gzip and
  deflate are decoded under the same cap, so a compressed bomb is cut off too); an answer over its cap
  is `AnswerTooLarge` and its connection is closed, never reused half-read;
- time: `timeout` seconds to get a connection (a free slot, then TCP and TLS) and at most `timeout`
  seconds of silence while the answer is awaited;
- each failure is the httpx exception the clients already retry or report: a connection not made
  (`ConnectError`, `ConnectTimeout`, `PoolTimeout`), an answer not arriving (`ReadTimeout`), a
  connection lost (`ReadError`) or a malformed answer (`RemoteProtocolError`). A kept-alive connection
  the peer closed while idle is replaced once, silently, for requests safe to repeat.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httptools
import httpx

from offnet import __version__

USER_AGENT = f"offnet/{__version__}"
MAX_HEAD = 64 * 1024  # bytes of status line and headers an answer may have; also of any one line
MAX_INTERIM = 8  # interim (1xx) answers before the real one
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "OPTIONS"})  # methods safe to send twice
_ILLEGAL = frozenset("\r\n\x00")


class AnswerTooLarge(Exception):
    """An answer's body (decoded) is over the caller's cap; nothing of it is returned."""

    def __init__(self, status: int, limit: int):
        super().__init__(f"answer larger than {limit} bytes")
        self.status = status
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole HTTP answer: header names lower-case (repeated ones joined by ", "), body decoded."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    url: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class _Origin:
    key: tuple[str, str]
    host: str  # to connect to
    port: int
    tls: bool
    host_header: str


class HttpPool:
    """Keep-alive HTTP/1.1 connections of one client (one pool per event loop it is used in)."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        limit: int = 100,
        keepalive: float = 4.0,  # below the 5 s of common servers: reuse never races their close
        max_head: int = MAX_HEAD,
    ):
        self._ssl = ssl_context
        self._limit = limit
        self._keepalive = keepalive
        self._max_head = max_head
        self._origins: dict[tuple[str, str], _Origin] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: dict[tuple[str, str], deque[_Connection]] = {}
        self._open: dict[tuple[str, str], int] = {}
        self._waiting: dict[tuple[str, str], deque[asyncio.Future]] = {}
        self._closed = False

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: list[tuple[str, str]] | tuple = (),
        body: bytes | None = None,
        timeout: float = 10.0,
        max_bytes: int = 1 << 20,
    ) -> Answer:
        """Send one request and read its whole answer (any status: the caller decides)."""
        if method == "HEAD":
            raise ValueError("HEAD is not supported (its answer has no body to read)")
        origin, target = self._split(url)
        head = _head(method, target, origin.host_header, headers, body)
        self._bind()
        for fresh_only in (False, True):
            connection = await self._acquire(origin, timeout, fresh_only)
            try:
                answer = await connection.exchange(head, body, timeout, max_bytes)
            except _StaleConnection as stale:
                self._release(origin, connection, reuse=False)
                if method in IDEMPOTENT and not fresh_only:
                    continue  # the peer closed it while idle: once more, on a new connection
                raise httpx.ReadError(f"connection closed before the answer: {stale}") from None
            except BaseException:
                self._release(origin, connection, reuse=False)
                raise
            self._release(origin, connection, reuse=connection.reusable)
            return Answer(*answer, url)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Close every idle connection; the ones in use close when their answer is read."""
        self._closed = True
        for key, idle in self._idle.items():
            while idle:
                self._discard(key, idle.popleft())

    # --- connections ------------------------------------------------------------------------------

    def _bind(self) -> None:
        """The pool of the running loop: connections cannot outlive the loop they were made in."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._idle, self._open, self._waiting = {}, {}, {}
            self._closed = False

    async def _acquire(self, origin: _Origin, timeout: float, fresh_only: bool) -> _Connection:
        key = origin.key
        idle = self._idle.setdefault(key, deque())
        while idle and not fresh_only:
            connection = idle.pop()  # the most recently used: the least likely to be closed by the peer
            if connection.usable(self._loop.time(), self._keepalive):
                return connection
            self._discard(key, connection)
        connecting = False
        try:
            async with asyncio.timeout(timeout):
                while self._open.get(key, 0) >= self._limit:
                    if idle:  # an idle connection gives its slot to a new one
                        self._discard(key, idle.popleft())
                        break
                    handed = await self._wait_turn(key)
                    if handed is not None:
                        if not fresh_only and handed.usable(self._loop.time(), self._keepalive):
                            return handed
                        self._discard(key, handed)
                self._open[key] = self._open.get(key, 0) + 1
                connecting = True
                try:
                    return await self._connect(origin)
                except BaseException:
                    self._open[key] -= 1
                    self._wake(key)
                    raise
        except TimeoutError:
            if connecting:
                raise httpx.ConnectTimeout(
                    f"no connection to {origin.host_header} within {timeout:g} s"
                ) from None
            raise httpx.PoolTimeout(
                f"no free connection to {origin.host_header} within {timeout:g} s"
            ) from None

    async def _wait_turn(self, key: tuple[str, str]) -> _Connection | None:
        """Wait until a connection is handed over (returned) or a slot is free (None)."""
        waiter = self._loop.create_future()
        self._waiting.setdefault(key, deque()).append(waiter)
        try:
            return await waiter
        except BaseException:  # cancelled or timed out: what was handed to us goes to the next one
            if waiter.done() and not waiter.cancelled():
                handed = waiter.result()
                if handed is not None:
                    self._idle.setdefault(key, deque()).append(handed)
                self._wake(key, handed)
            elif waiter in self._waiting[key]:
                self._waiting[key].remove(waiter)
            raise

    def _discard(self, key: tuple[str, str], connection: _Connection) -> None:
        connection.close()
        self._open[key] -= 1

    async def _connect(self, origin: _Origin) -> _Connection:
        try:
            _, connection = await self._loop.create_connection(
                lambda: _Connection(self._max_head),
                origin.host,
                origin.port,
                ssl=self._ssl if origin.tls else None,
                server_hostname=origin.host if origin.tls else None,
            )
        except (OSError, ssl.SSLError, UnicodeError) as exc:
            raise httpx.ConnectError(f"{exc.__class__.__name__}: {exc}") from exc
        return connection

    def _release(self, origin: _Origin, connection: _Connection, *, reuse: bool) -> None:
        key = origin.key
        if self._loop is not asyncio.get_running_loop():
            connection.close()  # made in another loop's pool
            return
        if not reuse or self._closed:
            self._discard(key, connection)
            self._wake(key)
            return
        if not self._wake(key, connection):
            self._idle.setdefault(key, deque()).append(connection)

    def _wake(self, key: tuple[str, str], connection: _Connection | None = None) -> bool:
        """Hand `connection` (or, with None, a free slot) to the first waiter; False when none waits."""
        waiters = self._waiting.get(key)
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                if connection is not None:
                    idle = self._idle.get(key)
                    if idle and connection in idle:
                        idle.remove(connection)
                waiter.set_result(connection)
                return True
        return False

    # --- URLs -------------------------------------------------------------------------------------

    def _split(self, url: str) -> tuple[_Origin, str]:
        scheme, separator, rest = url.partition("://")
        netloc, slash, tail = rest.partition("/")
        if "?" in netloc and not slash:
            netloc, _, query = netloc.partition("?")
            tail, slash = "?" + query, "/"
        target = ("/" + tail if slash else "/").split("#", 1)[0]
        if any(c <= " " or c == "\x7f" for c in target):
            raise httpx.InvalidURL(f"URL path holds a space or a control character: {url[:200]!r}")
        origin = self._origins.get((scheme, netloc)) if separator else None
        if origin is None:
            origin = self._origins[(scheme, netloc)] = _origin(scheme.lower(), netloc, url)
        return origin, target


def _origin(scheme: str, netloc: str, url: str) -> _Origin:
    if scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"only http and https URLs are fetched: {url[:200]!r}")
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError as exc:
        raise httpx.InvalidURL(f"{exc}: {url[:200]!r}") from None
    if not parts.hostname or "@" in netloc:
        raise httpx.InvalidURL(f"URL without a host, or with credentials in it: {url[:200]!r}")
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        raise httpx.InvalidURL(f"host name that is not a valid domain name: {url[:200]!r}") from None
    tls = scheme == "https"
    return _Origin((scheme, netloc), parts.hostname, port or (443 if tls else 80), tls, netloc)


def _head(method: str, target: str, host: str, headers, body: bytes | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}"]
    lines.append("Accept-Encoding: gzip, deflate")
    for name, value in headers:
        if _ILLEGAL.intersection(name) or _ILLEGAL.intersection(value) or not name:
            raise httpx.LocalProtocolError(f"illegal header {name[:40]!r}")
        lines.append(f"{name}: {value}")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError as exc:
        raise httpx.LocalProtocolError(
            f"a header or the URL holds a character HTTP cannot carry: {exc.reason}"
        ) from None


class _StaleConnection(Exception):
    """A reused connection that was closed before any byte of the answer arrived."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: `exchange()` sends a request and reads its answer."""

    def __init__(self, max_head: int):
        self._max_head = max_head
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._lost = False
        self._used = 0
        self._idle_since = 0.0
        self._last_read = 0.0
        self.reusable = False

    # --- the caller's side -----------------------------------------------------------------------

    def usable(self, now: float, keepalive: float) -> bool:
        return not self._lost and not self._transport.is_closing() and now - self._idle_since < keepalive

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def exchange(self, head: bytes, body: bytes | None, timeout: float, max_bytes: int):
        loop = asyncio.get_running_loop()
        self._answer = loop.create_future()
        self._max_bytes, self._received, self.reusable, self._interim = max_bytes, False, False, 0
        self.on_message_begin()
        reused = self._used > 0
        self._used += 1
        self._transport.write(head + body if body else head)
        self._timeout, self._last_read = timeout, loop.time()
        self._timer = loop.call_later(timeout, self._check_silence)
        try:
            answer = await self._answer
        except _StaleConnection:
            if reused:
                raise
            raise httpx.ReadError("connection closed before the answer") from None
        finally:
            self._timer.cancel()
            self._answer = None
        self.reusable = not self._lost and self._keep_alive
        self._idle_since = loop.time()
        return answer

    def _check_silence(self) -> None:
        """The read timeout: fail the exchange after `timeout` seconds without a byte."""
        if self._answer is None or self._answer.done():
            return
        loop = asyncio.get_running_loop()
        silent = loop.time() - self._last_read
        if silent >= self._timeout:
            self._fail(httpx.ReadTimeout(f"no answer for {self._timeout:g} s"))
            self._lost = True
            self.close()
        else:
            self._timer = loop.call_later(self._timeout - silent, self._check_silence)

    def _fail(self, exc: BaseException) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(exc)

    # --- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self._lost = True  # bytes nobody asked for: this connection is not trusted again
            self.close()
            return
        self._received = True
        self._last_read = asyncio.get_running_loop().time()
        # Every parser callback is progress and sets this back to 0; what is left after the feed is
        # what the parser holds in an unfinished line (a header, a trailer, a chunk's size line).
        self._stalled += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._broken(httpx.RemoteProtocolError("the peer switched protocols"))
            return
        except httptools.HttpParserError as exc:
            cause = exc.__context__ if isinstance(exc.__context__, Exception) else exc
            if not isinstance(cause, (AnswerTooLarge, httpx.TransportError)):
                cause = httpx.RemoteProtocolError(f"malformed answer: {exc}")
            self._broken(cause)
            return
        if self._stalled > self._max_head:
            self._broken(
                httpx.RemoteProtocolError(f"a header or chunk line longer than {self._max_head} bytes")
            )

    def _broken(self, exc: Exception) -> None:
        self._fail(exc)
        self._lost = True
        self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if self._answer is None or self._answer.done():
            return
        if not self._received:
            self._fail(_StaleConnection(str(exc or "closed by the peer")))
        elif self._complete_at_close():
            self._finish()
        else:
            self._fail(httpx.ReadError(f"connection closed mid-answer ({exc or 'by the peer'})"))

    def _complete_at_close(self) -> bool:
        """An answer whose body runs to the end of the connection (no length, not chunked) is whole."""
        return (
            not self._in_head
            and self._status >= 200
            and "content-length" not in self._headers
            and "chunked" not in self._headers.get("transfer-encoding", "").lower()
        )

    # --- httptools callbacks ---------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._answer is None or self._answer.done():
            self._lost = True  # a second answer to one request: this connection is not trusted again
        self._status, self._reason, self._headers, self._chunks = 0, "", {}, []
        self._size, self._head_bytes, self._stalled = 0, 0, 0
        self._in_head, self._decoder, self._keep_alive = True, None, False

    def on_status(self, reason: bytes) -> None:
        self._count(len(reason))
        self._reason += reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]}, {text}" if key in self._headers else text

    def _count(self, size: int) -> None:
        self._stalled = 0
        self._head_bytes += size
        if self._head_bytes > self._max_head:
            raise httpx.RemoteProtocolError(f"answer head larger than {self._max_head} bytes")

    def on_headers_complete(self) -> None:
        self._in_head, self._stalled = False, 0
        self._status = self._parser.get_status_code()
        self._keep_alive = self._parser.should_keep_alive()
        if self._status < 200:  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            self._interim += 1
            if self._interim > MAX_INTERIM:
                raise httpx.RemoteProtocolError(f"more than {MAX_INTERIM} interim answers")
            return
        declared = self._headers.get("content-length", "")
        encoding = self._headers.get("content-encoding", "identity").strip().lower()
        if declared.isdigit() and int(declared) > self._max_bytes and encoding == "identity":
            raise AnswerTooLarge(self._status, self._max_bytes)
        if encoding == "gzip":
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._decoder = zlib.decompressobj()
        elif encoding != "identity":
            raise httpx.RemoteProtocolError(f"answer in an encoding not asked for: {encoding[:40]!r}")

    def on_body(self, body: bytes) -> None:
        self._stalled = 0
        if self._decoder is not None:
            try:
                body = self._decoder.decompress(body, self._max_bytes - self._size + 1)
            except zlib.error as exc:
                raise httpx.RemoteProtocolError(f"answer body does not decode: {exc}") from None
        self._size += len(body)
        if self._size > self._max_bytes:
            raise AnswerTooLarge(self._status, self._max_bytes)
        self._chunks.append(body)

    def on_chunk_header(self) -> None:
        self._stalled = 0

    def on_chunk_complete(self) -> None:
        self._stalled = 0

    def on_message_complete(self) -> None:
        self._stalled = 0
        if self._status >= 200:
            self._finish()

    def _finish(self) -> None:
        if self._answer is None or self._answer.done():
            return
        if self._decoder is not None and not self._decoder.eof:
            self._broken(httpx.RemoteProtocolError("compressed answer ends before its end of stream"))
            return
        self._answer.set_result((self._status, self._reason, self._headers, b"".join(self._chunks)))
