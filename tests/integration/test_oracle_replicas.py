"""Two replicas of one carrier's oracle on one database share the work without doubling anything.

Two real `offnet oracle run` processes of the buyer share one database (a real PostgreSQL server, or
one SQLite file) and one oracle key; a real anvil; the reference Sonata seller over real HTTP. Both
serve the listener, and the seller's notifications go to either (as through a load balancer); only
the one holding the database's leadership runs the duties, the other stands by. The active one is
killed with kill -9 in the middle of the stream: the standby takes over, and every ticket's report
lands on chain exactly once.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter

import httpx
import pytest

from offnet.chain import Sender
from offnet.chain.anvil import free_port
from offnet.deployment import SuiteConfig, deploy_suite
from offnet.market.types import ReportKind
from offnet.oracle.store import Store
from offnet.sonata.seller import create_seller_app
from offnet.sonata.seller.server import serve_in_thread
from offnet.testing.accounts import funded_account
from offnet.testing.carriers import chain_clock
from offnet.testing.faults import award_one_order
from offnet.testing.oracles import (
    BUYER_AT_SELLER,
    ORDER_PATH,
    SELLER_NOTIFIES,
    TICKET_PATH,
    OracleProcess,
    buyer_oracle_config,
    envelope,
    open_tickets,
    ticket_envelope,
)

pytestmark = pytest.mark.anvil
TICKETS = 400
KILL_AT = 150


def wait_until(condition, what: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_two_replicas__active_killed_under_load__standby_takes_over_nothing_lost_or_doubled(
    anvil, tmp_path, database
):
    chain = anvil
    buyer, seller = funded_account(chain), funded_account(chain)
    suite = deploy_suite(
        chain,
        Sender(chain, funded_account(chain)),
        SuiteConfig(founders=[buyer.address, seller.address], council_threshold=1),
    )
    deployments = tmp_path / "deployments"
    suite.manifest.save(deployments)
    order_id = award_one_order(chain, suite, buyer, seller, label="replicas", after_deadline=True)
    first_block = chain.w3.eth.block_number
    app = create_seller_app(
        "prompt-and-punctual",
        "replicas",
        clock=chain_clock(chain),
        tokens={BUYER_AT_SELLER: buyer.address},
        tick_seconds=0.05,
    )
    replicas: list[OracleProcess] = []
    with serve_in_thread(app) as seller_url:
        po_id, ticket_ids = open_tickets(chain, seller_url, order_id, TICKETS)
        for name in ("a", "b"):
            port = free_port()
            config = tmp_path / f"oracle-{name}.yaml"
            env = buyer_oracle_config(
                config,
                member=buyer.address,
                key_env="REPLICA_BUYER_KEY",
                rpc=chain.url,
                deployments=deployments,
                port=port,
                database=database,  # one database, one oracle key: two replicas of one carrier's oracle
                seller_member=seller.address,
                seller_url=seller_url,
                batch_size=25,
            )
            env["REPLICA_BUYER_KEY"] = "0x" + bytes(buyer.key).hex()
            replicas.append(
                OracleProcess(config, env, tmp_path / f"oracle-{name}.log", f"http://127.0.0.1:{port}")
            )
        active, standby = replicas
        store = Store(database)
        try:
            active.start()
            wait_until(lambda: active.role() == "active", "the first replica to lead")
            standby.start()
            wait_until(lambda: standby.role() == "standby", "the second replica to stand by")
            report = standby.health()
            assert report["duties"] == {} and report["status"] == "ok"  # healthy, running nothing

            headers = {"Authorization": f"Bearer {SELLER_NOTIFIES}"}
            clients = [httpx.Client(base_url=r.url, headers=headers, timeout=5) for r in replicas]
            order_event = envelope("EV-order", "productOrderStateChangeEvent", po_id)
            assert clients[1].post(ORDER_PATH, json=order_event).status_code == 204  # either may take it
            turns = itertools.cycle(range(2))
            killed_at = None
            for i, ticket_id in enumerate(ticket_ids):
                if i == KILL_AT:
                    active.kill9()  # under load: events stored, some relayed, batches in flight
                    killed_at = time.monotonic()
                target = next(turns)
                for attempt in (target, 1 - target):  # the load balancer fails over to the live one
                    try:
                        if (
                            clients[attempt].post(TICKET_PATH, json=ticket_envelope(ticket_id)).status_code
                            == 204
                        ):
                            break
                    except httpx.TransportError:
                        continue
                else:
                    pytest.fail(f"no replica acknowledged {ticket_id}")
            wait_until(lambda: standby.role() == "active", "the standby to take over")
            print(f"takeover seen {time.monotonic() - killed_at:.1f} s after the kill")

            def confirmed() -> int:
                rows = store.reports_with_status("confirmed", 10_000) + store.reports_with_status(
                    "final", 10_000
                )
                return sum(1 for r in rows if r["kind"] == ReportKind.TROUBLE_TICKET)

            wait_until(lambda: confirmed() == TICKETS, f"{TICKETS} confirmed ticket reports")
            counts = store.counts()
            assert counts["events_received"] == 0 and counts["events_dead"] == 0
            assert standby.health()["leader"]["takeovers"] == 1
            for client in clients:
                client.close()
        finally:
            for replica in replicas:
                replica.stop()
            store.close()

    # Nothing lost, nothing reported twice: one ReportSubmitted per ticket.
    submitted = suite.ledger.logs("ReportSubmitted", from_block=first_block)
    tickets = Counter(e.args.key for e in submitted if e.args.kind == ReportKind.TROUBLE_TICKET)
    assert len(tickets) == TICKETS
    assert set(tickets.values()) == {1}
