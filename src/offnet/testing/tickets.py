"""A stream of trouble tickets for the buyer's oracle: the set-up of the crash and replica tests and of
the relay benchmark.

`ticket_world` deploys the suite, awards an order and serves the reference seller holding N resolved
tickets on it (`open_tickets`); `buyer_oracle` is the buyer's oracle process (offnet.testing.processes)
configured to fetch them from that seller, whose notifications (`ticket_envelope`) it relays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select

from offnet.chain import Sender
from offnet.chain.anvil import free_port
from offnet.chain.connect import Chain
from offnet.deployment import Suite, SuiteConfig, deploy_suite
from offnet.market.types import ReportKind
from offnet.oracle.store import Store, outbox
from offnet.sonata.client import SonataClient
from offnet.sonata.examples import load_example
from offnet.sonata.seller import create_seller_app
from offnet.sonata.seller.server import serve_in_thread
from offnet.testing.accounts import funded_account
from offnet.testing.carriers import chain_clock
from offnet.testing.faults import award_one_order
from offnet.testing.processes import OracleProcess, listener_path

TICKET_PATH = listener_path("troubleTicketStatusChangeEvent")
ORDER_PATH = listener_path("productOrderStateChangeEvent")
DAY = 86_400
# The tokens between the buyer's oracle and the seller (the secrets its config names).
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


def buyer_oracle(
    name: str,
    workdir: Path,
    buyer: LocalAccount,
    *,
    rpc: str,
    deployments: Path,
    port: int,
    database: str,
    seller_member: str,
    seller_url: str,
    **overrides: Any,
) -> OracleProcess:
    """The buyer's oracle process (not started): one peer, the seller, on `database`."""
    config = {
        "member": buyer.address,
        "rpc": rpc,
        "deployments": str(deployments),
        "listen_port": port,
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
    secrets = {"OFFNET_SELLER_NOTIFIES": SELLER_NOTIFIES, "OFFNET_BUYER_AT_SELLER": BUYER_AT_SELLER}
    return OracleProcess(name, workdir, config, buyer, secrets=secrets, database=database)


@dataclass
class TicketWorld:
    """The suite on a chain, a buyer and a seller (founders), an awarded order placed at the seller's
    reference Sonata API (served in a thread) with `ticket_ids` resolved on its circuit."""

    chain: Chain
    suite: Suite
    buyer: LocalAccount
    seller: LocalAccount
    workdir: Path
    deployments: Path
    seller_url: str
    product_order_id: str
    ticket_ids: list[str]
    first_block: int

    def oracle(self, name: str, database: str, *, rpc: str | None = None, **overrides: Any) -> OracleProcess:
        """A buyer oracle process of this world on `database` (`rpc`: another way to the chain)."""
        return buyer_oracle(
            name,
            self.workdir,
            self.buyer,
            rpc=rpc or self.chain.url or "",
            deployments=self.deployments,
            port=free_port(),
            database=database,
            seller_member=self.seller.address,
            seller_url=self.seller_url,
            **overrides,
        )


@contextmanager
def ticket_world(chain: Chain, workdir: Path, label: str, tickets: int) -> Iterator[TicketWorld]:
    """Deploy, award, place the order at a reference seller and open `tickets` tickets; the seller
    serves until the block ends."""
    buyer, seller = funded_account(chain), funded_account(chain)
    suite = deploy_suite(
        chain,
        Sender(chain, funded_account(chain)),
        SuiteConfig(founders=[buyer.address, seller.address], council_threshold=1),
    )
    deployments = workdir / "deployments"
    suite.manifest.save(deployments)
    order_id = award_one_order(chain, suite, buyer, seller, label=label, after_deadline=True)
    first_block = chain.w3.eth.block_number
    app = create_seller_app(
        "prompt-and-punctual",
        label,
        clock=chain_clock(chain),
        tokens={BUYER_AT_SELLER: buyer.address},
        tick_seconds=0.05,
    )
    with serve_in_thread(app) as seller_url:
        po_id, ticket_ids = open_tickets(chain, seller_url, order_id, tickets)
        yield TicketWorld(
            chain, suite, buyer, seller, workdir, deployments, seller_url, po_id, ticket_ids, first_block
        )


def confirmed_tickets(store: Store) -> int:
    """Trouble-ticket reports the oracle has seen confirmed on chain (one COUNT: cheap to poll)."""
    query = (
        select(func.count())
        .select_from(outbox)
        .where(outbox.c.kind == int(ReportKind.TROUBLE_TICKET), outbox.c.status.in_(("confirmed", "final")))
    )
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())
