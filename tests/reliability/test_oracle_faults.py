"""Oracle faults with real processes on a real anvil: the buyer's oracle runs as `offnet oracle run`, the
seller is the reference Sonata seller over real HTTP (its clock skewed from the chain's), reached through
a TCP link the test cuts (a seller outage). Notifications arrive duplicated (same eventId, and another
eventId for the same resource) and in reverse order. Every ticket's report lands on chain exactly once,
and the oracle logs why it had to retry. (kill -9 and RPC outages: tests/integration/test_oracle_crash.py.)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from offnet.chain import Sender
from offnet.chain.anvil import Anvil, free_port
from offnet.chain.connect import connect
from offnet.deployment import SuiteConfig, deploy_suite
from offnet.market.types import ReportKind
from offnet.oracle.store import Store
from offnet.sonata.client import SonataClient
from offnet.sonata.examples import load_example
from offnet.sonata.seller import create_seller_app
from offnet.sonata.seller.server import serve_in_thread
from offnet.testing.accounts import funded_account
from offnet.testing.faults import CuttableLink, award_one_order

pytestmark = pytest.mark.anvil
DAY = 86_400
TICKETS = 24
SKEW = int(os.environ.get("OFFNET_TEST_SKEW", 3 * 3600))  # the seller clock runs ahead of the chain
OFFNET = Path(sys.executable).parent / "offnet"
LISTENER = "/mefApi/sonata/{api}/listener/{event}"
TICKET_PATH = LISTENER.format(api="troubleTicketNotification/v4", event="troubleTicketStatusChangeEvent")
ORDER_PATH = LISTENER.format(api="productOrderingNotification/v10", event="productOrderStateChangeEvent")


def _notify(http: httpx.Client, path: str, event_id: str, event_type: str, resource: str) -> int:
    body = {
        "eventId": event_id,
        "eventTime": "2026-07-01T08:00:00Z",
        "eventType": event_type,
        "event": {"id": resource},
    }
    return http.post(path, json=body).status_code


def _eventually(check, what: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def test_seller_outage_duplicates_reordering_and_clock_skew__each_report_on_chain_once(tmp_path):
    node = Anvil().start()
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
        order_id = award_one_order(chain, suite, buyer, seller, label="faults")

        def skewed_clock() -> datetime:
            return datetime.fromtimestamp(chain.now() + SKEW, UTC)

        app = create_seller_app(
            "prompt-and-punctual",
            "faults",
            clock=skewed_clock,
            tokens={"buyer-at-seller": buyer.address},
            tick_seconds=0.05,
        )
        with serve_in_thread(app) as seller_url:
            link = CuttableLink(int(seller_url.rsplit(":", 1)[1]))
            start = skewed_clock()
            request = load_example("product_order_create")
            request["externalId"] = "0x" + order_id.hex()
            for item in request["productOrderItem"]:
                item.pop("quoteItem", None)
                item.pop("requestedCompletionDate", None)

            async def order_and_tickets() -> tuple[str, list[str]]:
                async with SonataClient(seller_url, "buyer-at-seller") as sonata:
                    po = await sonata.create_product_order(request)
                    chain.advance_time(90 * DAY)
                    await asyncio.sleep(0.5)
                    ticket = load_example("trouble_ticket_create")
                    ticket["relatedEntity"][0]["id"] = po.id
                    ticket["issueStartDate"] = (start + timedelta(days=80)).isoformat()
                    ids = [
                        (await sonata.create_trouble_ticket(ticket | {"externalId": f"F{i}"})).id
                        for i in range(TICKETS)
                    ]
                    chain.advance_time(3 * DAY)
                    # The seller resolves them on its own ticker: wait until it has (this test plays one
                    # notification per ticket, sent after resolution, as a seller that batches them would).
                    for _ in range(600):
                        tickets = [await sonata.get_trouble_ticket(i) for i in ids]
                        if all(t.resolutionDate for t in tickets):
                            break
                        await asyncio.sleep(0.1)
                    return po.id, ids

            po_id, ticket_ids = asyncio.run(order_and_tickets())

            port = free_port()
            env = {
                **os.environ,
                "FAULTS_NOTIFY": "seller-notifies",
                "FAULTS_AT_SELLER": "buyer-at-seller",
                "FAULTS_KEY": "0x" + bytes(buyer.key).hex(),
            }
            database = tmp_path / "buyer.db"
            config = tmp_path / "buyer.yaml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "member": buyer.address,
                        "private_key_env": "FAULTS_KEY",
                        "rpc": node.url,
                        "deployments": str(deployments),
                        "listen_port": port,
                        "database": f"sqlite:///{database}",
                        "batch_size": 10,
                        "poll_interval": 0.1,
                        "auto_award": False,
                        "peers": [
                            {
                                "name": "seller",
                                "member": seller.address,
                                "sonata_url": link.url,
                                "inbound_token": {"env": "FAULTS_NOTIFY"},
                                "outbound_token": {"env": "FAULTS_AT_SELLER"},
                            }
                        ],
                    }
                )
            )
            log = tmp_path / "oracle.log"
            with open(log, "w") as out:
                oracle = subprocess.Popen(
                    [str(OFFNET), "oracle", "run", "--config", str(config)], env=env, stdout=out, stderr=out
                )
            url = f"http://127.0.0.1:{port}"

            def listening() -> bool:
                try:
                    return httpx.get(f"{url}/healthz", timeout=1).status_code in (200, 503)
                except httpx.HTTPError:
                    return False

            _eventually(listening, f"the oracle to listen ({log})", 60)
            store = Store(f"sqlite:///{database}")
            with httpx.Client(
                base_url=url, headers={"Authorization": "Bearer seller-notifies"}, timeout=5
            ) as http:
                assert _notify(http, ORDER_PATH, "EV-po", "productOrderStateChangeEvent", po_id) == 204
                link.down()  # the seller's API is unreachable while its notifications arrive
                for ticket_id in reversed(ticket_ids):  # out of order
                    assert (
                        _notify(
                            http, TICKET_PATH, f"EV-{ticket_id}", "troubleTicketStatusChangeEvent", ticket_id
                        )
                        == 204
                    )
                    assert (
                        _notify(
                            http, TICKET_PATH, f"EV-{ticket_id}", "troubleTicketStatusChangeEvent", ticket_id
                        )
                        == 204
                    )  # the same delivery twice
                    assert (
                        _notify(
                            http,
                            TICKET_PATH,
                            f"EV-{ticket_id}-again",
                            "troubleTicketStatusChangeEvent",
                            ticket_id,
                        )
                        == 204
                    )  # a second event about the same resource

                engine = create_engine(f"sqlite:///{database}")

                def retried_with_reason() -> bool:
                    with engine.connect() as conn:
                        return bool(
                            conn.execute(
                                text("select count(*) from events where attempts > 0 and last_error != ''")
                            ).scalar()
                        )

                _eventually(retried_with_reason, "the oracle to record why it could not fetch", 60)
                link.up()

                def confirmed_tickets() -> int:
                    rows = store.reports_with_status("confirmed", 10_000) + store.reports_with_status(
                        "final", 10_000
                    )
                    return sum(1 for r in rows if r["kind"] == ReportKind.TROUBLE_TICKET)

                _eventually(lambda: confirmed_tickets() >= TICKETS, f"{TICKETS} confirmed ticket reports", 90)
                time.sleep(2)  # anything doubled would be submitted by now
                assert confirmed_tickets() == TICKETS

        submitted = suite.ledger.logs("ReportSubmitted")
        per_ticket = Counter(e.args.key for e in submitted if e.args.kind == ReportKind.TROUBLE_TICKET)
        assert len(per_ticket) == TICKETS, "a ticket's report is missing on chain"
        assert set(per_ticket.values()) == {1}, "a ticket's report was submitted twice"
        with engine.connect() as conn:
            stored = conn.execute(
                text("select count(*) from events where api like '%roubleTicket%'")
            ).scalar()
        assert stored == 2 * TICKETS  # two distinct eventIds per ticket; the repeated delivery stored once
    finally:
        if oracle and oracle.poll() is None:
            oracle.terminate()
            try:
                oracle.wait(15)
            except subprocess.TimeoutExpired:
                oracle.kill()
        node.stop()
