"""The oracle's durable state: received events, the report outbox, chain cursors, order links.

A SQLAlchemy URL (SQLite file by default, PostgreSQL where one machine is outgrown). Every write
is committed before the caller acknowledges anything, so a kill -9 loses nothing that was
acknowledged: an event is stored before the listener answers 204, a report is in the outbox before
it is sent, and a cursor moves only after the effect it covers has its confirmations.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("peer", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("api", String(32), nullable=False),
    Column("event_type", String(80), nullable=False),
    Column("resource_id", String(128), nullable=False),
    Column("item_id", String(128)),
    Column("event_time", String(40), nullable=False),
    Column("received_at", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False, default="received"),  # received | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Integer, nullable=False, default=0),
    Column("last_error", Text),
    UniqueConstraint("peer", "event_id", name="uq_events_peer_event"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("report_id", String(66), primary_key=True),
    Column("order_id", String(66), nullable=False),
    Column("kind", Integer, nullable=False),
    Column("payload", Text, nullable=False),  # the report's fields, JSON
    Column("source_event", Integer),  # events.id it came from, if any
    # pending -> submitted -> confirmed -> final; rejected when the ledger refuses it for good
    Column("status", String(16), nullable=False, default="pending"),
    Column("tx_hash", String(66)),
    Column("batch_root", String(66)),  # Merkle root of the batch it was sent in
    Column("batch_index", Integer),  # its position in that batch (to rebuild the proof)
    Column("batch_lane", Integer),  # the ledger lane the batch went into (SlaLedger.submit)
    Column("block_number", Integer),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Integer, nullable=False),
    Column("confirmed_at", Integer),
    Column("due_at", Integer),  # chain time after which finalize may be tried (batch time + liveness)
    Column("last_error", Text),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(66), primary_key=True),
    Column("rfq_id", String(80), nullable=False),  # decimal: RFQ ids are 256-bit
    Column("role", String(8), nullable=False),  # buyer | seller
    Column("terms", Text, nullable=False),  # OrderTerms, JSON (offnet.market.codec)
    Column("peer", String(64), nullable=False),  # the counterparty's peer name
    Column("quote_id", String(128)),
    Column("product_order_id", String(128)),
    Column("state", String(32), nullable=False, default="awarded"),
    Column("committed_date", String(40)),  # the FIRST expectedCompletionDate the seller gave
    Column("completed_at", Integer),  # unix completionDate, once delivered
    Column("reported_periods", Integer, nullable=False, default=0),  # seller: billing periods queued
    Column("updated_at", Integer, nullable=False),
)

# --- the buyer desk ----------------------------------------------------------------------------------

rfqs = Table(
    "rfqs",
    metadata,
    Column("rfq_id", String(80), primary_key=True),  # decimal
    Column("rfq", Text, nullable=False),  # the on-chain Rfq, JSON (offnet.market.codec)
    Column("request", Text, nullable=False),  # the Sonata quote request sent to the invited sellers
    Column("state", String(16), nullable=False),  # open | awarded | unawarded
    Column("order_id", String(66)),  # the awarded order
    Column("awarded_peer", String(64)),
    Column("ranking", Text),  # JSON list of the ranking's explanations
    Column("updated_at", Integer, nullable=False),
)

quote_requests = Table(  # the Sonata quote each invited seller created for one of our RFQs
    "quote_requests",
    metadata,
    Column("peer", String(64), primary_key=True),
    Column("sonata_quote_id", String(128), primary_key=True),
    Column("rfq_id", String(80), nullable=False),
)

received_quotes = Table(  # a seller's signed quote the buyer fetched and verified
    "received_quotes",
    metadata,
    Column("rfq_id", String(80), primary_key=True),
    Column("peer", String(64), primary_key=True),
    Column("signed", Text, nullable=False),  # SignedQuote, JSON (offnet.market.codec)
    Column("sonata_quote_id", String(128), nullable=False),
    Column("quote_item_id", String(128), nullable=False),
)

# --- the seller desk ---------------------------------------------------------------------------------

signed_quotes = Table(  # our own quotes, signed and committed, served to the RFQ's buyer
    "signed_quotes",
    metadata,
    Column("rfq_id", String(80), primary_key=True),
    Column("signed", Text, nullable=False),
    Column("sonata_quote_id", String(128), nullable=False, unique=True),
)

# --- plumbing ----------------------------------------------------------------------------------------

subscriptions = Table(  # our listener's registration at a seller's hub, per API
    "subscriptions",
    metadata,
    Column("peer", String(64), primary_key=True),
    Column("api", String(32), primary_key=True),
    Column("subscription_id", String(128), nullable=False),
)

chain_cursors = Table(  # the next block to read, per chain watcher
    "chain_cursors",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("next_block", Integer, nullable=False),
)


@dataclass(frozen=True)
class StoredEvent:
    """An event row, as the relay works on it."""

    id: int
    peer: str
    event_id: str
    api: str
    event_type: str
    resource_id: str
    item_id: str | None
    event_time: str
    attempts: int
    body: dict


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the listener's writes
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged event survives power loss
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Store:
    """Typed access to the oracle database."""

    def __init__(self, url: str):
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)

    # --- events -------------------------------------------------------------------------------

    def record_event(self, peer: str, api: str, envelope: dict[str, Any], item_id: str | None) -> bool:
        """Store a received notification; False when (peer, eventId) was already stored."""
        row = {
            "peer": peer,
            "event_id": envelope["eventId"],
            "api": api,
            "event_type": envelope["eventType"],
            "resource_id": envelope["event"]["id"],
            "item_id": item_id,
            "event_time": envelope["eventTime"],
            "received_at": int(time.time()),
            "body": json.dumps(envelope, sort_keys=True),
            "status": "received",
            "attempts": 0,
            "next_attempt_at": 0,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(events).values(**row))
        except IntegrityError:
            return False
        return True

    def due_events(self, limit: int = 100, now: int | None = None) -> list[StoredEvent]:
        """Received events whose next attempt is due, oldest event time first."""
        now = int(time.time()) if now is None else now
        query = (
            select(events)
            .where(events.c.status == "received", events.c.next_attempt_at <= now)
            .order_by(events.c.event_time, events.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            StoredEvent(
                r["id"],
                r["peer"],
                r["event_id"],
                r["api"],
                r["event_type"],
                r["resource_id"],
                r["item_id"],
                r["event_time"],
                r["attempts"],
                json.loads(r["body"]),
            )
            for r in rows
        ]

    def unfinished_events(self, apis: tuple[str, ...]) -> list[Any]:
        """Events of these APIs not handled yet or given up: (event_type, status, last_error) rows."""
        query = select(events.c.event_type, events.c.status, events.c.last_error).where(
            events.c.api.in_(apis), events.c.status != "done"
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def finish_event(self, event_row: int, reports: list[dict]) -> int:
        """Mark an event done and queue its reports, atomically; returns how many were new."""
        with self.engine.begin() as conn:
            added = self._queue(conn, reports, event_row)
            conn.execute(
                update(events).where(events.c.id == event_row).values(status="done", last_error=None)
            )
        return added

    @staticmethod
    def _queue(conn, reports: list[dict], source_event: int | None) -> int:
        added = 0
        for report in reports:
            if conn.execute(
                select(outbox.c.report_id).where(outbox.c.report_id == report["reportId"])
            ).first():
                continue  # the same fact again: one report id, one effect
            conn.execute(
                insert(outbox).values(
                    report_id=report["reportId"],
                    order_id=report["orderId"],
                    kind=report["kind"],
                    payload=json.dumps(report, sort_keys=True),
                    source_event=source_event,
                    status="pending",
                    attempts=0,
                    created_at=int(time.time()),
                )
            )
            added += 1
        return added

    def retry_event(
        self, event_row: int, error: str, *, max_attempts: int = 20, base_delay: float = 1.0
    ) -> None:
        """Record a failed attempt; back off exponentially, give up (failed) after max_attempts."""
        with self.engine.begin() as conn:
            attempts = (
                conn.execute(select(events.c.attempts).where(events.c.id == event_row)).scalar_one() + 1
            )
            status = "failed" if attempts >= max_attempts else "received"
            delay = min(base_delay * 2 ** (attempts - 1), 300)
            conn.execute(
                update(events)
                .where(events.c.id == event_row)
                .values(
                    attempts=attempts,
                    status=status,
                    last_error=error[:500],
                    next_attempt_at=int(time.time() + delay),
                )
            )

    # --- outbox -------------------------------------------------------------------------------

    def queue_reports(self, reports: list[dict]) -> int:
        """Queue reports that come from no event (e.g. periodic in-life reports)."""
        with self.engine.begin() as conn:
            return self._queue(conn, reports, None)

    def mark_submitted(self, report_ids: list[str], tx_hash: str, batch_root: str, lane: int) -> None:
        """Remember the transaction before broadcasting it, so a restart can look it up."""
        with self.engine.begin() as conn:
            for index, report_id in enumerate(report_ids):
                conn.execute(
                    update(outbox)
                    .where(outbox.c.report_id == report_id)
                    .values(
                        status="submitted",
                        tx_hash=tx_hash,
                        batch_root=batch_root,
                        batch_index=index,
                        batch_lane=lane,
                        attempts=outbox.c.attempts + 1,
                    )
                )

    def batch_reports(self, batch_root: str) -> list[dict]:
        """The outbox rows sent in one batch, in batch order."""
        query = select(outbox).where(outbox.c.batch_root == batch_root).order_by(outbox.c.batch_index)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def lanes_in_use(self) -> set[int]:
        """Ledger lanes holding a batch with reports not final yet (they must not be overwritten)."""
        query = (
            select(outbox.c.batch_lane)
            .where(outbox.c.status.in_(("submitted", "confirmed")), outbox.c.batch_lane.is_not(None))
            .distinct()
        )
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(query).all()}

    def reports_with_status(self, status: str, limit: int = 1000) -> list[dict]:
        query = select(outbox).where(outbox.c.status == status).order_by(outbox.c.created_at).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def set_report_status(self, report_ids: list[str], status: str, error: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.report_id.in_(report_ids))
                .values(status=status, last_error=error[:500] if error else None)
            )

    def mark_confirmed(self, report_ids: list[str], block_number: int, due_at: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.report_id.in_(report_ids))
                .values(
                    status="confirmed",
                    block_number=block_number,
                    confirmed_at=int(time.time()),
                    due_at=due_at,
                    last_error=None,
                )
            )

    def due_reports(self, now: int, limit: int = 200) -> list[dict]:
        """Confirmed reports whose liveness window is over (the only ones finalize can act on)."""
        query = (
            select(outbox)
            .where(outbox.c.status == "confirmed", outbox.c.due_at <= now)
            .order_by(outbox.c.due_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings().all()]

    def postpone(self, report_ids: list[str], due_at: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.report_id.in_(report_ids)).values(due_at=due_at))

    def mark_pending(self, report_ids: list[str], error: str) -> None:
        """Send again later (the transaction failed, was dropped or reorganised away)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.report_id.in_(report_ids))
                .values(
                    status="pending",
                    tx_hash=None,
                    batch_root=None,
                    batch_index=None,
                    batch_lane=None,
                    block_number=None,
                    last_error=error[:500],
                )
            )

    # --- orders ---------------------------------------------------------------------------------------

    def save_order(self, order_id: str, rfq_id: int, role: str, terms: list, peer: str, **links: Any) -> None:
        """Insert or update what this oracle knows of an order (terms, Sonata ids, state)."""
        values = {
            "rfq_id": str(rfq_id),
            "role": role,
            "terms": json.dumps(terms, sort_keys=True),
            "peer": peer,
            "updated_at": int(time.time()),
            **links,
        }
        with self.engine.begin() as conn:
            if (
                conn.execute(update(orders).where(orders.c.order_id == order_id).values(**values)).rowcount
                == 0
            ):
                conn.execute(insert(orders).values(order_id=order_id, **values))

    def update_order(self, order_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(orders)
                .where(orders.c.order_id == order_id)
                .values(updated_at=int(time.time()), **values)
            )

    def order(self, **where: Any) -> dict | None:
        """The first order matching column=value conditions, or None."""
        query = select(orders)
        for column, value in where.items():
            query = query.where(orders.c[column] == (str(value) if column == "rfq_id" else value))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else {**row, "terms": json.loads(row["terms"])}

    def all_orders(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(orders).order_by(orders.c.updated_at)).mappings().all()
        return [{**r, "terms": json.loads(r["terms"])} for r in rows]

    def delivered_seller_orders(self) -> list[dict]:
        """Our orders as seller that were delivered and are linked to our Sonata order."""
        query = (
            select(orders)
            .where(
                orders.c.role == "seller",
                orders.c.completed_at.is_not(None),
                orders.c.product_order_id.is_not(None),
            )
            .order_by(orders.c.completed_at)
        )
        with self.engine.connect() as conn:
            return [{**r, "terms": json.loads(r["terms"])} for r in conn.execute(query).mappings().all()]

    # --- RFQs (buyer) -----------------------------------------------------------------------------

    def save_rfq(self, rfq_id: int, rfq: dict, request: dict) -> None:
        """Record an RFQ we posted with the Sonata quote request behind it (state open)."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(rfqs).values(
                    rfq_id=str(rfq_id),
                    rfq=json.dumps(rfq, sort_keys=True),
                    request=json.dumps(request, sort_keys=True),
                    state="open",
                    updated_at=int(time.time()),
                )
            )

    def rfq(self, rfq_id: int | str) -> dict | None:
        """An RFQ we posted: its on-chain form, request, state and award, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(rfqs).where(rfqs.c.rfq_id == str(rfq_id))).mappings().first()
        if row is None:
            return None
        return {
            **row,
            "rfq": json.loads(row["rfq"]),
            "request": json.loads(row["request"]),
            "ranking": json.loads(row["ranking"]) if row["ranking"] else None,
        }

    def open_rfqs(self) -> list[int]:
        """The ids of our RFQs still open (not awarded or given up)."""
        with self.engine.connect() as conn:
            return [int(r[0]) for r in conn.execute(select(rfqs.c.rfq_id).where(rfqs.c.state == "open"))]

    def close_rfq(
        self,
        rfq_id: int,
        state: str,
        *,
        order_id: str | None = None,
        peer: str | None = None,
        ranking: list[str] | None = None,
    ) -> None:
        """Record an RFQ's outcome: `awarded` (with the order and the winning peer) or `unawarded`."""
        with self.engine.begin() as conn:
            conn.execute(
                update(rfqs)
                .where(rfqs.c.rfq_id == str(rfq_id))
                .values(
                    state=state,
                    order_id=order_id,
                    awarded_peer=peer,
                    ranking=json.dumps(ranking) if ranking is not None else None,
                    updated_at=int(time.time()),
                )
            )

    def save_quote_request(self, peer: str, sonata_quote_id: str, rfq_id: int) -> None:
        """Remember which RFQ the seller's Sonata quote `sonata_quote_id` answers."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(quote_requests).values(peer=peer, sonata_quote_id=sonata_quote_id, rfq_id=str(rfq_id))
            )

    def rfq_of_quote_request(self, peer: str, sonata_quote_id: str) -> int | None:
        """The RFQ a peer's Sonata quote answers, or None when it is not one we requested."""
        query = select(quote_requests.c.rfq_id).where(
            quote_requests.c.peer == peer, quote_requests.c.sonata_quote_id == sonata_quote_id
        )
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return None if value is None else int(value)

    def add_received_quote(
        self, rfq_id: int, peer: str, signed: dict, sonata_quote_id: str, quote_item_id: str
    ) -> bool:
        """Keep a peer's verified signed quote for an RFQ; False when one was already kept."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(received_quotes).values(
                        rfq_id=str(rfq_id),
                        peer=peer,
                        signed=json.dumps(signed, sort_keys=True),
                        sonata_quote_id=sonata_quote_id,
                        quote_item_id=quote_item_id,
                    )
                )
        except IntegrityError:
            return False
        return True

    def received_quotes(self, rfq_id: int) -> dict[str, dict]:
        """The verified quotes of an RFQ by peer: {"signed", "sonata_quote_id", "quote_item_id"}."""
        query = select(received_quotes).where(received_quotes.c.rfq_id == str(rfq_id))
        with self.engine.connect() as conn:
            return {
                r["peer"]: {
                    "signed": json.loads(r["signed"]),
                    "sonata_quote_id": r["sonata_quote_id"],
                    "quote_item_id": r["quote_item_id"],
                }
                for r in conn.execute(query).mappings()
            }

    # --- signed quotes (seller) -------------------------------------------------------------------

    def save_signed_quote(self, rfq_id: int, signed: dict, sonata_quote_id: str) -> None:
        """Keep our signed, committed quote for an RFQ and the Sonata quote it prices."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(signed_quotes).values(
                    rfq_id=str(rfq_id),
                    signed=json.dumps(signed, sort_keys=True),
                    sonata_quote_id=sonata_quote_id,
                )
            )

    def signed_quote(self, rfq_id: int | str) -> dict | None:
        """Our signed quote for an RFQ (its JSON form), or None."""
        query = select(signed_quotes.c.signed).where(signed_quotes.c.rfq_id == str(rfq_id))
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return None if value is None else json.loads(value)

    def rfq_of_signed_quote(self, sonata_quote_id: str) -> int | None:
        """The RFQ our Sonata quote `sonata_quote_id` was signed for, or None."""
        query = select(signed_quotes.c.rfq_id).where(signed_quotes.c.sonata_quote_id == sonata_quote_id)
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return None if value is None else int(value)

    # --- subscriptions and chain cursors ----------------------------------------------------------

    def subscription(self, peer: str, api: str) -> str | None:
        """Our subscription id at a peer's hub for one API, or None."""
        query = select(subscriptions.c.subscription_id).where(
            subscriptions.c.peer == peer, subscriptions.c.api == api
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def save_subscription(self, peer: str, api: str, subscription_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(subscriptions).values(peer=peer, api=api, subscription_id=subscription_id))

    def next_block(self, watcher: str) -> int:
        """The first block a chain watcher has not read yet (0 when it never ran)."""
        query = select(chain_cursors.c.next_block).where(chain_cursors.c.name == watcher)
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return 0 if value is None else value

    def set_next_block(self, watcher: str, block: int) -> None:
        """Move a chain watcher's cursor (only after the effects of the blocks before it are stored)."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(chain_cursors).where(chain_cursors.c.name == watcher).values(next_block=block)
            )
            if moved.rowcount == 0:
                conn.execute(insert(chain_cursors).values(name=watcher, next_block=block))

    def counts(self) -> dict[str, int]:
        """Events by status and reports by status, for /metrics and /healthz."""
        result: dict[str, int] = {}
        with self.engine.connect() as conn:
            for table, prefix in ((events, "events"), (outbox, "reports")):
                for status, n in conn.execute(select(table.c.status, func.count()).group_by(table.c.status)):
                    result[f"{prefix}_{status}"] = n
        return result
