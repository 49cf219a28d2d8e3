"""The oracle's durable state: received events, the report outbox, orders, RFQs, quotes, cursors.

A SQLAlchemy URL: a SQLite file by default, PostgreSQL where one machine is outgrown (the schema is
the same; lanes, blocks and times are 64-bit). Every write is committed before the caller
acknowledges anything, so a kill -9 loses nothing that was acknowledged: an event is stored before
the listener answers 204, a report is in the outbox before it is sent, a transaction is recorded
before it is broadcast, and a cursor moves only after the effect it covers is stored.

Write methods take an optional connection: the group committer (offnet.oracle.committer) runs many
of them in one transaction; called without one, a method commits on its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from offnet.exceptions import InvalidInput

metadata = MetaData()

# The longest identifier a peer's document may carry (event, resource, item, quote, product order ids):
# the listener refuses longer ones with a 400, and the store refuses them everywhere else.
ID = 128
ERROR_CHARS = 500  # last_error keeps the start of a reason
EVENT_STATES = ("received", "done", "dead")
REPORT_STATES = ("pending", "submitted", "confirmed", "final", "disputed", "rejected", "dead")

events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("peer", String(64), nullable=False),
    Column("event_id", String(ID), nullable=False),
    Column("api", String(32), nullable=False),
    Column("event_type", String(96), nullable=False),
    Column("resource_id", String(ID), nullable=False),
    Column("item_id", String(ID)),
    Column("event_time", String(64), nullable=False),  # as the peer sent it; never a fact's time
    Column("received_at", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False, default="received"),  # received | done | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", BigInteger, nullable=False, default=0),
    Column("retry_until", BigInteger, nullable=False),  # after this, a failing event is a dead letter
    Column("last_error", Text),
    UniqueConstraint("peer", "event_id", name="uq_events_peer_event"),
    Index("ix_events_status_due", "status", "next_attempt_at"),  # the worker's claim
)

outbox = Table(
    "outbox",
    metadata,
    Column("report_id", String(66), primary_key=True),
    Column("order_id", String(66), nullable=False),
    Column("kind", Integer, nullable=False),
    Column("payload", Text, nullable=False),  # the report's fields, JSON (offnet.market.codec)
    Column("source_event", BigInteger),  # events.id it came from, if any
    Column("source_peer", String(64), nullable=False, default="self"),  # whose event it came from
    # pending -> submitted -> confirmed -> final | disputed; rejected when the ledger refuses it for
    # good; dead when it cannot be sent at all (the reason is in last_error)
    Column("status", String(16), nullable=False, default="pending"),
    Column("tx_hash", String(66)),
    Column("nonce", BigInteger),
    Column("batch_root", String(66)),  # Merkle root of the batch it was sent in
    Column("batch_index", Integer),  # its position in that batch (to rebuild the proof)
    Column("batch_lane", BigInteger),  # the ledger lane the batch went into (SlaLedger.submit)
    Column("block_number", BigInteger),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    Column("confirmed_at", BigInteger),
    Column("due_at", BigInteger),  # chain time after which finalize may be tried (batch time + liveness)
    Column("held", Boolean, nullable=False, default=False),  # a completion we held at the ledger (or tried)
    Column("last_error", Text),
    # Every pass of the relay asks by status: without these each one reads the whole outbox.
    Index("ix_outbox_status_created", "status", "created_at"),
    Index("ix_outbox_status_due", "status", "due_at"),
    Index("ix_outbox_status_lane", "status", "batch_lane"),
    Index("ix_outbox_batch_root", "batch_root"),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(66), primary_key=True),
    Column("rfq_id", String(80), nullable=False),  # decimal: RFQ ids are 256-bit
    Column("role", String(8), nullable=False),  # buyer | seller
    Column("terms", Text, nullable=False),  # OrderTerms, JSON (offnet.market.codec)
    Column("peer", String(64), nullable=False),  # the counterparty's peer name
    # The Sonata system holding the product order: the seller peer when we buy, "self" when we sell.
    Column("sonata_peer", String(64), nullable=False),
    Column("product_order_id", String(ID)),
    Column("to_order", Boolean, nullable=False, default=False),  # our award: place the Sonata order
    Column("order_attempts", Integer, nullable=False, default=0),
    Column("state", String(32), nullable=False, default="awarded"),
    Column("committed_date", String(64)),  # the FIRST expectedCompletionDate the seller gave
    Column("completed_at", BigInteger),  # unix completionDate, once delivered
    Column("reported_periods", Integer, nullable=False, default=0),  # seller: billing periods queued
    Column("last_error", Text),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("sonata_peer", "product_order_id", name="uq_orders_sonata_order"),
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
    Column("closed", Boolean, nullable=False, default=False),  # closed on chain (quote timeliness recorded)
    Column("updated_at", BigInteger, nullable=False),
)

quote_requests = Table(  # the Sonata quote each invited seller created for one of our RFQs
    "quote_requests",
    metadata,
    Column("peer", String(64), primary_key=True),
    Column("sonata_quote_id", String(ID), primary_key=True),
    Column("rfq_id", String(80), nullable=False),
)

received_quotes = Table(  # a seller's signed quote the buyer fetched and verified
    "received_quotes",
    metadata,
    Column("rfq_id", String(80), primary_key=True),
    Column("peer", String(64), primary_key=True),
    Column("signed", Text, nullable=False),  # SignedQuote, JSON (offnet.market.codec)
    Column("sonata_quote_id", String(ID), nullable=False),
    Column("quote_item_id", String(ID), nullable=False),
)

# --- the seller desk ---------------------------------------------------------------------------------

signed_quotes = Table(  # our own quotes, signed and committed, served to the RFQ's buyer
    "signed_quotes",
    metadata,
    Column("rfq_id", String(80), primary_key=True),
    Column("signed", Text, nullable=False),
    Column("sonata_quote_id", String(ID), nullable=False, unique=True),
)

# --- plumbing ----------------------------------------------------------------------------------------

subscriptions = Table(  # our listener's registration at a seller's hub, per API
    "subscriptions",
    metadata,
    Column("peer", String(64), primary_key=True),
    Column("api", String(32), primary_key=True),
    Column("subscription_id", String(ID), nullable=False),
)

chain_cursors = Table(  # the next block to read, per chain watcher
    "chain_cursors",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("next_block", BigInteger, nullable=False),
)


# Built once (the worker finishes every event with it), the rows an expanding parameter: one statement
# for a whole group commit of finished events.
_EVENTS_DONE = (
    update(events)
    .where(events.c.id.in_(bindparam("rows", expanding=True)))
    .values(status="done", last_error=None)
)

# One statement for a whole batch (executemany), not one built per report.
_MARK_SUBMITTED = (
    update(outbox)
    .where(outbox.c.report_id == bindparam("rid"))
    .values(
        status="submitted",
        tx_hash=bindparam("tx"),
        nonce=bindparam("nonce"),
        batch_root=bindparam("root"),
        batch_index=bindparam("index"),
        batch_lane=bindparam("lane"),
        attempts=outbox.c.attempts + 1,
    )
)


def _pending_reports_query() -> Select:
    """Store.pending_reports: each peer's pending reports ranked by age, the rank first, then age."""
    rank = (
        func.row_number().over(partition_by=outbox.c.source_peer, order_by=outbox.c.created_at).label("rank")
    )
    ranked = select(outbox.c.report_id, rank).where(outbox.c.status == "pending").subquery()
    return (
        select(outbox)
        .join(ranked, ranked.c.report_id == outbox.c.report_id)
        .order_by(ranked.c.rank, outbox.c.created_at)
        .limit(bindparam("limit"))
    )


# Built once: the submitter asks for pending reports many times a second.
_PENDING_REPORTS = _pending_reports_query()


def _dicts(result: Any) -> list[dict]:
    """The rows of a result as plain dicts (zipped with the keys once, cheaper than row mappings)."""
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


@lru_cache(maxsize=4)
def _due_events_query(per_peer: bool, skip: bool) -> Select:
    """The worker's claim (see Store.due_events), built once per shape: the worker claims many times a
    second with hundreds of events in flight, and building the statement anew (its `skip` list a
    literal each) cost more than running it. Parameters: now, limit, per_peer, skip."""
    rank = func.row_number().over(partition_by=events.c.peer, order_by=events.c.id).label("rank")
    due = select(events.c.id, rank).where(
        events.c.status == "received", events.c.next_attempt_at <= bindparam("now")
    )
    if skip:
        due = due.where(events.c.id.not_in(bindparam("skip", expanding=True)))
    ranked = due.subquery()
    if per_peer:
        fair = ranked.c.rank <= bindparam("per_peer")
    else:  # rank <= max(1, limit // peers), the peers counted in the same statement
        peers = (
            select(func.count(func.distinct(events.c.peer)))
            .where(events.c.status == "received")
            .scalar_subquery()
        )
        fair = or_(ranked.c.rank == 1, ranked.c.rank * peers <= bindparam("limit"))
    return (
        select(*(events.c[name] for name in _STORED_EVENT_COLUMNS))
        .join(ranked, ranked.c.id == events.c.id)
        .where(fair)
        .order_by(events.c.id)
        .limit(bindparam("limit"))
    )


@dataclass(frozen=True)
class StoredEvent:
    """An event row, as the worker handles it."""

    id: int
    peer: str
    event_id: str
    api: str
    event_type: str
    resource_id: str
    item_id: str | None
    event_time: str
    attempts: int


# What the worker's claim reads of an event row: StoredEvent's fields, in order (the stored body is
# kept for operators, not read back on the hot path).
_STORED_EVENT_COLUMNS = tuple(f.name for f in fields(StoredEvent))


def _identity(table: Table) -> tuple[Column, ...]:
    """The columns that tell a table's rows apart when a row is inserted once: its primary key, or for
    events (keyed by a generated row number) the peer and the peer's own event id."""
    return (events.c.peer, events.c.event_id) if table is events else tuple(table.primary_key.columns)


@cache
def _identity_names(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in _identity(table))


@cache
def _text_lengths(table: Table) -> dict[str, int | None]:
    """Each column's length limit (None: unlimited or not text), read once per table."""
    return {column.name: getattr(column.type, "length", None) for column in table.columns}


def checked(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """`values` for a row of `table`, refused (InvalidInput, stored nowhere) when a text value does
    not fit its column or holds a NUL character: PostgreSQL refuses both, SQLite would keep them, so
    the oracle refuses them the same way on either database, in one line."""
    lengths = _text_lengths(table)
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        length = lengths[name]
        if length is not None and len(value) > length:
            raise InvalidInput(f"{table.name}.{name} longer than {length} characters: {value[:40]!r}...")
        if "\x00" in value:
            raise InvalidInput(f"{table.name}.{name} holds a NUL character: {value[:40]!r}")
    return values


def error_text(reason: str) -> str:
    """A failure's reason as stored: its start, NUL characters shown escaped (PostgreSQL refuses them)."""
    return reason.replace("\x00", "\\x00")[:ERROR_CHARS]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the listener's writes
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged event survives power loss
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def database_url(url: str) -> str:
    """The URL SQLAlchemy uses: `postgresql://` means the pinned psycopg 3 driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    """Typed access to the oracle database."""

    # Retry budget of a notification that keeps failing (the peer down, the chain unreachable...):
    # days, with a capped backoff, before it becomes a dead letter that `offnet oracle requeue` re-drives.
    RETRY_BUDGET = 3 * 86_400
    MAX_BACKOFF = 600

    def __init__(self, url: str):
        self.url = url
        self._insert_ignore_statements: dict[str, Any] = {}
        self._lane_probes: dict[tuple[int, ...], Any] = {}
        url = database_url(url)
        # A server's connection may have gone away between uses (pinged on checkout); a file's cannot.
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)
        for table in metadata.sorted_tables:  # a database made before an index was added gets it too
            for index in table.indexes:
                index.create(self.engine, checkfirst=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() as own:
                yield own

    def _insert_ignore(self, conn: Connection, table: Table, values: dict[str, Any]) -> bool:
        """Insert unless a row with the same identity exists; True when a row was inserted."""
        return self._insert_ignore_many(conn, table, [values])[0]

    def _insert_ignore_many(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[bool]:
        """Insert each of `rows` (checked first) unless a row with its identity exists; True for each
        row inserted, and of rows with the same identity only the first can be. One executemany:
        SQLAlchemy sends the rows as multi-row INSERTs, a round trip for hundreds of rows.

        Told by the rows RETURNING their identity, not by the row count: PostgreSQL reports no count
        for an insert that returns rows, SQLite does."""
        names = _identity_names(table)
        for row in rows:
            checked(table, row)
        identities = [tuple(row[name] for name in names) for row in rows]
        first: dict[tuple, int] = {}
        for index, identity in enumerate(identities):
            first.setdefault(identity, index)
        unique = [rows[i] for i in first.values()]
        statement = self._insert_ignore_statement(table)
        if len(unique) == 1:  # one row, one execution: SQLAlchemy's executemany path costs more
            inserted = {identities[0]} if conn.execute(statement, unique[0]).first() is not None else set()
        else:
            inserted = {tuple(row) for row in conn.execute(statement, unique)} if unique else set()
        return [
            first[identity] == index and identity in inserted for index, identity in enumerate(identities)
        ]

    def _insert_ignore_statement(self, table: Table) -> Any:
        statement = self._insert_ignore_statements.get(table.name)
        if statement is None:  # built once per table: the values go as parameters
            dialect_insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
            statement = dialect_insert(table).on_conflict_do_nothing().returning(*_identity(table))
            self._insert_ignore_statements[table.name] = statement
        return statement

    # --- events -------------------------------------------------------------------------------------

    def record_event(
        self,
        peer: str,
        api: str,
        envelope: dict[str, Any],
        item_id: str | None,
        conn: Connection | None = None,
    ) -> bool:
        """Store a received notification; False when (peer, eventId) was already stored."""
        return self.record_events([(peer, api, envelope, item_id)], conn=conn)[0]

    def record_events(
        self, received: Sequence[tuple[str, str, dict[str, Any], str | None]], conn: Connection | None = None
    ) -> list[bool]:
        """Store received notifications, each given as (peer, api, envelope, item id), in one statement;
        False for each one whose (peer, eventId) was already stored (or came earlier in `received`)."""
        now = int(time.time())
        rows = [
            {
                "peer": peer,
                "event_id": envelope["eventId"],
                "api": api,
                "event_type": envelope["eventType"],
                "resource_id": envelope["event"]["id"],
                "item_id": item_id,
                "event_time": envelope["eventTime"],
                "received_at": now,
                "body": json.dumps(envelope, sort_keys=True),
                "status": "received",
                "attempts": 0,
                "next_attempt_at": 0,
                "retry_until": now + self.RETRY_BUDGET,
            }
            for peer, api, envelope, item_id in received
        ]
        with self._tx(conn) as c:
            return self._insert_ignore_many(c, events, rows)

    def due_events(
        self,
        limit: int = 200,
        now: int | None = None,
        *,
        per_peer: int | None = None,
        skip: Sequence[int] = (),
    ) -> list[StoredEvent]:
        """Received events whose next attempt is due, in arrival order, shared fairly between peers.

        At most `per_peer` events of one peer are taken (default: an equal share of `limit`), so a peer
        that floods us, or back-dates its eventTime, cannot push the others out of a pass. `skip`:
        event rows already being handled.
        """
        now = int(time.time()) if now is None else now
        params: dict[str, Any] = {"now": now, "limit": limit}
        if per_peer:
            params["per_peer"] = per_peer
        if skip:
            params["skip"] = list(skip)
        query = _due_events_query(bool(per_peer), bool(skip))
        with self.engine.connect() as conn:
            return [StoredEvent(*row) for row in conn.execute(query, params)]

    def finish_event(
        self, event_row: int, reports: list[dict], source_peer: str = "self", conn: Connection | None = None
    ) -> int:
        """Mark an event done and queue its reports, atomically; returns how many were new."""
        return self.finish_events([(event_row, reports, source_peer)], conn=conn)[0]

    def finish_events(
        self, finished: Sequence[tuple[int, list[dict], str]], conn: Connection | None = None
    ) -> list[int]:
        """Mark events done and queue their reports, atomically, in two statements however many
        events: `finished` holds (event row, its reports, the peer it came from). Returns how many
        reports of each event were new."""
        with self._tx(conn) as c:
            new = self._queue(
                c, [(report, row, peer) for row, reports, peer in finished for report in reports]
            )
            c.execute(_EVENTS_DONE, {"rows": [row for row, _, _ in finished]})
        added, position = [], 0
        for _, reports, _ in finished:
            added.append(sum(new[position : position + len(reports)]))
            position += len(reports)
        return added

    def retry_event(
        self,
        event_row: int,
        error: str,
        *,
        now: int | None = None,
        base_delay: float = 1.0,
        conn: Connection | None = None,
    ) -> str:
        """Record a failed attempt and back off (capped); past its retry budget the event is a dead
        letter. Returns the event's new status."""
        now = int(time.time()) if now is None else now
        with self._tx(conn) as c:
            attempts, retry_until = c.execute(
                select(events.c.attempts, events.c.retry_until).where(events.c.id == event_row)
            ).one()
            attempts += 1
            delay = min(base_delay * 2 ** min(attempts - 1, 30), self.MAX_BACKOFF)
            status = "dead" if now + delay > retry_until else "received"
            c.execute(
                update(events)
                .where(events.c.id == event_row)
                .values(
                    attempts=attempts,
                    status=status,
                    last_error=error_text(error),
                    next_attempt_at=int(now + delay),
                )
            )
        return status

    def dead_event(self, event_row: int, reason: str, conn: Connection | None = None) -> None:
        """An event that can never be handled (a peer's bad data): a dead letter with its reason."""
        with self._tx(conn) as c:
            c.execute(
                update(events)
                .where(events.c.id == event_row)
                .values(status="dead", last_error=error_text(reason), attempts=events.c.attempts + 1)
            )

    def dead_letters(self, limit: int = 1000) -> list[dict]:
        """Dead events and dead reports, newest first: what an operator must look at."""
        with self.engine.connect() as conn:
            dead_events = conn.execute(
                select(
                    events.c.id, events.c.peer, events.c.event_id, events.c.event_type, events.c.last_error
                )
                .where(events.c.status == "dead")
                .order_by(events.c.id.desc())
                .limit(limit)
            ).mappings()
            found = [{"what": "event", **r} for r in dead_events]
            dead_reports = conn.execute(
                select(outbox.c.report_id, outbox.c.source_peer, outbox.c.kind, outbox.c.last_error)
                .where(outbox.c.status == "dead")
                .order_by(outbox.c.created_at.desc())
                .limit(limit)
            ).mappings()
            return found + [{"what": "report", **r} for r in dead_reports]

    def requeue_dead(self, *, now: int | None = None) -> tuple[int, int]:
        """Give every dead event a fresh retry budget and every dead report another send: (events, reports)."""
        now = int(time.time()) if now is None else now
        with self.engine.begin() as conn:
            n_events = conn.execute(
                update(events)
                .where(events.c.status == "dead")
                .values(status="received", attempts=0, next_attempt_at=0, retry_until=now + self.RETRY_BUDGET)
            ).rowcount
            n_reports = conn.execute(
                update(outbox).where(outbox.c.status == "dead").values(status="pending", attempts=0)
            ).rowcount
        return n_events, n_reports

    def unfinished_events(self, apis: tuple[str, ...]) -> list[Any]:
        """Events of these APIs not handled yet or given up: (event_type, status, last_error) rows."""
        query = select(events.c.event_type, events.c.status, events.c.last_error).where(
            events.c.api.in_(apis), events.c.status != "done"
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    # --- outbox -------------------------------------------------------------------------------------

    def _queue(self, conn: Connection, entries: list[tuple[dict, int | None, str]]) -> list[bool]:
        """Queue reports, each given with the event row and the peer it came from; True for each one
        that was new. The same fact again (one report id) is one report: its first entry is kept."""
        now = int(time.time())
        rows = [
            {
                "report_id": report["reportId"],
                "order_id": report["orderId"],
                "kind": report["kind"],
                "payload": json.dumps(report, sort_keys=True),
                "source_event": source_event,
                "source_peer": source_peer,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
            }
            for report, source_event, source_peer in entries
        ]
        return self._insert_ignore_many(conn, outbox, rows)

    def queue_reports(
        self, reports: list[dict], source_peer: str = "self", conn: Connection | None = None
    ) -> int:
        """Queue reports that come from no event (e.g. periodic in-life reports)."""
        with self._tx(conn) as c:
            return sum(self._queue(c, [(report, None, source_peer) for report in reports]))

    def pending_reports(self, limit: int) -> list[dict]:
        """Pending reports in arrival order, shared fairly between the peers they came from."""
        with self.engine.connect() as conn:
            return _dicts(conn.execute(_PENDING_REPORTS, {"limit": limit}))

    def oldest_pending_at(self) -> int | None:
        """When the oldest pending report was queued (unix seconds), or None."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.min(outbox.c.created_at)).where(outbox.c.status == "pending")
            ).scalar()

    def mark_submitted(
        self,
        report_ids: list[str],
        tx_hash: str,
        batch_root: str,
        lane: int,
        nonce: int | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Remember the transaction before broadcasting it, so a restart can look it up."""
        rows = [{"rid": report_id, "index": index} for index, report_id in enumerate(report_ids)]
        with self._tx(conn) as c:
            c.execute(
                _MARK_SUBMITTED,
                [{**row, "tx": tx_hash, "nonce": nonce, "root": batch_root, "lane": lane} for row in rows],
            )

    def batch_reports(self, batch_root: str) -> list[dict]:
        """The outbox rows sent in one batch, in batch order."""
        query = select(outbox).where(outbox.c.batch_root == batch_root).order_by(outbox.c.batch_index)
        with self.engine.connect() as conn:
            return _dicts(conn.execute(query))

    def lanes_in_use(self, lanes: Sequence[int]) -> set[int]:
        """Which of `lanes` hold a batch with reports not final yet (they must not be overwritten). One
        index probe per lane: the confirmed reports of the liveness window can be many."""
        query = self._lane_probes.get(tuple(lanes))
        if query is None:
            unsettled = outbox.c.status.in_(("submitted", "confirmed"))
            probes = [
                select(literal(lane, BigInteger)).where(
                    exists().where(unsettled, outbox.c.batch_lane == lane)
                )
                for lane in lanes
            ]
            query = self._lane_probes[tuple(lanes)] = union_all(*probes) if len(probes) > 1 else probes[0]
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(query).all()}

    def reports_with_status(self, status: str, limit: int = 1000) -> list[dict]:
        query = select(outbox).where(outbox.c.status == status).order_by(outbox.c.created_at).limit(limit)
        with self.engine.connect() as conn:
            return _dicts(conn.execute(query))

    def submitted_transactions(self) -> dict[str, list[str]]:
        """The reports of every transaction not confirmed yet, by transaction hash."""
        query = select(outbox.c.tx_hash, outbox.c.report_id).where(outbox.c.status == "submitted")
        found: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for tx_hash, report_id in conn.execute(query):
                found.setdefault(tx_hash, []).append(report_id)
        return found

    def transactions_in_flight(self) -> int:
        """How many transactions have reports submitted and not confirmed yet."""
        query = select(func.count(outbox.c.tx_hash.distinct())).where(outbox.c.status == "submitted")
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def _update_reports(self, report_ids: list[str], conn: Connection | None, **values) -> None:
        """Set `values` on the outbox rows of `report_ids` (in the caller's transaction, if any)."""
        with self._tx(conn) as c:
            c.execute(update(outbox).where(outbox.c.report_id.in_(report_ids)).values(**values))

    def _confirmed_reports(self, *conditions, limit: int) -> list[dict]:
        """Confirmed reports meeting `conditions`, the soonest due first."""
        query = (
            select(outbox)
            .where(outbox.c.status == "confirmed", *conditions)
            .order_by(outbox.c.due_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return _dicts(conn.execute(query))

    def set_report_status(
        self, report_ids: list[str], status: str, error: str | None = None, conn: Connection | None = None
    ) -> None:
        self._update_reports(report_ids, conn, status=status, last_error=error_text(error) if error else None)

    def mark_confirmed(
        self, report_ids: list[str], block_number: int, due_at: int, conn: Connection | None = None
    ) -> None:
        self._update_reports(
            report_ids,
            conn,
            status="confirmed",
            block_number=block_number,
            confirmed_at=int(time.time()),
            due_at=due_at,
            last_error=None,
        )

    def due_reports(self, now: int, limit: int = 200) -> list[dict]:
        """Confirmed reports whose liveness window is over (the only ones finalize can act on)."""
        return self._confirmed_reports(outbox.c.due_at <= now, limit=limit)

    def reports_to_hold(self, kind: int, now: int, limit: int = 200) -> list[dict]:
        """Confirmed reports of `kind` still within their liveness window that we have not held yet."""
        return self._confirmed_reports(
            outbox.c.kind == kind, outbox.c.held.is_(False), outbox.c.due_at > now, limit=limit
        )

    def mark_held(self, report_ids: list[str], conn: Connection | None = None) -> None:
        self._update_reports(report_ids, conn, held=True)

    def postpone(self, report_ids: list[str], due_at: int, conn: Connection | None = None) -> None:
        self._update_reports(report_ids, conn, due_at=due_at)

    def mark_pending(self, report_ids: list[str], error: str, conn: Connection | None = None) -> None:
        """Send again later (the transaction failed, was dropped or reorganised away)."""
        self._update_reports(
            report_ids,
            conn,
            status="pending",
            tx_hash=None,
            nonce=None,
            batch_root=None,
            batch_index=None,
            batch_lane=None,
            block_number=None,
            last_error=error_text(error),
        )

    def save_order(
        self,
        order_id: str,
        rfq_id: int,
        role: str,
        terms: list,
        peer: str,
        *,
        sonata_peer: str | None = None,
        conn: Connection | None = None,
        **links: Any,
    ) -> bool:
        """Record an order we are party to (once; True when new). `sonata_peer`: the Sonata system
        that holds its product order (the seller peer when we buy, our own when we sell)."""
        values = {
            "order_id": order_id,
            "rfq_id": str(rfq_id),
            "role": role,
            "terms": json.dumps(terms, sort_keys=True),
            "peer": peer,
            "sonata_peer": sonata_peer or peer,
            "updated_at": int(time.time()),
            **links,
        }
        with self._tx(conn) as c:
            return self._insert_ignore(c, orders, values)

    def update_order(self, order_id: str, conn: Connection | None = None, **values: Any) -> None:
        if values.get("last_error"):
            values["last_error"] = error_text(values["last_error"])
        with self._tx(conn) as c:
            c.execute(
                update(orders)
                .where(orders.c.order_id == order_id)
                .values(updated_at=int(time.time()), **checked(orders, values))
            )

    def link_product_order(
        self, order_id: str, product_order_id: str, conn: Connection | None = None
    ) -> bool:
        """Link an order to its Sonata product order, once: False when it is linked already (to any)."""
        with self._tx(conn) as c:
            linked = c.execute(
                update(orders)
                .where(orders.c.order_id == order_id, orders.c.product_order_id.is_(None))
                .values(
                    **checked(orders, {"product_order_id": product_order_id}), updated_at=int(time.time())
                )
            ).rowcount
        return linked == 1

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

    def orders_to_place(self) -> list[dict]:
        """Our awarded orders whose Sonata product order is not placed yet (the intent to order)."""
        query = select(orders).where(orders.c.to_order.is_(True), orders.c.product_order_id.is_(None))
        with self.engine.connect() as conn:
            return [{**r, "terms": json.loads(r["terms"])} for r in conn.execute(query).mappings().all()]

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

    # --- RFQs (buyer) -------------------------------------------------------------------------------

    def save_rfq(self, rfq_id: int, rfq: dict, request: dict) -> None:
        """Record an RFQ we posted with the Sonata quote request behind it (state open)."""
        with self.engine.begin() as conn:
            row = {
                "rfq_id": str(rfq_id),
                "rfq": json.dumps(rfq, sort_keys=True),
                "request": json.dumps(request, sort_keys=True),
                "state": "open",
                "closed": False,
                "updated_at": int(time.time()),
            }
            conn.execute(insert(rfqs).values(**checked(rfqs, row)))

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

    def record_award(
        self, rfq_id: int, order_id: str, peer: str, ranking: list[str] | None, terms: list
    ) -> None:
        """The award of an RFQ and the intent to place its Sonata order, stored together."""
        with self.engine.begin() as conn:
            conn.execute(
                update(rfqs)
                .where(rfqs.c.rfq_id == str(rfq_id))
                .values(
                    state="awarded",
                    order_id=order_id,
                    awarded_peer=peer,
                    ranking=json.dumps(ranking) if ranking is not None else None,
                    updated_at=int(time.time()),
                )
            )
            if not self.save_order(order_id, rfq_id, "buyer", terms, peer, conn=conn, to_order=True):
                conn.execute(
                    update(orders).where(orders.c.order_id == order_id).values(to_order=True, peer=peer)
                )

    def rfqs_to_close(self) -> list[int]:
        """Our RFQs that are awarded or given up but not closed on chain yet."""
        with self.engine.connect() as conn:
            query = select(rfqs.c.rfq_id).where(rfqs.c.state != "open", rfqs.c.closed.is_(False))
            return [int(r[0]) for r in conn.execute(query)]

    def mark_rfq_closed(self, rfq_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(rfqs)
                .where(rfqs.c.rfq_id == str(rfq_id))
                .values(closed=True, updated_at=int(time.time()))
            )

    def give_up_rfq(self, rfq_id: int) -> None:
        """No quote of the RFQ could be awarded."""
        with self.engine.begin() as conn:
            conn.execute(
                update(rfqs)
                .where(rfqs.c.rfq_id == str(rfq_id))
                .values(state="unawarded", updated_at=int(time.time()))
            )

    def save_quote_request(self, peer: str, sonata_quote_id: str, rfq_id: int) -> None:
        """Remember which RFQ the seller's Sonata quote `sonata_quote_id` answers."""
        with self.engine.begin() as conn:
            self._insert_ignore(
                conn,
                quote_requests,
                {"peer": peer, "sonata_quote_id": sonata_quote_id, "rfq_id": str(rfq_id)},
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
        with self.engine.begin() as conn:
            return self._insert_ignore(
                conn,
                received_quotes,
                {
                    "rfq_id": str(rfq_id),
                    "peer": peer,
                    "signed": json.dumps(signed, sort_keys=True),
                    "sonata_quote_id": sonata_quote_id,
                    "quote_item_id": quote_item_id,
                },
            )

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

    # --- signed quotes (seller) ---------------------------------------------------------------------

    def save_signed_quote(self, rfq_id: int, signed: dict, sonata_quote_id: str) -> None:
        """Keep our signed, committed quote for an RFQ and the Sonata quote it prices."""
        with self.engine.begin() as conn:
            row = {
                "rfq_id": str(rfq_id),
                "signed": json.dumps(signed, sort_keys=True),
                "sonata_quote_id": sonata_quote_id,
            }
            conn.execute(insert(signed_quotes).values(**checked(signed_quotes, row)))

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

    # --- subscriptions and chain cursors ------------------------------------------------------------

    def subscription(self, peer: str, api: str) -> str | None:
        """Our subscription id at a peer's hub for one API, or None."""
        query = select(subscriptions.c.subscription_id).where(
            subscriptions.c.peer == peer, subscriptions.c.api == api
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def save_subscription(self, peer: str, api: str, subscription_id: str) -> None:
        with self.engine.begin() as conn:
            self._insert_ignore(
                conn, subscriptions, {"peer": peer, "api": api, "subscription_id": subscription_id}
            )

    def next_block(self, watcher: str) -> int:
        """The first block a chain watcher has not read yet (0 when it never ran)."""
        query = select(chain_cursors.c.next_block).where(chain_cursors.c.name == watcher)
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return 0 if value is None else value

    def set_next_block(self, watcher: str, block: int, conn: Connection | None = None) -> None:
        """Move a chain watcher's cursor (only after the effects of the blocks before it are stored)."""
        with self._tx(conn) as c:
            moved = c.execute(
                update(chain_cursors).where(chain_cursors.c.name == watcher).values(next_block=block)
            )
            if moved.rowcount == 0:
                c.execute(insert(chain_cursors).values(name=watcher, next_block=block))

    # --- health -------------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Events by status and reports by status, for /metrics and /healthz."""
        result: dict[str, int] = {f"events_{s}": 0 for s in EVENT_STATES}
        result.update({f"reports_{s}": 0 for s in REPORT_STATES})
        with self.engine.connect() as conn:
            for table, prefix in ((events, "events"), (outbox, "reports")):
                for status, n in conn.execute(select(table.c.status, func.count()).group_by(table.c.status)):
                    result[f"{prefix}_{status}"] = n
        return result
