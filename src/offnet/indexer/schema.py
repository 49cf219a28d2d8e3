"""The indexer's tables (SQLAlchemy Core): one projection of the chain, read by discovery, the CLI and
the explorer.

A table per thing the chain knows: members and their history, reputation points, RFQs with their
invitees and sealed-quote log, orders with their money movements, milestones and disputes, SLA facts
with each party's submission, council proposals and approvals, notary records, and the blocks the
events came from. Token amounts and report keys are exact decimal text (`Uint`): SQLite's integers stop at 2^63.
Ids (orders, RFQs, reports, batch roots) are 32-byte strings; addresses are checksummed text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
)


class Uint(TypeDecorator):
    """An unsigned 256-bit integer (token amounts, lanes) stored as decimal text, exact."""

    impl = String(78)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else str(int(value))

    def process_result_value(self, value: Any, dialect: Any) -> int | None:
        return None if value is None else int(value)


def _id(name: str, *args: Any, **kw: Any) -> Column:
    return Column(name, LargeBinary(32), *args, **kw)


def _address(name: str, *args: Any, **kw: Any) -> Column:
    return Column(name, String(42), *args, **kw)


metadata = MetaData()

sync_state = Table(
    "sync_state",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: one cursor per database
    Column("chain_id", Integer, nullable=False),
    _address("registry", nullable=False),
    _address("escrow"),
    _address("ledger"),
    _address("market"),
    _address("notary"),
    Column("next_block", Integer, nullable=False),
    Column("last_hash", String(66)),  # hash of block next_block - 1: a reorganisation below it changes it
    Column("head_block", Integer),  # the chain's tip at the last sync
    Column("confirmations", Integer),  # the margin the last sync kept below the tip
    Column("synced_at", Integer),  # wall-clock unix time of the last sync
    Column("rebuilds", Integer, nullable=False, default=0),  # reorganisations deeper than the margin
    Column("council_threshold", Integer),
    Column("sponsors_required", Integer),
    Column("council_epoch", Integer, nullable=False, default=0),  # bumps as the registry's does
)

blocks = Table(  # every block an indexed event came from, and the last block of each synced range
    "blocks",
    metadata,
    Column("number", Integer, primary_key=True),
    Column("hash", String(66), nullable=False),
    Column("timestamp", Integer, nullable=False),
)

events = Table(  # the journal: which offnet event happened where (block pages, links)
    "events",
    metadata,
    Column("block", Integer, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    Column("tx_hash", String(66), nullable=False),
    Column("contract", String, nullable=False),
    Column("name", String, nullable=False),
    Column("subject", String),  # the order, RFQ, proposal or member it is about (0x hex or address)
)

# --- the circle of trust ------------------------------------------------------------------------

members = Table(
    "members",
    metadata,
    _address("address", primary_key=True),
    Column("status", Integer, nullable=False),
    Column("name", String),
    Column("sonata_url", String),
    Column("council", Boolean, nullable=False, default=False),
    _address("admin"),  # the key that administers the member (its own address until handed over)
    Column("admitted_via", Integer),  # AdmissionPath
    Column("admitted_block", Integer),
    Column("reputation_ppm", Integer, nullable=False, default=0),
    # The facts behind the score: quotes requested + orders delivered + months reported (0: new).
    Column("reputation_samples", Integer, nullable=False, default=0),
    Column("reputation_block", Integer),  # the block of the member's latest reputation point
    Column("updated_block", Integer, nullable=False),
    Index("ix_members_status_reputation", "status", "reputation_ppm"),
    Index("ix_members_status_samples", "status", "reputation_samples"),
    # Covers the providers page's filter and order: its count and its page of keys never touch the rows.
    Index("ix_members_providers", "status", "address", "reputation_samples", "reputation_ppm"),
)

products = Table(
    "products",
    metadata,
    _address("member", ForeignKey("members.address"), primary_key=True),
    Column("product_key", LargeBinary(32), primary_key=True),
    Index("ix_products_product_member", "product_key", "member"),
)

coverage = Table(
    "coverage",
    metadata,
    _address("member", ForeignKey("members.address"), primary_key=True),
    Column("country", String(2), primary_key=True),
    Index("ix_coverage_country_member", "country", "member"),
)

keys = Table(  # operational keys of current members
    "keys",
    metadata,
    _address("key", primary_key=True),
    _address("member", ForeignKey("members.address"), nullable=False, index=True),
    Column("roles", Integer, nullable=False),
)

member_history = Table(  # applications, sponsorships, admission, suspensions, keys, seats...
    "member_history",
    metadata,
    Column("block", Integer, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    _address("member", nullable=False),
    Column("kind", String, nullable=False),
    _address("other"),  # the sponsor, key or admin the entry names
    Column("detail", String),
    Index("ix_member_history_member", "member", "block"),
)

REPUTATION_FIELDS = (
    "quotes_requested",
    "quotes_on_time",
    "orders_delivered",
    "orders_on_time",
    "orders_failed",
    "disputes_lost",
    "total_days_late",
    "periods_reported",
    "periods_meeting_objectives",
    "trouble_tickets",
    "availability_sum_ppm",
    "total_restore_sec",
    "quote_timeliness_ppm",
    "on_time_delivery_ppm",
    "delivery_success_ppm",
    "average_days_late_milli",
    "sla_compliance_ppm",
    "average_availability_ppm",
    "average_restore_sec",
    "overall_ppm",
)

reputation_points = Table(  # the ledger's reputation view of a provider, at each block it changed
    "reputation_points",
    metadata,
    _address("member", primary_key=True),
    Column("block", Integer, primary_key=True),
    Column("samples", Integer, nullable=False),
    *(Column(name, Integer, nullable=False) for name in REPUTATION_FIELDS),
)

# --- RFQs -------------------------------------------------------------------------------------------

rfqs = Table(
    "rfqs",
    metadata,
    _id("rfq_id", primary_key=True),
    _address("buyer", nullable=False, index=True),
    Column("deadline", Integer, nullable=False),
    Column("min_reputation", Integer, nullable=False),
    _address("token", nullable=False),
    _id("request_hash", nullable=False),
    _id("product_key", nullable=False),
    _id("location_key", nullable=False),
    Column("status", Integer, nullable=False),  # RfqStatus
    Column("posted_block", Integer, nullable=False),
    Column("sealed_quotes", Integer, nullable=False, default=0),  # providers with a live commitment
    _id("order_id"),
    _address("awarded_provider"),
    _id("awarded_digest"),
    Column("awarded_block", Integer),
    Column("closed_block", Integer),  # closed or cancelled
    Index("ix_rfqs_status_deadline", "status", "deadline"),
)

rfq_invitees = Table(
    "rfq_invitees",
    metadata,
    _id("rfq_id", primary_key=True),
    _address("provider", primary_key=True),
    Index("ix_rfq_invitees_provider", "provider"),
)

quote_log = Table(  # each RFQ's commitment log: a commitment, or a withdrawal (digest None)
    "quote_log",
    metadata,
    _id("rfq_id", primary_key=True),
    Column("entry", Integer, primary_key=True),
    _address("provider", nullable=False),
    _id("digest"),
    Column("block", Integer, nullable=False),
)

# --- orders and money -------------------------------------------------------------------------------

orders = Table(
    "orders",
    metadata,
    _id("order_id", primary_key=True),
    _id("rfq_id"),
    _address("buyer", nullable=False, index=True),
    _address("seller", nullable=False, index=True),
    _address("token"),
    Column("one_time_charge", Uint),
    Column("monthly_charge", Uint),
    Column("term_months", Integer),
    Column("install_days", Integer),
    Column("prepaid_months", Integer),
    Column("funded_months", Integer),
    Column("awarded_at", Integer),
    _id("sla_terms_hash"),
    _id("contract_hash"),
    Column("credits", JSON),  # the CreditSchedule, field by field
    Column("status", Integer),  # OrderStatus
    Column("close_reason", Integer),
    Column("opened_block", Integer),
    Column("acknowledged_block", Integer),
    Column("delivered_at", Integer),
    Column("delivered_block", Integer),
    Column("closed_block", Integer),
    # The buyer's request to cancel an acknowledged order: when it was asked, and from when it may cancel.
    Column("cancel_asked_block", Integer),
    Column("cancel_from", Integer),
    Index("ix_orders_status", "status"),
)

payments = Table(  # every movement of an order's money: escrowed (award, top-up) or paid out
    "payments",
    metadata,
    Column("block", Integer, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    Column(
        "part", Integer, primary_key=True, default=0
    ),  # a settlement pays the seller (0) and the buyer (1)
    _id("order_id", nullable=False, index=True),
    Column("kind", String, nullable=False),  # "escrowed", "credit" or the Payout name in lower case
    _address("party", nullable=False),
    Column("amount", Uint, nullable=False),
    Column("milestone", Integer),
)

milestones = Table(  # settled milestones: 0 is delivery, 1..termMonths the billing periods
    "milestones",
    metadata,
    _id("order_id", primary_key=True),
    Column("milestone", Integer, primary_key=True),
    Column("settled_block", Integer),
    Column("reason", String),  # how it settled: release (a final report), claim (a timeout) or ruling
    Column("to_seller", Uint),  # what the settlement credited to each party
    Column("to_buyer", Uint),
)

escrow_disputes = Table(  # a party froze a milestone; the council may rule a split
    "escrow_disputes",
    metadata,
    _id("order_id", primary_key=True),
    Column("milestone", Integer, primary_key=True),
    Column("opened_block", Integer, primary_key=True),
    _address("opened_by", nullable=False),
    Column("until", Integer, nullable=False),
    Column("ruled_block", Integer),
    Column("buyer_share_bps", Integer),
)

withdrawals = Table(
    "withdrawals",
    metadata,
    Column("block", Integer, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    _address("token", nullable=False),
    _address("party", nullable=False, index=True),
    _address("recipient", nullable=False),
    Column("amount", Uint, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    _address("address", primary_key=True),
    Column("symbol", String),
    Column("decimals", Integer),
    Column("allowed", Boolean, nullable=False),
)

# --- SLA facts -------------------------------------------------------------------------------------

batches = Table(
    "batches",
    metadata,
    _id("root", primary_key=True),
    _address("member", nullable=False),
    Column("lane", Uint, nullable=False),
    _address("submitter", nullable=False),  # the oracle key that sent it
    Column("reports", Integer, nullable=False),
    Column("block", Integer, nullable=False),
)

reports = Table(  # one SLA fact (report id = order, kind, key) and where it stands
    "reports",
    metadata,
    _id("report_id", primary_key=True),
    _id("order_id", nullable=False, index=True),
    Column("kind", Integer, nullable=False),
    Column("key", Uint, nullable=False),  # a period, or a ticket's key: up to 256 bits
    Column("status", Integer, nullable=False),  # ReportStatus: NONE (pending), DISPUTED, FINAL
    Column("first_block", Integer, nullable=False),
    Column("final_block", Integer),
    _id("final_content"),
    Column("held_block", Integer),  # a party held it: the escrow's timeouts of its milestone wait
    _address("held_by"),
    Column("disputed_block", Integer),
    _address("disputer"),
    Column("resolved_block", Integer),
    _address("loser"),
)

submissions = Table(  # each party's submission of a fact (the buyer's and the seller's may differ)
    "submissions",
    metadata,
    Column("block", Integer, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    _id("report_id", nullable=False, index=True),
    _address("member"),  # whose oracle submitted the batch
    _id("root", nullable=False),
    _id("content_hash", nullable=False),
    Column("value0", Uint, nullable=False),
    Column("value1", Uint, nullable=False),
    Column("availability_ppm", Integer, nullable=False),
    Column("frame_delay_us", Integer, nullable=False),
    Column("frame_loss_ppm", Integer, nullable=False),
    Column("time_to_restore_sec", Integer, nullable=False),
    Column("outages", Integer, nullable=False),
    _id("evidence_hash", nullable=False),
    Column("tx_hash", String(66), nullable=False),
)

# --- council and notary ----------------------------------------------------------------------------

proposals = Table(
    "proposals",
    metadata,
    Column("proposal_id", Integer, primary_key=True),
    _address("proposer", nullable=False),
    _address("target", nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("function", String),  # the call decoded with the target's ABI (None when it is not ours)
    Column("arguments", JSON),
    Column("expires_at", Integer, nullable=False),
    Column("council_epoch", Integer, nullable=False),
    Column("approvals", Integer, nullable=False),
    Column("created_block", Integer, nullable=False),
    Column("executed_block", Integer),
)

approvals = Table(
    "approvals",
    metadata,
    Column("proposal_id", Integer, primary_key=True),
    _address("member", primary_key=True),
    Column("block", Integer, nullable=False),
)

contract_records = Table(  # the notary's events: later commitments, published copies, reveals
    "contract_records",
    metadata,
    Column("block", Integer, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    _id("order_id", nullable=False, index=True),
    Column("kind", String, nullable=False),  # "notarised", "copy published", "revealed"
    _address("party", nullable=False),
    _id("commitment"),
)

DATA_TABLES = tuple(t for t in reversed(metadata.sorted_tables) if t is not sync_state)
