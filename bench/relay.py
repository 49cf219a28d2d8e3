"""Measure 4: relay throughput, latency and oracle CPU on anvil, in separate processes.

One anvil with the suite and one awarded order; the reference Sonata seller in its own process
(`bench.seller`, its clock the chain's, read at most every 0.25 s) holds the resolved trouble tickets
of every run; each run starts its own oracle process(es) (`offnet oracle run`) on a fresh database
and its own load generator process (`bench.load`), which posts one troubleTicketStatusChangeEvent per
ticket to the oracle's listener. The oracle fetches each ticket from the seller, derives its SLA
report and the relay submits the outbox to the SlaLedger.

A run is closed loop (16 connections post as fast as they are answered) or open loop (a fixed rate
of POSTs whatever the answers); with anvil automining (a block per transaction) or mining a block
every second; on SQLite or PostgreSQL; with one oracle or two replicas of it, the active one
optionally killed with kill -9 in the middle. A watcher in the bench notes the wall-clock time each
block is first seen; a report's latency is POST (due) -> first sight of the block holding its
ReportSubmitted. Oracle CPU is user + system time of the oracle process(es) over the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.machine import bench_world, start_anvil
from offnet.chain.anvil import free_port
from offnet.market.types import ReportKind
from offnet.oracle.store import Store
from offnet.sla.reports import ticket_key
from offnet.testing.postgres import postgres_server
from offnet.testing.processes import ORDER_EVENT, buyer_oracle, order_with_tickets
from offnet.testing.world import DAY, World, wait_until

CONNECTIONS = 16


@dataclass(frozen=True)
class RunSpec:
    """One stream of `events` notifications through one oracle (or two replicas)."""

    name: str
    events: int
    batch_size: int = 200
    rate: float | None = None  # open loop: POSTs per second; None: closed loop
    block_time: int = 0  # 0: automine, else seconds between blocks
    database: str = "sqlite"
    replicas: int = 1
    kill_active: bool = False  # kill -9 the active replica half way through the stream


@dataclass
class RelayRun:
    """What one run measured."""

    name: str
    events: int
    batch_size: int
    load: str
    mining: str
    database: str
    replicas: int
    relayed: int
    seconds: float  # first POST -> last report's block seen
    post_seconds: float  # time the load generator needed to have every POST acknowledged
    events_per_second: float
    latency_p50: float
    latency_p95: float
    latency_p99: float
    transactions: int
    gas_per_report: float
    oracle_cpu_seconds: float
    cpu_ms_per_event: float
    reported_twice: int
    timed_out: bool
    # Tickets of the order whose report key (4 bytes of keccak(ticket id)) another ticket of the same
    # order already has: the ledger keeps one report per key, so they are one fact on chain.
    colliding_tickets: int = 0
    post_retries: int = 0
    kill: dict = field(default_factory=dict)  # when the active replica was killed: the relay's pause

    @property
    def rate_limit(self) -> float | None:
        """The p99 target of an open-loop run: 1 s with automine, 2 s with 1 s blocks."""
        if not self.load.startswith("open"):
            return None
        return 1.0 if self.mining == "automine" else 2.0

    def to_json(self) -> dict:
        return asdict(self)


class BlockWatcher(threading.Thread):
    """Notes the monotonic time each new block number is first seen (polling every 10 ms)."""

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


@dataclass
class Stage:
    """The seller process holding the resolved tickets of every run, on one anvil."""

    world: World
    seller_url: str
    product_order_id: str
    ticket_ids: list[str]


@contextlib.contextmanager
def seller_process(world: World, workdir: Path):
    """The reference seller in its own process; yields its URL."""
    port = free_port()
    with open(workdir / "seller.log", "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.seller",
                "--rpc",
                world.chain.url,
                "--port",
                str(port),
                "--token",
                f"buyer-at-seller={world.buyer.address}",
            ],
            stdout=log,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url), "the seller process", seconds=60)
        yield url
    finally:
        process.terminate()
        process.wait(20)


def _answers(url: str) -> bool:
    try:
        httpx.get(url + "/", timeout=1)
        return True
    except httpx.HTTPError:
        return False


def _set_mining(world: World, block_time: int) -> None:
    provider = world.chain.w3.provider
    if block_time:
        provider.make_request("evm_setAutomine", [False])
        provider.make_request("evm_setIntervalMining", [block_time])
    else:
        provider.make_request("evm_setIntervalMining", [0])
        provider.make_request("evm_setAutomine", [True])


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def run_stream(stage: Stage, spec: RunSpec, tickets: list[str], database: str, workdir: Path, timeout: float):
    """Start the oracle(s) of `spec` on `database`, post the stream, wait for every report on chain."""
    world, chain = stage.world, stage.world.chain
    replicas = [
        buyer_oracle(
            world,
            workdir,
            stage.seller_url,
            rpc=chain.url,
            name=f"{spec.name}-{r}",
            database=database,
            batch_size=spec.batch_size,
            poll_interval=0.5,
            # Sized to the seller's latency: on loopback 4 fetches in flight keep it busy, and a
            # smaller HTTP pool costs less per request (httpx scans its pool on every request).
            per_peer_concurrency=4,
        )
        for r in range(spec.replicas)
    ]
    ids_file = workdir / f"{spec.name}-tickets.json"
    ids_file.write_text(json.dumps(tickets))
    sent_file = workdir / f"{spec.name}-sent.json"
    watcher = BlockWatcher(chain.url)
    store = Store(database)
    load = None
    kill: dict = {}
    try:
        for replica in replicas:
            replica.start()
            wait_until(
                lambda r=replica: r.role() in ("active", "standby"), "an oracle's leadership", seconds=60
            )
        active = next(r for r in replicas if r.role() == "active")
        linked = active.notify("seller", ORDER_EVENT, f"EV-order-{spec.name}", stage.product_order_id)
        if linked != 204:
            raise RuntimeError(f"the oracle refused the order notification: {linked}")
        wait_until(
            lambda: store.order(product_order_id=stage.product_order_id) is not None,
            "the order link",
            seconds=120,
        )
        _set_mining(world, spec.block_time)
        first_block = chain.w3.eth.block_number + 1
        watcher.start()
        cpu_before = _cpu([r.pid for r in replicas])
        command = [
            sys.executable,
            "-m",
            "bench.load",
            "--token",
            "seller-notifies",
            "--tickets",
            str(ids_file),
        ]
        command += [a for r in replicas for a in ("--url", r.url)] + ["--out", str(sent_file)]
        command += ["--rate", str(spec.rate)] if spec.rate else ["--connections", str(CONNECTIONS)]
        began = time.monotonic()
        load = subprocess.Popen(command)
        if spec.kill_active:
            time.sleep(len(tickets) / (2 * (spec.rate or 500)))
            active.kill()
            kill = {"at": time.monotonic()}
            standby = next(r for r in replicas if r is not active)
            wait_until(lambda: standby.role() == "active", "the standby to take over", seconds=120)
            kill["takeover_seen_seconds"] = round(time.monotonic() - kill["at"], 2)
        if load.wait(timeout) != 0:
            raise RuntimeError("the load generator failed")
        posted = time.monotonic() - began
        facts = len({ticket_key(t) for t in tickets})  # tickets whose 32-bit keys collide are one fact
        try:
            wait_until(
                lambda: active.confirmed(ReportKind.TROUBLE_TICKET) >= facts,
                "every report",
                seconds=timeout,
                interval=0.1,
            )
            timed_out = False
        except TimeoutError:
            timed_out = True
        time.sleep(0.2)
        cpu = _cpu([r.pid for r in replicas]) - cpu_before
    except Exception as exc:
        tails = "\n".join(r.log.read_text(errors="replace")[-1500:] for r in replicas if r.log.exists())
        raise RuntimeError(f"relay run {spec.name} failed ({exc!r}); oracle log tails:\n{tails}") from exc
    finally:
        watcher.stop()
        if load is not None and load.poll() is None:
            load.kill()
        for replica in replicas:
            replica.stop()
        store.close()
        _set_mining(world, 0)
    sent = json.loads(sent_file.read_text())
    return _measure(stage, spec, tickets, sent, watcher.seen, first_block, posted, timed_out, cpu, kill)


def _measure(
    stage: Stage,
    spec: RunSpec,
    tickets: list[str],
    load: dict,
    seen: dict[int, float],
    first_block: int,
    posted: float,
    timed_out: bool,
    cpu: float,
    kill: dict,
) -> RelayRun:
    chain, ledger = stage.world.chain, stage.world.ledger
    key_to_ticket = {ticket_key(t): t for t in tickets}
    sent = load["sent"]
    began = load["started"]
    latencies, last_seen, tx_gas, blocks_with_reports = [], began, {}, set()
    per_ticket: Counter = Counter()
    for entry in ledger.logs("ReportSubmitted", from_block=first_block):
        if entry.args.kind != ReportKind.TROUBLE_TICKET or entry.args.key not in key_to_ticket:
            continue
        ticket = key_to_ticket[entry.args.key]
        per_ticket[ticket] += 1
        mined = seen.get(entry.blockNumber)
        if mined is None or per_ticket[ticket] > 1:
            continue
        latencies.append(mined - sent[ticket])
        last_seen = max(last_seen, mined)
        blocks_with_reports.add(entry.blockNumber)
        tx_gas.setdefault(entry.transactionHash, None)
    total_gas = sum(chain.w3.eth.get_transaction_receipt(h)["gasUsed"] for h in tx_gas)
    relayed = len(latencies)
    seconds = last_seen - began
    if kill:
        after = sorted(seen[b] for b in blocks_with_reports if seen[b] > kill["at"])
        before = sorted(seen[b] for b in blocks_with_reports if seen[b] <= kill["at"])
        kill = {
            "takeover_seen_seconds": kill["takeover_seen_seconds"],
            "relay_pause_seconds": round(after[0] - (before[-1] if before else kill["at"]), 2)
            if after
            else None,
            "first_report_after_kill_seconds": round(after[0] - kill["at"], 2) if after else None,
        }
    return RelayRun(
        name=spec.name,
        events=len(tickets),
        batch_size=spec.batch_size,
        load=f"open {spec.rate:g}/s" if spec.rate else f"closed, {CONNECTIONS} connections",
        mining=f"{spec.block_time} s blocks" if spec.block_time else "automine",
        database=spec.database,
        replicas=spec.replicas,
        relayed=relayed,
        seconds=round(seconds, 2),
        post_seconds=round(posted, 2),
        events_per_second=round(relayed / seconds, 1) if seconds > 0 else 0.0,
        latency_p50=round(_percentile(latencies, 50), 3),
        latency_p95=round(_percentile(latencies, 95), 3),
        latency_p99=round(_percentile(latencies, 99), 3),
        transactions=len(tx_gas),
        gas_per_report=round(total_gas / relayed) if relayed else 0.0,
        oracle_cpu_seconds=round(cpu, 2),
        cpu_ms_per_event=round(1000 * cpu / relayed, 3) if relayed else 0.0,
        reported_twice=sum(1 for n in per_ticket.values() if n > 1),
        colliding_tickets=len(tickets) - len(key_to_ticket),
        timed_out=timed_out,
        post_retries=load["retries"],
        kill=kill,
    )


def relay_plan(
    sizes: list[int], unbatched: int, open_events: int, rate: float, replica_events: int
) -> list[RunSpec]:
    """Every run of the measure: batched closed loop at each size, one transaction per event, open loop
    with automine and with 1 s blocks, two replicas on PostgreSQL, and a kill -9 of the active one."""
    plan = [RunSpec(f"closed-{n}", n) for n in sizes]
    plan.append(RunSpec(f"one-tx-per-event-{unbatched}", unbatched, batch_size=1))
    plan.append(RunSpec(f"open-{rate:g}-automine", open_events, rate=rate))
    plan.append(RunSpec(f"open-{rate:g}-1s-blocks", open_events, rate=rate, block_time=1))
    plan.append(
        RunSpec(f"replicas-pg-closed-{replica_events}", replica_events, database="postgresql", replicas=2)
    )
    plan.append(
        RunSpec(
            f"replicas-pg-kill9-open-{rate:g}",
            open_events,
            rate=rate,
            database="postgresql",
            replicas=2,
            kill_active=True,
        )
    )
    return plan


def measure_relay(plan: list[RunSpec], workdir: Path, *, timeout: float = 600, note=print) -> list[RelayRun]:
    """Run every spec of `plan` on one anvil and one seller process; returns what each measured."""
    chain = start_anvil()
    runs: list[RelayRun] = []
    try:
        world = bench_world(chain)
        order = world.open_order(sellers=world.sellers, request="relay")
        with contextlib.ExitStack() as stack:
            seller_url = stack.enter_context(seller_process(world, workdir))
            started = time.monotonic()
            total = sum(spec.events for spec in plan)
            po_id, ids = asyncio.run(
                order_with_tickets(chain, seller_url, order.order_id, total, concurrency=8)
            )
            note(f"  relay: {total} tickets ready at the seller in {time.monotonic() - started:.0f}s")
            stage = Stage(world, seller_url, po_id, ids)
            postgres = (
                stack.enter_context(postgres_server(workdir))
                if any(s.database == "postgresql" for s in plan)
                else None
            )
            offset = 0
            for number, spec in enumerate(plan):
                tickets = ids[offset : offset + spec.events]
                offset += spec.events
                chain.advance_time(3 * DAY)  # every lane of the previous runs is free again
                if spec.database == "postgresql":
                    assert postgres is not None
                    database = postgres.create_database(f"relay_{number}")
                else:
                    database = f"sqlite:///{workdir / f'{spec.name}.db'}"
                run = run_stream(stage, spec, tickets, database, workdir, timeout)
                note(
                    f"  relay {spec.name}: {run.relayed}/{run.events} on chain in {run.seconds:.1f}s, "
                    f"{run.events_per_second}/s, p50 {run.latency_p50}s p99 {run.latency_p99}s, "
                    f"CPU {run.cpu_ms_per_event} ms/event, {run.transactions} txs, {run.gas_per_report} gas/report"
                    f"{', kill: ' + str(run.kill) if run.kill else ''}{' (TIMED OUT)' if run.timed_out else ''}"
                )
                runs.append(run)
    finally:
        chain.close()
    return runs


if __name__ == "__main__":  # python -m bench.relay: the relay measure alone, small (development)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="offnet-bench-relay-") as folder:
        sizes = [int(x) for x in os.environ.get("BENCH_RELAY_SIZES", "1000").split()]
        measure_relay(relay_plan(sizes, 200, 1000, 400, 2000), Path(folder))


def relay_targets(runs: list[RelayRun], unbatched: int) -> list[dict]:
    """The targets of the oracle at carrier scale, each with what this measure found."""
    by_name = {r.name: r for r in runs}
    closed = [r for r in runs if r.name.startswith("closed-")]
    targets: list[dict] = []

    def add(target: str, measured: str, met: bool) -> None:
        targets.append({"target": target, "measured": measured, "met": bool(met)})

    if closed:
        add(
            ">= 500 events/s relayed (closed loop, automine)",
            ", ".join(f"{r.events_per_second}/s at {r.events:,}" for r in closed),
            all(r.events_per_second >= 500 for r in closed),
        )
    for run in runs:
        if run.name.startswith("open-") and run.rate_limit is not None:
            limit = run.rate_limit
            add(
                f"p99 POST-to-mined < {limit:g} s ({run.load}, {run.mining})",
                f"{run.latency_p99} s",
                run.latency_p99 < limit,
            )
    measured = [r for r in runs if r.batch_size > 1]
    if measured:
        worst = max(measured, key=lambda r: r.cpu_ms_per_event)
        add(
            "oracle CPU <= 1.5 ms per event",
            ", ".join(f"{r.cpu_ms_per_event} ms ({r.name})" for r in measured),
            worst.cpu_ms_per_event <= 1.5,
        )
    single = by_name.get(f"one-tx-per-event-{unbatched}")
    batched = by_name.get(f"closed-{unbatched}")
    if single and batched and single.events_per_second:
        ratio = batched.events_per_second / single.events_per_second
        add(">= x10 over one transaction per event", f"x{ratio:.1f} at {unbatched:,}", ratio >= 10)
    if closed:
        add(
            "gas per report in batches <= 9k",
            ", ".join(f"{r.gas_per_report:,.0f} ({r.name})" for r in closed),
            all(r.gas_per_report <= 9_000 for r in closed),
        )
    for run in runs:
        if run.replicas > 1 and not run.kill:
            alone = by_name.get(f"closed-{run.events}")
            if alone:
                add(
                    "two replicas on PostgreSQL >= one oracle on SQLite",
                    f"{run.events_per_second}/s vs {alone.events_per_second}/s at {run.events:,}",
                    run.events_per_second >= alone.events_per_second,
                )
        if run.kill:
            pause = run.kill.get("relay_pause_seconds")
            lost = run.events - run.colliding_tickets - run.relayed
            add(
                "kill -9 of the active replica costs < 10 s of relaying, nothing lost or doubled",
                f"pause {pause} s, {lost} lost, {run.reported_twice} reported twice",
                pause is not None and pause < 10 and lost == 0 and run.reported_twice == 0,
            )
    return targets
