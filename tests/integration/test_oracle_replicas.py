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

from offnet.market.types import ReportKind
from offnet.oracle.store import Store
from offnet.testing.processes import eventually
from offnet.testing.tickets import (
    ORDER_PATH,
    SELLER_NOTIFIES,
    TICKET_PATH,
    confirmed_tickets,
    envelope,
    ticket_envelope,
    ticket_world,
)

pytestmark = pytest.mark.anvil
TICKETS = 300
KILL_AT = 120


def test_two_replicas__active_killed_under_load__standby_takes_over_nothing_lost_or_doubled(
    anvil, tmp_path, database
):
    with ticket_world(anvil, tmp_path, "replicas", TICKETS) as world:
        # One database, one oracle key: two replicas of one carrier's oracle.
        replicas = [world.oracle(f"oracle-{name}", database, batch_size=25) for name in ("a", "b")]
        active, standby = replicas
        store = Store(database)
        try:
            active.start()
            eventually(lambda: active.role() == "active", "the first replica to lead")
            standby.start()
            eventually(lambda: standby.role() == "standby", "the second replica to stand by")
            report = standby.health()
            assert report["duties"] == {} and report["status"] == "ok"  # healthy, running nothing

            headers = {"Authorization": f"Bearer {SELLER_NOTIFIES}"}
            clients = [httpx.Client(base_url=r.url, headers=headers, timeout=5) for r in replicas]
            order_event = envelope("EV-order", "productOrderStateChangeEvent", world.product_order_id)
            assert clients[1].post(ORDER_PATH, json=order_event).status_code == 204  # either may take it
            turns = itertools.cycle(range(2))
            killed_at = None
            for i, ticket_id in enumerate(world.ticket_ids):
                if i == KILL_AT:
                    active.kill()  # under load: events stored, some relayed, batches in flight
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
            eventually(lambda: standby.role() == "active", "the standby to take over")
            print(f"takeover seen {time.monotonic() - killed_at:.1f} s after the kill")
            eventually(
                lambda: confirmed_tickets(store) == TICKETS, f"{TICKETS} confirmed ticket reports", 300
            )
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
        submitted = world.suite.ledger.logs("ReportSubmitted", from_block=world.first_block)
        tickets = Counter(e.args.key for e in submitted if e.args.kind == ReportKind.TROUBLE_TICKET)
        assert len(tickets) == TICKETS
        assert set(tickets.values()) == {1}
