"""The relay survives kill -9 and RPC outages: every acknowledged event's report lands on chain once.

The buyer's oracle runs as a real process (`offnet oracle run`); the seller is the reference Sonata
seller over real HTTP; the chain is anvil. The test plays the seller's notification stream: 500
trouble-ticket resolutions posted to the oracle's listener, with the oracle killed (SIGKILL) in the
middle and restarted; notifications the dead oracle did not acknowledge are sent again, as a seller
retries. Then the RPC endpoint is taken away while events keep arriving, and given back. It runs on
an SQLite file and on a real PostgreSQL server.
"""

from __future__ import annotations

from collections import Counter

import pytest

from offnet.chain.anvil import Anvil
from offnet.chain.connect import connect
from offnet.market.types import ReportKind
from offnet.testing import processes
from offnet.testing.faults import CuttableLink
from offnet.testing.world import wait_until

pytestmark = pytest.mark.anvil
TICKETS = 500
DURING_OUTAGE = 20


def test_kill9_mid_stream_and_rpc_outage__every_report_on_chain_exactly_once(tmp_path, database):
    node = Anvil().start()
    link = CuttableLink(node.port)
    oracle = None
    try:
        # The buyer's staff orders the awarded quote and opens 520 tickets on the live circuit.
        with processes.ticket_stream(connect(rpc=node.url), "crash", TICKETS + DURING_OUTAGE) as stream:
            world, po_id, ticket_ids = stream.world, stream.product_order_id, stream.ticket_ids
            oracle = processes.buyer_oracle(
                world, tmp_path, stream.seller_url, rpc=link.url, database=database, batch_size=25
            )
            oracle.start()
            assert oracle.notify("seller", processes.ORDER_EVENT, "EV-order", po_id) == 204
            unacknowledged = []
            for i, ticket_id in enumerate(ticket_ids[:TICKETS]):
                if i == 200:
                    oracle.kill()  # mid-stream: some events stored, some relayed, some not yet sent
                if i == 260:
                    oracle.start()
                if oracle.notify("seller", processes.TICKET_EVENT, f"EV-{ticket_id}", ticket_id) != 204:
                    unacknowledged.append(ticket_id)
            assert unacknowledged, "the kill should have made the seller's deliveries fail for a while"
            for ticket_id in unacknowledged:  # the seller retries what was not acknowledged
                assert oracle.notify("seller", processes.TICKET_EVENT, f"EV-{ticket_id}", ticket_id) == 204

            def tickets_confirmed() -> int:
                return oracle.confirmed(ReportKind.TROUBLE_TICKET)

            wait_until(lambda: tickets_confirmed() == TICKETS, "500 confirmed ticket reports", seconds=600)

            # RPC outage: the chain is unreachable while notifications keep arriving, then returns.
            link.down()
            for ticket_id in ticket_ids[TICKETS:]:
                assert oracle.notify("seller", processes.TICKET_EVENT, f"EV-{ticket_id}", ticket_id) == 204
            wait_until(lambda: oracle.health() == 503, "the oracle to report the outage")
            assert tickets_confirmed() == TICKETS
            link.up()
            wait_until(
                lambda: tickets_confirmed() == TICKETS + DURING_OUTAGE,
                "the reports queued in the outage",
                seconds=600,
            )

        # Exactly once on chain: one ReportSubmitted per ticket report, none missing.
        submitted = world.ledger.logs("ReportSubmitted")
        tickets = Counter(e.args.key for e in submitted if e.args.kind == ReportKind.TROUBLE_TICKET)
        assert len(tickets) == TICKETS + DURING_OUTAGE
        assert set(tickets.values()) == {1}
    finally:
        if oracle:
            oracle.stop()
        link.close()
        node.stop()
