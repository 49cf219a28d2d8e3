"""Incremental sync: registry, escrow and ledger logs, a block range at a time, into the IndexStore.

Each range is fetched with one `eth_getLogs` over the three contracts and applied in one database
transaction that also moves the cursor, so an interrupted sync resumes exactly where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from offnet.chain import ContractClient, ContractEvent
from offnet.deployment import Suite
from offnet.indexer.store import IndexStore, coverage, keys, members, orders, products
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import LedgerClient
from offnet.market.registry import AdmissionPath, MemberStatus, Profile, RegistryClient

# progress(blocks done, blocks to do)
SyncProgress = Callable[[int, int], None]

_STATUS_OF = {
    "ApplicationFiled": MemberStatus.APPLICANT,
    "MemberAdmitted": MemberStatus.ACTIVE,
    "MemberReinstated": MemberStatus.ACTIVE,
    "MemberSuspended": MemberStatus.SUSPENDED,
    "MemberLeft": MemberStatus.LEFT,
    "MemberExpelled": MemberStatus.EXPELLED,
}


@dataclass(frozen=True)
class SyncReport:
    """What one sync did."""

    from_block: int
    to_block: int
    events: int


class EventIndexer:
    """Keeps an IndexStore in step with one deployment (its registry, escrow and ledger)."""

    def __init__(
        self,
        store: IndexStore,
        *,
        registry: RegistryClient,
        escrow: EscrowClient | None = None,
        ledger: LedgerClient | None = None,
        from_block: int = 0,
    ):
        """Without the escrow and the ledger, only the registry's members are indexed (no reputation)."""
        self.chain = registry.chain
        self.store = store
        self.from_block = from_block
        self.registry = registry.address
        self.ledger = ledger
        self._clients: dict[str, ContractClient] = {
            c.address: c for c in (registry, escrow, ledger) if c is not None
        }

    @classmethod
    def of(cls, suite: Suite, store: IndexStore) -> EventIndexer:
        """The indexer of a deployed suite, reading from the block the registry was deployed in."""
        return cls(
            store,
            registry=suite.registry,
            escrow=suite.escrow,
            ledger=suite.ledger,
            from_block=suite.manifest.contracts["CarrierRegistry"].block,
        )

    def sync(
        self, to_block: int | None = None, *, chunk: int = 2_000, progress: SyncProgress | None = None
    ) -> SyncReport:
        """Apply every event up to `to_block` (default: latest) not applied yet."""
        latest = self.chain.w3.eth.block_number
        last = latest if to_block is None else min(to_block, latest)
        with self.store.engine.begin() as conn:
            start = self.store.cursor(conn, self.chain.chain_id, self.registry, self.from_block)
        position, applied = start, 0
        total = max(0, last - start + 1)
        if progress:
            progress(0, total)
        while position <= last:
            end = min(position + chunk - 1, last)
            logs = self.chain.w3.eth.get_logs(
                {"address": list(self._clients), "fromBlock": position, "toBlock": end}
            )
            events = self._decode(logs)
            with self.store.engine.begin() as conn:
                touched: set[str] = set()
                for event in events:
                    self._apply(conn, event, touched)
                for provider in sorted(touched):
                    self._refresh_reputation(conn, provider, end)
                self.store.advance(conn, end + 1)
            applied += len(events)
            position = end + 1
            if progress:
                progress(position - start, total)
        return SyncReport(start, last, applied)

    # --- decoding and applying ----------------------------------------------------------------------

    def _decode(self, logs: list[Any]) -> list[ContractEvent]:
        by_contract: dict[str, list[Any]] = {}
        for log in logs:
            by_contract.setdefault(to_checksum_address(log["address"]), []).append(log)
        events = [e for address, group in by_contract.items() for e in self._clients[address].decode(group)]
        return sorted(events, key=lambda e: (e.block_number, e.log_index))

    def _apply(self, conn: Connection, event: ContractEvent, touched: set[str]) -> None:
        args, block = event.args, event.block_number
        if event.name in _STATUS_OF:
            member = to_checksum_address(args["candidate" if event.name == "ApplicationFiled" else "member"])
            self._upsert_member(conn, member, block, status=int(_STATUS_OF[event.name]))
            if event.name == "MemberAdmitted":
                path = int(AdmissionPath(args["path"]))
                self._upsert_member(conn, member, block, admin=member, admitted_via=path)
            if event.name in ("ApplicationFiled", "MemberLeft", "MemberExpelled"):
                # A membership that ends (or starts again) takes its keys and council seat with it.
                self._upsert_member(conn, member, block, council=False)
                conn.execute(delete(keys).where(keys.c.member == member))
        elif event.name == "KeyAdded":
            conn.execute(
                insert(keys).values(
                    key=to_checksum_address(args["key"]),
                    member=to_checksum_address(args["member"]),
                    roles=int(args["roles"]),
                )
            )
        elif event.name == "KeyRevoked":
            conn.execute(delete(keys).where(keys.c.key == to_checksum_address(args["key"])))
        elif event.name == "AdminChanged":
            self._upsert_member(
                conn, to_checksum_address(args["member"]), block, admin=to_checksum_address(args["current"])
            )
        elif event.name == "CouncilThresholdChanged":
            self.store.set_parameter(conn, "council_threshold", int(args["threshold"]))
        elif event.name == "SponsorsRequiredChanged":
            self.store.set_parameter(conn, "sponsors_required", int(args["sponsorsRequired"]))
        elif event.name == "ProfileUpdated":
            self._set_profile(
                conn, to_checksum_address(args["member"]), Profile.from_abi(args["profile"]), block
            )
        elif event.name == "CouncilSeatChanged":
            self._upsert_member(
                conn, to_checksum_address(args["member"]), block, council=bool(args["seated"])
            )
        elif event.name == "OrderOpened":
            terms = args["terms"]
            conn.execute(
                insert(orders).values(
                    order_id=bytes(args["orderId"]),
                    buyer=to_checksum_address(terms["buyer"]),
                    seller=to_checksum_address(terms["seller"]),
                )
            )
        elif event.name == "QuoteTimelinessRecorded":
            touched.add(to_checksum_address(args["provider"]))
        elif event.name in ("ReportFinalized", "DisputeResolved"):
            row = conn.execute(
                select(orders.c.seller).where(orders.c.order_id == bytes(args["orderId"]))
            ).first()
            if row is not None:
                touched.add(row.seller)
            loser = args.get("loser")
            if loser and int(loser, 16):
                touched.add(to_checksum_address(loser))

    @staticmethod
    def _upsert_member(conn: Connection, address: str, block: int, **values: Any) -> None:
        exists = conn.execute(select(members.c.address).where(members.c.address == address)).first()
        if exists:
            conn.execute(
                update(members).where(members.c.address == address).values(updated_block=block, **values)
            )
        else:
            values.setdefault("status", int(MemberStatus.NONE))
            conn.execute(insert(members).values(address=address, updated_block=block, **values))

    def _set_profile(self, conn: Connection, member: str, profile: Profile, block: int) -> None:
        self._upsert_member(conn, member, block, name=profile.name, sonata_url=profile.sonata_url)
        conn.execute(delete(products).where(products.c.member == member))
        conn.execute(delete(coverage).where(coverage.c.member == member))
        for key in dict.fromkeys(profile.products):
            conn.execute(insert(products).values(member=member, product_key=key))
        for country in dict.fromkeys(profile.countries):
            conn.execute(insert(coverage).values(member=member, country=country))

    def _refresh_reputation(self, conn: Connection, provider: str, block: int) -> None:
        if self.ledger is None:
            return
        reputation = self.ledger.reputation(provider, block=block)
        self._upsert_member(
            conn,
            provider,
            block,
            reputation_ppm=reputation.overall_ppm,
            reputation_samples=reputation.samples,
        )
