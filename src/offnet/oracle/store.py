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

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(66), primary_key=True),
    Column("rfq_id", String(80), nullable=False),  # decimal: RFQ ids are 256-bit
    Column("role", String(8), nullable=False),  # buyer | seller
    Column("terms", Text, nullable=False),  # OrderTerms, JSON
    Column("peer", String(64), nullable=False),  # the counterparty's peer name
    Column("quote_id", String(128)),
    Column("product_order_id", String(128)),
    Column("state", String(32), nullable=False, default="awarded"),
    Column("committed_date", String(40)),  # the FIRST expectedCompletionDate the seller gave
    Column("completed_at", Integer),  # unix completionDate, once delivered
    Column("updated_at", Integer, nullable=False),
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

    # --- cursors and orders --------------------------------------------------------------------

    def cursor(self, name: str, default: Any = None) -> Any:
        with self.engine.connect() as conn:
            value = conn.execute(select(cursors.c.value).where(cursors.c.name == name)).scalar_one_or_none()
        return default if value is None else json.loads(value)

    def set_cursor(self, name: str, value: Any) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(cursors).where(cursors.c.name == name).values(value=json.dumps(value))
            )
            if updated.rowcount == 0:
                conn.execute(insert(cursors).values(name=name, value=json.dumps(value)))

    def save_order(self, order_id: str, rfq_id: int, role: str, terms: dict, peer: str, **links: str) -> None:
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

    def counts(self) -> dict[str, int]:
        """Events by status and reports by status, for /metrics and /healthz."""
        result: dict[str, int] = {}
        with self.engine.connect() as conn:
            for table, prefix in ((events, "events"), (outbox, "reports")):
                for status, n in conn.execute(select(table.c.status, func.count()).group_by(table.c.status)):
                    result[f"{prefix}_{status}"] = n
        return result
