"""The indexer's tables (SQLAlchemy Core) and the discovery query.

Any SQLAlchemy URL works; the default is a SQLite file per chain under ~/.offnet. The cursor row
(`sync_state`) is written in the same transaction as the rows a block range produced, so a crash
never loses or replays events.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_utils import to_checksum_address
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    delete,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Connection

from offnet.market.registry import MemberStatus, Role

metadata = MetaData()

sync_state = Table(
    "sync_state",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: one cursor per database
    Column("chain_id", Integer, nullable=False),
    Column("registry", String(42), nullable=False),
    Column("next_block", Integer, nullable=False),
    Column("council_threshold", Integer),
    Column("sponsors_required", Integer),
)

members = Table(
    "members",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("status", Integer, nullable=False),
    Column("name", String),
    Column("sonata_url", String),
    Column("council", Boolean, nullable=False, default=False),
    Column("admin", String(42)),  # the key that administers the member (its own address until handed over)
    Column("admitted_via", Integer),  # AdmissionPath
    Column("reputation_ppm", Integer, nullable=False, default=0),
    # The facts behind the score: quotes requested + orders delivered + months reported (0: new).
    Column("reputation_samples", Integer, nullable=False, default=0),
    Column("updated_block", Integer, nullable=False),
    Index("ix_members_status_reputation", "status", "reputation_ppm"),
    Index("ix_members_status_samples", "status", "reputation_samples"),
)

products = Table(
    "products",
    metadata,
    Column("member", String(42), ForeignKey("members.address"), primary_key=True),
    Column("product_key", LargeBinary(32), primary_key=True),
    Index("ix_products_product_member", "product_key", "member"),
)

coverage = Table(
    "coverage",
    metadata,
    Column("member", String(42), ForeignKey("members.address"), primary_key=True),
    Column("country", String(2), primary_key=True),
    Index("ix_coverage_country_member", "country", "member"),
)

keys = Table(  # operational keys of current members
    "keys",
    metadata,
    Column("key", String(42), primary_key=True),
    Column("member", String(42), ForeignKey("members.address"), nullable=False, index=True),
    Column("roles", Integer, nullable=False),
)

orders = Table(  # order id -> seller, so final SLA reports can refresh the right provider's reputation
    "orders",
    metadata,
    Column("order_id", LargeBinary(32), primary_key=True),
    Column("buyer", String(42), nullable=False),
    Column("seller", String(42), nullable=False, index=True),
)

DATA_TABLES = (products, coverage, keys, orders, members)


def default_index_url(chain_id: int, home: Path | None = None) -> str:
    """sqlite:///~/.offnet/index-<chainId>.db"""
    folder = (home or Path.home()) / ".offnet"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / f'index-{chain_id}.db'}"


def index_url(value: str | Path) -> str:
    """A SQLAlchemy URL as given, or a file path turned into a SQLite URL."""
    text = str(value)
    if "://" in text:
        return text
    path = Path(text).expanduser()
    if path.parent and not path.parent.exists():
        raise FileNotFoundError(f"index folder does not exist: {path.parent}")
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class ProviderRow:
    """One answer of the discovery query."""

    address: str
    name: str | None
    sonata_url: str | None
    reputation_ppm: int
    reputation_samples: int = 0  # facts behind the score; 0 = a new member without history

    @property
    def new(self) -> bool:
        return self.reputation_samples == 0


# How discovery treats members without history (no quote requested, order delivered or month reported):
# list them whatever the floor (`include`), never (`exclude`), or only them (`only`).
NEW_MEMBER_POLICIES = ("include", "exclude", "only")


class IndexStore:
    """The database behind the indexer: schema, cursor and queries."""

    def __init__(self, url: str):
        self.url = url
        self.engine: Engine = create_engine(url)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._rebuild_if_outdated()
        metadata.create_all(self.engine)

    def _rebuild_if_outdated(self) -> None:
        """The index is derived from the chain: a database of an older schema is dropped and rebuilt
        (the next sync reads the events again) rather than migrated."""
        found = inspect(self.engine)
        for table in metadata.sorted_tables:
            if found.has_table(table.name):
                columns = {c["name"] for c in found.get_columns(table.name)}
                if columns != set(table.columns.keys()):
                    metadata.drop_all(self.engine)
                    return

    def close(self) -> None:
        self.engine.dispose()

    # --- cursor -----------------------------------------------------------------------------------

    def cursor(self, conn: Connection, chain_id: int, registry: str, from_block: int) -> int:
        """The next block to index; resets the data when the database belongs to another deployment."""
        row = conn.execute(select(sync_state).where(sync_state.c.id == 1)).first()
        if row is not None and (row.chain_id, row.registry) == (chain_id, registry):
            return row.next_block
        for table in DATA_TABLES:
            conn.execute(delete(table))
        conn.execute(delete(sync_state))
        conn.execute(
            sync_state.insert().values(id=1, chain_id=chain_id, registry=registry, next_block=from_block)
        )
        return from_block

    @staticmethod
    def set_parameter(conn: Connection, name: str, value: int) -> None:
        """Record a registry parameter (council threshold, sponsors required) as its event set it."""
        conn.execute(sync_state.update().where(sync_state.c.id == 1).values(**{name: value}))

    @staticmethod
    def advance(conn: Connection, next_block: int) -> None:
        conn.execute(sync_state.update().where(sync_state.c.id == 1).values(next_block=next_block))

    def next_block(self) -> int | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sync_state.c.next_block)).first()
            return None if row is None else row.next_block

    # --- queries ----------------------------------------------------------------------------------

    def providers(
        self, product: bytes, country: str, min_reputation_ppm: int = 0, *, new_members: str = "include"
    ) -> list[ProviderRow]:
        """Active members selling `product` in `country`: those with a track record and at least that
        reputation, best first, then (by `new_members`, see NEW_MEMBER_POLICIES) the new ones."""
        if new_members not in NEW_MEMBER_POLICIES:
            raise ValueError(
                f"new_members must be one of {', '.join(NEW_MEMBER_POLICIES)}, got {new_members!r}"
            )
        base = (
            select(
                members.c.address,
                members.c.name,
                members.c.sonata_url,
                members.c.reputation_ppm,
                members.c.reputation_samples,
            )
            .join(
                products,
                and_(products.c.member == members.c.address, products.c.product_key == bytes(product)),
            )
            .join(coverage, and_(coverage.c.member == members.c.address, coverage.c.country == country))
            .where(members.c.status == int(MemberStatus.ACTIVE))
        )
        rated = base.where(
            members.c.reputation_samples > 0, members.c.reputation_ppm >= min_reputation_ppm
        ).order_by(members.c.reputation_ppm.desc(), members.c.address)
        new = base.where(members.c.reputation_samples == 0).order_by(members.c.address)
        queries = {"include": (rated, new), "exclude": (rated,), "only": (new,)}[new_members]
        with self.engine.connect() as conn:
            return [ProviderRow(*row) for query in queries for row in conn.execute(query)]

    def member(self, address: str) -> dict | None:
        """Everything the index holds about one address (profile, products, countries, keys), or None."""
        address = to_checksum_address(address)
        with self.engine.connect() as conn:
            row = conn.execute(select(members).where(members.c.address == address)).mappings().first()
            if row is None:
                return None
            found = dict(row)
            found["products"] = [
                r.product_key
                for r in conn.execute(select(products.c.product_key).where(products.c.member == address))
            ]
            found["countries"] = sorted(
                r.country
                for r in conn.execute(select(coverage.c.country).where(coverage.c.member == address))
            )
            found["keys"] = {
                r.key: Role(r.roles) for r in conn.execute(select(keys).where(keys.c.member == address))
            }
            return found

    def members(self, status: MemberStatus | None = MemberStatus.ACTIVE) -> list[str]:
        """The addresses of members with `status` (None: every address the index knows), sorted."""
        query = select(members.c.address).order_by(members.c.address)
        if status is not None:
            query = query.where(members.c.status == int(status))
        with self.engine.connect() as conn:
            return [r.address for r in conn.execute(query)]

    def council(self) -> list[str]:
        """The members holding a council seat, sorted."""
        query = select(members.c.address).where(members.c.council.is_(True)).order_by(members.c.address)
        with self.engine.connect() as conn:
            return [r.address for r in conn.execute(query)]

    def member_of(self, key: str) -> str | None:
        """The current member a key acts for (its admin or an operational key), as the events say."""
        key = to_checksum_address(key)
        current = (int(MemberStatus.ACTIVE), int(MemberStatus.SUSPENDED))
        with self.engine.connect() as conn:
            row = conn.execute(
                select(members.c.address).where(members.c.admin == key, members.c.status.in_(current))
            ).first()
            if row is None:
                row = conn.execute(
                    select(keys.c.member)
                    .join(members, members.c.address == keys.c.member)
                    .where(keys.c.key == key, members.c.status.in_(current))
                ).first()
        return None if row is None else row[0]

    def parameters(self) -> dict[str, int | None]:
        """The registry's council threshold and sponsors required, as its events last set them."""
        with self.engine.connect() as conn:
            row = conn.execute(select(sync_state).where(sync_state.c.id == 1)).mappings().first()
        if row is None:
            return {"council_threshold": None, "sponsors_required": None}
        return {"council_threshold": row["council_threshold"], "sponsors_required": row["sponsors_required"]}

    def explain_providers(self) -> list[str]:
        """SQLite's plan for the discovery query (shows the indexes it uses)."""
        with self.engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT m.address FROM members m "
                "JOIN products p ON p.member = m.address AND p.product_key = ? "
                "JOIN coverage c ON c.member = m.address AND c.country = ? "
                "WHERE m.status = 2 AND m.reputation_samples > 0 AND m.reputation_ppm >= 0",
                (bytes(32), "FR"),
            )
            return [str(row[-1]) for row in plan]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
