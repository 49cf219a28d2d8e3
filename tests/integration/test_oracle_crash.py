"""The relay survives kill -9 and RPC outages: every acknowledged event's report lands on chain once.

The buyer's oracle runs as a real process (`offnet oracle run`); the seller is the reference Sonata
seller over real HTTP; the chain is anvil. The test plays the seller's notification stream: 500
trouble-ticket resolutions posted to the oracle's listener, with the oracle killed (SIGKILL) in the
middle and restarted; notifications the dead oracle did not acknowledge are sent again, as a seller
retries. Then the RPC endpoint is taken away while events keep arriving, and given back.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

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
from offnet.testing.carriers import chain_clock
from offnet.testing.faults import CuttableLink, award_one_order

pytestmark = pytest.mark.anvil
DAY = 86_400
TICKETS = 500
DURING_OUTAGE = 20
OFFNET = Path(sys.executable).parent / "offnet"
TICKET_PATH = "/mefApi/sonata/troubleTicketNotification/v4/listener/troubleTicketStatusChangeEvent"
ORDER_PATH = "/mefApi/sonata/productOrderingNotification/v10/listener/productOrderStateChangeEvent"


class OracleProcess:
    """`offnet oracle run` as a child process."""

    def __init__(self, config: Path, env: dict, log: Path):
        self.config, self.env, self.log = config, env, log
        self.process: subprocess.Popen | None = None

    def start(self, url: str) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [str(OFFNET), "oracle", "run", "--config", str(self.config)],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"oracle did not start: {self.log.read_text()[-2000:]}")

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def envelope(event_id: str, event_type: str, resource_id: str) -> dict:
    return {
        "eventId": event_id,
        "eventTime": "2026-06-01T10:00:00Z",
        "eventType": event_type,
        "event": {"id": resource_id},
    }


def post(http: httpx.Client, path: str, body: dict) -> bool:
    """POST a notification as the seller does; True when the oracle acknowledged it (204)."""
    try:
        return http.post(path, json=body).status_code == 204
    except httpx.TransportError:
        return False


def wait_until(condition, what: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_kill9_mid_stream_and_rpc_outage__every_report_on_chain_exactly_once(tmp_path):
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
            tokens={"buyer-at-seller": buyer.address},
            tick_seconds=0.05,
        )
        with serve_in_thread(app) as seller_url:
            # The buyer's staff orders the awarded quote and opens 500 tickets on the live circuit.
            client_start = datetime.fromtimestamp(chain.now(), UTC)
            order_request = load_example("product_order_create")
            order_request["externalId"] = "0x" + order_id.hex()
            for item in order_request["productOrderItem"]:
                item.pop("quoteItem", None)
                item.pop("requestedCompletionDate", None)

            async def place_and_break() -> tuple[str, list[str]]:
                async with SonataClient(seller_url, "buyer-at-seller") as sonata:
                    po = await sonata.create_product_order(order_request)
                    chain.advance_time(90 * DAY)  # delivered
                    await asyncio.sleep(0.5)
                    ticket = load_example("trouble_ticket_create")
                    ticket["relatedEntity"][0]["id"] = po.id
                    ticket["issueStartDate"] = (client_start + timedelta(days=80)).isoformat()
                    ids = [
                        (await sonata.create_trouble_ticket(ticket | {"externalId": f"T{i}"})).id
                        for i in range(TICKETS + DURING_OUTAGE)
                    ]
                    chain.advance_time(3 * DAY)  # all restored
                    await asyncio.sleep(0.5)
                    return po.id, ids

            po_id, ticket_ids = asyncio.run(place_and_break())

            port = free_port()
            os.environ["CRASH_SELLER_NOTIFIES"] = "seller-notifies"
            os.environ["CRASH_BUYER_AT_SELLER"] = "buyer-at-seller"
            os.environ["CRASH_BUYER_KEY"] = "0x" + bytes(buyer.key).hex()
            config = tmp_path / "buyer-oracle.yaml"
            database = tmp_path / "buyer-oracle.db"
            config.write_text(
                yaml.safe_dump(
                    {
                        "member": buyer.address,
                        "private_key_env": "CRASH_BUYER_KEY",
                        "rpc": link.url,
                        "deployments": str(deployments),
                        "listen_port": port,
                        "database": f"sqlite:///{database}",
                        "batch_size": 25,
                        "poll_interval": 0.1,
                        "auto_award": False,
                        "peers": [
                            {
                                "name": "seller",
                                "member": seller.address,
                                "sonata_url": seller_url,
                                "inbound_token": {"env": "CRASH_SELLER_NOTIFIES"},
                                "outbound_token": {"env": "CRASH_BUYER_AT_SELLER"},
                            }
                        ],
                    }
                )
            )
            oracle = OracleProcess(config, dict(os.environ), tmp_path / "oracle.log")
            url = f"http://127.0.0.1:{port}"
            oracle.start(url)
            store = Store(f"sqlite:///{database}")
            headers = {"Authorization": "Bearer seller-notifies"}
            with httpx.Client(base_url=url, headers=headers, timeout=5) as http:
                assert post(http, ORDER_PATH, envelope("EV-order", "productOrderStateChangeEvent", po_id))
                unacknowledged = []
                for i, ticket_id in enumerate(ticket_ids[:TICKETS]):
                    if i == 200:
                        oracle.kill9()  # mid-stream: some events stored, some relayed, some not yet sent
                    if i == 260:
                        oracle.start(url)
                    if not post(
                        http,
                        TICKET_PATH,
                        envelope(f"EV-{ticket_id}", "troubleTicketStatusChangeEvent", ticket_id),
                    ):
                        unacknowledged.append(ticket_id)
                assert unacknowledged, "the kill should have made the seller's deliveries fail for a while"
                for ticket_id in unacknowledged:  # the seller retries what was not acknowledged
                    assert post(
                        http,
                        TICKET_PATH,
                        envelope(f"EV-{ticket_id}", "troubleTicketStatusChangeEvent", ticket_id),
                    )

                def tickets_confirmed() -> int:
                    rows = store.reports_with_status("confirmed", 10_000) + store.reports_with_status(
                        "final", 10_000
                    )
                    return sum(1 for r in rows if r["kind"] == ReportKind.TROUBLE_TICKET)

                wait_until(lambda: tickets_confirmed() == TICKETS, "500 confirmed ticket reports")

                # RPC outage: the chain is unreachable while notifications keep arriving, then returns.
                link.down()
                for ticket_id in ticket_ids[TICKETS:]:
                    assert post(
                        http,
                        TICKET_PATH,
                        envelope(f"EV-{ticket_id}", "troubleTicketStatusChangeEvent", ticket_id),
                    )
                wait_until(lambda: http.get("/healthz").status_code == 503, "the oracle to report the outage")
                assert tickets_confirmed() == TICKETS
                link.up()
                wait_until(
                    lambda: tickets_confirmed() == TICKETS + DURING_OUTAGE, "the reports queued in the outage"
                )

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
