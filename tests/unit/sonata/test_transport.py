"""The Sonata clients' HTTP transport against a real TCP server that answers as scripted: connections
kept alive and reused, redirects never followed, answers streamed under the client's size cap (a
half-read connection never reused), compressed bodies decoded, TLS verified, and every network
failure the httpx error the client retries (then reports as SonataError)."""

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
from offnet.sonata.client import SonataClient, shared_ssl_context
from offnet.sonata.transport import PooledTransport

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
                path = head.split(b" ")[1].decode().split("?")[0]
                self.requests.append(path)
                name = path.rsplit("/", 1)[-1]
                if name == "silent":
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


async def test_keep_alive__many_requests_share_one_connection(server: ScriptedServer) -> None:
    url = await server.start()
    async with httpx.AsyncClient(base_url=url, transport=PooledTransport(shared_ssl_context())) as http:
        for i in range(50):
            answer = await http.get(f"/a/TT-{i}")
            assert (answer.status_code, answer.json()["id"]) == (200, "TT-1")
    assert len(server.requests) == 50
    assert server.connections == 1


async def test_redirect__is_handed_back_never_followed(server: ScriptedServer) -> None:
    url = await server.start()
    async with httpx.AsyncClient(base_url=url, transport=PooledTransport(shared_ssl_context())) as http:
        answer = await http.get("/a/moved")
    assert (answer.status_code, answer.headers["location"]) == (302, "/elsewhere/TT-1")
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


async def test_compressed_answer__is_decoded(server: ScriptedServer) -> None:
    url = await server.start()
    async with httpx.AsyncClient(base_url=url, transport=PooledTransport(shared_ssl_context())) as http:
        answer = await http.get("/a/gzipped")
    assert answer.json()["id"] == "TT-1"


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
    async with httpx.AsyncClient(base_url=url, transport=PooledTransport(trusting)) as http:
        assert (await http.get("/a/TT-1")).json()["id"] == "TT-1"
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
