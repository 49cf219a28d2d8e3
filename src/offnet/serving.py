"""The one way offnet serves HTTP: uvicorn with httptools' C parser, guarded against slow, oversized
and piled-up requests, on the running (or its own uvloop) event loop.

Every server of the project goes through here: the oracle's listener and admin address, the explorer,
the reference Sonata seller. httptools parses far cheaper than h11, but it bounds nothing itself, so
`GuardedHttp` adds what a server facing the internet needs:

- a deadline to receive each request whole, head and body (`RECEIVE_TIMEOUT`), and the next one on
  a kept-alive connection: a connection that opens and trickles, or sends nothing, is closed instead
  of held forever (a request being handled has no deadline here: it is the application's);
- a size cap on a request head (`MAX_HEAD_BYTES` of request line and headers, whole or still
  arriving): beyond it 400 and the connection closed, so an endless URL or header cannot fill memory;
- a cap on the bytes the parser may hold without progress (an unfinished header, trailer or chunk
  line: the same `MAX_HEAD_BYTES`), wherever in the request they come;
- at most `MAX_PIPELINED` requests received ahead of their answers on one connection.

Beyond `CONCURRENT_CONNECTIONS` connections the server answers 503.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("offnet.serving")
RECEIVE_TIMEOUT = 10.0  # seconds to receive a whole request (or the next one on a kept-alive connection)
MAX_HEAD_BYTES = 16 * 1024  # request line and headers; also what the parser may hold without progress
MAX_PIPELINED = 16  # requests received ahead of their answers on one connection
CONCURRENT_CONNECTIONS = 1024  # beyond this the server answers 503
KEEP_ALIVE = 5  # seconds an idle kept-alive connection stays open


class _Refused(Exception):
    """Raised in a parser callback to stop parsing: the connection is refused (`reason`), or closed
    without an answer when `reason` is None."""

    def __init__(self, reason: str | None):
        super().__init__(reason)
        self.reason = reason


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol over httptools, with deadlines and caps of its own (module doc)."""

    receive_timeout = RECEIVE_TIMEOUT
    max_head = MAX_HEAD_BYTES
    max_pipelined = MAX_PIPELINED

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = self._stalled = 0
        self._in_head = self._receiving = False
        self._deadline = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        # Every parser callback is progress and sets this back to 0; what is left after the feed is
        # what the parser holds in an unfinished line (at most one read more than the cap).
        self._stalled += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # no WebSocket here: the request is answered as a plain one
        except httptools.HttpParserError as exc:
            refused = (
                exc.__context__
                if isinstance(exc.__context__, _Refused)
                else _Refused("Invalid HTTP request received.")
            )
            self._refuse(refused.reason)
            return
        if self._stalled > self.max_head:
            self._refuse(self._too_large if self._in_head else None)

    def _refuse(self, reason: str | None) -> None:
        """400 with `reason` while no answer is under way on this connection, else close it."""
        if reason is not None and (self.cycle is None or self.cycle.response_complete) and not self.pipeline:
            self.send_400_response(reason)
        else:
            self.transport.close()

    @property
    def _too_large(self) -> str:
        return f"request head larger than {self.max_head} bytes"

    def _progress(self) -> None:
        self._stalled = 0

    def _count(self, size: int) -> None:
        self._stalled = 0
        self._head_bytes += size
        if self._head_bytes > self.max_head:
            raise _Refused(self._too_large)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes, self._stalled, self._in_head, self._receiving = 0, 0, True, True
        if self._deadline is None:
            self._arm()  # a request began arriving: it must arrive whole in time

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._stalled = False, 0
        super().on_headers_complete()
        if len(self.pipeline) > self.max_pipelined:
            raise _Refused(None)  # requests piling up ahead of their answers: this connection ends

    def on_body(self, body: bytes) -> None:
        self._stalled = 0
        super().on_body(body)

    def on_chunk_header(self) -> None:
        self._stalled = 0

    def on_chunk_complete(self) -> None:
        self._stalled = 0

    def on_message_complete(self) -> None:
        self._stalled, self._receiving = 0, False
        self._disarm()  # received whole: its handling has no deadline here
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        idle = not self._receiving and (self.cycle is None or self.cycle.response_complete)
        if idle and not self.transport.is_closing():
            self._arm()  # the next request on this kept-alive connection has its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _unsupported_upgrade_warning(self) -> None:
        log.debug("upgrade request answered as a plain request")  # one log line per request would flood

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.receive_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()  # no whole request within the deadline


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
