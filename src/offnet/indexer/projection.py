"""The one place where the suite's events become index rows: one handler per event, by name.

When a contract's events change, this module is what changes. `EventIndexer` (sync.py) fetches and
decodes the logs (ABI decoding through the contract clients) and hands each event here, inside the
database transaction of its block range; the handlers write rows and say which providers'
reputation must be read again and at which block (the ledger's view is the source of truth).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, fields, is_dataclass
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import Table, and_, func, insert, select, update
from sqlalchemy.engine import Connection

from offnet.chain import ContractEvent
from offnet.indexer.schema import (
    approvals,
    batches,
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
    rfq_invitees,
    rfqs,
    submissions,
    sync_state,
    tokens,
    withdrawals,
)
from offnet.market.codec import jsonable
from offnet.market.escrow import settlement_kinds
from offnet.market.ledger import ReportBatches
from offnet.market.registry import AdmissionPath, MemberStatus, Profile, Role
from offnet.market.rfq import Rfq
from offnet.market.types import (
    OrderStatus,
    OrderTerms,
    Payout,
    ReportStatus,
    RfqStatus,
    SlaReport,
)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

# Decodes a council proposal's calldata for a target address: (function name, arguments) or None.
CallDecoder = Callable[[str, bytes], tuple[str, dict[str, Any]] | None]

Handler = Callable[["Projection", ContractEvent], None]
_HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for the events called `names`."""

    def register(handler: Handler) -> Handler:
        for name in names:
            _HANDLERS[name] = handler
        return handler

    return register


def handled_events() -> frozenset[str]:
    """The names of the events the index projects."""
    return frozenset(_HANDLERS)


class Projection:
    """Applies decoded events, in chain order, to the index inside one database transaction."""

    def __init__(self, conn: Connection, decode_call: CallDecoder | None = None):
        self.conn = conn
        self.decode_call = decode_call
        self.touched: set[tuple[str, int]] = set()  # (provider, block) whose reputation may have moved
        self.new_tokens: set[str] = set()
        self.batches = ReportBatches()  # which batch each ReportSubmitted belongs to

    def apply(self, event: ContractEvent, contract: str) -> None:
        """Journal the event, then project it (events the index does not use are only journalled)."""
        self.record(
            events,
            event,
            tx_hash=event.tx_hash,
            contract=contract,
            name=event.name,
            subject=_subject(event.args),
        )
        handler = _HANDLERS.get(event.name)
        if handler is not None:
            handler(self, event)

    # --- helpers for the handlers ---------------------------------------------------------------

    def upsert_member(self, address: str, block: int, **values: Any) -> None:
        exists = self.conn.execute(select(members.c.status).where(members.c.address == address)).first()
        if not exists:
            values.setdefault("status", int(MemberStatus.NONE))
        upsert(self.conn, members, {"address": address}, {"updated_block": block, **values})

    def add(self, table: Table, **values: Any) -> None:
        """A new row of `table`."""
        self.conn.execute(insert(table).values(**values))

    def add_struct(self, table: Table, struct: Any, **values: Any) -> None:
        """A new row of `table` whose columns named like the fields of the on-chain `struct` take their
        values (addresses checksummed, hashes as bytes, nested structs as dicts), then `values`."""
        from_struct = {
            f.name: _column_value(getattr(struct, f.name)) for f in fields(struct) if f.name in table.c
        }
        self.add(table, **{**from_struct, **values})

    def change(self, table: Table, key: Any, **values: Any) -> None:
        """Set `values` on the row of `table` whose (one-column) primary key is `key`."""
        (column,) = table.primary_key.columns
        self.conn.execute(update(table).where(column == key).values(**values))

    def record(self, table: Table, event: ContractEvent, **values: Any) -> None:
        """A row of a table keyed by where its event happened (block, log index)."""
        self.add(table, block=event.block_number, log_index=event.log_index, **values)

    def history(
        self, event: ContractEvent, member: str, kind: str, other: str | None = None, detail: str = ""
    ) -> None:
        self.record(member_history, event, member=member, kind=kind, other=other, detail=detail or None)

    def order_parties(self, order_id: bytes) -> tuple[str, str] | None:
        row = self.conn.execute(
            select(orders.c.buyer, orders.c.seller).where(orders.c.order_id == order_id)
        ).first()
        return None if row is None else (row.buyer, row.seller)

    def touch(self, provider: str | None, block: int) -> None:
        if provider and int(provider, 16):
            self.touched.add((to_checksum_address(provider), block))

    def bump_council_epoch(self) -> None:
        self.change(sync_state, 1, council_epoch=sync_state.c.council_epoch + 1)


def upsert(conn: Connection, table: Table, key: dict[str, Any], values: dict[str, Any]) -> bool:
    """Update the row of `table` with primary key `key`, or insert it; True when it was inserted."""
    match = and_(*(table.c[name] == value for name, value in key.items()))
    if conn.execute(select(*(table.c[name] for name in key)).where(match)).first():
        conn.execute(update(table).where(match).values(**values))
        return False
    conn.execute(insert(table).values(**key, **values))
    return True


def _subject(args: dict[str, Any]) -> str | None:
    """What an event is about, for the journal: its order, RFQ, proposal, report or member."""
    for name in ("rfqId", "orderId", "proposalId", "reportId"):
        if name in args:
            value = args[name]
            return f"0x{value:064x}" if isinstance(value, int) else "0x" + bytes(value).hex()
    for name in ("member", "candidate", "provider", "party", "token"):
        if name in args:
            return to_checksum_address(args[name])
    return None


def _address(value: Any) -> str:
    return to_checksum_address(value)


def _column_value(value: Any) -> Any:
    """A struct field as its column holds it (the suite's structs hold strings only as addresses)."""
    if isinstance(value, str):
        return _address(value)
    if isinstance(value, bytes):
        return bytes(value)
    if is_dataclass(value):
        return asdict(value)
    return value


def _rfq_key(value: int) -> bytes:
    return int(value).to_bytes(32, "big")


# --- CarrierRegistry ---------------------------------------------------------------------------------

_STATUS_OF = {
    "ApplicationFiled": MemberStatus.APPLICANT,
    "MemberAdmitted": MemberStatus.ACTIVE,
    "MemberReinstated": MemberStatus.ACTIVE,
    "MemberSuspended": MemberStatus.SUSPENDED,
    "MemberLeft": MemberStatus.LEFT,
    "MemberExpelled": MemberStatus.EXPELLED,
}


ADMITTED = {  # how a member got in, in words (history entries and the explorer)
    AdmissionPath.FOUNDER: "as a founder",
    AdmissionPath.SPONSORS: "by its sponsors",
    AdmissionPath.COUNCIL: "by the council",
}


@handles(*_STATUS_OF)
def _membership(p: Projection, event: ContractEvent) -> None:
    args, block = event.args, event.block_number
    member = _address(args["candidate" if event.name == "ApplicationFiled" else "member"])
    was_council = p.conn.execute(select(members.c.council).where(members.c.address == member)).scalar()
    p.upsert_member(member, block, status=int(_STATUS_OF[event.name]))
    if event.name == "ApplicationFiled":
        p.history(event, member, "applied", detail=f"application round {args['round']}")
    elif event.name == "MemberAdmitted":
        path = AdmissionPath(args["path"])
        p.upsert_member(member, block, admin=member, admitted_via=int(path), admitted_block=block)
        p.history(event, member, "admitted", detail=ADMITTED[path])
    else:
        p.history(event, member, _STATUS_OF[event.name].name.lower())
        if was_council and event.name in ("MemberSuspended", "MemberReinstated"):
            p.bump_council_epoch()  # the registry's open proposals go stale: another set of voters
    if event.name in ("ApplicationFiled", "MemberLeft", "MemberExpelled"):
        # A membership that ends (or starts again) takes its keys and council seat with it.
        p.upsert_member(member, block, council=False)
        p.conn.execute(keys.delete().where(keys.c.member == member))


@handles("ApplicationSponsored")
def _sponsored(p: Projection, event: ContractEvent) -> None:
    args = event.args
    p.history(
        event,
        _address(args["candidate"]),
        "sponsored",
        other=_address(args["sponsor"]),
        detail=f"{args['sponsors']} sponsor{'s' if args['sponsors'] != 1 else ''} so far",
    )


@handles("ProfileUpdated")
def _profile(p: Projection, event: ContractEvent) -> None:
    member = _address(event.args["member"])
    profile = Profile.from_abi(event.args["profile"])
    p.upsert_member(member, event.block_number, name=profile.name, sonata_url=profile.sonata_url)
    p.conn.execute(products.delete().where(products.c.member == member))
    p.conn.execute(coverage.delete().where(coverage.c.member == member))
    for key in dict.fromkeys(profile.products):
        p.add(products, member=member, product_key=key)
    for country in dict.fromkeys(profile.countries):
        p.add(coverage, member=member, country=country)
    p.history(event, member, "profile", detail=f"{profile.name}: {', '.join(profile.countries) or '-'}")


@handles("KeyAdded", "KeyRevoked")
def _key(p: Projection, event: ContractEvent) -> None:
    member, key = _address(event.args["member"]), _address(event.args["key"])
    if event.name == "KeyAdded":
        roles = Role(event.args["roles"])
        p.add(keys, key=key, member=member, roles=int(roles))
        p.history(event, member, "key added", other=key, detail=_roles(roles))
    else:
        p.conn.execute(keys.delete().where(keys.c.key == key))
        p.history(event, member, "key revoked", other=key)


def _roles(roles: Role) -> str:
    return ", ".join(r.name.lower() for r in Role if r in roles) or "none"


@handles("AdminHandoverProposed", "AdminChanged")
def _admin(p: Projection, event: ContractEvent) -> None:
    member = _address(event.args["member"])
    if event.name == "AdminChanged":
        current = _address(event.args["current"])
        p.upsert_member(member, event.block_number, admin=current)
        p.history(event, member, "admin changed", other=current)
    else:
        proposed = _address(event.args["proposed"])
        cancelled = proposed == ZERO_ADDRESS
        p.history(
            event,
            member,
            "admin handover cancelled" if cancelled else "admin handover proposed",
            other=None if cancelled else proposed,
        )


@handles("CouncilSeatChanged")
def _seat(p: Projection, event: ContractEvent) -> None:
    member, seated = _address(event.args["member"]), bool(event.args["seated"])
    p.upsert_member(member, event.block_number, council=seated)
    p.history(
        event,
        member,
        "council seat given" if seated else "council seat taken",
        detail=f"council of {event.args['councilSize']}",
    )
    p.bump_council_epoch()


@handles("CouncilThresholdChanged", "SponsorsRequiredChanged")
def _parameter(p: Projection, event: ContractEvent) -> None:
    if event.name == "CouncilThresholdChanged":
        values = {"council_threshold": int(event.args["threshold"])}
    else:
        values = {"sponsors_required": int(event.args["sponsorsRequired"])}
    p.change(sync_state, 1, **values)


@handles("ProposalCreated")
def _proposal(p: Projection, event: ContractEvent) -> None:
    args = event.args
    target, data = _address(args["target"]), bytes(args["data"])
    decoded = p.decode_call(target, data) if p.decode_call else None
    epoch = p.conn.execute(select(sync_state.c.council_epoch).where(sync_state.c.id == 1)).scalar() or 0
    proposal_id, proposer = int(args["proposalId"]), _address(args["proposer"])
    p.add(
        proposals,
        proposal_id=proposal_id,
        proposer=proposer,
        target=target,
        data=data,
        function=decoded[0] if decoded else None,
        arguments=decoded[1] if decoded else None,
        expires_at=int(args["expiresAt"]),
        council_epoch=epoch,
        approvals=1,
        created_block=event.block_number,
    )
    p.add(approvals, proposal_id=proposal_id, member=proposer, block=event.block_number)


@handles("ProposalApproved")
def _approved(p: Projection, event: ContractEvent) -> None:
    proposal_id, member = int(event.args["proposalId"]), _address(event.args["member"])
    counted = p.conn.execute(
        select(approvals.c.member).where(approvals.c.proposal_id == proposal_id, approvals.c.member == member)
    ).first()
    if not counted:  # the proposer's approval is counted at creation
        p.add(approvals, proposal_id=proposal_id, member=member, block=event.block_number)
    p.change(proposals, proposal_id, approvals=int(event.args["approvals"]))


@handles("ProposalExecuted")
def _executed(p: Projection, event: ContractEvent) -> None:
    p.change(proposals, int(event.args["proposalId"]), executed_block=event.block_number)


# --- RfqMarket -----------------------------------------------------------------------------------------


@handles("RfqPosted")
def _rfq_posted(p: Projection, event: ContractEvent) -> None:
    rfq = Rfq.from_tuple(event.args["rfq"])
    rfq_id = _rfq_key(event.args["rfqId"])
    p.add_struct(
        rfqs, rfq, rfq_id=rfq_id, status=int(RfqStatus.OPEN), posted_block=event.block_number, sealed_quotes=0
    )
    for provider in dict.fromkeys(_address(a) for a in rfq.invited):
        p.add(rfq_invitees, rfq_id=rfq_id, provider=provider)


def _live(p: Projection, rfq_id: bytes, provider: str) -> bool:
    """True when the provider's latest entry in the RFQ's log is a commitment (not a withdrawal)."""
    last = p.conn.execute(
        select(quote_log.c.digest)
        .where(quote_log.c.rfq_id == rfq_id, quote_log.c.provider == provider)
        .order_by(quote_log.c.entry.desc())
        .limit(1)
    ).first()
    return last is not None and last.digest is not None


@handles("QuoteCommitted", "QuoteWithdrawn")
def _quote_log(p: Projection, event: ContractEvent) -> None:
    args = event.args
    rfq_id, provider = _rfq_key(args["rfqId"]), _address(args["provider"])
    was_live = _live(p, rfq_id, provider)
    committed = event.name == "QuoteCommitted"
    p.add(
        quote_log,
        rfq_id=rfq_id,
        entry=int(args["index"]),
        provider=provider,
        digest=bytes(args["digest"]) if committed else None,
        block=event.block_number,
    )
    change = int(committed) - int(was_live)
    if change:
        p.change(rfqs, rfq_id, sealed_quotes=rfqs.c.sealed_quotes + change)


@handles("RfqAwarded")
def _awarded(p: Projection, event: ContractEvent) -> None:
    args = event.args
    p.change(
        rfqs,
        _rfq_key(args["rfqId"]),
        status=int(RfqStatus.AWARDED),
        order_id=bytes(args["orderId"]),
        awarded_provider=_address(args["provider"]),
        awarded_digest=bytes(args["digest"]),
        awarded_block=event.block_number,
    )


@handles("RfqCancelled", "RfqClosed")
def _rfq_closed(p: Projection, event: ContractEvent) -> None:
    status = RfqStatus.CANCELLED if event.name == "RfqCancelled" else RfqStatus.CLOSED
    p.change(rfqs, _rfq_key(event.args["rfqId"]), status=int(status), closed_block=event.block_number)


# --- OrderEscrow ---------------------------------------------------------------------------------------


@handles("OrderOpened")
def _opened(p: Projection, event: ContractEvent) -> None:
    terms = OrderTerms.from_tuple(event.args["terms"])
    order_id = bytes(event.args["orderId"])
    p.add_struct(
        orders,
        terms,
        order_id=order_id,
        rfq_id=_rfq_key(terms.rfq_id),
        funded_months=terms.prepaid_months,
        status=int(OrderStatus.OPEN),
        opened_block=event.block_number,
    )
    _payment(p, event, order_id, "escrowed", _address(terms.buyer), event.args["escrowed"], None)


def _payment(
    p: Projection,
    event: ContractEvent,
    order_id: bytes,
    kind: str,
    party: str,
    amount: int,
    milestone: Any,
    *,
    part: int = 0,
) -> None:
    p.record(
        payments,
        event,
        part=part,
        order_id=order_id,
        kind=kind,
        party=party,
        amount=int(amount),
        milestone=milestone,
    )


@handles("OrderToppedUp")
def _topped_up(p: Projection, event: ContractEvent) -> None:
    args = event.args
    order_id = bytes(args["orderId"])
    _payment(p, event, order_id, "escrowed", _address(args["payer"]), args["amount"], None)
    p.change(orders, order_id, funded_months=int(args["fundedMonths"]))


@handles("Paid")
def _paid(p: Projection, event: ContractEvent) -> None:
    args = event.args
    kind = Payout(args["reason"]).name.lower()
    _payment(
        p,
        event,
        bytes(args["orderId"]),
        kind,
        _address(args["party"]),
        args["amount"],
        int(args["milestone"]),
    )


@handles("OrderAcknowledged", "OrderDelivered", "OrderClosed")
def _order_state(p: Projection, event: ContractEvent) -> None:
    args, block = event.args, event.block_number
    if event.name == "OrderAcknowledged":
        values = {"status": int(OrderStatus.ACKNOWLEDGED), "acknowledged_block": block}
    elif event.name == "OrderDelivered":
        values = {
            "status": int(OrderStatus.ACTIVE),
            "delivered_at": int(args["deliveredAt"]),
            "delivered_block": block,
        }
    else:
        values = {"status": int(args["status"]), "close_reason": int(args["reason"]), "closed_block": block}
    p.change(orders, bytes(args["orderId"]), **values)


@handles("CancellationRequested")
def _cancellation_asked(p: Projection, event: ContractEvent) -> None:
    args = event.args
    values = {"cancel_asked_block": event.block_number, "cancel_from": int(args["effectiveAt"])}
    p.change(orders, bytes(args["orderId"]), **values)


@handles("MilestoneSettled")
def _milestone(p: Projection, event: ContractEvent) -> None:
    """A settled milestone: the amounts each party was credited and why (this event is the money's
    only record of it)."""
    args, block = event.args, event.block_number
    order_id, milestone = bytes(args["orderId"]), int(args["milestone"])
    key = {"order_id": order_id, "milestone": milestone}
    reason = Payout(args["reason"])
    to_seller, to_buyer = int(args["toSeller"]), int(args["toBuyer"])
    values = {
        "settled_block": block,
        "reason": reason.name.lower(),
        "to_seller": to_seller,
        "to_buyer": to_buyer,
    }
    upsert(p.conn, milestones, key, values)
    parties = p.order_parties(order_id)
    if parties is None:
        return
    buyer, seller = parties
    seller_kind, buyer_kind = settlement_kinds(reason)
    for part, (kind, party, amount) in enumerate(
        ((seller_kind, seller, to_seller), (buyer_kind, buyer, to_buyer))
    ):
        if amount:
            _payment(p, event, order_id, kind, party, amount, milestone, part=part)


@handles("DisputeOpened")
def _escrow_dispute(p: Projection, event: ContractEvent) -> None:
    args = event.args
    p.add(
        escrow_disputes,
        order_id=bytes(args["orderId"]),
        milestone=int(args["milestone"]),
        opened_block=event.block_number,
        opened_by=_address(args["by"]),
        until=int(args["until"]),
    )


@handles("DisputeRuled")
def _escrow_ruling(p: Projection, event: ContractEvent) -> None:
    args = event.args
    order_id, milestone = bytes(args["orderId"]), int(args["milestone"])
    latest = p.conn.execute(
        select(func.max(escrow_disputes.c.opened_block)).where(
            escrow_disputes.c.order_id == order_id, escrow_disputes.c.milestone == milestone
        )
    ).scalar()
    if latest is None:  # a ruling on a milestone nobody froze: keep it as its own record
        p.add(
            escrow_disputes,
            order_id=order_id,
            milestone=milestone,
            opened_block=event.block_number,
            opened_by=ZERO_ADDRESS,
            until=0,
        )
        latest = event.block_number
    p.conn.execute(
        update(escrow_disputes)
        .where(
            escrow_disputes.c.order_id == order_id,
            escrow_disputes.c.milestone == milestone,
            escrow_disputes.c.opened_block == latest,
        )
        .values(ruled_block=event.block_number, buyer_share_bps=int(args["buyerShareBps"]))
    )


@handles("Withdrawn")
def _withdrawn(p: Projection, event: ContractEvent) -> None:
    args = event.args
    p.record(
        withdrawals,
        event,
        token=_address(args["token"]),
        party=_address(args["party"]),
        recipient=_address(args["to"]),
        amount=int(args["amount"]),
    )


@handles("TokenAllowanceChanged")
def _token(p: Projection, event: ContractEvent) -> None:
    token, allowed = _address(event.args["token"]), bool(event.args["allowed"])
    if upsert(p.conn, tokens, {"address": token}, {"allowed": allowed}):
        p.new_tokens.add(token)


# --- SlaLedger -----------------------------------------------------------------------------------------


@handles("BatchSubmitted")
def _batch(p: Projection, event: ContractEvent) -> None:
    args = event.args
    root = bytes(args["root"])
    values = {
        "member": _address(args["member"]),
        "lane": int(args["lane"]),
        "submitter": _address(args["key"]),
        "reports": int(args["reports"]),
        "block": event.block_number,
    }
    upsert(p.conn, batches, {"root": root}, values)
    p.batches.batch_of(event.name, args, event.tx_hash)


@handles("ReportSubmitted")
def _submitted(p: Projection, event: ContractEvent) -> None:
    """A report of the batch the same transaction submitted just before (SlaLedger emits a batch,
    then its reports)."""
    report = SlaReport.from_tuple(event.args)
    batch = p.batches.batch_of(event.name, event.args, event.tx_hash)
    root, member = bytes(batch["root"]), _address(batch["member"])
    report_id = report.report_id
    if not p.conn.execute(select(reports.c.report_id).where(reports.c.report_id == report_id)).first():
        p.add(
            reports,
            report_id=report_id,
            order_id=bytes(report.order_id),
            kind=int(report.kind),
            key=report.key,
            status=int(ReportStatus.NONE),
            first_block=event.block_number,
        )
    p.record(
        submissions,
        event,
        report_id=report_id,
        member=member,
        root=root,
        content_hash=report.content_hash,
        value0=report.value0,
        value1=report.value1,
        **asdict(report.metrics),
        evidence_hash=bytes(report.evidence_hash),
        tx_hash=event.tx_hash,
    )


@handles("ReportHeld")
def _report_held(p: Projection, event: ContractEvent) -> None:
    args = event.args
    p.change(reports, bytes(args["reportId"]), held_block=event.block_number, held_by=_address(args["by"]))


@handles("ReportFinalized", "ReportDisputed", "DisputeResolved")
def _report_status(p: Projection, event: ContractEvent) -> None:
    args, block = event.args, event.block_number
    report_id, order_id = bytes(args["reportId"]), bytes(args["orderId"])
    if event.name == "ReportDisputed":
        values = {
            "status": int(ReportStatus.DISPUTED),
            "disputed_block": block,
            "disputer": _address(args["disputer"]),
        }
    elif event.name == "ReportFinalized":
        values = {
            "status": int(ReportStatus.FINAL),
            "final_block": block,
            "final_content": bytes(args["contentHash"]),
        }
    else:
        loser = _address(args["loser"])
        values = {
            "status": int(ReportStatus.FINAL),
            "final_block": block,
            "resolved_block": block,
            "final_content": bytes(args["contentHash"]),
            "loser": None if loser == ZERO_ADDRESS else loser,
        }
        p.touch(loser, block)
    p.change(reports, report_id, **values)
    if event.name != "ReportDisputed":
        parties = p.order_parties(order_id)
        if parties is not None:
            p.touch(parties[1], block)


@handles("QuoteTimelinessRecorded")
def _timeliness(p: Projection, event: ContractEvent) -> None:
    p.touch(event.args["provider"], event.block_number)


# --- ContractNotary ------------------------------------------------------------------------------------


@handles("ContractNotarised", "ContractCopyPublished", "ContractRevealed")
def _notary(p: Projection, event: ContractEvent) -> None:
    args = event.args
    if event.name == "ContractNotarised":
        kind, party, commitment = "notarised", _address(args["buyer"]), bytes(args["commitment"])
    elif event.name == "ContractCopyPublished":
        kind, party, commitment = "copy published", _address(args["publisher"]), None
    else:
        kind, party, commitment = "revealed", _address(args["revealer"]), None
    p.record(
        contract_records,
        event,
        order_id=bytes(args["orderId"]),
        kind=kind,
        party=party,
        commitment=commitment,
    )


def call_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """Decoded call arguments as JSON data (byte strings as hex, structs as lists)."""
    return json.loads(json.dumps(jsonable(_plain(arguments))))


def _plain(value: Any) -> Any:
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in dict(value).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return str(value)  # JSON readers lose larger integers
    return value
