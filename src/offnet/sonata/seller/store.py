"""The reference seller's state in a database (a SQLite file, or any SQLAlchemy URL): quotes,
orders, cancellations and tickets as their Sonata documents, who owns them, hub subscriptions and
the planned transitions, so a restarted seller answers and moves on exactly where it stopped."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, create_engine, delete, insert, select

metadata = MetaData()

meta = Table("seller_meta", metadata, Column("key", String, primary_key=True), Column("value", JSON))
resources = Table(
    "seller_resources",
    metadata,
    Column("id", String, primary_key=True),
    Column("kind", String, nullable=False),  # quote, productOrder, cancelProductOrder, troubleTicket
    Column("owner", String, nullable=False),
    Column("document", JSON, nullable=False),
)
subscriptions = Table(
    "seller_subscriptions",
    metadata,
    Column("id", String, primary_key=True),
    Column("api", String, nullable=False),
    Column("callback", String, nullable=False),
    Column("query", String),
    Column("buyer", String, nullable=False),
)
steps = Table(
    "seller_steps",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("due", String, nullable=False),
    Column("owner", String, nullable=False, index=True),
    Column("action", String, nullable=False),
    Column("args", JSON, nullable=False),
)


@dataclass
class Saved:
    """Everything a seller had stored."""

    meta: dict[str, Any] = field(default_factory=dict)
    resources: list[tuple[str, str, str, dict[str, Any]]] = field(
        default_factory=list
    )  # id, kind, owner, doc
    subscriptions: list[tuple[str, str, str, str | None, str]] = field(default_factory=list)
    steps: list[tuple[int, datetime, str, str, list[Any]]] = field(default_factory=list)


class SellerStore:
    """One seller's tables. Every write is one transaction."""

    def __init__(self, url: str) -> None:
        if "://" not in url:
            url = f"sqlite:///{url}"
        self.engine = create_engine(url)
        metadata.create_all(self.engine)

    def load(self) -> Saved:
        """What was saved (empty for a new database)."""
        with self.engine.connect() as conn:
            return Saved(
                meta={row.key: row.value for row in conn.execute(select(meta))},
                resources=[(r.id, r.kind, r.owner, r.document) for r in conn.execute(select(resources))],
                subscriptions=[
                    (r.id, r.api, r.callback, r.query, r.buyer) for r in conn.execute(select(subscriptions))
                ],
                steps=[
                    (r.seq, datetime.fromisoformat(r.due), r.owner, r.action, r.args)
                    for r in conn.execute(select(steps).order_by(steps.c.seq))
                ],
            )

    def save(
        self,
        settings: dict[str, Any],
        changed: Iterable[tuple[str, str, str, dict[str, Any]]],
        planned: dict[str, list[tuple[int, datetime, str, list[Any]]]],
        hubs: list[tuple[str, str, str, str | None, str]],
    ) -> None:
        """Write the changed resources, the planned steps of their owners (replacing the old ones),
        every hub subscription and the settings (id counters, the step sequence)."""
        with self.engine.begin() as conn:
            for key, value in settings.items():
                conn.execute(delete(meta).where(meta.c.key == key))
                conn.execute(insert(meta).values(key=key, value=value))
            for resource_id, kind, owner, document in changed:
                conn.execute(delete(resources).where(resources.c.id == resource_id))
                conn.execute(
                    insert(resources).values(id=resource_id, kind=kind, owner=owner, document=document)
                )
            for owner, owned in planned.items():
                conn.execute(delete(steps).where(steps.c.owner == owner))
                for seq, due, action, args in owned:
                    conn.execute(
                        insert(steps).values(
                            seq=seq,
                            due=due.isoformat(),
                            owner=owner,
                            action=action,
                            args=json.loads(json.dumps(args)),
                        )
                    )
            conn.execute(delete(subscriptions))
            for sub_id, api, callback, query, buyer in hubs:
                conn.execute(
                    insert(subscriptions).values(
                        id=sub_id, api=api, callback=callback, query=query, buyer=buyer
                    )
                )
