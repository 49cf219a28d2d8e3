"""The reference seller's state machines: quotes, product orders and trouble tickets moving through
the states of SONATA.md on the seller's clock, and the notifications each transition produces.

Everything random is drawn from ``Random(f"{seed}:{what}:{id}")``, so one seed and one sequence of
requests always give the same quotes, dates and measurements, whatever the order of polling.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from offnet.exceptions import SellerError
from offnet.sonata.models import (
    APPROVED_QUOTE_STATES,
    PRODUCT_ORDER_API,
    QUOTE_API,
    TROUBLE_TICKET_API,
    CancelProductOrder,
    CancelProductOrderCreate,
    EventSubscription,
    EventSubscriptionInput,
    ProductOrder,
    ProductOrderCreate,
    ProductOrderItemState,
    ProductOrderState,
    ProductOrderSummary,
    Quote,
    QuoteCreate,
    QuoteItemState,
    QuoteOperation,
    QuoteState,
    QuoteSummary,
    SonataApi,
    SonataModel,
    TroubleTicket,
    TroubleTicketCreate,
    TroubleTicketStatus,
    TroubleTicketSummary,
    TroubleTicketUpdate,
    require_unique,
)
from offnet.sonata.seller.clock import Clock
from offnet.sonata.seller.profiles import BehaviourProfile
from offnet.sonata.seller.store import SellerStore
from offnet.sonata.units import interval_to_seconds, month_bounds, percent_to_ppm

R = TypeVar("R", bound=SonataModel)

# The first state of quotes, product orders and their items alike (Quote v8, ProductOrder v10).
ACKNOWLEDGED = "acknowledged"

CANCELLABLE_QUOTE = frozenset({QuoteState.IN_PROGRESS, QuoteState.IN_PROGRESS_DRAFT})
# The buyer's two ways to end a quote: the states each applies to, where it leads, and what it says
# when the quote is in another state.
QUOTE_ENDINGS = {
    "cancel": (CANCELLABLE_QUOTE, QuoteState.CANCELLED, "a quote in progress can be cancelled"),
    "reject": (
        APPROVED_QUOTE_STATES | {QuoteState.ANSWERED},
        QuoteState.DECLINED,
        "an answered or approved quote can be rejected",
    ),
}
CANCELLABLE_ORDER = frozenset({ProductOrderState.ACKNOWLEDGED, ProductOrderState.IN_PROGRESS})
TICKET_OPEN = frozenset(
    {
        TroubleTicketStatus.ACKNOWLEDGED,
        TroubleTicketStatus.IN_PROGRESS,
        TroubleTicketStatus.PENDING,
        TroubleTicketStatus.REOPENED,
    }
)
MILESTONE_EVENT = "productSpecificProductOrderItemMilestoneEvent"


def not_found(what: str, identifier: str) -> SellerError:
    """404 for an unknown id in the path."""
    return SellerError(404, "notFound", f"no {what} {identifier!r}")


def unknown_reference(pointer: str, what: str, identifier: str) -> SellerError:
    """422 ``referenceNotFound`` for an unknown id named in the body."""
    return SellerError.unprocessable("referenceNotFound", pointer, f"{pointer}: no {what} {identifier!r}")  # type: ignore[return-value]


def invalid(pointer: str, message: str, code: str = "invalidValue") -> SellerError:
    """422 for a request the seller cannot act on (one issue, at ``pointer``)."""
    return SellerError.unprocessable(code, pointer, f"{pointer}: {message}")  # type: ignore[return-value]


@dataclass(frozen=True)
class Subscription:
    id: str
    api: SonataApi
    callback: str
    query: str | None
    event_types: frozenset[str] | None
    buyer: str

    def answer(self) -> EventSubscription:
        """The MEF ``EventSubscription`` of this registration."""
        return EventSubscription(
            id=self.id, callback=self.callback, **({"query": self.query} if self.query else {})
        )


@dataclass(frozen=True)
class Delivery:
    """One notification to POST: where, what, and for which subscription."""

    url: str
    event_type: str
    body: dict[str, Any]
    subscription_id: str


@dataclass(order=True)
class Step:
    """A planned transition: at ``due``, run the engine's method ``action`` with ``args`` (plain
    JSON values, so a step can be stored and run after a restart)."""

    due: datetime
    seq: int
    owner: str = field(compare=False)
    action: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


# The seller's own integration (its offnet oracle) authenticates as this party: it may read every
# resource and its hub subscriptions receive the events of every buyer.
OPERATOR = "*"


class SellerEngine:
    """In-memory seller: resources, scheduled transitions, hub subscriptions and an outbox."""

    def __init__(
        self,
        profile: BehaviourProfile,
        seed: int | str,
        clock: Clock,
        *,
        seller_id: str = "offnet-seller",
        instance: str = "0",
        store: SellerStore | None = None,
    ) -> None:
        self.profile = profile
        self.seed = seed
        self.clock = clock
        self.seller_id = seller_id
        self.instance = instance
        self.quotes: dict[str, Quote] = {}
        self.orders: dict[str, ProductOrder] = {}
        self.cancellations: dict[str, CancelProductOrder] = {}
        self.tickets: dict[str, TroubleTicket] = {}
        self._owner: dict[str, str] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._steps: list[Step] = []
        self._seq = itertools.count()
        self._ids: dict[str, int] = {}
        self.outbox: list[Delivery] = []
        self.silenced: list[dict[str, Any]] = []
        self.store = store
        self._dirty: set[str] = set()
        if store is not None:
            self._restore(store)

    # --- persistence ---

    _STORES = (
        ("quote", "quotes", Quote),
        ("productOrder", "orders", ProductOrder),
        ("cancelProductOrder", "cancellations", CancelProductOrder),
        ("troubleTicket", "tickets", TroubleTicket),
    )

    def _restore(self, store: SellerStore) -> None:
        saved = store.load()
        # A restarted seller keeps its id prefix, so new ids never collide with stored ones.
        self.instance = saved.meta.get("instance", self.instance)
        self._ids = dict(saved.meta.get("ids", {}))
        self._seq = itertools.count(saved.meta.get("seq", 0))
        models = {kind: (attribute, model) for kind, attribute, model in self._STORES}
        for resource_id, kind, owner, document in saved.resources:
            attribute, model = models[kind]
            getattr(self, attribute)[resource_id] = model.model_validate(document)
            self._owner[resource_id] = owner
        apis = {api.name: api for api in (QUOTE_API, PRODUCT_ORDER_API, TROUBLE_TICKET_API)}
        for sub_id, api, callback, query, buyer in saved.subscriptions:
            request = EventSubscriptionInput(callback=callback, **({"query": query} if query else {}))
            self._subscriptions[sub_id] = Subscription(
                sub_id, apis[api], callback, query, request.event_types(), buyer
            )
        self._steps = [
            Step(due, seq, owner, action, tuple(args)) for seq, due, owner, action, args in saved.steps
        ]
        heapq.heapify(self._steps)

    def commit(self) -> None:
        """Write what changed since the last commit (nothing without a store)."""
        if self.store is None or not self._dirty:
            self._dirty.clear()  # nothing to write them to
            return
        changed = []
        for kind, attribute, _model in self._STORES:
            store = getattr(self, attribute)
            changed += [
                (rid, kind, self._owner[rid], store[rid].to_json()) for rid in self._dirty if rid in store
            ]
        planned: dict[str, list[tuple[int, datetime, str, list[Any]]]] = {owner: [] for owner in self._dirty}
        for step in self._steps:
            if step.owner in planned:
                planned[step.owner].append((step.seq, step.due, step.action, list(step.args)))
        hubs = [(s.id, s.api.name, s.callback, s.query, s.buyer) for s in self._subscriptions.values()]
        seq = next(self._seq)
        self._seq = itertools.count(seq)
        settings = {"instance": self.instance, "ids": self._ids, "seq": seq}
        self.store.save(settings, changed, planned, hubs)
        self._dirty.clear()

    # --- randomness, ids, scheduling ---

    def rng(self, *key: object) -> random.Random:
        """The deterministic random stream of one decision (seed + what + id)."""
        return random.Random(":".join(str(k) for k in (self.seed, *key)))

    def _new_id(self, prefix: str) -> str:
        self._ids[prefix] = self._ids.get(prefix, 0) + 1
        return f"{prefix}-{self.instance}-{self._ids[prefix]:04d}"

    def _schedule(self, due: datetime, owner: str, action: str, *args: Any) -> None:
        # Whole seconds: Sonata dates read better, and on chain they are unix seconds anyway.
        heapq.heappush(self._steps, Step(due.replace(microsecond=0), next(self._seq), owner, action, args))
        self._dirty.add(owner)

    def _unschedule(self, owner: str) -> None:
        self._steps = [s for s in self._steps if s.owner != owner]
        heapq.heapify(self._steps)
        self._dirty.add(owner)

    def progress(self) -> int:
        """Run every transition due by now, in time order; the number run."""
        now = self.clock()
        ran = 0
        while self._steps and self._steps[0].due <= now:
            step = heapq.heappop(self._steps)
            getattr(self, step.action)(*step.args, step.due)
            ran += 1
        return ran

    def take_outbox(self) -> list[Delivery]:
        """The notifications waiting to be sent (the outbox is emptied)."""
        pending, self.outbox = self.outbox, []
        return pending

    # --- hubs ---

    def subscribe(self, api: SonataApi, request: EventSubscriptionInput, buyer: str) -> EventSubscription:
        """Register a listener for ``api`` events about the buyer's resources."""
        try:
            wanted = request.event_types()
        except ValueError as exc:
            raise SellerError(400, "invalidQuery", str(exc)) from None
        unknown = sorted((wanted or frozenset()) - set(api.events))
        if unknown:
            raise SellerError(
                400, "invalidQuery", f"unknown {api.notification} event types: {', '.join(unknown)}"
            )
        sub = Subscription(
            self._new_id("HUB"), api, request.callback.rstrip("/"), request.query, wanted, buyer
        )
        self._subscriptions[sub.id] = sub
        self._dirty.add(sub.id)
        return sub.answer()

    def subscription(self, api: SonataApi, subscription_id: str, buyer: str) -> EventSubscription:
        """A listener registration of this buyer on this API."""
        sub = self._subscriptions.get(subscription_id)
        if sub is None or sub.api is not api or sub.buyer != buyer:
            raise not_found("hub subscription", subscription_id)
        return sub.answer()

    def unsubscribe(self, api: SonataApi, subscription_id: str, buyer: str) -> None:
        """Remove a listener registration of this buyer on this API."""
        sub = self._subscriptions.get(subscription_id)
        if sub is None or sub.api is not api or sub.buyer != buyer:
            raise not_found("hub subscription", subscription_id)
        del self._subscriptions[subscription_id]
        self._dirty.add(subscription_id)

    def _publish(
        self, api: SonataApi, event_type: str, resource_id: str, when: datetime, **extra: str
    ) -> None:
        buyer = self._owner[resource_id]
        self._dirty.add(resource_id)
        event_id = self._new_id("EV")
        body = {
            "eventId": event_id,
            "eventTime": when,
            "eventType": event_type,
            "event": {
                "id": resource_id,
                "href": self._href(api, resource_id),
                "buyerId": buyer,
                "sellerId": self.seller_id,
                **extra,
            },
        }
        envelope = api.events[event_type].model_validate(body).to_json()
        if self.rng("silent", event_id).random() < self.profile.silent_probability:
            self.silenced.append(envelope)
            return
        for sub in self._subscriptions.values():
            if (
                sub.api is api
                and sub.buyer in (buyer, OPERATOR)
                and (sub.event_types is None or event_type in sub.event_types)
            ):
                self.outbox.append(
                    Delivery(sub.callback + api.listener_path(event_type), event_type, envelope, sub.id)
                )

    def _href(self, api: SonataApi, resource_id: str, collection: str | None = None) -> str:
        if collection is None:
            collection = "cancelProductOrder" if resource_id in self.cancellations else api.name
        return f"{api.management_base}/{collection}/{resource_id}"

    def _open(
        self,
        store: dict[str, R],
        model: type[R],
        api: SonataApi,
        prefix: str,
        document: dict[str, Any],
        owner: str,
        *,
        collection: str | None = None,
        **fields: Any,
    ) -> R:
        """A new resource of ``owner``: ``document`` with a new id, its href and ``fields``, kept in
        ``store`` and marked for the next commit."""
        resource_id = self._new_id(prefix)
        resource = model.model_validate(
            {**document, "id": resource_id, "href": self._href(api, resource_id, collection), **fields}
        )
        store[resource_id] = resource
        self._owner[resource_id] = owner
        self._dirty.add(resource_id)
        return resource

    def _owned(self, store: dict[str, Any], what: str, identifier: str, buyer: str) -> Any:
        resource = store.get(identifier)
        if resource is None or buyer not in (self._owner.get(identifier), OPERATOR):
            raise not_found(what, identifier)
        return resource

    def _acknowledge(
        self,
        store: dict[str, R],
        model: type[R],
        api: SonataApi,
        prefix: str,
        request: SonataModel,
        items: str,
        date_field: str,
        buyer: str,
        now: datetime,
    ) -> R:
        """A quote or order request taken on: it and each of its ``items`` acknowledged, dated
        ``now`` in ``date_field``, with its first state change."""
        document = request.to_json()
        for item in document[items]:
            item["state"] = ACKNOWLEDGED
        return self._open(
            store,
            model,
            api,
            prefix,
            document,
            buyer,
            state=ACKNOWLEDGED,
            stateChange=[{"state": ACKNOWLEDGED, "changeDate": now}],
            **{date_field: now},
        )

    # --- Quote v8 ---

    def create_quote(self, request: QuoteCreate, buyer: str) -> Quote:
        """Acknowledge a quote request and plan its answer."""
        _unique_items([item.id for item in request.quoteItem], "quoteItem")
        now = self.clock()
        quote = self._acknowledge(
            self.quotes, Quote, QUOTE_API, "Q", request, "quoteItem", "quoteDate", buyer, now
        )
        quote_id = quote.id
        answer_at = self._answer_time(quote_id, now, request.requestedQuoteCompletionDate)
        if request.instantSyncQuote:
            self._answer_quote(quote_id, now)
            return quote
        quote.expectedQuoteCompletionDate = answer_at
        self._schedule(
            now + min(timedelta(minutes=15), (answer_at - now) / 2),
            quote_id,
            "_quote_in_progress",
            quote_id,
        )
        self._schedule(answer_at, quote_id, "_answer_quote", quote_id)
        return quote

    def _answer_time(self, quote_id: str, now: datetime, deadline: datetime | None) -> datetime:
        rng = self.rng("quote-delay", quote_id)
        answer_at = now + timedelta(hours=rng.uniform(*self.profile.quote_delay_hours))
        if deadline is None:
            return answer_at.replace(microsecond=0)
        if rng.random() < self.profile.late_quote_probability:
            return max(answer_at, deadline + timedelta(hours=rng.uniform(1, 24))).replace(microsecond=0)
        if answer_at >= deadline:
            window = max(deadline - now, timedelta(minutes=2))
            answer_at = now + window * rng.uniform(0.3, 0.9)
        return answer_at.replace(microsecond=0)

    def _set_quote_state(
        self, quote: Quote, state: QuoteState, when: datetime, reason: str | None = None
    ) -> None:
        quote.state = state
        change = {"state": state, "changeDate": when, **({"changeReason": reason} if reason else {})}
        quote.stateChange = [*(quote.stateChange or []), change]
        self._publish(QUOTE_API, "quoteStateChangeEvent", quote.id, when)

    def _set_quote_items(self, quote: Quote, state: QuoteItemState, when: datetime) -> None:
        for item in quote.quoteItem:
            item.state = state
            self._publish(QUOTE_API, "quoteItemStateChangeEvent", quote.id, when, quoteItemId=item.id)

    def _quote_in_progress(self, quote_id: str, when: datetime) -> None:
        quote = self.quotes[quote_id]
        self._set_quote_state(quote, QuoteState.IN_PROGRESS, when)
        self._set_quote_items(quote, QuoteItemState.IN_PROGRESS, when)

    def _answer_quote(self, quote_id: str, when: datetime) -> None:
        quote = self.quotes[quote_id]
        profile = self.profile
        budgetary = quote.buyerRequestedQuoteLevel == "budgetary"
        unable = False
        for item in quote.quoteItem:
            rng = self.rng("quote-item", quote_id, item.id)
            if rng.random() < profile.unable_to_provide_probability:
                item.state = QuoteItemState.UNABLE_TO_PROVIDE
                item.terminationError = [{"code": "otherIssue", "value": "no coverage at the install site"}]
                unable = True
                continue
            item.state = QuoteItemState.ANSWERED if budgetary else QuoteItemState.APPROVED_ORDERABLE
            if item.action == "delete":
                item.quoteItemPrice = []  # disconnecting costs nothing here
                continue
            item.quoteItemInstallationInterval = {
                "amount": rng.randint(*profile.installation_days),
                "units": "calendarDays",
            }
            item.quoteItemPrice = [
                {
                    "name": "Installation",
                    "priceType": "nonRecurring",
                    "price": {
                        "dutyFreeAmount": {
                            "unit": profile.currency,
                            "value": round(rng.uniform(*profile.installation_price)),
                        }
                    },
                },
                {
                    "name": "Monthly rental",
                    "priceType": "recurring",
                    "recurringChargePeriod": "month",
                    "price": {
                        "dutyFreeAmount": {
                            "unit": profile.currency,
                            "value": round(rng.uniform(*profile.monthly_price)),
                        }
                    },
                },
            ]
            if item.requestedQuoteItemTerm is not None:
                item.quoteItemTerm = [item.requestedQuoteItemTerm]
            item.subjectToFeasibilityCheck = False
        quote.effectiveQuoteCompletionDate = when
        # MEF 115: a budgetary request is answered, never orderable; one item the seller cannot
        # provide makes the whole quote unableToProvide.
        quote.quoteLevel = "budgetary" if budgetary else "firm"
        if unable:
            self._set_quote_state(
                quote, QuoteState.UNABLE_TO_PROVIDE, when, "no coverage at the install site"
            )
        else:
            until = when + timedelta(days=profile.quote_validity_days)
            quote.validFor = {"startDateTime": when, "endDateTime": until}
            self._set_quote_state(
                quote, QuoteState.ANSWERED if budgetary else QuoteState.APPROVED_ORDERABLE, when
            )
            self._schedule(until, quote_id, "_expire_quote", quote_id)
        for item in quote.quoteItem:
            self._publish(QUOTE_API, "quoteItemStateChangeEvent", quote.id, when, quoteItemId=item.id)

    def _expire_quote(self, quote_id: str, when: datetime) -> None:
        quote = self.quotes[quote_id]
        if quote.state in APPROVED_QUOTE_STATES or quote.state is QuoteState.ANSWERED:
            self._set_quote_state(quote, QuoteState.EXPIRED, when)

    def get_quote(self, quote_id: str, buyer: str) -> Quote:
        """The buyer's quote."""
        return self._owned(self.quotes, "quote", quote_id, buyer)

    def _referenced_quote(self, quote_id: str, buyer: str) -> Quote:
        quote = self.quotes.get(quote_id)
        if quote is None or buyer not in (self._owner.get(quote_id), OPERATOR):
            raise unknown_reference("/quoteId", "quote", quote_id)
        return quote

    def cancel_quote(self, quote_id: str, buyer: str, reason: str | None) -> QuoteOperation:
        """Buyer withdraws a request still being worked on (MEF 115: from an inProgress state)."""
        return self._end_quote("cancel", quote_id, buyer, reason)

    def reject_quote(self, quote_id: str, buyer: str, reason: str | None) -> QuoteOperation:
        """Buyer declines an answered or approved quote."""
        return self._end_quote("reject", quote_id, buyer, reason)

    def _end_quote(self, how: str, quote_id: str, buyer: str, reason: str | None) -> QuoteOperation:
        allowed, state, only = QUOTE_ENDINGS[how]
        quote = self._referenced_quote(quote_id, buyer)
        if quote.state not in allowed:
            raise invalid("/quoteId", f"quote {quote_id} is {quote.state}; only {only}")
        self._unschedule(quote_id)
        self._set_quote_state(quote, state, self.clock(), reason)
        return QuoteOperation(quoteId=quote_id, **({"reason": reason} if reason else {}))

    def list_quotes(self, buyer: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /quote``: the buyer's quotes as ``Quote_Find`` entries, filtered by exact values."""
        return _listing(self._visible(self.quotes, buyer), QuoteSummary, filters)

    def _visible(self, store: dict[str, Any], buyer: str) -> list[Any]:
        return [r for key, r in store.items() if buyer in (self._owner.get(key), OPERATOR)]

    # --- ProductOrder v10 ---

    def create_order(self, request: ProductOrderCreate, buyer: str) -> ProductOrder:
        """Accept the referenced quote items (add, modify or delete) and plan delivery."""
        _unique_items([item.id for item in request.productOrderItem], "productOrderItem")
        now = self.clock()
        intervals: dict[str, int] = {}
        accepted: list[Quote] = []
        for index, item in enumerate(request.productOrderItem):
            ref = item.quoteItem
            if ref is None:
                intervals[item.id] = (
                    self.rng("interval", item.id).randint(*self.profile.installation_days) * 86400
                )
                continue
            pointer = f"/productOrderItem/{index}/quoteItem"
            quote = self.quotes.get(ref.quoteId)
            if quote is None or self._owner.get(ref.quoteId) != buyer:
                raise unknown_reference(f"{pointer}/quoteId", "quote", ref.quoteId)
            try:
                quoted = quote.item(ref.id)
            except LookupError:
                raise unknown_reference(f"{pointer}/id", f"item of quote {ref.quoteId}", ref.id) from None
            if (
                quote.state not in APPROVED_QUOTE_STATES
                or quoted.state is not QuoteItemState.APPROVED_ORDERABLE
            ):
                raise invalid(
                    pointer, f"quote {ref.quoteId} item {ref.id} is not orderable (quote is {quote.state})"
                )
            interval = quoted.quoteItemInstallationInterval
            intervals[item.id] = interval_to_seconds(interval) if interval is not None else 0
            accepted.append(quote)
        order = self._acknowledge(
            self.orders,
            ProductOrder,
            PRODUCT_ORDER_API,
            "PO",
            request,
            "productOrderItem",
            "orderDate",
            buyer,
            now,
        )
        order_id = order.id
        for quote in {q.id: q for q in accepted}.values():
            self._unschedule(quote.id)
            self._set_quote_state(quote, QuoteState.ACCEPTED, now, f"ordered in {order_id}")
        rng = self.rng("order", order_id)
        start = now + timedelta(hours=rng.uniform(0.5, 4.0))
        self._schedule(start, order_id, "_start_order", order_id, intervals)
        return order

    def _set_order_state(self, order: ProductOrder, state: ProductOrderState, when: datetime) -> None:
        order.state = state
        order.stateChange = [*(order.stateChange or []), {"state": state, "changeDate": when}]
        self._publish(PRODUCT_ORDER_API, "productOrderStateChangeEvent", order.id, when)

    def _set_item_state(
        self,
        order: ProductOrder,
        state: ProductOrderItemState,
        when: datetime,
        items: list[Any] | None = None,
    ) -> None:
        for item in order.productOrderItem if items is None else items:
            item.state = state
            item.stateChange = [*(item.stateChange or []), {"state": state, "changeDate": when}]
            self._publish(
                PRODUCT_ORDER_API, "productOrderItemStateChangeEvent", order.id, when, orderItemId=item.id
            )

    def _start_order(self, order_id: str, intervals: dict[str, int], when: datetime) -> None:
        order = self.orders[order_id]
        self._set_order_state(order, ProductOrderState.IN_PROGRESS, when)
        self._set_item_state(order, ProductOrderItemState.IN_PROGRESS, when)
        latest = when
        for item in order.productOrderItem:
            expected = when + timedelta(seconds=intervals[item.id])
            if item.requestedCompletionDate is not None and item.requestedCompletionDate > expected:
                expected = item.requestedCompletionDate
            item.expectedCompletionDate = expected
            latest = max(latest, expected)
            self._publish(
                PRODUCT_ORDER_API,
                "productOrderItemExpectedCompletionDateSet",
                order_id,
                when,
                orderItemId=item.id,
            )
            survey = when + (expected - when) / 3
            self._schedule(survey, order_id, "_milestone", order_id, item.id)
        rng = self.rng("delivery", order_id)
        done = latest + timedelta(days=rng.uniform(*self.profile.delivery_slip_days))
        failed = {
            item.id
            for item in order.productOrderItem
            if self.rng("delivery-failure", order_id, item.id).random()
            < self.profile.delivery_failure_probability
        }
        self._schedule(
            max(done, when + timedelta(minutes=1)), order_id, "_finish_order", order_id, sorted(failed)
        )

    def _milestone(self, order_id: str, item_id: str, when: datetime) -> None:
        item = self.orders[order_id].item(item_id)
        item.milestone = [*(item.milestone or []), {"name": "siteSurveyDone", "date": when}]
        self._publish(
            PRODUCT_ORDER_API,
            MILESTONE_EVENT,
            order_id,
            when,
            orderItemId=item_id,
            milestoneName="siteSurveyDone",
        )

    def _finish_order(self, order_id: str, failed: list[str], when: datetime) -> None:
        # MEF 123: every item failed -> failed; some failed -> partial; none -> completed. The
        # order's completionDate is set whatever the outcome; failed items say why.
        order = self.orders[order_id]
        done = [item for item in order.productOrderItem if item.id not in failed]
        broken = [item for item in order.productOrderItem if item.id in failed]
        for item in done:
            item.completionDate = when
            if item.action == "add" and item.product is not None and item.product.id is None:
                item.product.id = f"PRD-{order_id}-{item.id}"
        for item in broken:
            item.terminationError = [{"code": "otherIssue", "value": "installation failed at the site"}]
        order.completionDate = when
        if done:
            self._set_item_state(order, ProductOrderItemState.COMPLETED, when, done)
        if broken:
            self._set_item_state(order, ProductOrderItemState.FAILED, when, broken)
        state = (
            ProductOrderState.COMPLETED
            if not broken
            else ProductOrderState.FAILED
            if not done
            else ProductOrderState.PARTIAL
        )
        self._set_order_state(order, state, when)

    def get_order(self, order_id: str, buyer: str) -> ProductOrder:
        """The buyer's product order."""
        return self._owned(self.orders, "product order", order_id, buyer)

    def list_orders(self, buyer: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /productOrder``: the buyer's orders as ``ProductOrder_Find`` entries."""
        return _listing(self._visible(self.orders, buyer), ProductOrderSummary, filters)

    def cancel_order(self, request: CancelProductOrderCreate, buyer: str) -> CancelProductOrder:
        """Ask to cancel an order not yet completed: MEF 123's assessingCancellation, then
        pendingCancellation, then cancelled (no cancellation charge)."""
        order_id = request.productOrder.productOrderId
        order = self.orders.get(order_id)
        if order is None or buyer not in (self._owner.get(order_id), OPERATOR):
            raise unknown_reference("/productOrder/productOrderId", "product order", order_id)
        if order.state not in CANCELLABLE_ORDER:
            raise invalid(
                "/productOrder/productOrderId",
                f"product order {order.id} is {order.state}; only an acknowledged or in-progress order can be cancelled",
            )
        now = self.clock()
        cancellation = self._open(
            self.cancellations,
            CancelProductOrder,
            PRODUCT_ORDER_API,
            "CPO",
            request.to_json(),
            self._owner[order_id],
            collection="cancelProductOrder",
            state="acknowledged",
        )
        cancel_id = cancellation.id
        self._unschedule(order.id)
        self._publish(PRODUCT_ORDER_API, "cancelProductOrderStateChangeEvent", cancel_id, now)
        self._set_order_state(order, ProductOrderState.ASSESSING_CANCELLATION, now)
        reason = request.cancellationReason
        self._schedule(now + timedelta(minutes=30), order_id, "_pending_cancellation", order_id)
        self._schedule(now + timedelta(hours=1), order_id, "_cancelled", order_id, cancel_id, reason)
        return cancellation

    def _pending_cancellation(self, order_id: str, when: datetime) -> None:
        self._set_order_state(self.orders[order_id], ProductOrderState.PENDING_CANCELLATION, when)

    def _cancelled(self, order_id: str, cancel_id: str, reason: str | None, when: datetime) -> None:
        order = self.orders[order_id]
        order.cancellationDate = when
        order.completionDate = when
        if reason:
            order.cancellationReason = reason
        self.cancellations[cancel_id].state = "done"
        self._publish(PRODUCT_ORDER_API, "cancelProductOrderStateChangeEvent", cancel_id, when)
        self._set_item_state(order, ProductOrderItemState.CANCELLED, when)
        self._set_order_state(order, ProductOrderState.CANCELLED, when)

    def get_cancellation(self, cancel_id: str, buyer: str) -> CancelProductOrder:
        """A cancellation request of the buyer."""
        return self._owned(self.cancellations, "cancellation", cancel_id, buyer)

    # --- TroubleTicket v4 ---

    def _ticket_subject(self, request: TroubleTicketCreate, buyer: str) -> bool:
        # A ticket is about one of the buyer's product orders or a product they delivered.
        products = {
            item.product.id: order_id
            for order_id, order in self.orders.items()
            for item in order.productOrderItem
            if item.product is not None and item.product.id
        }
        for entity in request.relatedEntity:
            order_id = entity.id if entity.id in self.orders else products.get(entity.id)
            if order_id is not None and self._owner.get(order_id) == buyer:
                return True
        return False

    def create_ticket(self, request: TroubleTicketCreate, buyer: str) -> TroubleTicket:
        """Open a ticket on one of the buyer's orders or products and plan its restoration."""
        if not self._ticket_subject(request, buyer):
            ids = ", ".join(e.id for e in request.relatedEntity)
            raise unknown_reference("/relatedEntity", "product order or product of yours", ids)
        now = self.clock()
        if request.issueStartDate is not None and request.issueStartDate > now:
            raise invalid("/issueStartDate", "issueStartDate is in the future")
        ticket = self._open(
            self.tickets,
            TroubleTicket,
            TROUBLE_TICKET_API,
            "TT",
            request.to_json(),
            buyer,
            status=TroubleTicketStatus.ACKNOWLEDGED,
            sellerPriority=request.priority,
            sellerSeverity=request.severity,
            creationDate=now,
            statusChange=[{"status": TroubleTicketStatus.ACKNOWLEDGED, "changeDate": now}],
        )
        self._plan_restoration(ticket.id, now + timedelta(minutes=5))
        return ticket

    def _plan_restoration(self, ticket_id: str, start: datetime) -> None:
        ticket = self.tickets[ticket_id]
        rng = self.rng("restore", ticket_id, len(ticket.statusChange or []))
        resolved = max(
            ticket.outage_start() + timedelta(hours=rng.uniform(*self.profile.restore_hours)),
            start + timedelta(minutes=5),
        ).replace(microsecond=0)
        ticket.expectedResolutionDate = resolved
        self._schedule(start, ticket_id, "_ticket_to", ticket_id, TroubleTicketStatus.IN_PROGRESS.value, None)
        self._schedule(resolved, ticket_id, "_resolve_ticket", ticket_id)
        self._schedule(
            resolved + timedelta(days=1),
            ticket_id,
            "_ticket_to",
            ticket_id,
            TroubleTicketStatus.CLOSED.value,
            "closed by the seller",
        )

    def _set_ticket_status(
        self, ticket_id: str, status: TroubleTicketStatus, when: datetime, reason: str | None = None
    ) -> None:
        ticket = self.tickets[ticket_id]
        ticket.status = status
        change = {"status": status, "changeDate": when, **({"changeReason": reason} if reason else {})}
        ticket.statusChange = [*(ticket.statusChange or []), change]
        self._publish(TROUBLE_TICKET_API, "troubleTicketStatusChangeEvent", ticket_id, when)

    def _ticket_to(self, ticket_id: str, status: str, reason: str | None, when: datetime) -> None:
        self._set_ticket_status(ticket_id, TroubleTicketStatus(status), when, reason)

    def _resolve_ticket(self, ticket_id: str, when: datetime) -> None:
        self.tickets[ticket_id].resolutionDate = when
        self._set_ticket_status(ticket_id, TroubleTicketStatus.RESOLVED, when, "service restored")
        self._publish(TROUBLE_TICKET_API, "troubleTicketResolvedEvent", ticket_id, when)

    def get_ticket(self, ticket_id: str, buyer: str) -> TroubleTicket:
        """The buyer's trouble ticket."""
        return self._owned(self.tickets, "trouble ticket", ticket_id, buyer)

    def list_tickets(self, buyer: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        """``GET /troubleTicket`` as ``TroubleTicket_Find`` entries.

        That schema requires ``resolutionDate`` and ``externalId``, so only tickets that carry
        every required property are listed (the resolved ones a buyer gave an id to); any ticket
        is still read by ``GET /troubleTicket/{id}``.
        """
        complete = [
            t for t in self._visible(self.tickets, buyer) if t.resolutionDate and t.externalId is not None
        ]
        return _listing(complete, TroubleTicketSummary, filters)

    def update_ticket(self, ticket_id: str, update: TroubleTicketUpdate, buyer: str) -> TroubleTicket:
        """``PATCH``: the buyer changes what MEF lets it change, while the ticket is open."""
        ticket = self.get_ticket(ticket_id, buyer)
        if ticket.status in (TroubleTicketStatus.CLOSED, TroubleTicketStatus.CANCELLED):
            raise SellerError(409, "conflict", f"trouble ticket {ticket_id} is {ticket.status}")
        changes = update.to_json()
        for key, value in changes.items():
            setattr(ticket, key, value)
        self._publish(TROUBLE_TICKET_API, "troubleTicketAttributeValueChangeEvent", ticket_id, self.clock())
        return ticket

    def cancel_ticket(self, ticket_id: str, buyer: str) -> None:
        """The buyer withdraws a ticket not resolved yet: assessingCancellation, then cancelled."""
        ticket = self.get_ticket(ticket_id, buyer)
        if ticket.status not in TICKET_OPEN:
            raise invalid(
                "/id", f"trouble ticket {ticket_id} is {ticket.status}; only an open ticket can be cancelled"
            )
        now = self.clock()
        self._unschedule(ticket_id)
        self._set_ticket_status(ticket_id, TroubleTicketStatus.ASSESSING_CANCELLATION, now)
        self._schedule(
            now + timedelta(minutes=10),
            ticket_id,
            "_ticket_to",
            ticket_id,
            TroubleTicketStatus.CANCELLED.value,
            "cancelled by the buyer",
        )

    def close_ticket(self, ticket_id: str, buyer: str) -> None:
        """The buyer confirms a resolved ticket."""
        ticket = self.get_ticket(ticket_id, buyer)
        if ticket.status is not TroubleTicketStatus.RESOLVED:
            raise invalid(
                "/id", f"trouble ticket {ticket_id} is {ticket.status}; only a resolved ticket can be closed"
            )
        self._unschedule(ticket_id)
        self._set_ticket_status(ticket_id, TroubleTicketStatus.CLOSED, self.clock(), "closed by the buyer")

    def reopen_ticket(self, ticket_id: str, buyer: str, reason: str) -> None:
        """The buyer says a resolved ticket is not: reopened, then worked on again."""
        ticket = self.get_ticket(ticket_id, buyer)
        if ticket.status is not TroubleTicketStatus.RESOLVED:
            raise invalid(
                "/id",
                f"trouble ticket {ticket_id} is {ticket.status}; only a resolved ticket can be reopened",
            )
        now = self.clock()
        self._unschedule(ticket_id)
        ticket.__dict__["resolutionDate"] = None  # no longer resolved: the property goes
        ticket.model_fields_set.discard("resolutionDate")
        self._set_ticket_status(ticket_id, TroubleTicketStatus.REOPENED, now, reason)
        self._plan_restoration(ticket_id, now + timedelta(minutes=5))

    # --- in-life performance (simulator only, not a MEF API) ---

    def performance(self, order_id: str, period: str, buyer: str) -> dict[str, Any]:
        """Measured in-life metrics of a delivered order over one calendar month ``YYYY-MM`` (UTC).

        Outages are drawn from the profile (Poisson count, uniform restore time); availability is
        the share of the live part of the month without outage.
        """
        order = self.get_order(order_id, buyer)
        try:
            start, end = month_bounds(period)
        except ValueError as exc:
            raise SellerError(400, "invalidQuery", str(exc)) from None
        if order.state is not ProductOrderState.COMPLETED or order.completionDate is None:
            raise SellerError(
                422, "invalidValue", f"product order {order_id} is {order.state.value}, not live"
            )
        live_from = max(start, order.completionDate)
        if end <= live_from:
            raise SellerError(422, "invalidValue", f"product order {order_id} was not live in {period}")
        if end > self.clock():
            raise SellerError(422, "invalidValue", f"period {period} ends at {end.isoformat()}; not over yet")
        rng = self.rng("performance", order_id, period)
        profile = self.profile
        span = (end - live_from).total_seconds()
        count = _poisson(rng, profile.outages_per_month * span / (end - start).total_seconds())
        outages: list[list[datetime]] = []
        for begin in sorted(live_from + timedelta(seconds=rng.uniform(0, span)) for _ in range(count)):
            finish = min(end, begin + timedelta(hours=rng.uniform(*profile.restore_hours)))
            if outages and begin <= outages[-1][1]:
                outages[-1][1] = max(outages[-1][1], finish)
            else:
                outages.append([begin, finish])
        down = sum((b - a).total_seconds() for a, b in outages)
        availability = 100.0 * (1.0 - down / span)
        delay_ms = rng.uniform(*profile.frame_delay_ms)
        ifdv_ms = rng.uniform(*profile.ifdv_ms)
        loss = rng.uniform(*profile.frame_loss_percent)
        return {
            "orderId": order_id,
            "period": period,
            "periodStart": start,
            "periodEnd": end,
            "measuredFrom": live_from,
            "source": "offnet reference seller simulator",
            "availabilityPercent": round(availability, 6),
            "availabilityPpm": percent_to_ppm(round(availability, 6)),
            "frameDelayPercentile": 99.5,
            "frameDelayUs": round(delay_ms * 1000),
            "meanFrameDelayUs": round(delay_ms * 700),
            "ifdvUs": round(ifdv_ms * 1000),
            "frameLossRatioPercent": round(loss, 6),
            "frameLossRatioPpm": percent_to_ppm(round(loss, 6)),
            "outages": [
                {"start": a, "end": b, "durationSeconds": round((b - a).total_seconds())} for a, b in outages
            ],
        }


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means of outage counts.
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _unique_items(ids: list[str], what: str) -> None:
    try:
        require_unique(ids, what)
    except ValueError as exc:
        raise invalid(f"/{what}", str(exc)) from None


def _listing(
    resources: list[Any], summary: type[SonataModel], filters: dict[str, str]
) -> list[dict[str, Any]]:
    """``resources`` as ``summary`` entries (only its fields), kept when they equal every filter given."""
    fields = tuple(summary.model_fields)
    result = []
    for resource in resources:
        document = resource.to_json()
        if all(str(document.get(key)) == value for key, value in filters.items() if key in fields):
            result.append({key: document[key] for key in fields if key in document})
    return result
