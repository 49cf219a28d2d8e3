"""Oracles as real processes for fault tests and benchmarks: `offnet oracle run` as a child process,
its configuration, the seller notifications a test plays to it, and the trade they are about.

A test plays a seller's Sonata system: the reference seller (over real HTTP) holds a product order for
an awarded order and trouble tickets on it; the test posts the seller's notifications to the oracle's
listener and watches the oracle's own SQLite file.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from eth_account.signers.local import LocalAccount

from offnet.chain.anvil import free_port
from offnet.chain.connect import Chain
from offnet.market.types import ReportKind
from offnet.oracle.store import Store
from offnet.sonata.client import SonataClient
from offnet.sonata.examples import load_example
from offnet.sonata.seller import create_seller_app
from offnet.testing.world import DAY, World, wait_until

OFFNET = Path(sys.executable).parent / "offnet"
LISTENER = "/mefApi/sonata/{api}/listener/{event}"
TICKET_EVENT = "troubleTicketStatusChangeEvent"
ORDER_EVENT = "productOrderStateChangeEvent"
TICKET_PATH = LISTENER.format(api="troubleTicketNotification/v4", event=TICKET_EVENT)
ORDER_PATH = LISTENER.format(api="productOrderingNotification/v10", event=ORDER_EVENT)


def peer(name: str, member: str, sonata_url: str, **tokens: str) -> dict[str, Any]:
    """A peer of an oracle's configuration; `tokens` name the environment variables of its secrets
    (inbound_token, outbound_token, oracle_token)."""
    return {
        "name": name,
        "member": member,
        "sonata_url": sonata_url,
        **{k: {"env": v} for k, v in tokens.items()},
    }


class OracleProcess:
    """One carrier's `offnet oracle run`: its YAML configuration, SQLite file and log in `workdir`.

    `secrets` are environment variables the configuration names (bearer tokens); the member's key
    reaches the process the same way, never through a file.
    """

    def __init__(
        self, name: str, workdir: Path, config: dict[str, Any], key: LocalAccount, secrets: dict[str, str]
    ):
        self.name = name
        self.url = f"http://127.0.0.1:{config['listen_port']}"
        self.database = workdir / f"{name}.db"
        self.log = workdir / f"{name}.log"
        self.config = workdir / f"{name}.yaml"
        key_env = "OFFNET_TEST_" + "".join(c if c.isalnum() else "_" for c in name).upper() + "_KEY"
        data = {**config, "private_key_env": key_env, "database": f"sqlite:///{self.database}"}
        self.config.write_text(yaml.safe_dump(data))
        self.env = {**os.environ, **secrets, key_env: "0x" + bytes(key.key).hex()}
        self.process: subprocess.Popen | None = None

    def spawn(self) -> None:
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(
                [str(OFFNET), "oracle", "run", "--config", str(self.config), "--log-format", "text"],
                env=self.env,
                stdout=out,
                stderr=out,
            )

    def wait_listening(self, seconds: float = 60) -> None:
        """Wait until the listener answers (healthy or not); fail with the log if the process died."""

        def listening() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the {self.name} oracle exited: {self.log.read_text()[-2000:]}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code in (200, 503)
            except httpx.HTTPError:
                return False

        wait_until(listening, f"the {self.name} oracle to listen ({self.log})", seconds=seconds, interval=0.1)

    def start(self) -> None:
        self.spawn()
        self.wait_listening()

    def kill9(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash."""
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
                self.process.wait(5)

    def notifications(self) -> SellerNotifications:
        """The seller's notifications to this oracle's listener."""
        return SellerNotifications(self.url)

    @property
    def store(self) -> Store:
        return Store(f"sqlite:///{self.database}")

    def confirmed(self, kind: ReportKind) -> int:
        """Reports of `kind` the oracle has seen confirmed (or final) on chain."""
        store = self.store
        rows = store.reports_with_status("confirmed", 100_000) + store.reports_with_status("final", 100_000)
        return sum(1 for r in rows if r["kind"] == kind)


def reference_seller(name: str, world: World, *, clock: Callable[[], datetime], **options: Any) -> Any:
    """The reference Sonata seller (a prompt and punctual one) that the world's buyer reaches with the
    bearer token `buyer-at-seller`; `options` go to create_seller_app (more tokens merge in)."""
    tokens = {"buyer-at-seller": world.buyer.address, **options.pop("tokens", {})}
    return create_seller_app(
        "prompt-and-punctual", name, clock=clock, tokens=tokens, tick_seconds=0.05, **options
    )


def buyer_oracle(
    world: World, workdir: Path, seller_url: str, *, rpc: str, name: str = "buyer", **settings: Any
) -> OracleProcess:
    """The world's buyer's oracle trading with its seller, whose notifications it hears (bearer
    `seller-notifies`) and whose API at `seller_url` it reads (bearer `buyer-at-seller`); `name`
    names its files in `workdir`."""
    deployments = workdir / "deployments"
    world.suite.manifest.save(deployments)
    config = {
        "member": world.buyer.address,
        "rpc": rpc,
        "deployments": str(deployments),
        "listen_port": free_port(),
        "poll_interval": 0.1,
        "auto_award": False,
        "peers": [
            peer(
                "seller",
                world.seller.address,
                seller_url,
                inbound_token="OFFNET_TEST_SELLER_NOTIFIES",
                outbound_token="OFFNET_TEST_BUYER_AT_SELLER",
            )
        ],
        **settings,
    }
    secrets = {
        "OFFNET_TEST_SELLER_NOTIFIES": "seller-notifies",
        "OFFNET_TEST_BUYER_AT_SELLER": "buyer-at-seller",
    }
    return OracleProcess(name, workdir, config, world.buyer.account, secrets)


def envelope(event_id: str, event_type: str, resource_id: str) -> dict[str, Any]:
    """A Sonata notification about one resource, as the seller sends it."""
    return {
        "eventId": event_id,
        "eventTime": "2026-06-01T10:00:00Z",
        "eventType": event_type,
        "event": {"id": resource_id},
    }


class SellerNotifications:
    """The seller's side of an oracle's listener (bearer `seller-notifies`): each method returns the
    status code, 0 when the oracle could not be reached."""

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url, headers={"Authorization": "Bearer seller-notifies"}, timeout=5)

    def __enter__(self) -> SellerNotifications:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def _post(self, path: str, event_type: str, event_id: str, resource_id: str) -> int:
        try:
            return self.http.post(path, json=envelope(event_id, event_type, resource_id)).status_code
        except httpx.TransportError:
            return 0

    def order(self, event_id: str, product_order_id: str) -> int:
        """A product order changed state."""
        return self._post(ORDER_PATH, ORDER_EVENT, event_id, product_order_id)

    def ticket(self, event_id: str, ticket_id: str) -> int:
        """A trouble ticket changed state."""
        return self._post(TICKET_PATH, TICKET_EVENT, event_id, ticket_id)

    def health(self) -> int:
        """The listener's health: 200, or 503 while the oracle cannot reach the chain."""
        return self.http.get("/healthz").status_code


async def order_with_tickets(
    chain: Chain,
    seller_url: str,
    order_id: bytes,
    tickets: int,
    *,
    start: datetime,
    label: str = "T",
    concurrency: int = 1,
) -> tuple[str, list[str]]:
    """The buyer orders the awarded `order_id` at the seller (as `buyer-at-seller`), the circuit is
    delivered (90 days of chain time), `tickets` trouble tickets are opened on it (issued 80 days after
    `start`, the seller's clock then) and restored three days later. Returns the product order id and
    the ticket ids once the seller has resolved every ticket."""
    request = load_example("product_order_create")
    request["externalId"] = "0x" + order_id.hex()
    for item in request["productOrderItem"]:
        item.pop("quoteItem", None)
        item.pop("requestedCompletionDate", None)
    async with SonataClient(seller_url, "buyer-at-seller") as sonata:
        product_order = await sonata.create_product_order(request)
        chain.advance_time(90 * DAY)
        await asyncio.sleep(0.5)
        ticket = load_example("trouble_ticket_create")
        ticket["relatedEntity"][0]["id"] = product_order.id
        ticket["issueStartDate"] = (start + timedelta(days=80)).isoformat()
        gate = asyncio.Semaphore(concurrency)

        async def open_one(i: int) -> str:
            async with gate:
                return (await sonata.create_trouble_ticket(ticket | {"externalId": f"{label}{i}"})).id

        async def resolved(ticket_id: str) -> bool:
            async with gate:
                return bool((await sonata.get_trouble_ticket(ticket_id)).resolutionDate)

        ids = list(await asyncio.gather(*(open_one(i) for i in range(tickets))))
        chain.advance_time(3 * DAY)
        for _ in range(600):  # the seller resolves them on its own ticker
            if all(await asyncio.gather(*(resolved(i) for i in ids))):
                break
            await asyncio.sleep(0.1)
        else:
            raise TimeoutError("the seller never resolved the tickets")
    return product_order.id, ids
