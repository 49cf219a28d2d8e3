"""The relay measure's load generator, a process of its own: posts trouble-ticket notifications to
one or more oracle listeners over keep-alive HTTP/1.1 connections.

Closed loop (`--connections N`): each connection posts its next notification as soon as the last
was answered. Open loop (`--rate R`): notification i is due at start + i / R whatever the answers,
so a slow oracle shows as latency, not as a slower load. A refused or dropped POST is sent again
(through the next listener when there are several: a load balancer's failover) and counted.

It writes JSON to `--out`: for each ticket the monotonic time its first POST was due (CLOCK_MONOTONIC
is system-wide: the bench compares it with the times it saw blocks), and the retries.

    python -m bench.load --url http://127.0.0.1:8080 --token T --tickets ids.json --rate 400 --out sent.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

from offnet.testing.processes import TICKET_EVENT, envelope, listener_path

TICKET_PATH = listener_path(TICKET_EVENT)

ATTEMPTS = 20


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the status (a lean client: the
    load generator must not be what limits the measure)."""

    def __init__(self, url: str, token: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = (
            f"POST {TICKET_PATH} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            self.writer.write(self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("closed by the server")
            status = int(status_line.split()[1])
            length, close = 0, False
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            if length:
                await self.reader.readexactly(length)
            if close:
                self.close()
            return status
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run(
    urls: list[str], token: str, tickets: list[str], *, rate: float | None, connections: int
) -> dict:
    sent: dict[str, float] = {}
    retries: list[str] = []
    pool: asyncio.Queue[tuple[int, Connection]] = asyncio.Queue()
    for _ in range(connections):
        for index, url in enumerate(urls):
            pool.put_nowait((index, Connection(url, token)))

    async def one(ticket: str, due: float | None) -> None:
        body = json.dumps(envelope(f"EV-{ticket}", TICKET_EVENT, ticket)).encode()
        if due is not None:  # open loop: latency counts from when it was due
            sent[ticket] = due
        index, conn = await pool.get()
        if due is None:  # closed loop: from when it went out
            sent[ticket] = time.monotonic()
        try:
            for attempt in range(ATTEMPTS):
                try:
                    if await conn.post(body) == 204:
                        return
                except (OSError, ConnectionError, ValueError, asyncio.IncompleteReadError):
                    pass
                retries.append(ticket)
                await asyncio.sleep(0.05 * min(attempt + 1, 10))
                if len(urls) > 1:  # fail over to another listener, on a connection of its own
                    conn.close()
                    index = (index + 1) % len(urls)
                    conn = Connection(urls[index], token)
            raise RuntimeError(f"no listener acknowledged {ticket} in {ATTEMPTS} attempts")
        finally:
            pool.put_nowait((index, conn))

    start = time.monotonic() + 0.05
    tasks = []
    if rate:
        for i, ticket in enumerate(tickets):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(ticket, due)))
    else:
        tasks = [asyncio.create_task(one(ticket, None)) for ticket in tickets]
    await asyncio.gather(*tasks)
    finished = time.monotonic()
    return {"sent": sent, "retries": len(retries), "started": start, "finished": finished}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--url", action="append", required=True, help="an oracle listener (repeatable)")
    parser.add_argument("--token", required=True)
    parser.add_argument("--tickets", type=Path, required=True, help="JSON list of ticket ids")
    parser.add_argument("--rate", type=float, help="open loop: notifications per second")
    parser.add_argument("--connections", type=int, default=16, help="connections per listener")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    tickets = json.loads(args.tickets.read_text())
    result = asyncio.run(run(args.url, args.token, tickets, rate=args.rate, connections=args.connections))
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
