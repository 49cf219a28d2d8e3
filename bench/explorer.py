"""Measure 5b: the explorer's providers page over 10,000 members, over real HTTP.

The index is seeded straight into its tables (as the discovery measure does): 10,000 members with a
profile (Access E-Line or another product, three countries each), 70 % with a reputation point (a
track record of random size and quality), the rest new, 10 % suspended. `offnet explorer --database`
then serves it as a separate process, and the bench times whole requests of the page (HTML, rendered
by the server) and of its JSON twin, for the filters a buyer uses, with one keep-alive client.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

from bench.machine import load_average
from bench.scale import directory_rows, fake_members
from offnet.indexer import IndexStore
from offnet.indexer.schema import (
    REPUTATION_FIELDS,
    blocks,
    coverage,
    members,
    products,
    reputation_points,
    sync_state,
    tokens,
)
from offnet.testing.explorer import ExplorerProcess

QUERIES = {
    "all providers": "/providers",
    "Access E-Line in FR": "/providers?product=access-eline&country=FR",
    "Access E-Line in FR, reputation >= 80%": "/providers?product=access-eline&country=FR&min_reputation=80%25",
    "rated only, >= 90%": "/providers?min_reputation=0.9&new=exclude",
    "new members only, page 3": "/providers?new=only&page=3",
}


def seed_index(path: Path, n: int, seed: int = 7) -> None:
    """`n` members with profiles (the discovery measure's directory) and reputation points: 70 % with
    a track record of random size and quality, the rest new."""
    rng = random.Random(seed)
    store = IndexStore(f"sqlite:///{path}")
    member_rows, product_rows, country_rows = directory_rows(n, "explorer", rng)
    points = []
    for row in member_rows:
        if rng.random() >= 0.7:
            row.update(reputation_ppm=0, reputation_samples=0, reputation_block=None)
            continue
        delivered, periods, quotes = rng.randrange(1, 200), rng.randrange(0, 2_000), rng.randrange(1, 400)
        tickets = rng.randrange(0, 50)
        point = {name: 0 for name in REPUTATION_FIELDS}
        point.update(
            quotes_requested=quotes,
            quotes_on_time=rng.randrange(0, quotes + 1),
            orders_delivered=delivered,
            orders_on_time=rng.randrange(0, delivered + 1),
            periods_reported=periods,
            periods_meeting_objectives=rng.randrange(0, periods + 1),
            trouble_tickets=tickets,
            average_restore_sec=rng.randrange(600, 86_400) if tickets else 0,
            disputes_lost=rng.randrange(0, 3),
            overall_ppm=row["reputation_ppm"],
        )
        samples = quotes + delivered + periods
        row.update(reputation_samples=samples, reputation_block=2, updated_block=2)
        points.append({"member": row["address"], "block": 2, "samples": samples, **point})
    with store.engine.begin() as conn:
        conn.execute(
            insert(sync_state).values(
                id=1,
                chain_id=31337,
                registry=fake_members(1, "registry")[0],
                next_block=3,
                head_block=2,
                confirmations=0,
                synced_at=int(time.time()),
            )
        )
        conn.execute(insert(blocks).values(number=2, hash="0x" + "22" * 32, timestamp=1_900_000_000))
        conn.execute(
            insert(tokens).values(
                address=fake_members(1, "token")[0], symbol="tUSD", decimals=6, allowed=True
            )
        )
        conn.execute(insert(members), member_rows)
        conn.execute(insert(products), product_rows)
        conn.execute(insert(coverage), country_rows)
        conn.execute(insert(reputation_points), points)
    store.close()


def measure_explorer(n: int, *, repeats: int = 40, note=print) -> dict:
    """Median and p95 of whole GET requests of the providers page and its JSON twin."""
    with tempfile.TemporaryDirectory(prefix="offnet-bench-explorer-") as folder:
        database = Path(folder) / "index.db"
        started = time.monotonic()
        seed_index(database, n)
        note(f"  explorer: {n:,} members seeded in {time.monotonic() - started:.1f}s")
        results = []
        server = ExplorerProcess("--database", str(database), log=Path(folder) / "explorer.log")
        with server, httpx.Client(base_url=server.url, timeout=30) as client:
            for label, path in QUERIES.items():
                for twin, url in (("page", path), ("json", f"/api{path}")):
                    client.get(url).raise_for_status()  # warm: templates compiled, caches filled
                    times = []
                    for _ in range(repeats):
                        t = time.perf_counter()
                        answer = client.get(url)
                        times.append(time.perf_counter() - t)
                        answer.raise_for_status()
                    total = client.get(f"/api{path}").json()["pagination"]["total"]
                    results.append(
                        {
                            "query": label,
                            "twin": twin,
                            "path": url,
                            "matches": total,
                            "median_ms": round(statistics.median(times) * 1000, 1),
                            "p95_ms": round(sorted(times)[int(0.95 * len(times)) - 1] * 1000, 1),
                            "bytes": len(answer.content),
                        }
                    )
    worst = max(r["p95_ms"] for r in results if r["twin"] == "page")
    note(f"  explorer: providers page over {n:,} members, worst p95 {worst} ms")
    return {
        "members": n,
        "repeats": repeats,
        "rows_per_page": 50,
        "results": results,
        "worst_page_p95_ms": worst,
        "load_average": load_average(),  # 1/5/15 min: the machine is shared with other jobs
    }
