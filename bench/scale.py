"""Measure 5: gas of apply, RFQ post, award and report at 10 vs 10,000 members, 10 vs 10,000 open RFQs and
10 vs 10,000 open escrow orders, and the discovery query over 10,000 members in the local SQLite index.

Seeding: the 10,000 members are founders of a second suite (one constructor, on an anvil whose block gas
limit is raised); the open RFQs and orders are real postRfq / commitQuote / awardQuote transactions built
by the Python clients and mined a thousand to a block (bench/seed.py). The measured transactions are
ordinary ones: one per block, sent and confirmed by offnet's Sender.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from eth_utils import keccak, to_checksum_address
from sqlalchemy import insert

from bench.machine import bench_world
from bench.seed import seed_market
from bench.table import GasTable
from offnet.chain import Chain
from offnet.indexer.store import IndexStore, coverage, members, products
from offnet.market.registry import ACCESS_ELINE, MemberStatus, Profile, product_key
from offnet.testing.world import Order, World, party, period_report

FOUNDERS = 5  # the buyer, three providers and the council of every bench world
COUNTRIES = ("FR", "DE", "NL", "BE", "ES", "IT", "GB", "US", "PL", "CH")


def fake_members(n: int, tag: str) -> list[str]:
    """`n` distinct addresses nobody holds a key for (founders only fill the registry)."""
    return [to_checksum_address(keccak(text=f"{tag} member {i}")[:20]) for i in range(n)]


@dataclass
class ScalePoint:
    """Gas of the four operations in one world, and the world's size when they were measured."""

    label: str
    members: int
    open_rfqs: int
    open_orders: int
    apply: int
    rfq_post: int
    award: int
    report: int


@dataclass
class Sized:
    """A world and what it holds: members, open RFQs and open escrow orders."""

    world: World
    members: int
    open_rfqs: int = 0
    open_orders: int = 0

    def seed(self, *, rfqs: int, orders: int, tag: str, note=print) -> dict:
        seeded = seed_market(self.world, rfqs=rfqs, orders=orders, tag=tag)
        self.open_rfqs += rfqs
        self.open_orders += orders
        note(
            f"  scale: seeded {rfqs:,} open RFQs and {orders:,} open orders: {seeded.transactions:,} "
            f"transactions in {seeded.blocks} blocks, {seeded.seconds:.0f}s"
        )
        return {"open_rfqs": rfqs, "open_orders": orders, **seeded.__dict__}

    def award(self, tag: str) -> Order:
        order = self.world.open_order(sellers=self.world.sellers, request=tag)
        self.open_orders += 1
        return order


def measure_point(sized: Sized, tag: str) -> ScalePoint:
    """apply (a fresh applicant), RFQ post and award (the buyer's steady state), one PERIOD report."""
    world = sized.world
    members, open_rfqs, open_orders = sized.members, sized.open_rfqs, sized.open_orders
    applicant = party(world.chain, f"scale applicant {tag}", prefix="bench")
    applied = world.registry.apply(
        applicant.sender, Profile("Scale", "https://s.example", (ACCESS_ELINE,), ("FR",))
    )
    order = sized.award(f"scale {tag}")
    _, report = world.submit_batch(world.seller, [period_report(order.terms, 1)])
    return ScalePoint(
        f"{members:,} members, {open_rfqs:,} open RFQs, {open_orders:,} open orders",
        members,
        open_rfqs,
        open_orders,
        applied.gas_used,
        order.receipts["post"].gas_used,
        order.receipts["award"].gas_used,
        report.gas_used,
    )


def measure_scale(
    chain: Chain, *, members_n: int, rfqs_n: int, orders_n: int, small_n: int = 10, note=print
) -> dict:
    """The four operations at `small_n` members / RFQs / orders, then with `members_n` members, then
    with `rfqs_n` open RFQs, then with `orders_n` open orders (each step adds to the previous world)."""
    seeding = []
    small = Sized(bench_world(chain, extra_founders=fake_members(small_n - FOUNDERS, "small")), small_n)
    small.award("warm small")  # the buyer/provider pair's first award costs more: measure steady state
    seeding.append(small.seed(rfqs=small_n, orders=small_n - small.open_orders, tag="small", note=note))
    points = [measure_point(small, "small")]

    started = time.monotonic()
    big = Sized(bench_world(chain, extra_founders=fake_members(members_n - FOUNDERS, "scale")), members_n)
    deploy_gas = big.world.suite.manifest.gas["deploy CarrierRegistry"]
    deploy_seconds = time.monotonic() - started
    note(
        f"  scale: registry with {members_n:,} founders deployed in {deploy_seconds:.0f}s, {deploy_gas:,} gas"
    )
    big.award("warm big")
    seeding.append(big.seed(rfqs=small_n, orders=small_n - big.open_orders, tag="big", note=note))
    points.append(measure_point(big, "members"))
    seeding.append(big.seed(rfqs=rfqs_n - big.open_rfqs, orders=0, tag="big rfqs", note=note))
    points.append(measure_point(big, "rfqs"))
    seeding.append(big.seed(rfqs=0, orders=orders_n - big.open_orders, tag="big orders", note=note))
    points.append(measure_point(big, "orders"))
    return {
        "points": [p.__dict__ for p in points],
        "registry_deploy_gas": deploy_gas,
        "registry_deploy_seconds": round(deploy_seconds, 1),
        "seeding": seeding,
        "seed_seconds": round(sum(s["seconds"] for s in seeding), 1),
        "seed_transactions": sum(s["transactions"] for s in seeding),
        "members": members_n,
        "open_rfqs": rfqs_n,
        "open_orders": orders_n,
    }


def scale_table(result: dict) -> GasTable:
    table = GasTable()
    for p in result["points"]:
        for op in ("apply", "rfq_post", "award", "report"):
            table.add(f"{op} @ {p['label']}", p[op])
    return table


def directory_rows(n: int, tag: str, rng: random.Random) -> tuple[list[dict], list[dict], list[dict]]:
    """Rows of `n` members for the index's members, products and coverage tables: 90 % active, 60 %
    selling Access E-Line (the others another product), three countries each, a random reputation."""
    other = product_key("urn:mef:lso:spec:sonata:access-eline-ovc:v4.0.0:all")
    member_rows, product_rows, country_rows = [], [], []
    for i, address in enumerate(fake_members(n, tag)):
        status = MemberStatus.ACTIVE if rng.random() < 0.9 else MemberStatus.SUSPENDED
        member_rows.append(
            {
                "address": address,
                "status": int(status),
                "name": f"Carrier {i}",
                "sonata_url": f"https://sonata.carrier{i}.example",
                "council": False,
                "reputation_ppm": rng.randrange(0, 1_000_001),
                "updated_block": 1,
            }
        )
        product_rows.append({"member": address, "product_key": ACCESS_ELINE if rng.random() < 0.6 else other})
        for country in rng.sample(COUNTRIES, 3):
            country_rows.append({"member": address, "country": country})
    return member_rows, product_rows, country_rows


def measure_discovery(n: int, *, repeats: int = 50) -> dict:
    """Time IndexStore.providers() over `n` members seeded straight into a fresh SQLite index."""
    with tempfile.TemporaryDirectory() as folder:
        store = IndexStore(f"sqlite:///{Path(folder) / 'index.db'}")
        member_rows, product_rows, country_rows = directory_rows(n, "discovery", random.Random(7))
        with store.engine.begin() as conn:
            conn.execute(insert(members), member_rows)
            conn.execute(insert(products), product_rows)
            conn.execute(insert(coverage), country_rows)
        found = store.providers(ACCESS_ELINE, "FR", 800_000)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            store.providers(ACCESS_ELINE, "FR", 800_000)
            times.append(time.perf_counter() - started)
        plan = store.explain_providers()
        store.close()
    return {
        "members": n,
        "matches": len(found),
        "median_ms": round(statistics.median(times) * 1000, 2),
        "p95_ms": round(sorted(times)[int(0.95 * len(times)) - 1] * 1000, 2),
        "repeats": repeats,
        "query": "active members selling Access E-Line in FR with reputation >= 800,000 ppm",
        "plan": plan,
    }
