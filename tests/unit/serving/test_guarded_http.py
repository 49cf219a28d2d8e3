"""offnet.serving over real sockets: what httptools lacks and GuardedHttp adds (a request head's size
cap, a deadline to receive each request whole, a cap on bytes held without progress such as an
endless trailer, a bound on pipelined requests), while kept-alive and pipelined requests are still
served, bodies never count against the head's cap and a slow handler is never cut off."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offnet.serving import MAX_HEAD_BYTES, MAX_PIPELINED, GuardedHttp, serve_in_thread


async def echo(request: Request) -> Response:
    body = await request.body()
    return Response(f"{request.method} {len(body)}".encode(), media_type="text/plain")


async def slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params["s"]))
    return Response(b"slow", media_type="text/plain")


@pytest.fixture(scope="module")
def server():
    app = Starlette(routes=[Route("/echo", echo, methods=["GET", "POST"]), Route("/slow", slow)])
    with serve_in_thread(app) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def connect(server) -> socket.socket:
    sock = socket.create_connection(server, timeout=10)
    return sock


def read_answers(sock: socket.socket, count: int) -> list[bytes]:
    """`count` whole HTTP answers (status line and body) from `sock`, or fewer when it closes."""
    data, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return answers + ([data] if data else [])
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        answers.append(head.split(b"\r\n")[0] + b" | " + rest[:length])
        data = rest[length:]
    return answers


def closed(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True


def test_a_head_over_the_cap__sent_in_pieces__gets_400_and_the_connection_closed(server):
    with connect(server) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Long: ")
        answer, sent = b"", 0
        while not answer and sent < 4 * MAX_HEAD_BYTES:
            sock.sendall(b"a" * 4096)  # one piece at a time, each read by the server before the next
            sent += 4096
            sock.settimeout(0.2)
            with contextlib.suppress(TimeoutError):
                answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 400") and b"request head larger than" in answer
        assert sent <= 2 * MAX_HEAD_BYTES
        assert closed(sock)


@pytest.mark.parametrize(
    "head",
    [
        b"GET /echo?" + b"q" * (MAX_HEAD_BYTES + 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /echo HTTP/1.1\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(500)) + b"\r\n",
    ],
    ids=["long URL", "many headers"],
)
def test_a_whole_head_over_the_cap_in_one_write__gets_400_and_reaches_no_application(server, head):
    with connect(server) as sock:
        sock.sendall(head)
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 400") and b"request head larger than" in answer
        assert closed(sock)


def test_heads_under_the_cap_and_large_bodies__are_served_on_one_kept_alive_connection(server):
    big_header = b"X-Fill: " + b"b" * (MAX_HEAD_BYTES - 200) + b"\r\n"
    body = b"z" * (256 * 1024)  # a body is not part of the head: never counted against the cap
    with connect(server) as sock:
        for _ in range(3):  # each request head on the connection has a cap of its own
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n" + big_header + b"\r\n")
            assert read_answers(sock, 1) == [b"HTTP/1.1 200 OK | GET 0"]
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            assert read_answers(sock, 1) == [b"HTTP/1.1 200 OK | POST 262144"]


def test_pipelined_requests_in_one_write__are_each_answered_in_order(server):
    one = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    two = b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(server) as sock:
        sock.sendall(one + two + one)
        assert read_answers(sock, 3) == [
            b"HTTP/1.1 200 OK | POST 5",
            b"HTTP/1.1 200 OK | GET 0",
            b"HTTP/1.1 200 OK | POST 5",
        ]


def test_a_head_that_does_not_arrive_in_time__is_closed_and_a_served_connection_is_not(server, monkeypatch):
    monkeypatch.setattr(GuardedHttp, "receive_timeout", 0.5)
    with connect(server) as stalled, connect(server) as served:
        stalled.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n")  # half a head, then nothing
        served.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answers(served, 1) == [b"HTTP/1.1 200 OK | GET 0"]
        served.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answers(served, 1) == [b"HTTP/1.1 200 OK | GET 0"]
        assert closed(stalled)
        time.sleep(1.0)
        assert closed(served)  # kept alive, then silent past its next head's deadline


def test_a_body_that_does_not_arrive_in_time__closes_the_connection(server, monkeypatch):
    monkeypatch.setattr(GuardedHttp, "receive_timeout", 0.5)
    with connect(server) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        assert closed(sock)


def test_a_handler_slower_than_the_deadline__pipelined_or_not__is_answered(server, monkeypatch):
    monkeypatch.setattr(GuardedHttp, "receive_timeout", 0.3)
    with connect(server) as sock:
        # received whole at once: handling them has no deadline of this server's
        sock.sendall(b"GET /slow?s=0.6 HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
        assert read_answers(sock, 2) == [b"HTTP/1.1 200 OK | slow"] * 2


def test_an_endless_trailer_line__is_cut_off_at_the_cap(server):
    with connect(server) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: "
        )
        sent = 0
        try:
            for _ in range(64):
                sock.sendall(b"a" * 4096)
                sent += 4096
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert closed(sock)
        assert sent <= MAX_HEAD_BYTES + 256 * 1024  # refused within a read of the cap


def test_requests_piled_up_ahead_of_their_answers__end_the_connection(server):
    with connect(server) as sock:
        request = b"GET /slow?s=0.2 HTTP/1.1\r\nHost: x\r\n\r\n"
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request * 1000)  # 41 KB at once, nothing read back
        answers = read_answers(sock, 1000)  # until the server closes the connection
        assert len(answers) <= MAX_PIPELINED + 2
    with connect(server) as other:  # and it serves everyone else as before
        other.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answers(other, 1) == [b"HTTP/1.1 200 OK | GET 0"]


def test_a_body_and_the_next_head_in_one_read__are_two_requests_not_an_oversized_head(server):
    body = b"b" * 20_000
    with connect(server) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
            + body
            + b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        assert read_answers(sock, 2) == [b"HTTP/1.1 200 OK | POST 20000", b"HTTP/1.1 200 OK | GET 0"]
