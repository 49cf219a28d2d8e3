"""The Sonata clients' HTTP pool against a real TCP server that answers as scripted: connections kept
alive, reused and bounded, redirects never followed, answers read under the caller's size cap (a
half-read connection never reused; compressed ones decoded under the same cap), answer heads capped,
interim and close-delimited answers read, a stray answer never given to the next request, requests
that could be smuggled refused before sending, TLS verified, and every network failure the httpx
error the client retries (then reports as SonataError)."""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from offnet.chain.anvil import free_port
from offnet.exceptions import SonataError
from offnet.sonata.auth import ClientCredentials
from offnet.sonata.client import SonataClient, shared_ssl_context
from offnet.sonata.models import TROUBLE_TICKET_API
from offnet.sonata.transport import MAX_HEAD, AnswerTooLarge, HttpPool

pytestmark = pytest.mark.anyio
DOCUMENT = json.dumps({"id": "TT-1", "note": "x" * 2000}).encode()


def _answer(status: str, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"content-length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class ScriptedServer:
    """Answers by the request path's last segment; counts connections and requests."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[str] = []
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self, context: ssl.SSLContext | None = None, port: int = 0) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port, ssl=context)
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if context else 'http'}://127.0.0.1:{port}"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = [
                    int(v)
                    for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
                    if k.lower() == b"content-length"
                ]
                if length:
                    await reader.readexactly(length[0])
                path = head.split(b" ")[1].decode().split("?")[0]
                self.requests.append(path)
                name = path.rsplit("/", 1)[-1]
                if name == "trailer":  # a chunked answer, then a trailer line that never ends
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nx-t: "
                    )
                    for _ in range(64):
                        writer.write(b"t" * 4096)
                        await writer.drain()
                    await asyncio.sleep(3600)
                elif name == "switch":
                    writer.write(
                        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: other\r\nconnection: upgrade\r\n\r\n"
                    )
                    await writer.drain()
                    await asyncio.sleep(3600)
                elif name == "interim-close":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    await writer.drain()
                    break
                elif name == "interim-flood":
                    for _ in range(1000):
                        writer.write(b"HTTP/1.1 103 Early Hints\r\n\r\n")
                        await writer.drain()
                    await asyncio.sleep(3600)
                elif name == "token-bad":  # a token endpoint handing out a token no header can carry
                    grant = {
                        "access_token": "tok\u0100en\r\nX-Smuggled: 1",
                        "token_type": "bearer",
                        "expires_in": 3600,
                    }
                    writer.write(
                        _answer("200 OK", json.dumps(grant).encode(), "content-type: application/json")
                    )
                elif name == "gzip-cut":
                    whole = gzip.compress(DOCUMENT)
                    writer.write(_answer("200 OK", whole[: len(whole) // 2], "content-encoding: gzip"))
                elif name == "silent":
                    await asyncio.sleep(3600)
                elif name == "garbage":
                    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
                    await writer.drain()
                    break
                elif name == "moved":
                    writer.write(_answer("302 Found", b"", "location: /elsewhere/TT-1"))
                elif name == "huge":  # chunked, no declared length: cut off by the reader's cap
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                    )
                    for _ in range(64):
                        writer.write(b"4000\r\n" + b"x" * 0x4000 + b"\r\n")
                        await writer.drain()
                    writer.write(b"0\r\n\r\n")
                elif name == "declared-huge":  # a length over the cap, then nothing at all
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10000000000\r\n\r\n")
                elif name == "bomb":  # 5 KiB on the wire, 50 MB decoded
                    writer.write(
                        _answer("200 OK", gzip.compress(b"0" * 50_000_000), "content-encoding: gzip")
                    )
                elif name == "endless-header":
                    writer.write(b"HTTP/1.1 200 OK\r\nx-filler: ")
                    for _ in range(64):
                        writer.write(b"y" * 4096)
                        await writer.drain()
                    await asyncio.sleep(3600)
                elif name == "to-the-end":  # no length, not chunked: the body ends when the connection does
                    writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + DOCUMENT)
                    await writer.drain()
                    break
                elif name == "interim":
                    writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </x>; rel=preload\r\n\r\n")
                    writer.write(_answer("200 OK", DOCUMENT))
                elif name == "twice":  # a second answer nobody asked for
                    writer.write(_answer("200 OK", DOCUMENT) + _answer("200 OK", b'{"id": "STRAY"}'))
                elif name == "then-close":  # answers, then closes the kept-alive connection while idle
                    writer.write(_answer("200 OK", DOCUMENT))
                    await writer.drain()
                    await asyncio.sleep(0.05)
                    break
                elif name == "slow":
                    await asyncio.sleep(0.1)
                    writer.write(_answer("200 OK", DOCUMENT))
                elif name == "gzipped":
                    writer.write(
                        _answer(
                            "200 OK",
                            gzip.compress(DOCUMENT),
                            "content-type: application/json",
                            "content-encoding: gzip",
                        )
                    )
                else:
                    writer.write(_answer("200 OK", DOCUMENT, "content-type: application/json"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    await scripted.stop()


def pool(**options) -> HttpPool:
    return HttpPool(shared_ssl_context(), **options)


async def test_keep_alive__many_requests_share_one_connection(server: ScriptedServer) -> None:
    url = await server.start()
    http = pool()
    for i in range(50):
        answer = await http.request("GET", f"{url}/a/TT-{i}")
        assert (answer.status, answer.json()["id"]) == (200, "TT-1")
    await http.aclose()
    assert len(server.requests) == 50
    assert server.connections == 1


async def test_concurrent_requests__never_more_connections_than_the_limit(server: ScriptedServer) -> None:
    url = await server.start()
    http = pool(limit=3)
    answers = await asyncio.gather(*(http.request("GET", f"{url}/a/slow") for _ in range(20)))
    assert [a.status for a in answers] == [200] * 20
    assert server.connections == 3
    await http.aclose()


async def test_redirect__is_handed_back_never_followed(server: ScriptedServer) -> None:
    url = await server.start()
    answer = await pool().request("GET", f"{url}/a/moved")
    assert (answer.status, answer.headers["location"]) == (302, "/elsewhere/TT-1")
    assert server.requests == ["/a/moved"]  # the Location was never fetched


async def test_oversize_answer__cut_off_at_the_cap_and_its_connection_not_reused(
    server: ScriptedServer,
) -> None:
    url = await server.start()
    async with SonataClient(url, "t", max_bytes=100_000, retries=0) as sonata:
        with pytest.raises(SonataError, match="answer larger than 100000 bytes"):
            await sonata.get_trouble_ticket("huge")
        with pytest.raises(SonataError, match="unexpected answer"):  # the next call: a fresh connection
            await sonata.get_trouble_ticket("TT-1")
    assert server.connections == 2


async def test_declared_oversize_answer__refused_without_reading_it(server: ScriptedServer) -> None:
    url = await server.start()
    with pytest.raises(AnswerTooLarge, match="answer larger than 1000 bytes"):
        await pool().request("GET", f"{url}/a/declared-huge", max_bytes=1000)


async def test_compressed_answer__is_decoded_and_a_compressed_bomb_cut_off_at_the_cap(
    server: ScriptedServer,
) -> None:
    url = await server.start()
    http = pool()
    assert (await http.request("GET", f"{url}/a/gzipped")).json()["id"] == "TT-1"
    with pytest.raises(AnswerTooLarge, match="answer larger than 1048576 bytes"):
        await http.request("GET", f"{url}/a/bomb", max_bytes=1 << 20)


async def test_endless_answer_head__is_a_protocol_error_at_its_cap(server: ScriptedServer) -> None:
    url = await server.start()
    with pytest.raises(httpx.RemoteProtocolError, match=f"than {MAX_HEAD} bytes"):
        await pool().request("GET", f"{url}/a/endless-header", timeout=30)


async def test_interim_and_close_delimited_answers__are_read_whole(server: ScriptedServer) -> None:
    url = await server.start()
    http = pool()
    interim = await http.request("GET", f"{url}/a/interim")
    assert (interim.status, interim.json()["id"]) == (200, "TT-1")
    to_the_end = await http.request("GET", f"{url}/a/to-the-end")
    assert (to_the_end.status, to_the_end.body) == (200, DOCUMENT)


async def test_a_stray_second_answer__never_answers_the_next_request(server: ScriptedServer) -> None:
    url = await server.start()
    http = pool()
    assert (await http.request("GET", f"{url}/a/twice")).json()["id"] == "TT-1"
    assert (await http.request("GET", f"{url}/a/TT-1")).json()["id"] == "TT-1"
    assert server.connections == 2  # the connection that carried the stray answer was dropped


async def test_a_kept_alive_connection_the_peer_closed__is_replaced_for_a_get(server: ScriptedServer) -> None:
    url = await server.start()
    http = pool()
    assert (await http.request("GET", f"{url}/a/then-close")).status == 200
    await asyncio.sleep(0.2)  # the peer has closed it by now
    assert (await http.request("GET", f"{url}/a/TT-1")).status == 200
    assert server.connections == 2


@pytest.mark.parametrize(
    "url, headers, error",
    [
        ("{url}/a/TT-1 HTTP/1.1\r\nX-Smuggled: 1", (), httpx.InvalidURL),
        ("{url}/a/TT 1", (), httpx.InvalidURL),
        ("{url}/a/TT-1", [("Authorization", "Bearer t\r\nX-Smuggled: 1")], httpx.LocalProtocolError),
        ("ftp://127.0.0.1/a/TT-1", (), httpx.UnsupportedProtocol),
        ("http://user:pw@127.0.0.1/a", (), httpx.InvalidURL),
    ],
    ids=["CRLF in the path", "space in the path", "CRLF in a header", "not http", "credentials in the URL"],
)
async def test_requests_that_could_be_smuggled__are_refused_before_sending(
    server: ScriptedServer, url: str, headers, error
) -> None:
    base = await server.start()
    with pytest.raises(error):
        await pool().request("GET", url.format(url=base), headers=headers)
    assert server.requests == []


async def test_silent_peer__read_timeout_retried_then_reported(server: ScriptedServer) -> None:
    url = await server.start()
    async with SonataClient(url, "t", timeout=0.2, retries=1, backoff=0.01) as sonata:
        with pytest.raises(SonataError, match="ReadTimeout") as failed:
            await sonata.get_trouble_ticket("silent")
    assert failed.value.status is None
    assert len(server.requests) == 2


async def test_malformed_answer__is_a_transport_error_retried_then_reported(server: ScriptedServer) -> None:
    url = await server.start()
    async with SonataClient(url, "t", retries=2, backoff=0.01) as sonata:
        with pytest.raises(SonataError, match="RemoteProtocolError"):
            await sonata.get_trouble_ticket("garbage")
    assert len(server.requests) == 3


async def test_tls__an_untrusted_certificate_is_refused_a_trusted_one_served(
    server: ScriptedServer, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    url = await server.start(served)
    async with SonataClient(url, "t", retries=0) as sonata:
        with pytest.raises(SonataError, match="ConnectError"):
            await sonata.get_trouble_ticket("TT-1")
    assert server.requests == []
    trusting = ssl.create_default_context(cafile=str(cert))
    assert (await HttpPool(trusting).request("GET", f"{url}/a/TT-1")).json()["id"] == "TT-1"
    assert server.requests == ["/a/TT-1"]


def test_one_client_across_event_loops__each_loop_gets_its_own_pool() -> None:
    port = free_port()

    async def fetch(sonata: SonataClient) -> int:
        scripted = ScriptedServer()
        await scripted.start(port=port)
        try:
            with pytest.raises(SonataError, match="unexpected answer"):
                await sonata.get_trouble_ticket("TT-1")
        finally:
            await scripted.stop()
        return len(scripted.requests)

    sonata = SonataClient(f"http://127.0.0.1:{port}", "t", retries=0)
    assert asyncio.run(fetch(sonata)) == 1
    assert asyncio.run(fetch(sonata)) == 1  # not the first loop's dead connection


@pytest.mark.parametrize(
    "name, error, message",
    [
        ("trailer", httpx.RemoteProtocolError, f"line longer than {MAX_HEAD} bytes"),
        ("switch", httpx.RemoteProtocolError, "switched protocols"),
        ("interim-close", httpx.ReadError, "closed mid-answer"),
        ("interim-flood", httpx.RemoteProtocolError, "interim answers"),
        ("gzip-cut", httpx.RemoteProtocolError, "ends before its end of stream"),
    ],
)
async def test_answers_that_never_end_or_are_not_whole__are_protocol_errors_at_once(
    server: ScriptedServer, name: str, error: type, message: str
) -> None:
    url = await server.start()
    # a 30 s read timeout: what fails them is the rule, not the clock
    with pytest.raises(error, match=message):
        await pool().request("GET", f"{url}/a/{name}", timeout=30)


async def test_a_character_http_cannot_carry__is_refused_before_sending(server: ScriptedServer) -> None:
    url = await server.start()
    with pytest.raises(httpx.LocalProtocolError, match="cannot carry"):
        await pool().request("GET", f"{url}/a/TT-1", headers=[("Authorization", "Bearer tok\u0100en")])
    assert server.requests == []


async def test_a_post_that_timed_out__is_not_sent_again_but_a_get_is(server: ScriptedServer) -> None:
    url = await server.start()
    async with SonataClient(url, "t", timeout=0.2, retries=2, backoff=0.01) as sonata:
        with pytest.raises(SonataError, match="ReadTimeout"):
            await sonata._send("POST", TROUBLE_TICKET_API, "/troubleTicket/silent")
        assert server.requests == ["/mefApi/sonata/troubleTicket/v4/troubleTicket/silent"]  # sent once
        with pytest.raises(SonataError, match="ReadTimeout"):
            await sonata.get_trouble_ticket("silent")
    assert len(server.requests) == 1 + 3


async def test_a_token_endpoint_handing_out_a_token_no_header_can_carry__is_refused(
    server: ScriptedServer,
) -> None:
    url = await server.start()
    credentials = ClientCredentials(f"{url}/oauth/token-bad", "client", "secret")
    async with SonataClient(url, credentials, retries=0) as sonata:
        with pytest.raises(SonataError, match="not a bearer token") as refused:
            await sonata.get_trouble_ticket("TT-1")
    assert refused.value.code == "invalidCredentials"
    assert server.requests == ["/oauth/token-bad"]
