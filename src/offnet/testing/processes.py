"""A carrier's oracle as a real process for tests and the bench: `offnet oracle run` with its own YAML
config, database (an SQLite file by default) and log, the notifications a peer would send it, and a look into its database;
and the trade such a test plays the seller of (the reference seller, a product order with tickets)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from eth_account.signers.local import LocalAccount
from sqlalchemy import create_engine, text

from offnet.chain.anvil import free_port
from offnet.chain.connect import Chain
from offnet.oracle.store import Store, database_url
from offnet.serving import serve_in_thread
from offnet.sonata.client import SonataClient
from offnet.sonata.examples import load_example
from offnet.sonata.models import SONATA_APIS
from offnet.sonata.seller import create_seller_app
from offnet.testing.carriers import chain_clock
from offnet.testing.world import DAY, World, wait_until

OFFNET = Path(sys.executable).parent / "offnet"
ORDER_EVENT = "productOrderStateChangeEvent"
TICKET_EVENT = "troubleTicketStatusChangeEvent"


def listener_path(event_type: str) -> str:
    """The MEF listener path of an event type (in whichever notification API it belongs to)."""
    for api in SONATA_APIS:
        if event_type in api.events:
            return api.listener_path(event_type)
    raise LookupError(f"unknown Sonata event type {event_type!r}")


class OracleProcess:
    """`offnet oracle run` for one carrier: `config` is its YAML data (secrets as env var names, the
    values in `secrets`), `key` the account it signs with (handed over in an environment variable)."""

    def __init__(
        self,
        name: str,
        workdir: Path,
        config: dict[str, Any],
        key: LocalAccount,
        *,
        secrets: dict[str, str] | None = None,
        database: str | None = None,
    ):
        self.name = name
        self.port = config["listen_port"]
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database or f"sqlite:///{workdir / f'{name}.db'}"
        self.log = workdir / f"{name}.log"
        self.config_file = workdir / f"{name}.yaml"
        key_env = f"OFFNET_TEST_{name.upper().replace('-', '_')}_KEY"
        self.config = {**config, "private_key_env": key_env, "database": self.database_url}
        self.config_file.write_text(yaml.safe_dump(self.config))
        self.secrets = dict(secrets or {})
        self.env = {**os.environ, **self.secrets, key_env: "0x" + bytes(key.key).hex()}
        self.process: subprocess.Popen | None = None
        self._engine = None

    # --- the process ------------------------------------------------------------------------------

    def spawn(self) -> None:
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(
                [str(OFFNET), "oracle", "run", "--config", str(self.config_file), "--log-format", "text"],
                env=self.env,
                stdout=out,
                stderr=out,
            )

    def wait_listening(self, seconds: float = 60) -> None:
        def listening() -> bool:
            assert self.process.poll() is None, (
                f"the {self.name} oracle exited: {self.log.read_text()[-2000:]}"
            )
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code > 0  # any answer: it listens
            except httpx.HTTPError:
                return False

        wait_until(listening, f"the {self.name} oracle to listen ({self.log})", seconds=seconds)

    def start(self, seconds: float = 60) -> OracleProcess:
        """Spawn the process and wait until it listens."""
        self.spawn()
        self.wait_listening(seconds)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def healthz(self) -> dict | None:
        """Its /healthz report, or None when it does not answer."""
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return None

    def role(self) -> str | None:
        """ "active" (it runs the duties), "standby" (another process of its database does), or None
        when it does not answer."""
        report = self.healthz()
        return None if report is None else report.get("leader", {}).get("role")

    def kill(self) -> None:
        """kill -9: no goodbye, no flush."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(15)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # --- what peers send it ---------------------------------------------------------------------

    def notify(
        self,
        peer: str,
        event_type: str,
        event_id: str,
        resource_id: str,
        *,
        event_time: str = "2026-07-01T08:00:00Z",
    ) -> int:
        """POST one thin notification as peer `peer` would (its inbound token); returns the status,
        0 when the oracle could not be reached (a peer then sends it again)."""
        token = self.secrets[self._peer(peer)["inbound_token"]["env"]]
        try:
            response = httpx.post(
                self.url + listener_path(event_type),
                json=envelope(event_id, event_type, resource_id, event_time),
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
        except httpx.TransportError:
            return 0
        return response.status_code

    def health(self) -> int:
        """The listener's health: 200, or 503 while a duty (the chain, a peer) fails."""
        return httpx.get(f"{self.url}/healthz", timeout=5).status_code

    def _peer(self, name: str) -> dict:
        return next(p for p in self.config["peers"] if p["name"] == name)

    # --- its database -----------------------------------------------------------------------------

    def rows(self, query: str, **params: Any) -> list[dict]:
        if self._engine is None:
            self._engine = create_engine(database_url(self.database_url))
        with self._engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(query), params).mappings().all()]

    @property
    def store(self) -> Store:
        """The oracle's store, opened on its database."""
        return Store(self.database_url)

    def confirmed(self, kind: int) -> int:
        """Reports of `kind` the oracle has seen confirmed (or final) on chain."""
        query = "select count(*) as n from outbox where kind = :k and status in ('confirmed', 'final')"
        return self.rows(query, k=int(kind))[0]["n"]

    def outbox(self) -> dict[str, dict]:
        """Every outbox row by report id."""
        return {r["report_id"]: r for r in self.rows("select * from outbox")}

    def event(self, event_id: str) -> dict:
        """The stored notification with this eventId (KeyError until it is stored)."""
        found = self.rows("select * from events where event_id = :e", e=event_id)
        if not found:
            raise KeyError(event_id)
        return found[0]

    def order(self, order_id: bytes) -> dict:
        """What the oracle knows of an order (KeyError until it knows it)."""
        found = self.rows("select * from orders where order_id = :o", o="0x" + bytes(order_id).hex())
        if not found:
            raise KeyError(order_id)
        return found[0]


# --- the trade a test plays the seller of ---------------------------------------------------------


def peer(name: str, member: str, sonata_url: str, **tokens: str) -> dict[str, Any]:
    """A peer of an oracle's configuration; `tokens` name the environment variables of its secrets
    (inbound_token, outbound_token, oracle_token)."""
    return {
        "name": name,
        "member": member,
        "sonata_url": sonata_url,
        **{k: {"env": v} for k, v in tokens.items()},
    }


def reference_seller(name: str, world: World, *, ahead: int = 0, **options: Any) -> Any:
    """The reference Sonata seller (a prompt and punctual one) on the world's chain clock (`ahead`
    seconds fast), which the world's buyer reaches with the bearer token `buyer-at-seller`; `options`
    go to create_seller_app (more tokens merge in)."""
    tokens = {"buyer-at-seller": world.buyer.address, **options.pop("tokens", {})}
    clock = chain_clock(world.chain, ahead)
    return create_seller_app(
        "prompt-and-punctual", name, clock=clock, tokens=tokens, tick_seconds=0.05, **options
    )


def buyer_oracle(
    world: World,
    workdir: Path,
    seller_url: str,
    *,
    rpc: str,
    name: str = "buyer",
    database: str | None = None,
    **settings: Any,
) -> OracleProcess:
    """The world's buyer's oracle trading with its seller, whose notifications it hears (bearer
    `seller-notifies`) and whose API at `seller_url` it reads (bearer `buyer-at-seller`); `name`
    names its files in `workdir`, `database` is its database URL (default: an SQLite file there).
    Replicas of one oracle are buyer oracles of one world on one database."""
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
    return OracleProcess(name, workdir, config, world.buyer.account, secrets=secrets, database=database)


def envelope(
    event_id: str, event_type: str, resource_id: str, event_time: str = "2026-07-01T08:00:00Z"
) -> dict:
    """A thin Sonata notification about one resource, as a seller sends it."""
    return {
        "eventId": event_id,
        "eventTime": event_time,
        "eventType": event_type,
        "event": {"id": resource_id},
    }


async def order_with_tickets(
    chain: Chain,
    seller_url: str,
    order_id: bytes,
    tickets: int,
    *,
    ahead: int = 0,
    label: str = "T",
    concurrency: int = 1,
) -> tuple[str, list[str]]:
    """The buyer orders the awarded `order_id` at the seller (as `buyer-at-seller`), the circuit is
    delivered (90 days of chain time), `tickets` trouble tickets are opened on it (issued 80 days after
    the start, on the seller's clock, `ahead` seconds fast) and restored three days later. Returns the
    product order id and the ticket ids once the seller has resolved every ticket."""
    start = datetime.fromtimestamp(chain.now() + ahead, UTC)
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


@dataclass
class TicketStream:
    """A world whose buyer ordered an awarded quote at the reference seller (served in a thread) and
    has `ticket_ids` resolved on the circuit: what the buyer's oracle is then told about."""

    world: World
    seller_url: str
    product_order_id: str
    ticket_ids: list[str]


@contextmanager
def ticket_stream(chain: Chain, label: str, tickets: int, *, concurrency: int = 1) -> Iterator[TicketStream]:
    """Deploy a world labelled `label` on `chain`, award an order, serve the reference seller and
    have `tickets` tickets opened and resolved there (order_with_tickets); the seller serves until
    the block ends."""
    world = World.create(chain, label, keys=False)
    order = world.open_order()
    with serve_in_thread(reference_seller(label, world)) as seller_url:
        po_id, ids = asyncio.run(
            order_with_tickets(chain, seller_url, order.order_id, tickets, concurrency=concurrency)
        )
        yield TicketStream(world, seller_url, po_id, ids)
