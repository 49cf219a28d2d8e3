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
from datetime import datetime

import pytest

from offnet.chain.anvil import Anvil
from offnet.chain.connect import connect
from offnet.market.types import ReportKind
from offnet.testing import processes
from offnet.testing.world import wait_until

pytestmark = pytest.mark.anvil
TICKETS = 300
KILL_AT = 120


def test_two_replicas__active_killed_under_load__standby_takes_over_nothing_lost_or_doubled(
    tmp_path, database
):
    node = Anvil().start()
    replicas: list[processes.OracleProcess] = []
    try:
        with processes.ticket_stream(connect(rpc=node.url), "replicas", TICKETS, concurrency=8) as stream:
            world, po_id, ticket_ids = stream.world, stream.product_order_id, stream.ticket_ids
            # One database, one oracle key: two replicas of one carrier's oracle.
            replicas = [
                processes.buyer_oracle(
                    world,
                    tmp_path,
                    stream.seller_url,
                    rpc=node.url,
                    name=f"oracle-{n}",
                    database=database,
                    batch_size=25,
                )
                for n in ("a", "b")
            ]
            active, standby = replicas
            active.start()
            wait_until(lambda: active.role() == "active", "the first replica to lead")
            standby.start()
            wait_until(lambda: standby.role() == "standby", "the second replica to stand by")
            report = standby.healthz()
            assert report["duties"] == {} and report["status"] == "ok"  # healthy, running nothing

            assert (
                standby.notify("seller", processes.ORDER_EVENT, "EV-order", po_id) == 204
            )  # either takes it
            turns = itertools.cycle(range(2))
            killed_at = None
            for i, ticket_id in enumerate(ticket_ids):
                if i == KILL_AT:
                    active.kill()  # under load: events stored, some relayed, batches in flight
                    killed_at = time.time()
                target = next(turns)
                for attempt in (target, 1 - target):  # the load balancer fails over to the live one
                    status = replicas[attempt].notify(
                        "seller", processes.TICKET_EVENT, f"EV-{ticket_id}", ticket_id
                    )
                    if status == 204:
                        break
                else:
                    pytest.fail(f"no replica acknowledged {ticket_id}")
            wait_until(lambda: standby.role() == "active", "the standby to take over")
            since = datetime.fromisoformat(standby.healthz()["leader"]["since"]).timestamp()
            # `since` is to the second: the takeover came within [since, since + 1).
            low = max(0.0, since - killed_at)
            print(f"the standby took the lead {low:.1f} to {since + 1 - killed_at:.1f} s after the kill")
            wait_until(
                lambda: standby.confirmed(ReportKind.TROUBLE_TICKET) == TICKETS,
                f"{TICKETS} confirmed ticket reports",
                seconds=300,
            )
            store = standby.store
            counts = store.counts()
            store.close()
            assert counts["events_received"] == 0 and counts["events_dead"] == 0
            assert standby.healthz()["leader"]["takeovers"] == 1

        # Nothing lost, nothing reported twice: one ReportSubmitted per ticket.
        submitted = world.ledger.logs("ReportSubmitted")
        tickets = Counter(e.args.key for e in submitted if e.args.kind == ReportKind.TROUBLE_TICKET)
        assert len(tickets) == TICKETS
        assert set(tickets.values()) == {1}
    finally:
        for replica in replicas:
            replica.stop()
        node.stop()
