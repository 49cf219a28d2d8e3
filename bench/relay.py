"""Measure 4: relay throughput and latency on anvil, batched vs one transaction per event.

A reference Sonata seller (real HTTP) holds N resolved trouble tickets on one awarded order. The
buyer's oracle runs as its own process (`offnet oracle run`). A load generator posts the N
troubleTicketStatusChangeEvent notifications to the oracle's listener over loopback (httpx, several
connections at once); the oracle fetches each ticket from the seller, builds its SLA report and the
relay submits the outbox to the SlaLedger. A watcher notes the wall-clock time each block is first
seen; a report's latency is POST sent -> first sight of the block that holds its ReportSubmitted.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.machine import bench_world, start_anvil
from offnet.market.types import ReportKind
from offnet.oracle.store import Store, outbox
from offnet.sla.reports import ticket_key
from offnet.sonata.seller.server import serve_in_thread
from offnet.testing.processes import (
    ORDER_EVENT,
    TICKET_EVENT,
    buyer_oracle,
    envelope,
    listener_path,
    order_with_tickets,
    reference_seller,
)
from offnet.testing.world import World, wait_until

CONCURRENCY = 16


@dataclass
class RelayRun:
    """One stream of N events through one oracle."""

    events: int
    batch_size: int
    relayed: int
    seconds: float  # first POST sent -> last report's block seen
    post_seconds: float  # time the load generator needed to have every POST acknowledged
    events_per_second: float
    latency_p50: float
    latency_p95: float
    latency_p99: float
    transactions: int
    gas_per_report: float
    timed_out: bool
    post_retries: int = 0

    def to_json(self) -> dict:
        return asdict(self)


class BlockWatcher(threading.Thread):
    """Notes the wall-clock time each new block number is first seen (polling every 10 ms)."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.seen: dict[int, float] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5) as http:
            last = -1
            while not self._halt.is_set():
                try:
                    number = int(
                        http.post(
                            self.url,
                            json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
                        ).json()["result"],
                        16,
                    )
                except (httpx.HTTPError, KeyError, ValueError):
                    number = last
                now = time.monotonic()
                for n in range(last + 1, number + 1):
                    self.seen[n] = now
                last = max(last, number)
                time.sleep(0.01)

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]
    )


async def _post_all(
    url: str, token: str, ticket_ids: list[str], sent: dict[str, float], retries: list[str]
) -> None:
    """Post every ticket notification, CONCURRENCY at a time; a refused or dropped POST is retried a
    moment later (up to 5 attempts, each retry noted in `retries`; latency counts from the first)."""
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30, limits=limits
    ) as http:

        async def one(ticket_id: str) -> None:
            async with gate:
                body = envelope(f"EV-{ticket_id}", TICKET_EVENT, ticket_id)
                problem = ""
                for _ in range(5):
                    sent.setdefault(ticket_id, time.monotonic())
                    try:
                        response = await http.post(listener_path(TICKET_EVENT), json=body)
                    except httpx.TransportError as exc:  # e.g. a kept-alive connection closed under us
                        problem = f"{type(exc).__name__} {exc}"
                    else:
                        if response.status_code == 204:
                            return
                        problem = f"{response.status_code} {response.text[:200]}"
                    retries.append(ticket_id)
                    await asyncio.sleep(0.2)
                raise RuntimeError(f"the oracle refused {ticket_id}: {problem}")

        await asyncio.gather(*(one(t) for t in ticket_ids))


@dataclass
class Stage:
    """The seller with N resolved tickets on an awarded order, on a fresh anvil."""

    world: World
    seller_url: str
    product_order_id: str
    ticket_ids: list[str]


def prepare(world: World, seller_url: str, events: int) -> Stage:
    """Award an order, place it at the seller, open `events` tickets, let the seller resolve them."""
    chain = world.chain
    order = world.open_order(sellers=world.sellers, request="relay")
    po_id, ids = asyncio.run(order_with_tickets(chain, seller_url, order.order_id, events, concurrency=8))
    return Stage(world, seller_url, po_id, ids)


def run_stream(stage: Stage, batch_size: int, workdir: Path, *, timeout: float) -> RelayRun:
    """Start an oracle with `batch_size`, post the stream, wait for every report on chain; measure."""
    chain, world = stage.world.chain, stage.world
    oracle = buyer_oracle(
        world,
        workdir,
        stage.seller_url,
        rpc=chain.url,
        name=f"oracle-{len(stage.ticket_ids)}-{batch_size}",
        batch_size=batch_size,
        poll_interval=0.05,
    )
    watcher = BlockWatcher(chain.url)
    try:
        oracle.start()
        store = oracle.store
        linked = oracle.notify("seller", ORDER_EVENT, f"EV-order-{batch_size}", stage.product_order_id)
        if linked != 204:
            raise RuntimeError(f"the oracle refused the order notification: {linked}")
        wait_until(
            lambda: store.order(product_order_id=stage.product_order_id) is not None,
            "the order link",
            seconds=120,
        )
        first_block = chain.w3.eth.block_number + 1
        watcher.start()
        sent: dict[str, float] = {}
        retries: list[str] = []
        began = time.monotonic()
        asyncio.run(_post_all(oracle.url, "seller-notifies", stage.ticket_ids, sent, retries))
        posted = time.monotonic() - began
        expected = len(stage.ticket_ids)
        try:
            wait_until(
                lambda: _confirmed_tickets(store) >= expected, "every report", seconds=timeout, interval=0.25
            )
            timed_out = False
        except TimeoutError:
            timed_out = True
        time.sleep(0.1)
    except Exception as exc:
        tail = oracle.log.read_text(errors="replace")[-2000:] if oracle.log.exists() else ""
        raise RuntimeError(
            f"relay stream of {oracle.name} failed ({exc!r}); oracle log tail:\n{tail}"
        ) from exc
    finally:
        watcher.stop()
        oracle.stop()
    run = _measure(stage, batch_size, sent, watcher.seen, first_block, began, posted, timed_out)
    run.post_retries = len(retries)
    return run


def _measure(
    stage: Stage,
    batch_size: int,
    sent: dict[str, float],
    seen: dict[int, float],
    first_block: int,
    began: float,
    posted: float,
    timed_out: bool,
) -> RelayRun:
    chain, ledger = stage.world.chain, stage.world.suite.ledger
    key_to_ticket = {ticket_key(t): t for t in stage.ticket_ids}
    logs = ledger.logs("ReportSubmitted", from_block=first_block)
    latencies, blocks, last_seen, tx_gas = [], set(), began, {}
    for log_entry in logs:
        if log_entry.args.kind != ReportKind.TROUBLE_TICKET or log_entry.args.key not in key_to_ticket:
            continue
        ticket = key_to_ticket[log_entry.args.key]
        mined = seen.get(log_entry.blockNumber)
        if mined is None:
            continue
        latencies.append(mined - sent[ticket])
        last_seen = max(last_seen, mined)
        blocks.add(log_entry.blockNumber)
        tx_gas.setdefault(log_entry.transactionHash, None)
    total_gas = sum(chain.w3.eth.get_transaction_receipt(h)["gasUsed"] for h in tx_gas)
    relayed = len(latencies)
    seconds = last_seen - began
    return RelayRun(
        events=len(stage.ticket_ids),
        batch_size=batch_size,
        relayed=relayed,
        seconds=round(seconds, 2),
        post_seconds=round(posted, 2),
        events_per_second=round(relayed / seconds, 1) if seconds > 0 else 0.0,
        latency_p50=round(_percentile(latencies, 50), 3),
        latency_p95=round(_percentile(latencies, 95), 3),
        latency_p99=round(_percentile(latencies, 99), 3),
        transactions=len(tx_gas),
        gas_per_report=round(total_gas / relayed) if relayed else 0.0,
        timed_out=timed_out,
    )


def _confirmed_tickets(store: Store) -> int:
    """Ticket reports the oracle has seen confirmed on chain (one COUNT: the poll stays cheap at 10,000)."""
    query = (
        select(func.count())
        .select_from(outbox)
        .where(outbox.c.kind == int(ReportKind.TROUBLE_TICKET), outbox.c.status.in_(("confirmed", "final")))
    )
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def measure_relay(
    sizes: list[int],
    workdir: Path,
    *,
    unbatched_size: int,
    batch_size: int = 200,
    timeout: float = 600,
    note=print,
) -> list[RelayRun]:
    """For each N in `sizes`: the batched relay; plus one run of `unbatched_size` events at batch_size=1."""
    runs = []
    plan = [(n, batch_size) for n in sizes] + [(unbatched_size, batch_size), (unbatched_size, 1)]
    plan = list(dict.fromkeys(plan))
    for events, size in plan:
        chain = start_anvil()
        try:
            world = bench_world(chain)
            app = reference_seller(f"bench-{events}-{size}", world)
            with serve_in_thread(app) as seller_url:
                started = time.monotonic()
                stage = prepare(world, seller_url, events)
                note(
                    f"  relay: {events} tickets ready at the seller in {time.monotonic() - started:.0f}s; "
                    f"streaming with batch_size={size}"
                )
                run = run_stream(stage, size, workdir, timeout=timeout)
                note(
                    f"  relay: {run.relayed}/{events} on chain in {run.seconds:.1f}s, {run.events_per_second}/s, "
                    f"p50 {run.latency_p50}s p99 {run.latency_p99}s{' (TIMED OUT)' if run.timed_out else ''}"
                )
                runs.append(run)
        finally:
            chain.close()
    return runs
