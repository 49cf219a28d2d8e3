"""Oracle faults with real processes on a real anvil: the buyer's oracle runs as `offnet oracle run`, the
seller is the reference Sonata seller over real HTTP (its clock skewed from the chain's), reached through
a TCP link the test cuts (a seller outage). Notifications arrive duplicated (same eventId, and another
eventId for the same resource) and in reverse order. Every ticket's report lands on chain exactly once,
and the oracle logs why it had to retry. (kill -9 and RPC outages: tests/integration/test_oracle_crash.py.)
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

import pytest

from offnet.chain.anvil import Anvil
from offnet.chain.connect import connect
from offnet.market.types import ReportKind
from offnet.serving import serve_in_thread
from offnet.testing.faults import CuttableLink
from offnet.testing.processes import (
    ORDER_EVENT,
    TICKET_EVENT,
    buyer_oracle,
    order_with_tickets,
    reference_seller,
)
from offnet.testing.world import World, wait_until

pytestmark = pytest.mark.anvil
TICKETS = 24
SKEW = int(os.environ.get("OFFNET_TEST_SKEW", 3 * 3600))  # the seller clock runs ahead of the chain


def test_seller_outage_duplicates_reordering_and_clock_skew__each_report_on_chain_once(tmp_path):
    node = Anvil().start()
    oracle = None
    try:
        chain = connect(rpc=node.url)
        world = World.create(chain, "faults", keys=False)
        order = world.open_order()
        with serve_in_thread(reference_seller("faults", world, ahead=SKEW)) as seller_url:
            link = CuttableLink(int(seller_url.rsplit(":", 1)[1]))
            # The seller resolves the tickets on its own ticker; this test plays one notification per
            # ticket, sent after resolution, as a seller that batches them would.
            po_id, ticket_ids = asyncio.run(
                order_with_tickets(
                    chain,
                    seller_url,
                    order.order_id,
                    TICKETS,
                    ahead=SKEW,
                    label="F",
                )
            )
            oracle = buyer_oracle(world, tmp_path, link.url, rpc=node.url, batch_size=10)
            oracle.start()
            assert oracle.notify("seller", ORDER_EVENT, "EV-po", po_id) == 204
            link.down()  # the seller's API is unreachable while its notifications arrive
            for ticket_id in reversed(ticket_ids):  # out of order
                assert oracle.notify("seller", TICKET_EVENT, f"EV-{ticket_id}", ticket_id) == 204
                assert (
                    oracle.notify("seller", TICKET_EVENT, f"EV-{ticket_id}", ticket_id) == 204
                )  # the same delivery twice
                # a second event about the same resource
                assert oracle.notify("seller", TICKET_EVENT, f"EV-{ticket_id}-again", ticket_id) == 204

            retried = "select * from events where attempts > 0 and last_error != ''"
            wait_until(
                lambda: oracle.rows(retried), "the oracle to record why it could not fetch", seconds=60
            )
            link.up()

            def confirmed_tickets() -> int:
                return oracle.confirmed(ReportKind.TROUBLE_TICKET)

            wait_until(lambda: confirmed_tickets() >= TICKETS, f"{TICKETS} confirmed tickets", seconds=90)
            time.sleep(2)  # anything doubled would be submitted by now
            assert confirmed_tickets() == TICKETS

        submitted = world.ledger.logs("ReportSubmitted")
        per_ticket = Counter(e.args.key for e in submitted if e.args.kind == ReportKind.TROUBLE_TICKET)
        assert len(per_ticket) == TICKETS, "a ticket's report is missing on chain"
        assert set(per_ticket.values()) == {1}, "a ticket's report was submitted twice"
        stored = oracle.rows("select * from events where api like '%roubleTicket%'")
        assert (
            len(stored) == 2 * TICKETS
        )  # two distinct eventIds per ticket; the repeated delivery stored once
    finally:
        if oracle:
            oracle.stop()
        node.stop()
