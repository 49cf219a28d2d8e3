"""What the explorer (and anyone else) reads from the index: providers, a provider's record, RFQs,
orders with their money and facts, the council, blocks. Every query of those pages is here; the
callers format, they never write SQL.

Rows come back as plain dicts of raw values (ints, 32-byte ids, checksummed addresses, unix times).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, exists, func, literal, or_, select
from sqlalchemy.engine import Connection

from offnet.indexer.schema import (
    REPUTATION_FIELDS,
    approvals,
    blocks,
    contract_records,
    coverage,
    escrow_disputes,
    events,
    keys,
    member_history,
    members,
    milestones,
    orders,
    payments,
    products,
    proposals,
    quote_log,
    reports,
    reputation_points,
    rfq_invitees,
    rfqs,
    submissions,
    sync_state,
    tokens,
    withdrawals,
)
from offnet.indexer.store import NEW_MEMBER_POLICIES, IndexStore, all_rows, first_row
from offnet.market.registry import MemberStatus
from offnet.market.types import OrderStatus, ReportStatus, RfqStatus

RFQ_STATES = ("all", "open", "closed")
CLOSED_ORDER_STATUSES = (
    OrderStatus.COMPLETED,
    OrderStatus.CANCELLED,
    OrderStatus.FAILED,
    OrderStatus.EXPIRED,
)


@dataclass(frozen=True)
class ProviderFilter:
    """The providers page's filters: product key, country code, reputation floor (ppm), and how members
    without history are treated (listed whatever the floor, left out, or listed alone)."""

    product: bytes | None = None
    country: str | None = None
    min_reputation_ppm: int = 0
    new_members: str = "include"

    def __post_init__(self) -> None:
        if self.new_members not in NEW_MEMBER_POLICIES:
            raise ValueError(
                f"new members: one of {', '.join(NEW_MEMBER_POLICIES)}, not {self.new_members!r}"
            )
        if not 0 <= self.min_reputation_ppm <= 1_000_000:
            raise ValueError(
                f"minimum reputation must be within 0..1,000,000 ppm, not {self.min_reputation_ppm}"
            )


@dataclass(frozen=True)
class Page:
    """One page of a longer list."""

    total: int
    offset: int
    rows: list[dict[str, Any]]


def _reputation_columns() -> list[Any]:
    return [
        reputation_points.c.block.label("reputation_block"),
        *(reputation_points.c[name] for name in REPUTATION_FIELDS),
    ]


class Records:
    """Read-only queries over one IndexStore."""

    def __init__(self, store: IndexStore):
        self.store = store
        self.engine = store.engine

    # --- lookups shared by every page ---------------------------------------------------------------

    def names(self, addresses: Iterable[str | None]) -> dict[str, str | None]:
        """Member names of the given addresses (keys resolve to their member's name)."""
        wanted = sorted({a for a in addresses if a})
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            found: dict[str, str | None] = {}
            for chunk in _chunks(wanted):
                found.update(
                    conn.execute(
                        select(members.c.address, members.c.name).where(members.c.address.in_(chunk))
                    ).all()
                )
                for key, name in conn.execute(
                    select(keys.c.key, members.c.name)
                    .join(members, members.c.address == keys.c.member)
                    .where(keys.c.key.in_(chunk))
                ).tuples():
                    found.setdefault(key, name)
        return found

    def names_of_all(self) -> dict[str, str | None]:
        """Every known address with its member's name (operational keys and admins included)."""
        with self.engine.connect() as conn:
            found: dict[str, str | None] = dict(conn.execute(select(members.c.address, members.c.name)).all())
            for key, name in conn.execute(
                select(keys.c.key, members.c.name).join(members, members.c.address == keys.c.member)
            ).tuples():
                found.setdefault(key, name)
            for admin, name in conn.execute(
                select(members.c.admin, members.c.name).where(members.c.admin.is_not(None))
            ).tuples():
                found.setdefault(admin, name)
        return found

    def tokens(self) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            return {r["address"]: dict(r) for r in conn.execute(select(tokens)).mappings()}

    def block_times(self, numbers: Iterable[int | None]) -> dict[int, int]:
        wanted = sorted({n for n in numbers if n is not None})
        found: dict[int, int] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                found.update(
                    conn.execute(
                        select(blocks.c.number, blocks.c.timestamp).where(blocks.c.number.in_(chunk))
                    ).all()
                )
        return found

    def chain_time(self) -> int | None:
        """The time of the newest indexed block (the last one synced, with events or not): "now" as far
        as the index knows."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(blocks.c.timestamp))).scalar()

    def product_keys(self) -> list[bytes]:
        """Every product some member sells."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(products.c.product_key).distinct()).scalars())

    def countries(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(select(coverage.c.country).distinct().order_by(coverage.c.country)).scalars()
            )

    # --- providers ----------------------------------------------------------------------------------

    def providers(self, f: ProviderFilter, *, offset: int = 0, limit: int = 50) -> Page:
        """Active members that sell something (or `f.product`) where asked: the ones with a track
        record at or above the floor, best first, and (by `f.new_members`) the new ones."""
        # A filter is a set of members SQLite builds once per query (`IN (SELECT ...)`); "sells
        # anything" is checked row by row on the products key instead (measured faster on 10,000).
        if f.product is None:
            sells = exists(select(literal(1)).where(products.c.member == members.c.address))
        else:
            sells = members.c.address.in_(
                select(products.c.member).where(products.c.product_key == bytes(f.product))
            )
        where = [members.c.status == int(MemberStatus.ACTIVE), sells]
        if f.country:
            where.append(
                members.c.address.in_(select(coverage.c.member).where(coverage.c.country == f.country))
            )
        rated = and_(members.c.reputation_samples > 0, members.c.reputation_ppm >= f.min_reputation_ppm)
        new = members.c.reputation_samples == 0
        where.append({"include": or_(rated, new), "exclude": rated, "only": new}[f.new_members])
        # Two steps: the page's keys from the covering index (filter and order without the rows),
        # then the details of those rows only.
        page_keys = (
            select(members.c.address)
            .where(*where)
            .order_by(new, members.c.reputation_ppm.desc(), members.c.address)
            .limit(limit)
            .offset(offset)
        )
        details = select(
            members.c.address,
            members.c.name,
            members.c.sonata_url,
            members.c.reputation_ppm,
            members.c.reputation_samples,
            *_reputation_columns(),
        ).outerjoin(
            reputation_points,
            and_(
                reputation_points.c.member == members.c.address,
                reputation_points.c.block == members.c.reputation_block,
            ),
        )
        with self.engine.connect() as conn:
            total = _count(conn, members, where)
            shown = list(conn.execute(page_keys).scalars())
            found = {
                r["address"]: dict(r)
                for r in conn.execute(details.where(members.c.address.in_(shown))).mappings()
            }
            rows = [found[address] for address in shown]
            self._attach_profiles(conn, rows)
        return Page(total, offset, rows)

    @staticmethod
    def _attach_profiles(conn: Connection, rows: list[dict[str, Any]]) -> None:
        shown = [r["address"] for r in rows]
        countries: dict[str, list[str]] = defaultdict(list)
        sold: dict[str, list[bytes]] = defaultdict(list)
        for member, country in conn.execute(
            select(coverage.c.member, coverage.c.country)
            .where(coverage.c.member.in_(shown))
            .order_by(coverage.c.country)
        ).tuples():
            countries[member].append(country)
        for member, key in conn.execute(
            select(products.c.member, products.c.product_key).where(products.c.member.in_(shown))
        ).tuples():
            sold[member].append(key)
        for row in rows:
            row["countries"] = countries[row["address"]]
            row["products"] = sold[row["address"]]

    def member(self, address: str) -> dict[str, Any] | None:
        """A member: profile, status, keys, current reputation point (None when unknown)."""
        found = self.store.member(address)
        if found is None:
            return None
        with self.engine.connect() as conn:
            found["reputation"] = first_row(
                conn,
                select(*_reputation_columns()).where(
                    reputation_points.c.member == found["address"],
                    reputation_points.c.block == found["reputation_block"],
                ),
            )
        return found

    def reputation_history(self, address: str) -> list[dict[str, Any]]:
        """Every reputation point of a provider, oldest first, with its block time."""
        query = (
            select(reputation_points, blocks.c.timestamp)
            .join(blocks, blocks.c.number == reputation_points.c.block, isouter=True)
            .where(reputation_points.c.member == address)
            .order_by(reputation_points.c.block)
        )
        with self.engine.connect() as conn:
            return all_rows(conn, query)

    def reputation_at(self, address: str, block: int) -> dict[str, Any] | None:
        """A provider's reputation as it stood at `block` (its latest point at or before it)."""
        with self.engine.connect() as conn:
            return first_row(
                conn,
                select(reputation_points)
                .where(reputation_points.c.member == address, reputation_points.c.block <= block)
                .order_by(reputation_points.c.block.desc())
                .limit(1),
            )

    def member_history(self, address: str) -> list[dict[str, Any]]:
        query = (
            select(member_history, blocks.c.timestamp)
            .join(blocks, blocks.c.number == member_history.c.block, isouter=True)
            .where(member_history.c.member == address)
            .order_by(member_history.c.block, member_history.c.log_index)
        )
        with self.engine.connect() as conn:
            return all_rows(conn, query)

    # --- orders ---------------------------------------------------------------------------------------

    def orders(
        self,
        *,
        status: str = "all",
        party: str | None = None,
        seller: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Page:
        """Orders, newest first: all, open (not closed) or closed; of a party, or sold by a seller."""
        where = []
        closed = [int(s) for s in CLOSED_ORDER_STATUSES]
        if status == "open":
            where.append(orders.c.status.not_in(closed))
        elif status == "closed":
            where.append(orders.c.status.in_(closed))
        elif status != "all":
            raise ValueError(f"order status: all, open or closed, not {status!r}")
        if party:
            where.append(or_(orders.c.buyer == party, orders.c.seller == party))
        if seller:
            where.append(orders.c.seller == seller)
        with self.engine.connect() as conn:
            return _page(
                conn, orders, where, (orders.c.opened_block.desc(), orders.c.order_id), offset, limit
            )

    def order(self, order_id: bytes) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return first_row(conn, select(orders).where(orders.c.order_id == order_id))

    def payments(self, order_ids: Sequence[bytes]) -> dict[bytes, list[dict[str, Any]]]:
        """Each order's money movements in chain order."""
        found: dict[bytes, list[dict[str, Any]]] = defaultdict(list)
        with self.engine.connect() as conn:
            for chunk in _chunks(list(order_ids)):
                for row in conn.execute(
                    select(payments)
                    .where(payments.c.order_id.in_(chunk))
                    .order_by(payments.c.block, payments.c.log_index, payments.c.part)
                ).mappings():
                    found[row["order_id"]].append(dict(row))
        return found

    def milestones(self, order_id: bytes) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return all_rows(
                conn,
                select(milestones).where(milestones.c.order_id == order_id).order_by(milestones.c.milestone),
            )

    def escrow_disputes(self, order_ids: Sequence[bytes]) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            found = []
            for chunk in _chunks(list(order_ids)):
                found += all_rows(
                    conn,
                    select(escrow_disputes)
                    .where(escrow_disputes.c.order_id.in_(chunk))
                    .order_by(escrow_disputes.c.opened_block),
                )
        return found

    def contract_records(self, order_id: bytes) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return all_rows(
                conn,
                select(contract_records)
                .where(contract_records.c.order_id == order_id)
                .order_by(contract_records.c.block, contract_records.c.log_index),
            )

    def withdrawn(self, token: str, party: str) -> int:
        with self.engine.connect() as conn:
            return sum(
                conn.execute(
                    select(withdrawals.c.amount).where(
                        withdrawals.c.token == token, withdrawals.c.party == party
                    )
                ).scalars()
            )

    # --- SLA facts ------------------------------------------------------------------------------------

    def facts(self, order_ids: Sequence[bytes], kinds: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """The SLA facts of some orders, each with its submissions (oldest first) and the values that
        stand: the final content when final, else the latest submission."""
        with self.engine.connect() as conn:
            found: list[dict[str, Any]] = []
            for chunk in _chunks(list(order_ids)):
                query = select(reports).where(reports.c.order_id.in_(chunk))
                if kinds is not None:
                    query = query.where(reports.c.kind.in_([int(k) for k in kinds]))
                found += all_rows(conn, query)
            by_id = {r["report_id"]: r for r in found}
            for r in found:
                r["submissions"] = []
            for chunk in _chunks(list(by_id)):
                for row in conn.execute(
                    select(submissions)
                    .where(submissions.c.report_id.in_(chunk))
                    .order_by(submissions.c.block, submissions.c.log_index)
                ).mappings():
                    by_id[row["report_id"]]["submissions"].append(dict(row))
        for r in found:
            final = [s for s in r["submissions"] if s["content_hash"] == r["final_content"]]
            r["standing"] = (final or r["submissions"] or [None])[-1]
        found.sort(key=lambda r: (r["first_block"], r["kind"], r["key"]))
        return found

    # --- RFQs -----------------------------------------------------------------------------------------

    def rfqs(self, *, state: str = "all", party: str | None = None, offset: int = 0, limit: int = 50) -> Page:
        """RFQs, newest first: all, open (taking quotes or awaiting the award) or closed (awarded,
        cancelled, closed); those a member posted or was invited to."""
        if state not in RFQ_STATES:
            raise ValueError(f"RFQ state: {', '.join(RFQ_STATES)}, not {state!r}")
        where = []
        if state == "open":
            where.append(rfqs.c.status == int(RfqStatus.OPEN))
        elif state == "closed":
            where.append(rfqs.c.status != int(RfqStatus.OPEN))
        if party:
            invited = select(literal(1)).where(
                rfq_invitees.c.rfq_id == rfqs.c.rfq_id, rfq_invitees.c.provider == party
            )
            where.append(or_(rfqs.c.buyer == party, exists(invited)))
        with self.engine.connect() as conn:
            page = _page(conn, rfqs, where, (rfqs.c.posted_block.desc(), rfqs.c.rfq_id), offset, limit)
            invitees: dict[bytes, list[str]] = defaultdict(list)
            for rfq_id, provider in conn.execute(
                select(rfq_invitees.c.rfq_id, rfq_invitees.c.provider).where(
                    rfq_invitees.c.rfq_id.in_([r["rfq_id"] for r in page.rows])
                )
            ).tuples():
                invitees[rfq_id].append(provider)
        for row in page.rows:
            row["invited"] = sorted(invitees[row["rfq_id"]])
        return page

    def rfq(self, rfq_id: bytes) -> dict[str, Any] | None:
        """One RFQ with its invitees and its commitment log (digests only: prices stay sealed)."""
        with self.engine.connect() as conn:
            found = first_row(conn, select(rfqs).where(rfqs.c.rfq_id == rfq_id))
            if found is None:
                return None
            found["invited"] = sorted(
                conn.execute(select(rfq_invitees.c.provider).where(rfq_invitees.c.rfq_id == rfq_id)).scalars()
            )
            found["log"] = all_rows(
                conn, select(quote_log).where(quote_log.c.rfq_id == rfq_id).order_by(quote_log.c.entry)
            )
        return found

    # --- council --------------------------------------------------------------------------------------

    def council(self) -> dict[str, Any]:
        """Seats, threshold, the current council epoch and every proposal with its approvals."""
        with self.engine.connect() as conn:
            state = conn.execute(select(sync_state).where(sync_state.c.id == 1)).mappings().first()
            seats = list(
                conn.execute(
                    select(members.c.address).where(members.c.council.is_(True)).order_by(members.c.address)
                ).scalars()
            )
            found = all_rows(conn, select(proposals).order_by(proposals.c.proposal_id.desc()))
            voters: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for row in conn.execute(select(approvals).order_by(approvals.c.block)).mappings():
                voters[row["proposal_id"]].append(dict(row))
        for proposal in found:
            proposal["approved_by"] = voters[proposal["proposal_id"]]
        return {
            "seats": seats,
            "threshold": state["council_threshold"] if state else None,
            "sponsors_required": state["sponsors_required"] if state else None,
            "epoch": state["council_epoch"] if state else 0,
            "proposals": found,
        }

    # --- blocks ---------------------------------------------------------------------------------------

    def block(self, number: int) -> dict[str, Any] | None:
        """An indexed block and the suite's events in it (None when no indexed event came from it)."""
        with self.engine.connect() as conn:
            found = first_row(conn, select(blocks).where(blocks.c.number == number))
            if found is None:
                return None
            found["events"] = all_rows(
                conn, select(events).where(events.c.block == number).order_by(events.c.log_index)
            )
        return found

    def order_count_by_status(self) -> dict[int, int]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(orders.c.status, func.count()).group_by(orders.c.status)).all())

    def report_status_counts(self) -> dict[int, int]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(reports.c.status, func.count()).group_by(reports.c.status)).all())


def _count(conn: Connection, table: Table, where: Sequence[Any]) -> int:
    """How many rows of `table` match `where`."""
    return conn.execute(select(func.count()).select_from(table).where(*where)).scalar() or 0


def _page(
    conn: Connection, table: Table, where: Sequence[Any], order_by: Sequence[Any], offset: int, limit: int
) -> Page:
    """The rows of `table` matching `where` from `offset` (at most `limit`), with how many match in all."""
    query = select(table).where(*where).order_by(*order_by).limit(limit).offset(offset)
    return Page(_count(conn, table, where), offset, all_rows(conn, query))


def _chunks(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    """Lists short enough for an SQL `IN (...)` on every database."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


__all__ = ["NEW_MEMBER_POLICIES", "RFQ_STATES", "Page", "ProviderFilter", "Records", "ReportStatus"]
