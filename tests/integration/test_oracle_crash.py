"""The relay survives kill -9 and RPC outages: every acknowledged event's report lands on chain once.

The buyer's oracle runs as a real process (`offnet oracle run`); the seller is the reference Sonata
seller over real HTTP; the chain is anvil. The test plays the seller's notification stream: 500
trouble-ticket resolutions posted to the oracle's listener, with the oracle killed (SIGKILL) in the
middle and restarted; notifications the dead oracle did not acknowledge are sent again, as a seller
retries. Then the RPC endpoint is taken away while events keep arriving, and given back. It runs on
an SQLite file and on a real PostgreSQL server.
"""

from __future__ import annotations

import time
from collections import Counter

import httpx
import pytest

from offnet.chain import Sender
from offnet.chain.anvil import Anvil, free_port
from offnet.chain.connect import connect
from offnet.deployment import SuiteConfig, deploy_suite
from offnet.market.types import ReportKind
from offnet.oracle.store import Store
from offnet.sonata.seller import create_seller_app
from offnet.sonata.seller.server import serve_in_thread
from offnet.testing.accounts import funded_account
from offnet.testing.carriers import chain_clock
from offnet.testing.faults import CuttableLink, award_one_order
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


def wait_until(condition, what: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def confirmed_tickets(store: Store) -> int:
    rows = store.reports_with_status("confirmed", 100_000) + store.reports_with_status("final", 100_000)
    return sum(1 for r in rows if r["kind"] == ReportKind.TROUBLE_TICKET)


def test_kill9_mid_stream_and_rpc_outage__every_report_on_chain_exactly_once(tmp_path, database):
    node = Anvil().start()
    link = CuttableLink(node.port)
    oracle = None
    try:
        chain = connect(rpc=node.url)
        buyer, seller = funded_account(chain), funded_account(chain)
        suite = deploy_suite(
            chain,
            Sender(chain, funded_account(chain)),
            SuiteConfig(founders=[buyer.address, seller.address], council_threshold=1),
        )
        deployments = tmp_path / "deployments"
        suite.manifest.save(deployments)
        order_id = award_one_order(chain, suite, buyer, seller, label="crash-test", after_deadline=True)

        app = create_seller_app(
            "prompt-and-punctual",
            "crash",
            clock=chain_clock(chain),
            tokens={BUYER_AT_SELLER: buyer.address},
            tick_seconds=0.05,
        )
        with serve_in_thread(app) as seller_url:
            # The buyer's staff orders the awarded quote and opens 520 tickets on the live circuit.
            po_id, ticket_ids = open_tickets(chain, seller_url, order_id, TICKETS + DURING_OUTAGE)
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = buyer_oracle_config(
                tmp_path / "buyer-oracle.yaml",
                member=buyer.address,
                key_env="CRASH_BUYER_KEY",
                rpc=link.url,
                deployments=deployments,
                port=port,
                database=database,
                seller_member=seller.address,
                seller_url=seller_url,
                batch_size=25,
            )
            env["CRASH_BUYER_KEY"] = "0x" + bytes(buyer.key).hex()
            oracle = OracleProcess(tmp_path / "buyer-oracle.yaml", env, tmp_path / "oracle.log", url).start()
            store = Store(database)
            headers = {"Authorization": f"Bearer {SELLER_NOTIFIES}"}
            with httpx.Client(base_url=url, headers=headers, timeout=5) as http:
                assert post(http, ORDER_PATH, envelope("EV-order", "productOrderStateChangeEvent", po_id))
                unacknowledged = []
                for i, ticket_id in enumerate(ticket_ids[:TICKETS]):
                    if i == 200:
                        oracle.kill9()  # mid-stream: some events stored, some relayed, some not yet sent
                    if i == 260:
                        oracle.start()
                    if not post(http, TICKET_PATH, ticket_envelope(ticket_id)):
                        unacknowledged.append(ticket_id)
                assert unacknowledged, "the kill should have made the seller's deliveries fail for a while"
                for ticket_id in unacknowledged:  # the seller retries what was not acknowledged
                    assert post(http, TICKET_PATH, ticket_envelope(ticket_id))
                wait_until(lambda: confirmed_tickets(store) == TICKETS, "500 confirmed ticket reports")

                # RPC outage: the chain is unreachable while notifications keep arriving, then returns.
                link.down()
                for ticket_id in ticket_ids[TICKETS:]:
                    assert post(http, TICKET_PATH, ticket_envelope(ticket_id))
                wait_until(lambda: health_status(http) == 503, "the oracle to report the outage")
                assert confirmed_tickets(store) == TICKETS
                link.up()
                wait_until(
                    lambda: confirmed_tickets(store) == TICKETS + DURING_OUTAGE,
                    "the reports queued in the outage",
                )
            store.close()

        # Exactly once on chain: one ReportSubmitted per ticket report, none missing.
        submitted = suite.ledger.logs("ReportSubmitted")
        tickets = Counter(e.args.key for e in submitted if e.args.kind == ReportKind.TROUBLE_TICKET)
        assert len(tickets) == TICKETS + DURING_OUTAGE
        assert set(tickets.values()) == {1}
    finally:
        if oracle:
            oracle.stop()
        link.close()
        node.stop()
