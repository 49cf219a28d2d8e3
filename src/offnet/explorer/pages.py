"""The explorer's pages as data: each function returns the JSON twin of one page, and the page's
template renders exactly that (so the figures on the screen and under /api are the same).

Conventions (those of the CLI, from offnet.display): times in ISO-8601 UTC, token amounts exact with
their symbol, ids as 0x hex, enum names in words, addresses with the member's name, and every
block an event came from as a link.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_utils import is_address, keccak, to_checksum_address

from offnet import display
from offnet.exceptions import InvalidInput
from offnet.explorer.follower import Follower
from offnet.indexer.projection import ADMITTED
from offnet.indexer.records import Page, ProviderFilter, Records
from offnet.indexer.schema import REPUTATION_FIELDS
from offnet.indexer.store import IndexStore
from offnet.market.codec import from_hex
from offnet.market.escrow import MoneyEvent, MoneyFlow
from offnet.market.notary import SealedContract
from offnet.market.periods import period_charge
from offnet.market.registry import (
    AdmissionPath,
    MemberStatus,
    country_code,
    country_text,
    product_name,
    product_of,
)
from offnet.market.types import (
    CreditSchedule,
    FailureReason,
    OrderStatus,
    PeriodMetrics,
    ReportKind,
    ReportStatus,
    RfqStatus,
    check_objectives,
)
from offnet.sonata.canonical import canonical_json

PAGE_SIZE = 50
FACT_STATUS = {ReportStatus.DISPUTED: "disputed", ReportStatus.FINAL: "final"}


def _fact_status(fact: dict[str, Any]) -> str:
    """An SLA fact's standing: final, disputed, held (a party made the escrow wait for it) or pending."""
    status = ReportStatus(fact["status"])
    if status in FACT_STATUS:
        return FACT_STATUS[status]
    return "held" if fact.get("held_block") else "pending"


RULINGS = ("resolve", "rule")  # the council's rulings: SlaLedger.resolve and OrderEscrow.rule


class NotFound(LookupError):
    """The page asked for names something the index does not hold."""


class BadInput(ValueError):
    """A filter or form value that cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class Names:
    """What the explorer knows about every address at one index position: member names and tokens."""

    position: int | None
    members: dict[str, str | None]
    tokens: dict[str, display.Token]


class Explorer:
    """Builds every page from the index (and the follower's state, when it follows a chain)."""

    def __init__(self, store: IndexStore, follower: Follower | None = None):
        self.store = store
        self.records = Records(store)
        self.follower = follower
        self._names = Names(-1, {}, {})

    # --- shared formatting ----------------------------------------------------------------------

    def names(self) -> Names:
        """Member names and tokens, read again whenever the index moved."""
        position = self.store.next_block()
        if position != self._names.position:
            members = self.records.names_of_all()
            tokens = {
                address: display.Token(address, row["symbol"] or "units", row["decimals"] or 6)
                for address, row in self.records.tokens().items()
            }
            self._names = Names(position, members, tokens)
        return self._names

    def party(self, address: str | None) -> dict[str, Any] | None:
        if not address:
            return None
        return {"address": address, "name": self.names().members.get(address)}

    def amount(self, units: int | None, token: str | None) -> dict[str, Any]:
        units = int(units or 0)
        found = self.names().tokens.get(token or "") or display.Token(token or "", "units", 6)
        return {"text": found.amount(units), "units": str(units), "symbol": found.symbol}

    def status(self) -> dict[str, Any]:
        """Where the index stands: every page shows it."""
        state = self.store.status()
        following = self.follower.state() if self.follower else None
        if state is None:
            return {"chainId": None, "indexedThrough": None, "following": following}
        times = self.records.block_times([state.indexed_through])
        return {
            "chainId": state.chain_id,
            "indexedThrough": {
                "number": state.indexed_through,
                "time": display.when(times.get(state.indexed_through) or state.last_block_time),
            },
            "head": state.head_block,
            "confirmations": state.confirmations,
            "lag": None if state.head_block is None else state.head_block - state.indexed_through,
            "syncedAt": display.when(state.synced_at),
            "rebuilds": state.rebuilds,
            "following": following,
            "contracts": state.contracts,
        }

    def _blocks(self, numbers: Iterable[int | None]) -> dict[int, int]:
        return self.records.block_times(numbers)

    @staticmethod
    def _block(number: int | None, times: dict[int, int]) -> dict[str, Any] | None:
        if number is None:
            return None
        return {"number": number, "time": display.when(times.get(number))}

    # --- providers ------------------------------------------------------------------------------

    def providers(
        self,
        product: str | None = None,
        country: str | None = None,
        min_reputation: str | None = None,
        new: str = "include",
        page: int = 1,
    ) -> dict[str, Any]:
        """Active providers, filtered, best reputation first; new members as new, with sample sizes."""
        f = ProviderFilter(
            product=_product(product),
            country=_country(country),
            min_reputation_ppm=_floor(min_reputation),
            new_members=_choice(new, ("include", "exclude", "only"), "new members"),
        )
        found = self.records.providers(f, offset=(_page(page) - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        rows = [
            {
                "address": r["address"],
                "name": r["name"],
                "countries": r["countries"],
                "products": [product_name(k) for k in r["products"]],
                "reputation": _reputation_summary(r["reputation_ppm"], r["reputation_samples"]),
                **_record(r),
            }
            for r in found.rows
        ]
        return {
            "filters": {
                "product": product or None,
                "country": f.country,
                "minReputation": display.percent(f.min_reputation_ppm) if f.min_reputation_ppm else None,
                "new": f.new_members,
            },
            "options": {
                "products": sorted(product_name(k) for k in self.records.product_keys()),
                "countries": self.records.countries(),
            },
            "pagination": _pagination(found, page),
            "providers": rows,
        }

    def provider(self, address: str) -> dict[str, Any]:
        """One provider's record: reputation over time, deliveries, monthly SLA, tickets, disputes,
        membership history."""
        address = _address(address)
        member = self.records.member(address)
        if member is None:
            raise NotFound(f"no member {address} in the index")
        point = member["reputation"] or {}
        history = self.records.reputation_history(address)
        own = self.records.orders(party=address, limit=1_000_000).rows
        sold = [o for o in own if o["seller"] == address]
        bought = len(own) - len(sold)
        by_order = {o["order_id"]: o for o in sold}
        facts = self.records.facts(list(by_order))
        settled = {
            (m["order_id"], m["milestone"]): m for o in sold for m in self.records.milestones(o["order_id"])
        }
        ledger_disputes = [f for f in self.records.facts([o["order_id"] for o in own]) if f["disputed_block"]]
        escrow_disputes = self.records.escrow_disputes([o["order_id"] for o in own])
        timeline = self.records.member_history(address)
        times = self._blocks(
            [p["block"] for p in history]
            + [f["first_block"] for f in facts]
            + [f["final_block"] for f in facts]
            + [f["disputed_block"] for f in ledger_disputes]
            + [f["resolved_block"] for f in ledger_disputes]
            + [d["opened_block"] for d in escrow_disputes]
            + [d["ruled_block"] for d in escrow_disputes]
            + [m["settled_block"] for m in settled.values()]
        )
        return {
            "member": {
                "address": address,
                "name": member["name"],
                "status": display.enum_name(MemberStatus(member["status"])),
                "sonataUrl": member["sonata_url"],
                "admin": self.party(member["admin"]),
                "council": bool(member["council"]),
                "admitted": None
                if member["admitted_via"] is None
                else {
                    "how": ADMITTED[AdmissionPath(member["admitted_via"])],
                    "block": self._block(member["admitted_block"], self._blocks([member["admitted_block"]])),
                },
                "countries": member["countries"],
                "products": [product_name(k) for k in member["products"]],
                "operationalKeys": [
                    {"key": k, "roles": _roles(r)} for k, r in sorted(member["keys"].items())
                ],
                "ordersSold": len(sold),
                "ordersBought": bought,
            },
            "reputation": {
                **_reputation_summary(member["reputation_ppm"], member["reputation_samples"]),
                **_record(point),
                "quotesRequested": point.get("quotes_requested", 0),
                "quoteTimeliness": display.ratio(
                    point.get("quotes_on_time", 0), point.get("quotes_requested", 0)
                ),
                "ordersFailed": point.get("orders_failed", 0),
                "averageDaysLate": _days(point.get("average_days_late_milli"), point.get("orders_delivered")),
                "periodsReported": point.get("periods_reported", 0),
                "averageAvailability": display.percent(point["average_availability_ppm"], 3)
                if point.get("periods_reported")
                else "-",
            },
            "reputationHistory": [
                {
                    "block": self._block(p["block"], times),
                    "overall": display.reputation(p["overall_ppm"], p["samples"]),
                    "overallPpm": p["overall_ppm"],
                    "samples": p["samples"],
                    "onTimeDelivery": display.ratio(p["orders_on_time"], p["orders_delivered"]),
                    "slaCompliance": display.ratio(p["periods_meeting_objectives"], p["periods_reported"]),
                    "disputesLost": p["disputes_lost"],
                }
                for p in history
            ],
            "deliveries": self._deliveries(sold, facts, times),
            "slaMonths": self._months(by_order, facts, settled, times),
            "tickets": [
                {
                    "order": _hex(f["order_id"]),
                    "buyer": self.party(by_order[f["order_id"]]["buyer"]),
                    "ticket": f"0x{f['key']:08x}",
                    "timeToRestore": display.duration(f["standing"]["value0"]),
                    "resolved": display.when(f["standing"]["value1"]),
                    "status": _fact_status(f),
                    "block": self._block(f["first_block"], times),
                    "evidenceHash": _hex(f["standing"]["evidence_hash"]),
                }
                for f in facts
                if f["kind"] == ReportKind.TROUBLE_TICKET
            ],
            "disputes": self._disputes(ledger_disputes, escrow_disputes, times),
            "history": [
                {
                    "block": self._block(h["block"], {h["block"]: h["timestamp"]}),
                    "kind": h["kind"],
                    "other": self.party(h["other"]),
                    "detail": h["detail"],
                }
                for h in timeline
            ],
        }

    def _deliveries(
        self, sold: list[dict[str, Any]], facts: list[dict[str, Any]], times: dict[int, int]
    ) -> list[dict[str, Any]]:
        """Each order sold: the committed date against the actual one (from the SLA facts)."""
        lifecycle: dict[bytes, dict[int, dict[str, Any]]] = {}
        for f in facts:
            if f["kind"] in (
                ReportKind.ORDER_IN_PROGRESS,
                ReportKind.ORDER_COMPLETED,
                ReportKind.ORDER_FAILED,
            ):
                lifecycle.setdefault(f["order_id"], {})[f["kind"]] = f
        rows = []
        for order in sold:
            known = lifecycle.get(order["order_id"], {})
            completed = known.get(ReportKind.ORDER_COMPLETED)
            failed = known.get(ReportKind.ORDER_FAILED)
            committing = completed or known.get(ReportKind.ORDER_IN_PROGRESS)
            committed = committing["standing"]["value0"] if committing else None
            if completed:
                actual = completed["standing"]["value1"]
                outcome = display.days_late(committed, actual)
            elif failed:
                actual, outcome = None, display.enum_name(FailureReason(failed["standing"]["value0"]))
            else:
                actual, outcome = None, "not delivered yet"
            fact = completed or failed or committing
            rows.append(
                {
                    "order": _hex(order["order_id"]),
                    "buyer": self.party(order["buyer"]),
                    "awarded": display.when(order["awarded_at"]),
                    "committed": display.when(committed),
                    "completed": display.when(actual),
                    "delivery": outcome,
                    "status": _fact_status(fact) if fact else "no report",
                    "block": self._block(fact["first_block"] if fact else None, times),
                }
            )
        return rows

    def _months(
        self,
        by_order: dict[bytes, dict[str, Any]],
        facts: list[dict[str, Any]],
        settled: dict[tuple[bytes, int], dict[str, Any]],
        times: dict[int, int],
    ) -> list[dict[str, Any]]:
        """Each billing month reported: measured against the objectives the order's terms carry."""
        rows = []
        for f in facts:
            if f["kind"] != ReportKind.PERIOD or f["standing"] is None:
                continue
            order = by_order[f["order_id"]]
            checks = check_objectives(_metrics(f["standing"]), CreditSchedule(**order["credits"]))
            milestone = settled.get((f["order_id"], f["key"]))
            rows.append(
                {
                    "order": _hex(f["order_id"]),
                    "buyer": self.party(order["buyer"]),
                    "period": f["key"],
                    "objectives": [_objective(c) for c in checks],
                    "compliant": all(c.met is not False for c in checks),
                    "credit": self._credit(milestone, order),
                    "status": _fact_status(f),
                    "evidenceHash": _hex(f["standing"]["evidence_hash"]),
                    "block": self._block(f["first_block"], times),
                }
            )
        return rows

    def _disputes(
        self, ledger: list[dict[str, Any]], escrow: list[dict[str, Any]], times: dict[int, int]
    ) -> list[dict[str, Any]]:
        rows = [
            {
                "kind": "SLA fact",
                "order": _hex(f["order_id"]),
                "about": _fact_name(f["kind"], f["key"]),
                "by": self.party(f["disputer"]),
                "opened": self._block(f["disputed_block"], times),
                "ruled": self._block(f["resolved_block"], times),
                "ruling": None
                if not f["resolved_block"]
                else (f"{self._name(f['loser'])} lost" if f["loser"] else "nobody blamed"),
                "loser": self.party(f["loser"]),
            }
            for f in ledger
        ]
        rows += [
            {
                "kind": "escrow milestone",
                "order": _hex(d["order_id"]),
                "about": _milestone(d["milestone"]),
                "by": self.party(d["opened_by"]),
                "opened": self._block(d["opened_block"], times),
                "ruled": self._block(d["ruled_block"], times),
                "ruling": None if d["ruled_block"] is None else f"{_bps(d['buyer_share_bps'])} to the buyer",
                "loser": None,
            }
            for d in escrow
        ]
        return rows

    def _name(self, address: str | None) -> str:
        party = self.party(address)
        return "-" if party is None else party["name"] or address or "-"

    # --- RFQs -----------------------------------------------------------------------------------

    def rfqs(self, state: str = "all", party: str | None = None, page: int = 1) -> dict[str, Any]:
        """RFQs, newest first: open and closed, invitees, deadline, number of sealed quotes, award."""
        state = _choice(state, ("all", "open", "closed"), "state")
        who = _address(party) if party else None
        found = self.records.rfqs(
            state=state, party=who, offset=(_page(page) - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        now = self.records.chain_time() or 0
        return {
            "filters": {"state": state, "party": self.party(who)},
            "pagination": _pagination(found, page),
            "rfqs": [self._rfq_row(r, now) for r in found.rows],
        }

    def _rfq_row(self, r: dict[str, Any], now: int) -> dict[str, Any]:
        return {
            "rfq": _hex(r["rfq_id"]),
            "buyer": self.party(r["buyer"]),
            "product": product_name(r["product_key"]),
            "location": _hex(r["location_key"]),
            "deadline": display.when(r["deadline"]),
            "state": _rfq_state(r, now),
            "invited": [self.party(a) for a in r["invited"]],
            "sealedQuotes": r["sealed_quotes"],
            "award": None
            if r["order_id"] is None
            else {"provider": self.party(r["awarded_provider"]), "order": _hex(r["order_id"])},
        }

    def rfq(self, rfq_id: str) -> dict[str, Any]:
        """One RFQ: invitees and their sealed quotes (digests only), and the award with its basis."""
        key = _bytes32(rfq_id, "RFQ id")
        r = self.records.rfq(key)
        if r is None:
            raise NotFound(f"no RFQ {_hex(key)} in the index")
        now = self.records.chain_time() or 0
        times = self._blocks(
            [r["posted_block"], r["awarded_block"], r["closed_block"]] + [e["block"] for e in r["log"]]
        )
        live: dict[str, dict[str, Any]] = {}
        for entry in r["log"]:
            if entry["digest"] is None:
                live.pop(entry["provider"], None)
            else:
                live[entry["provider"]] = entry
        committers = sorted({e["provider"] for e in r["log"]} | set(r["invited"]))
        invitees = [
            {
                "provider": self.party(p),
                "invited": p in r["invited"],
                "sealedQuote": p in live,
                "committed": self._block(live[p]["block"], times) if p in live else None,
                "onTime": p in live and times.get(live[p]["block"], 0) <= r["deadline"],
            }
            for p in committers
        ]
        return {
            **self._rfq_row(r, now),
            "minReputation": display.percent(r["min_reputation"]) if r["min_reputation"] else None,
            "token": r["token"],
            "requestHash": _hex(r["request_hash"]),
            "posted": self._block(r["posted_block"], times),
            "closed": self._block(r["closed_block"], times),
            "providers": invitees,
            "log": [
                {
                    "entry": e["entry"],
                    "provider": self.party(e["provider"]),
                    "digest": None if e["digest"] is None else _hex(e["digest"]),
                    "action": "committed" if e["digest"] is not None else "withdrawn",
                    "block": self._block(e["block"], times),
                }
                for e in r["log"]
            ],
            "awarded": None if r["order_id"] is None else self._award(r, live, times),
        }

    def _award(self, r: dict[str, Any], live: dict[str, Any], times: dict[int, int]) -> dict[str, Any]:
        """The award and what is public about its ranking: the winner's price (its order's terms) and
        every quoting provider's reputation when the buyer awarded; losing prices stay sealed."""
        order = self.records.order(r["order_id"]) or {}
        token = order.get("token") or r["token"]
        months = order.get("term_months") or 0
        total = (order.get("one_time_charge") or 0) + months * (order.get("monthly_charge") or 0)
        standings = []
        for provider in sorted(live):
            point = self.records.reputation_at(provider, r["awarded_block"])
            standings.append(
                {
                    "provider": self.party(provider),
                    "awarded": provider == r["awarded_provider"],
                    "reputation": display.reputation(point["overall_ppm"], point["samples"])
                    if point
                    else "new",
                    "price": "awarded price below" if provider == r["awarded_provider"] else "sealed",
                }
            )
        return {
            "provider": self.party(r["awarded_provider"]),
            "order": _hex(r["order_id"]),
            "digest": _hex(r["awarded_digest"]),
            "block": self._block(r["awarded_block"], times),
            "oneTimeCharge": self.amount(order.get("one_time_charge"), token),
            "monthlyCharge": self.amount(order.get("monthly_charge"), token),
            "termMonths": months,
            "totalOverTerm": self.amount(total, token),
            "perMonthOverTerm": self.amount(total // months if months else 0, token),
            "basis": (
                "The buyer ranked the sealed quotes it received off chain by their cost over the term and "
                "the providers' reputation, and awarded this one on chain. Only the awarded quote's price "
                "is public (its order's terms); the others stay sealed behind their digests."
            ),
            "standings": standings,
        }

    # --- orders ---------------------------------------------------------------------------------

    def orders(self, status: str = "all", party: str | None = None, page: int = 1) -> dict[str, Any]:
        """Orders, newest first, with their state and money flow."""
        status = _choice(status, ("all", "open", "closed"), "status")
        who = _address(party) if party else None
        found = self.records.orders(
            status=status, party=who, offset=(_page(page) - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        moves = self.records.payments([o["order_id"] for o in found.rows])
        times = self._blocks(o["opened_block"] for o in found.rows)
        rows = []
        for o in found.rows:
            rows.append(
                {
                    "order": _hex(o["order_id"]),
                    "rfq": _hex(o["rfq_id"]),
                    "buyer": self.party(o["buyer"]),
                    "seller": self.party(o["seller"]),
                    "status": display.enum_name(OrderStatus(o["status"])),
                    "opened": self._block(o["opened_block"], times),
                    "delivered": display.when(o["delivered_at"]),
                    **self._money(o, moves.get(o["order_id"], [])),
                }
            )
        return {
            "filters": {"status": status, "party": self.party(who)},
            "pagination": _pagination(found, page),
            "orders": rows,
        }

    @staticmethod
    def _credit(milestone: dict[str, Any] | None, order: dict[str, Any]) -> str | None:
        """The share of a settled milestone's charge that did not go to the seller (SLA or
        late-delivery credit, or the buyer's share of a ruling), in per cent of that charge: the
        one-time charge for delivery, the month's (pro rata the first month) for a billing period."""
        if milestone is None or milestone["to_seller"] is None:
            return None
        number = milestone["milestone"]
        charge = (
            order["one_time_charge"]
            if number == 0
            else period_charge(order["monthly_charge"], order["delivered_at"] or 0, number)
        )
        return _bps((charge - milestone["to_seller"]) * 10_000 // charge) if charge else None

    def _money(self, o: dict[str, Any], moves: list[dict[str, Any]]) -> dict[str, Any]:
        flow = MoneyFlow.of(
            o["order_id"],
            o["token"],
            o["buyer"],
            o["seller"],
            [MoneyEvent(m["block"], m["kind"], m["party"], m["amount"], m["milestone"]) for m in moves],
        )
        return {
            part: self.amount(getattr(flow, part), o["token"])
            for part in ("escrowed", "released", "credited", "refunded", "held")
        }

    def order(self, order_id: str) -> dict[str, Any]:
        """One order: terms, state, money flow, milestones, SLA facts with evidence and status, the
        contract commitment."""
        key = _bytes32(order_id, "order id")
        o = self.records.order(key)
        if o is None:
            raise NotFound(f"no order {_hex(key)} in the index")
        moves = self.records.payments([key]).get(key, [])
        facts = self.records.facts([key])
        settled = self.records.milestones(key)
        disputes = self.records.escrow_disputes([key])
        records = self.records.contract_records(key)
        times = self._blocks(
            [o["opened_block"], o["acknowledged_block"], o["delivered_block"], o["closed_block"]]
            + [o["cancel_asked_block"]]
            + [m["block"] for m in moves]
            + [m["settled_block"] for m in settled]
            + [
                f[k]
                for f in facts
                for k in ("first_block", "final_block", "disputed_block", "resolved_block")
            ]
            + [s["block"] for f in facts for s in f["submissions"]]
            + [d[k] for d in disputes for k in ("opened_block", "ruled_block")]
            + [r["block"] for r in records]
        )
        token, credits = o["token"], CreditSchedule(**o["credits"])
        return {
            "order": _hex(key),
            "rfq": _hex(o["rfq_id"]),
            "buyer": self.party(o["buyer"]),
            "seller": self.party(o["seller"]),
            "status": display.enum_name(OrderStatus(o["status"])),
            "closeReason": o["close_reason"],
            "opened": self._block(o["opened_block"], times),
            "acknowledged": self._block(o["acknowledged_block"], times),
            "delivered": display.when(o["delivered_at"]),
            "closed": self._block(o["closed_block"], times),
            # Asked and not yet settled by a delivery or the cancellation itself.
            "cancellation": (
                {"asked": self._block(o["cancel_asked_block"], times), "from": display.when(o["cancel_from"])}
                if o["cancel_from"] and o["status"] == OrderStatus.ACKNOWLEDGED
                else None
            ),
            "terms": {
                "token": {"address": token, "symbol": self.amount(0, token)["symbol"]},
                "oneTimeCharge": self.amount(o["one_time_charge"], token),
                "monthlyCharge": self.amount(o["monthly_charge"], token),
                "termMonths": o["term_months"],
                "installDays": o["install_days"],
                "prepaidMonths": o["prepaid_months"],
                "fundedMonths": o["funded_months"],
                "awardedAt": display.when(o["awarded_at"]),
                "slaTermsHash": _hex(o["sla_terms_hash"]),
                "contractHash": None if not any(o["contract_hash"] or b"") else _hex(o["contract_hash"]),
                "credits": _credits(credits),
            },
            "money": {
                **self._money(o, moves),
                "movements": [
                    {
                        "kind": m["kind"].replace("_", " "),
                        "party": self.party(m["party"]),
                        "amount": self.amount(m["amount"], token),
                        "milestone": None if m["milestone"] is None else _milestone(m["milestone"]),
                        "block": self._block(m["block"], times),
                    }
                    for m in moves
                ],
            },
            "milestones": [
                {
                    "milestone": _milestone(m["milestone"]),
                    "settled": self._block(m["settled_block"], times),
                    "credit": self._credit(m, o),
                    "settlement": None
                    if m["reason"] is None
                    else {
                        "reason": m["reason"],
                        "toSeller": self.amount(m["to_seller"], token),
                        "toBuyer": self.amount(m["to_buyer"], token),
                    },
                }
                for m in settled
            ],
            "facts": [self._fact(f, o, credits, times) for f in facts],
            "disputes": self._disputes([f for f in facts if f["disputed_block"]], disputes, times),
            "contract": {
                "commitment": None if not any(o["contract_hash"] or b"") else _hex(o["contract_hash"]),
                "records": [
                    {
                        "kind": r["kind"],
                        "party": self.party(r["party"]),
                        "commitment": None if r["commitment"] is None else _hex(r["commitment"]),
                        "block": self._block(r["block"], times),
                    }
                    for r in records
                ],
            },
        }

    def _fact(
        self, f: dict[str, Any], order: dict[str, Any], credits: CreditSchedule, times: dict[int, int]
    ) -> dict[str, Any]:
        standing = f["standing"]
        return {
            "report": _hex(f["report_id"]),
            "kind": display.enum_name(ReportKind(f["kind"])),
            "about": _fact_name(f["kind"], f["key"]),
            "reading": _fact_values(f["kind"], standing, credits) if standing else {},
            "evidenceHash": None if standing is None else _hex(standing["evidence_hash"]),
            "status": _fact_status(f),
            "submitted": self._block(f["first_block"], times),
            "final": self._block(f["final_block"], times),
            "disputed": self._block(f["disputed_block"], times),
            "submissions": [
                {
                    "by": self.party(s["member"]),
                    "side": "buyer"
                    if s["member"] == order["buyer"]
                    else "seller"
                    if s["member"] == order["seller"]
                    else None,
                    "contentHash": _hex(s["content_hash"]),
                    "evidenceHash": _hex(s["evidence_hash"]),
                    "tx": s["tx_hash"],
                    "block": self._block(s["block"], times),
                }
                for s in f["submissions"]
            ],
        }

    # --- contract check -------------------------------------------------------------------------

    def contract(self, order: str | None = None) -> dict[str, Any]:
        """The contract check form: the order's commitments when an order is named."""
        if not order:
            return {"order": None, "commitments": []}
        key = _bytes32(order, "order id")
        o = self.records.order(key)
        if o is None:
            raise NotFound(f"no order {_hex(key)} in the index")
        return {
            "order": _hex(key),
            "buyer": self.party(o["buyer"]),
            "seller": self.party(o["seller"]),
            "commitments": [
                {"source": label, "commitment": _hex(c)} for label, c in self._commitments(key, o)
            ],
        }

    def _commitments(self, key: bytes, order: dict[str, Any]) -> list[tuple[str, bytes]]:
        found = []
        if any(order["contract_hash"] or b""):
            found.append(
                ("contract hash in the order's terms (committed at the award)", bytes(order["contract_hash"]))
            )
        for r in self.records.contract_records(key):
            if r["kind"] == "notarised" and r["commitment"]:
                found.append(
                    (f"commitment notarised after the award (block {r['block']})", bytes(r["commitment"]))
                )
        return found

    def check_contract(self, order: str, salt: str, document: str | bytes) -> dict[str, Any]:
        """Whether `document` under `salt` matches the order's on-chain commitment, by the rule of
        ContractNotary.verifyAward (the order exists, its contract hash is not zero, and
        keccak256(salt || keccak256(document)) equals it), computed here from the indexed terms; a
        contract notarised after the award is checked the same way against its stored commitment.

        The document is taken byte for byte; when it is JSON that differs from its canonical form
        (pretty-printed, keys reordered), its canonical form is checked too, since that is what offnet
        commits to."""
        key = _bytes32(order, "order id")
        o = self.records.order(key)
        if o is None:
            raise NotFound(f"no order {_hex(key)} in the index")
        salt_bytes = _bytes32(salt, "salt")
        raw = document.encode() if isinstance(document, str) else bytes(document)
        if not raw.strip():
            raise BadInput("the contract document is empty: paste it or upload its file")
        candidates = [("as given", raw)]
        canonical = _canonical(raw)
        if canonical is not None and canonical != raw:
            candidates.append(("canonical JSON", canonical))
        commitments = self._commitments(key, o)
        result = {
            "order": _hex(key),
            "buyer": self.party(o["buyer"]),
            "seller": self.party(o["seller"]),
            "commitments": [{"source": label, "commitment": _hex(c)} for label, c in commitments],
            "computed": _hex(SealedContract(raw, salt_bytes).commitment),
            "match": False,
            "matched": None,
            "documentBytes": len(raw),
            "documentHash": _hex(keccak(raw)),
        }
        if not commitments:
            result["verdict"] = "no contract was committed for this order (its contract hash is zero)"
            return result
        for form, data in candidates:
            computed = SealedContract(data, salt_bytes).commitment
            for label, commitment in commitments:
                if computed == commitment:
                    result.update(
                        match=True,
                        computed=_hex(computed),
                        matched={"source": label, "form": form},
                        verdict=f"this document ({form}) and salt give the {label}",
                    )
                    return result
        result["verdict"] = "this document and salt do not give the order's commitment"
        return result

    # --- council --------------------------------------------------------------------------------

    def council(self) -> dict[str, Any]:
        """Seats, open proposals with their approvals, executed rulings and other decisions."""
        c = self.records.council()
        now = self.records.chain_time() or 0
        times = self._blocks(
            [p["created_block"] for p in c["proposals"]]
            + [p["executed_block"] for p in c["proposals"]]
            + [a["block"] for p in c["proposals"] for a in p["approved_by"]]
        )
        state = self.store.status()
        contracts = {v: k for k, v in (state.contracts if state else {}).items() if v}
        rows = []
        for p in c["proposals"]:
            if p["executed_block"] is not None:
                state = "executed"
            elif p["expires_at"] <= now:
                state = "expired"
            elif p["council_epoch"] != c["epoch"]:
                state = "stale (the council changed)"
            else:
                state = "open"
            target = contracts.get(p["target"], p["target"])
            rows.append(
                {
                    "proposal": p["proposal_id"],
                    "state": state,
                    "proposer": self.party(p["proposer"]),
                    "target": target,
                    "call": f"{target}.{p['function']}" if p["function"] else None,
                    "summary": self._summary(p),
                    "ruling": p["function"] in RULINGS,
                    "approvals": p["approvals"],
                    "threshold": c["threshold"],
                    "approvedBy": [
                        {"member": self.party(a["member"]), "block": self._block(a["block"], times)}
                        for a in p["approved_by"]
                    ],
                    "created": self._block(p["created_block"], times),
                    "expires": display.when(p["expires_at"]),
                    "executed": self._block(p["executed_block"], times),
                }
            )
        return {
            "seats": [self.party(a) for a in c["seats"]],
            "threshold": c["threshold"],
            "sponsorsRequired": c["sponsors_required"],
            "open": [r for r in rows if r["state"] == "open"],
            "rulings": [r for r in rows if r["state"] == "executed" and r["ruling"]],
            "decisions": [r for r in rows if r["state"] == "executed" and not r["ruling"]],
            "lapsed": [r for r in rows if r["state"] not in ("open", "executed")],
        }

    def _summary(self, p: dict[str, Any]) -> str:
        """A proposal's call as a sentence (the rulings in the market's words)."""
        args = p["arguments"] or {}
        if p["function"] == "resolve":
            report = args.get("report", {})
            order = args.get("orderId") or report.get("orderId", "")
            loser = args.get("loser")
            blamed = (
                "nobody blamed"
                if not loser or not int(loser, 16)
                else f"{self._name(to_checksum_address(loser))} loses"
            )
            about = _fact_name(int(report.get("kind", 0)), int(report.get("key", 0)))
            return f"SLA dispute on the {about} of order {display.short_id(order)}: {blamed}"
        if p["function"] == "rule":
            order = args.get("orderId", "")
            return (
                f"escrow dispute on the {_milestone(int(args.get('milestone', 0)))} of order "
                f"{display.short_id(order)}: {_bps(int(args.get('buyerShareBps', 0)))} to the buyer"
            )
        if p["function"] is None:
            return f"a call of {len(p['data'])} bytes to {p['target']}"
        shown = ", ".join(
            self._name(v) if isinstance(v, str) and is_address(v) else str(v) for v in args.values()
        )
        return f"{p['function']}({shown})"

    # --- blocks ---------------------------------------------------------------------------------

    def block(self, number: int) -> dict[str, Any]:
        """An indexed block: its time and hash, and the suite's events in it."""
        found = self.records.block(number)
        if found is None:
            raise NotFound(f"no indexed event came from block {number}")
        return {
            "number": number,
            "hash": found["hash"],
            "time": display.when(found["timestamp"]),
            "events": [
                {
                    "logIndex": e["log_index"],
                    "tx": e["tx_hash"],
                    "contract": e["contract"],
                    "event": e["name"],
                    "subject": e["subject"],
                    "link": _subject_link(e["contract"], e["name"], e["subject"]),
                }
                for e in found["events"]
            ],
        }


# --- input -------------------------------------------------------------------------------------------


def _page(value: int) -> int:
    if value < 1:
        raise BadInput(f"page must be 1 or more, not {value}")
    return value


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise BadInput(f"{what}: one of {', '.join(allowed)}, not {value!r}")
    return value


def _product(value: str | None) -> bytes | None:
    if not value:
        return None
    if value.startswith("0x"):
        return _bytes32(value, "product key")
    try:
        return product_of(value)[1]
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def _country(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return country_text(country_code(value.strip().upper()))
    except ValueError as exc:
        raise BadInput(f"country: {exc}") from None


def _floor(value: str | None) -> int:
    if value is None or not value.strip():
        return 0
    try:
        return display.ppm_from_text(value)
    except ValueError:
        raise BadInput(
            f"minimum reputation {value!r}: give a score from 0 to 1 (0.9) or a percentage (90%)"
        ) from None


def _address(value: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise BadInput(f"{value!r} is not a 0x-prefixed 20-byte address")
    return to_checksum_address(value)


def _bytes32(value: str, what: str) -> bytes:
    try:
        return from_hex(value.strip(), 32, what)
    except InvalidInput as exc:
        raise BadInput(str(exc)) from None


def _canonical(raw: bytes) -> bytes | None:
    try:
        return canonical_json(json.loads(raw))
    except (ValueError, UnicodeDecodeError):
        return None


# --- values ------------------------------------------------------------------------------------------


def _hex(value: bytes | None) -> str | None:
    return None if value is None else display.hex_id(bytes(value))


def _bps(bps: int) -> str:
    return f"{bps / 100:.2f}%"


def _days(milli: int | None, delivered: int | None) -> str:
    return "-" if not delivered else f"{(milli or 0) / 1000:.1f} days"


def _roles(roles: Any) -> str:
    return ", ".join(r.name.lower() for r in type(roles) if r in roles) or "none"


def _milestone(milestone: int) -> str:
    return "delivery" if milestone == 0 else f"month {milestone}"


def _fact_name(kind: int, key: int) -> str:
    kind = ReportKind(kind)
    if kind == ReportKind.PERIOD:
        return f"month {key} report"
    if kind == ReportKind.TROUBLE_TICKET:
        return f"trouble ticket 0x{key:08x} report"
    return f"{display.enum_name(kind)} report"


def _metrics(s: dict[str, Any]) -> PeriodMetrics:
    return PeriodMetrics(
        s["availability_ppm"],
        s["frame_delay_us"],
        s["frame_loss_ppm"],
        s["time_to_restore_sec"],
        s["outages"],
    )


_UNITS = {
    "availability": lambda v: display.percent(v, 3),
    "frame delay": lambda v: f"{v / 1000:.1f} ms",
    "frame loss": lambda v: display.percent(v, 4),
    "time to restore": display.duration,
}


def _objective(check: Any) -> dict[str, Any]:
    show = _UNITS[check.name]
    return {
        "name": check.name,
        "measured": show(check.measured),
        "objective": None if check.met is None else show(check.objective),
        "met": check.met,
    }


def _fact_values(kind: int, s: dict[str, Any], credits: CreditSchedule) -> dict[str, Any]:
    kind = ReportKind(kind)
    if kind == ReportKind.ORDER_ACKNOWLEDGED:
        return {"acknowledged": display.when(s["value0"])}
    if kind == ReportKind.ORDER_IN_PROGRESS:
        return {"committed": display.when(s["value0"])}
    if kind == ReportKind.ORDER_COMPLETED:
        return {
            "committed": display.when(s["value0"]),
            "completed": display.when(s["value1"]),
            "delivery": display.days_late(s["value0"], s["value1"]),
        }
    if kind == ReportKind.ORDER_FAILED:
        return {"reason": display.enum_name(FailureReason(s["value0"])), "at": display.when(s["value1"])}
    if kind == ReportKind.TROUBLE_TICKET:
        return {"timeToRestore": display.duration(s["value0"]), "resolved": display.when(s["value1"])}
    checks = check_objectives(_metrics(s), credits)
    return {
        "objectives": [_objective(c) for c in checks],
        "outages": s["outages"],
        "compliant": all(c.met is not False for c in checks),
    }


def _credits(c: CreditSchedule) -> dict[str, str]:
    """The credit schedule in words: each objective with the credit its miss costs the seller."""
    misses = {
        "availability": ("availability", c.availability_objective_ppm, c.availability_credit_bps),
        "frameDelay": ("frame delay", c.frame_delay_objective_us, c.frame_delay_credit_bps),
        "frameLoss": ("frame loss", c.frame_loss_objective_ppm, c.frame_loss_credit_bps),
        "timeToRestore": ("time to restore", c.time_to_restore_objective_sec, c.time_to_restore_credit_bps),
    }
    return {
        "lateDelivery": f"{_bps(c.late_delivery_bps_per_day)} of the one-time charge per day late, "
        f"at most {_bps(c.late_delivery_cap_bps)}",
        **{
            key: "-" if not objective else f"{_UNITS[name](objective)} or {_bps(bps)}"
            for key, (name, objective, bps) in misses.items()
        },
        "monthlyCap": _bps(c.monthly_credit_cap_bps),
    }


def _reputation_summary(ppm: int, samples: int) -> dict[str, Any]:
    return {"text": display.reputation(ppm, samples), "ppm": ppm, "samples": samples, "new": samples == 0}


def _record(point: dict[str, Any]) -> dict[str, Any]:
    """The track-record columns of the providers table, from a reputation point (empty when new)."""
    get = {name: point.get(name) or 0 for name in REPUTATION_FIELDS}
    return {
        "ordersDelivered": get["orders_delivered"],
        "onTime": display.ratio(get["orders_on_time"], get["orders_delivered"]),
        "slaCompliance": display.ratio(get["periods_meeting_objectives"], get["periods_reported"]),
        "tickets": get["trouble_tickets"],
        "meanTimeToRestore": display.duration(get["average_restore_sec"]) if get["trouble_tickets"] else "-",
        "disputesLost": get["disputes_lost"],
    }


def _rfq_state(r: dict[str, Any], now: int) -> str:
    status = RfqStatus(r["status"])
    if status == RfqStatus.OPEN:
        return "taking quotes" if now <= r["deadline"] else "awaiting award"
    return display.enum_name(status)


def _pagination(found: Page, page: int) -> dict[str, Any]:
    return {
        "total": found.total,
        "page": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "first": found.offset + 1 if found.rows else 0,
        "last": found.offset + len(found.rows),
    }


def _subject_link(contract: str, name: str, subject: str | None) -> str | None:
    """Where the page of what an event is about lives."""
    if not subject:
        return None
    if len(subject) == 42:
        return f"/providers/{subject}"
    if name.startswith("Proposal"):
        return "/council"
    if contract == "RfqMarket":
        return f"/rfqs/{subject}"
    if contract in ("OrderEscrow", "SlaLedger", "ContractNotary"):
        return f"/orders/{subject}"
    return None
