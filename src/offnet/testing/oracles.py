"""An oracle as a real process (`offnet oracle run`) beside a reference seller holding trouble tickets:
the set-up of the crash, replica and throughput tests and of the relay benchmark.

`open_tickets` places the Sonata order of an awarded order at the seller and opens N tickets the
seller resolves; `buyer_oracle_config` writes the buyer oracle's YAML (one seller peer, secrets in
environment variables); `OracleProcess` starts, kills and stops the process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

from offnet.chain.connect import Chain
from offnet.sonata.client import SonataClient
from offnet.sonata.examples import load_example

OFFNET = Path(sys.executable).parent / "offnet"
TICKET_PATH = "/mefApi/sonata/troubleTicketNotification/v4/listener/troubleTicketStatusChangeEvent"
ORDER_PATH = "/mefApi/sonata/productOrderingNotification/v10/listener/productOrderStateChangeEvent"
DAY = 86_400
# The tokens of the single seller peer (values of the environment variables the config names).
SELLER_NOTIFIES = "seller-notifies"
BUYER_AT_SELLER = "buyer-at-seller"


def envelope(event_id: str, event_type: str, resource_id: str) -> dict:
    """A thin Sonata notification as a seller sends it."""
    return {
        "eventId": event_id,
        "eventTime": "2026-06-01T10:00:00Z",
        "eventType": event_type,
        "event": {"id": resource_id},
    }


def ticket_envelope(ticket_id: str) -> dict:
    return envelope(f"EV-{ticket_id}", "troubleTicketStatusChangeEvent", ticket_id)


def open_tickets(chain: Chain, seller_url: str, order_id: bytes, count: int) -> tuple[str, list[str]]:
    """Place the Sonata order of `order_id` at the seller, let it be delivered, open `count` trouble
    tickets on the circuit and let the seller resolve them; returns (product order id, ticket ids)."""
    start = datetime.fromtimestamp(chain.now(), UTC)
    request = load_example("product_order_create")
    request["externalId"] = "0x" + order_id.hex()
    for item in request["productOrderItem"]:
        item.pop("quoteItem", None)
        item.pop("requestedCompletionDate", None)

    async def place() -> tuple[str, list[str]]:
        async with SonataClient(seller_url, BUYER_AT_SELLER) as sonata:
            po = await sonata.create_product_order(request)
            chain.advance_time(90 * DAY)  # delivered
            await asyncio.sleep(0.5)
            ticket = load_example("trouble_ticket_create")
            ticket["relatedEntity"][0]["id"] = po.id
            ticket["issueStartDate"] = (start + timedelta(days=80)).isoformat()
            gate = asyncio.Semaphore(8)

            async def open_one(i: int) -> str:
                async with gate:
                    return (await sonata.create_trouble_ticket(ticket | {"externalId": f"T{i}"})).id

            ids = await asyncio.gather(*(open_one(i) for i in range(count)))
            chain.advance_time(3 * DAY)  # all restored
            await asyncio.sleep(1.0)
            return po.id, list(ids)

    return asyncio.run(place())


def buyer_oracle_config(
    path: Path,
    *,
    member: str,
    key_env: str,
    rpc: str,
    deployments: Path,
    port: int,
    database: str,
    seller_member: str,
    seller_url: str,
    **overrides,
) -> dict[str, str]:
    """Write the buyer oracle's config to `path` (one peer, the seller); returns the environment
    variables it names (the peer tokens), to add to the process environment with the key's."""
    env = {"OFFNET_SELLER_NOTIFIES": SELLER_NOTIFIES, "OFFNET_BUYER_AT_SELLER": BUYER_AT_SELLER}
    config = {
        "member": member,
        "private_key_env": key_env,
        "rpc": rpc,
        "deployments": str(deployments),
        "listen_port": port,
        "database": database,
        "poll_interval": 0.1,
        "auto_award": False,
        "peers": [
            {
                "name": "seller",
                "member": seller_member,
                "sonata_url": seller_url,
                "inbound_token": {"env": "OFFNET_SELLER_NOTIFIES"},
                "outbound_token": {"env": "OFFNET_BUYER_AT_SELLER"},
            }
        ],
        **overrides,
    }
    path.write_text(yaml.safe_dump(config))
    return env


class OracleProcess:
    """`offnet oracle run --config PATH` as a child process, its output appended to `log`."""

    def __init__(self, config: Path, env: dict[str, str], log: Path, url: str):
        self.config, self.env, self.log, self.url = config, env, log, url
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, seconds: float = 60) -> OracleProcess:
        """Start the process and wait until its listener answers."""
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [str(OFFNET), "oracle", "run", "--config", str(self.config)],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.health() is not None:
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the oracle did not start: {self.log.read_text(errors='replace')[-2000:]}")

    def health(self) -> dict | None:
        """Its /healthz report, or None when it does not answer."""
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return None

    def role(self) -> str | None:
        """ "active" (it runs the duties), "standby", or None when it does not answer."""
        report = self.health()
        return None if report is None else report.get("leader", {}).get("role")

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
