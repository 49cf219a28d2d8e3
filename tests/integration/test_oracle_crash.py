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

import httpx
import pytest

from offnet.chain.anvil import Anvil
from offnet.chain.connect import connect
from offnet.market.types import ReportKind
from offnet.oracle.store import Store
from offnet.testing.faults import CuttableLink
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
TICKETS = 500
DURING_OUTAGE = 20


def post(http: httpx.Client, path: str, body: dict) -> bool:
    """POST a notification as the seller does; True when the oracle acknowledged it (204)."""
    try:
        return http.post(path, json=body).status_code == 204
    except httpx.TransportError:
        return False


def health_status(http: httpx.Client) -> int | None:
    """The status of /healthz, None when the answer did not come (a kept-alive connection closed)."""
    try:
        return http.get("/healthz").status_code
    except httpx.TransportError:
        return None


def test_kill9_mid_stream_and_rpc_outage__every_report_on_chain_exactly_once(tmp_path, database):
    node = Anvil().start()
    link = CuttableLink(node.port)
    oracle = None
    try:
        # The buyer's staff orders the awarded quote and opens 520 tickets on the live circuit.
        with ticket_world(connect(rpc=node.url), tmp_path, "crash", TICKETS + DURING_OUTAGE) as world:
            oracle = world.oracle("buyer-oracle", database, rpc=link.url, batch_size=25).start()
            store = Store(database)
            ticket_ids = world.ticket_ids
            headers = {"Authorization": f"Bearer {SELLER_NOTIFIES}"}
            with httpx.Client(base_url=oracle.url, headers=headers, timeout=5) as http:
                order_event = envelope("EV-order", "productOrderStateChangeEvent", world.product_order_id)
                assert post(http, ORDER_PATH, order_event)
                unacknowledged = []
                for i, ticket_id in enumerate(ticket_ids[:TICKETS]):
                    if i == 200:
                        oracle.kill()  # mid-stream: some events stored, some relayed, some not yet sent
                    if i == 260:
                        oracle.start()
                    if not post(http, TICKET_PATH, ticket_envelope(ticket_id)):
                        unacknowledged.append(ticket_id)
                assert unacknowledged, "the kill should have made the seller's deliveries fail for a while"
                for ticket_id in unacknowledged:  # the seller retries what was not acknowledged
                    assert post(http, TICKET_PATH, ticket_envelope(ticket_id))
                eventually(lambda: confirmed_tickets(store) == TICKETS, "500 confirmed ticket reports", 600)

                # RPC outage: the chain is unreachable while notifications keep arriving, then returns.
                link.down()
                for ticket_id in ticket_ids[TICKETS:]:
                    assert post(http, TICKET_PATH, ticket_envelope(ticket_id))
                eventually(lambda: health_status(http) == 503, "the oracle to report the outage", 600)
                assert confirmed_tickets(store) == TICKETS
                link.up()
                eventually(
                    lambda: confirmed_tickets(store) == TICKETS + DURING_OUTAGE,
                    "the reports queued in the outage",
                    600,
                )
            store.close()

            # Exactly once on chain: one ReportSubmitted per ticket report, none missing.
            submitted = world.suite.ledger.logs("ReportSubmitted")
            tickets = Counter(e.args.key for e in submitted if e.args.kind == ReportKind.TROUBLE_TICKET)
            assert len(tickets) == TICKETS + DURING_OUTAGE
            assert set(tickets.values()) == {1}
    finally:
        if oracle:
            oracle.stop()
        link.close()
        node.stop()
