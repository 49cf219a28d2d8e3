"""Measure 5: gas of apply, RFQ post, award and report with 10 vs 10,000 members and 10 vs 10,000 open RFQs,
and the discovery query over 10,000 members in the local SQLite index.

Seeding: the 10,000 members are founders of a second suite (one constructor, on an anvil whose block gas
limit is raised); the open RFQs are real postRfq transactions, pre-signed and broadcast in bulk.
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

from bench.table import GasTable
from bench.world import World, build_world, funded, period_report
from offnet.chain import Chain
from offnet.indexer.store import IndexStore, coverage, members, products
from offnet.market.registry import ACCESS_ELINE, MemberStatus, Profile, product_key

COUNTRIES = ("FR", "DE", "NL", "BE", "ES", "IT", "GB", "US", "PL", "CH")


def fake_members(n: int, tag: str) -> list[str]:
    """`n` distinct addresses nobody holds a key for (founders only fill the registry)."""
    return [to_checksum_address(keccak(text=f"{tag} member {i}")[:20]) for i in range(n)]


def seed_open_rfqs(world: World, n: int, *, chunk: int = 500) -> float:
    """Post `n` RFQs from the buyer as pre-signed raw transactions; returns the seconds it took."""
    chain, w3, started = world.chain, world.chain.w3, time.monotonic()
    account = world.buyer
    nonce = w3.eth.get_transaction_count(account.address)
    fee = {"maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9}
    last = None
    for base in range(0, n, chunk):
        raws = []
        for i in range(base, min(n, base + chunk)):
            rfq = world.rfq(f"seed {i}")
            data = world.suite.market.functions.postRfq(rfq.to_tuple())._encode_transaction_data()
            tx = {
                "to": world.suite.market.address,
                "data": data,
                "gas": 200_000,
                "nonce": nonce,
                "value": 0,
                "chainId": chain.chain_id,
                **fee,
            }
            raws.append(account.sign_transaction(tx).raw_transaction)
            nonce += 1
        for raw in raws:
            last = w3.eth.send_raw_transaction(raw)
    if last is not None:
        receipt = w3.eth.wait_for_transaction_receipt(last, timeout=600)
        if receipt["status"] != 1:
            raise RuntimeError("a seeded postRfq reverted")
    chain.forget_nonce(account.address)
    return time.monotonic() - started


@dataclass
class ScalePoint:
    """Gas of the four operations in one world."""

    label: str
    apply: int
    rfq_post: int
    award: int
    report: int


def measure_point(world: World, label: str, tag: str) -> ScalePoint:
    applicant = funded(world.chain, f"scale applicant {tag}")
    applied = world.registry.apply(
        world.send(applicant), Profile("Scale", "https://s.example", (ACCESS_ELINE,), ("FR",))
    )
    order = world.award(f"scale {tag}", seal=False)
    # The award above was the first of this buyer/provider pair in some worlds: measure a second one.
    order = world.award(f"scale {tag} steady", seal=False)
    _, report = world.ledger.submit(
        world.send(world.providers[0]), order.terms.seller, [period_report(order.terms, 1)]
    )
    return ScalePoint(
        label,
        applied.gas_used,
        order.receipts["post"].gas_used,
        order.receipts["award"].gas_used,
        report.gas_used,
    )


def measure_scale(chain: Chain, *, members_n: int, rfqs_n: int, note=print) -> dict:
    """Small world vs a world with `members_n` members, then the same after `rfqs_n` open RFQs."""
    small = build_world(chain)
    small.award("warm small", seal=False)
    points = [measure_point(small, "10 members (5 founders + applicants), few open RFQs", "small")]
    started = time.monotonic()
    big = build_world(chain, extra_founders=fake_members(members_n, "scale"))
    deploy_gas = big.suite.manifest.gas["deploy CarrierRegistry"]
    note(
        f"  scale: registry with {members_n + 5} founders deployed in {time.monotonic() - started:.0f}s, "
        f"{deploy_gas:,} gas"
    )
    big.award("warm big", seal=False)
    points.append(measure_point(big, f"{members_n + 5:,} members", "big"))
    seeded = seed_open_rfqs(big, rfqs_n)
    note(f"  scale: {rfqs_n} open RFQs posted in {seeded:.0f}s")
    points.append(measure_point(big, f"{members_n + 5:,} members + {rfqs_n:,} open RFQs", "big rfqs"))
    return {
        "points": [p.__dict__ for p in points],
        "registry_deploy_gas": deploy_gas,
        "seed_rfq_seconds": round(seeded, 1),
        "members": members_n + 5,
        "open_rfqs": rfqs_n,
    }


def scale_table(result: dict) -> GasTable:
    table = GasTable()
    for p in result["points"]:
        for op in ("apply", "rfq_post", "award", "report"):
            table.add(f"{op} @ {p['label']}", p[op])
    return table


def measure_discovery(n: int, *, repeats: int = 50) -> dict:
    """Time IndexStore.providers() over `n` members seeded straight into a fresh SQLite index."""
    rng = random.Random(7)
    other = product_key("urn:mef:lso:spec:sonata:access-eline-ovc:v4.0.0:all")
    with tempfile.TemporaryDirectory() as folder:
        store = IndexStore(f"sqlite:///{Path(folder) / 'index.db'}")
        member_rows, product_rows, country_rows = [], [], []
        for i, address in enumerate(fake_members(n, "discovery")):
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
            product_rows.append(
                {"member": address, "product_key": ACCESS_ELINE if rng.random() < 0.6 else other}
            )
            for country in rng.sample(COUNTRIES, 3):
                country_rows.append({"member": address, "country": country})
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
