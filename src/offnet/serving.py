"""The one way offnet serves HTTP: uvicorn with httptools' C parser, guarded against slow and oversized
request heads, on the running (or its own uvloop) event loop.

Every server of the project goes through here: the oracle's listener and admin address, the explorer,
the reference Sonata seller. httptools parses far cheaper than h11, but it caps nothing itself, so
`GuardedHttp` adds what a server facing the internet needs: a deadline for each request head
(a connection that opens and trickles, or sends nothing, is closed after `HEADER_TIMEOUT` seconds
instead of held forever) and a size cap on it (beyond `MAX_HEAD_BYTES` of request line and headers
the connection gets 400 and is closed, so an endless URL or header line cannot fill memory). Beyond
`CONCURRENT_CONNECTIONS` connections the server answers 503.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0  # seconds for a request head to arrive (on a new or a kept-alive connection)
MAX_HEAD_BYTES = 16 * 1024  # request line and headers
CONCURRENT_CONNECTIONS = 1024  # beyond this the server answers 503
KEEP_ALIVE = 5  # seconds an idle kept-alive connection stays open


class _HeadTooLarge(Exception):
    """Raised in a parser callback to stop parsing a request whose head is over the cap."""


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol over httptools, with a deadline and a size cap for each request head."""

    header_timeout = HEADER_TIMEOUT
    max_head = MAX_HEAD_BYTES

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head, self._head_bytes, self._unparsed = True, 0, 0
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()  # no WebSocket here: answered as a plain request
        except httptools.HttpParserError as exc:
            too_large = isinstance(exc.__context__, _HeadTooLarge)
            self.send_400_response(self._too_large if too_large else "Invalid HTTP request received.")
            return
        if self._in_head:
            # The parser holds a header line in memory until it is complete: bound what it may hold by
            # the bytes received since the head began (at worst this chunk also ended the previous
            # request's body, and counts whole).
            self._unparsed += len(data)
            if self._unparsed > self.max_head:
                self.send_400_response(self._too_large)

    @property
    def _too_large(self) -> str:
        return f"request head larger than {self.max_head} bytes"

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_head:
            raise _HeadTooLarge()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._unparsed = True, 0, 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request head on this kept-alive connection has its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
        self._armed_cycle = self.cycle
        self._head_timer = self.loop.call_later(self.header_timeout, self._expire)

    def _expire(self) -> None:
        if self.cycle is self._armed_cycle and not self.transport.is_closing():
            self.transport.close()  # no new request head since the deadline was set


def http_server(app: Any, host: str, port: int, *, log_level: str = "warning", lifespan: str = "off"):
    """The uvicorn server of `app` on host:port (`.serve()` on a running loop, `.run()` on its own)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=GuardedHttp,
        ws="none",
        loop="uvloop",
        proxy_headers=False,  # clients connect directly: no address is taken from a header
        log_level=log_level,
        access_log=False,  # no line per request (a notification path per event)
        lifespan=lifespan,
        limit_concurrency=CONCURRENT_CONNECTIONS,
        timeout_keep_alive=KEEP_ALIVE,
    )
    return uvicorn.Server(config)


@contextmanager
def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 10.0
) -> Iterator[str]:
    """Serve ``app`` over real HTTP while the block runs; yields its base URL (port 0 = any free port)."""
    server = http_server(app, host, port, lifespan="on")
    thread = threading.Thread(target=server.run, name=f"uvicorn-{host}:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"server for {app!r} did not start on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
