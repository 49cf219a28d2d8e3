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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from offnet.exceptions import SellerError
from offnet.sonata.models import (
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
    Quote,
    QuoteCreate,
    QuoteItemState,
    QuoteState,
    SonataApi,
    TroubleTicket,
    TroubleTicketCreate,
    TroubleTicketStatus,
    interval_to_seconds,
    percent_to_ppm,
)
from offnet.sonata.seller.clock import Clock
from offnet.sonata.seller.profiles import BehaviourProfile

APPROVED = frozenset({QuoteState.APPROVED_ORDERABLE, QuoteState.APPROVED_ORDERABLE_ALTERNATE})
CANCELLABLE_QUOTE = frozenset({QuoteState.ACKNOWLEDGED, QuoteState.IN_PROGRESS, QuoteState.IN_PROGRESS_DRAFT})
CANCELLABLE_ORDER = frozenset({ProductOrderState.ACKNOWLEDGED, ProductOrderState.IN_PROGRESS})
MILESTONE_EVENT = "productSpecificProductOrderItemMilestoneEvent"


def not_found(what: str, identifier: str) -> SellerError:
    return SellerError(404, "notFound", f"no {what} {identifier!r}")


@dataclass(frozen=True)
class Subscription:
    id: str
    api: SonataApi
    callback: str
    query: str | None
    event_types: frozenset[str] | None
    buyer: str


@dataclass(frozen=True)
class Delivery:
    """One notification to POST: where, what, and for which subscription."""

    url: str
    event_type: str
    body: dict[str, Any]
    subscription_id: str


@dataclass(order=True)
class _Step:
    due: datetime
    seq: int
    owner: str = field(compare=False)
    action: Callable[[datetime], None] = field(compare=False)


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
        self._steps: list[_Step] = []
        self._seq = itertools.count()
        self._ids: dict[str, itertools.count[int]] = {}
        self.outbox: list[Delivery] = []
        self.silenced: list[dict[str, Any]] = []

    # --- randomness, ids, scheduling ---

    def rng(self, *key: object) -> random.Random:
        """The deterministic random stream of one decision (seed + what + id)."""
        return random.Random(":".join(str(k) for k in (self.seed, *key)))

    def _new_id(self, prefix: str) -> str:
        counter = self._ids.setdefault(prefix, itertools.count(1))
        return f"{prefix}-{self.instance}-{next(counter):04d}"

    def _schedule(self, due: datetime, owner: str, action: Callable[[datetime], None]) -> None:
        # Whole seconds: Sonata dates read better, and on chain they are unix seconds anyway.
        heapq.heappush(self._steps, _Step(due.replace(microsecond=0), next(self._seq), owner, action))

    def _unschedule(self, owner: str) -> None:
        self._steps = [s for s in self._steps if s.owner != owner]
        heapq.heapify(self._steps)

    def progress(self) -> int:
        """Run every transition due by now, in time order; the number run."""
        now = self.clock()
        ran = 0
        while self._steps and self._steps[0].due <= now:
            step = heapq.heappop(self._steps)
            step.action(step.due)
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
        return EventSubscription(id=sub.id, callback=request.callback, query=request.query)

    def unsubscribe(self, api: SonataApi, subscription_id: str, buyer: str) -> None:
        """Remove a listener registration of this buyer on this API."""
        sub = self._subscriptions.get(subscription_id)
        if sub is None or sub.api is not api or sub.buyer != buyer:
            raise not_found("hub subscription", subscription_id)
        del self._subscriptions[subscription_id]

    def _publish(
        self, api: SonataApi, event_type: str, resource_id: str, when: datetime, **extra: str
    ) -> None:
        buyer = self._owner[resource_id]
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

    def _href(self, api: SonataApi, resource_id: str) -> str:
        collection = {"quote": "quote", "productOrder": "productOrder", "troubleTicket": "troubleTicket"}[
            api.name
        ]
        if resource_id in self.cancellations:
            collection = "cancelProductOrder"
        return f"{api.management_base}/{collection}/{resource_id}"

    def _owned(self, store: dict[str, Any], what: str, identifier: str, buyer: str) -> Any:
        resource = store.get(identifier)
        if resource is None or buyer not in (self._owner.get(identifier), OPERATOR):
            raise not_found(what, identifier)
        return resource

    # --- Quote v8 ---

    def create_quote(self, request: QuoteCreate, buyer: str) -> Quote:
        """Acknowledge a quote request and plan its answer."""
        now = self.clock()
        quote_id = self._new_id("Q")
        document = request.to_json()
        for item in document["quoteItem"]:
            item["state"] = QuoteItemState.ACKNOWLEDGED.value
        quote = Quote.model_validate(
            {
                **document,
                "id": quote_id,
                "href": self._href(QUOTE_API, quote_id),
                "state": QuoteState.ACKNOWLEDGED,
                "quoteDate": now,
                "stateChange": [{"state": QuoteState.ACKNOWLEDGED, "changeDate": now}],
            }
        )
        self.quotes[quote_id] = quote
        self._owner[quote_id] = buyer
        answer_at = self._answer_time(quote_id, now, request.requestedQuoteCompletionDate)
        if request.instantSyncQuote:
            self._answer_quote(quote_id, now)
            return quote
        quote.expectedQuoteCompletionDate = answer_at
        self._schedule(
            now + min(timedelta(minutes=15), (answer_at - now) / 2),
            quote_id,
            lambda when: self._quote_in_progress(quote_id, when),
        )
        self._schedule(answer_at, quote_id, lambda when: self._answer_quote(quote_id, when))
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
        any_orderable = False
        for item in quote.quoteItem:
            rng = self.rng("quote-item", quote_id, item.id)
            if item.action != "add" or rng.random() < profile.unable_to_provide_probability:
                item.state = QuoteItemState.UNABLE_TO_PROVIDE
                continue
            any_orderable = True
            item.state = QuoteItemState.APPROVED_ORDERABLE
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
        quote.quoteLevel = "firm"
        if any_orderable:
            until = when + timedelta(days=profile.quote_validity_days)
            quote.validFor = {"startDateTime": when, "endDateTime": until}
            self._set_quote_state(quote, QuoteState.APPROVED_ORDERABLE, when)
            self._schedule(until, quote_id, lambda at: self._expire_quote(quote_id, at))
        else:
            self._set_quote_state(
                quote, QuoteState.UNABLE_TO_PROVIDE, when, "no coverage at the install site"
            )
        for item in quote.quoteItem:
            self._publish(QUOTE_API, "quoteItemStateChangeEvent", quote.id, when, quoteItemId=item.id)

    def _expire_quote(self, quote_id: str, when: datetime) -> None:
        quote = self.quotes[quote_id]
        if quote.state in APPROVED:
            self._set_quote_state(quote, QuoteState.EXPIRED, when)

    def get_quote(self, quote_id: str, buyer: str) -> Quote:
        """The buyer's quote."""
        return self._owned(self.quotes, "quote", quote_id, buyer)

    def cancel_quote(self, quote_id: str, buyer: str, reason: str | None) -> Quote:
        """Buyer withdraws a request still being worked on."""
        quote = self.get_quote(quote_id, buyer)
        if quote.state not in CANCELLABLE_QUOTE:
            raise SellerError(
                422,
                "invalidValue",
                f"quote {quote_id} is {quote.state.value}; only a quote "
                "acknowledged or in progress can be cancelled",
            )
        self._unschedule(quote_id)
        self._set_quote_state(quote, QuoteState.CANCELLED, self.clock(), reason)
        return quote

    def reject_quote(self, quote_id: str, buyer: str, reason: str | None) -> Quote:
        """Buyer declines an answered quote."""
        quote = self.get_quote(quote_id, buyer)
        if quote.state not in APPROVED:
            raise SellerError(
                422,
                "invalidValue",
                f"quote {quote_id} is {quote.state.value}; only an approved quote can be rejected",
            )
        self._unschedule(quote_id)
        self._set_quote_state(quote, QuoteState.DECLINED, self.clock(), reason)
        return quote

    # --- ProductOrder v10 ---

    def create_order(self, request: ProductOrderCreate, buyer: str) -> ProductOrder:
        """Accept the referenced quote items and plan delivery."""
        now = self.clock()
        intervals: dict[str, int] = {}
        accepted: list[Quote] = []
        for item in request.productOrderItem:
            if item.action != "add":
                raise SellerError(
                    422,
                    "invalidValue",
                    f"productOrderItem {item.id}: this seller only handles action 'add', not {item.action!r}",
                )
            ref = item.quoteItem
            if ref is None:
                intervals[item.id] = (
                    self.rng("interval", item.id).randint(*self.profile.installation_days) * 86400
                )
                continue
            quote = self.quotes.get(ref.quoteId)
            if quote is None or self._owner.get(ref.quoteId) != buyer:
                raise SellerError(
                    422, "referenceNotFound", f"productOrderItem {item.id}: no quote {ref.quoteId!r}"
                )
            try:
                quoted = quote.item(ref.id)
            except LookupError:
                raise SellerError(
                    422,
                    "referenceNotFound",
                    f"productOrderItem {item.id}: quote {ref.quoteId} has no item {ref.id!r}",
                ) from None
            if quote.state not in APPROVED or quoted.state is not QuoteItemState.APPROVED_ORDERABLE:
                raise SellerError(
                    422,
                    "invalidValue",
                    f"productOrderItem {item.id}: quote {ref.quoteId} "
                    f"item {ref.id} is not orderable (quote is {quote.state.value})",
                )
            assert quoted.quoteItemInstallationInterval is not None
            intervals[item.id] = interval_to_seconds(quoted.quoteItemInstallationInterval)
            accepted.append(quote)
        order_id = self._new_id("PO")
        document = request.to_json()
        for item in document["productOrderItem"]:
            item["state"] = ProductOrderItemState.ACKNOWLEDGED.value
        order = ProductOrder.model_validate(
            {
                **document,
                "id": order_id,
                "href": self._href(PRODUCT_ORDER_API, order_id),
                "state": ProductOrderState.ACKNOWLEDGED,
                "orderDate": now,
                "stateChange": [{"state": ProductOrderState.ACKNOWLEDGED, "changeDate": now}],
            }
        )
        self.orders[order_id] = order
        self._owner[order_id] = buyer
        for quote in {q.id: q for q in accepted}.values():
            self._unschedule(quote.id)
            self._set_quote_state(quote, QuoteState.ACCEPTED, now, f"ordered in {order_id}")
        rng = self.rng("order", order_id)
        start = now + timedelta(hours=rng.uniform(0.5, 4.0))
        self._schedule(start, order_id, lambda when: self._start_order(order_id, intervals, when))
        return order

    def _set_order_state(self, order: ProductOrder, state: ProductOrderState, when: datetime) -> None:
        order.state = state
        order.stateChange = [*(order.stateChange or []), {"state": state, "changeDate": when}]
        self._publish(PRODUCT_ORDER_API, "productOrderStateChangeEvent", order.id, when)

    def _set_item_state(self, order: ProductOrder, state: ProductOrderItemState, when: datetime) -> None:
        for item in order.productOrderItem:
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
            self._schedule(
                survey, order_id, lambda at, item_id=item.id: self._milestone(order_id, item_id, at)
            )
        rng = self.rng("delivery", order_id)
        done = latest + timedelta(days=rng.uniform(*self.profile.delivery_slip_days))
        failed = rng.random() < self.profile.delivery_failure_probability
        self._schedule(
            max(done, when + timedelta(minutes=1)),
            order_id,
            lambda at: self._finish_order(order_id, failed, at),
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

    def _finish_order(self, order_id: str, failed: bool, when: datetime) -> None:
        order = self.orders[order_id]
        if failed:
            self._set_item_state(order, ProductOrderItemState.FAILED, when)
            self._set_order_state(order, ProductOrderState.FAILED, when)
            return
        for item in order.productOrderItem:
            item.completionDate = when
        order.completionDate = when
        self._set_item_state(order, ProductOrderItemState.COMPLETED, when)
        self._set_order_state(order, ProductOrderState.COMPLETED, when)

    def get_order(self, order_id: str, buyer: str) -> ProductOrder:
        """The buyer's product order."""
        return self._owned(self.orders, "product order", order_id, buyer)

    def cancel_order(self, request: CancelProductOrderCreate, buyer: str) -> CancelProductOrder:
        """Cancel an order not yet completed (accepted at once, no cancellation charge)."""
        order = self._owned(self.orders, "product order", request.productOrder.id, buyer)
        if order.state not in CANCELLABLE_ORDER:
            raise SellerError(
                422,
                "invalidValue",
                f"product order {order.id} is {order.state.value}; only an "
                "acknowledged or in-progress order can be cancelled",
            )
        now = self.clock()
        cancel_id = self._new_id("CPO")
        cancellation = CancelProductOrder.model_validate(
            {**request.to_json(), "id": cancel_id, "state": "done"}
        )
        self.cancellations[cancel_id] = cancellation
        self._owner[cancel_id] = buyer
        self._unschedule(order.id)
        order.cancellationDate = now
        if request.cancellationReason:
            order.cancellationReason = request.cancellationReason
        self._publish(PRODUCT_ORDER_API, "cancelProductOrderStateChangeEvent", cancel_id, now)
        self._set_item_state(order, ProductOrderItemState.CANCELLED, now)
        self._set_order_state(order, ProductOrderState.CANCELLED, now)
        return cancellation

    # --- TroubleTicket v4 ---

    def create_ticket(self, request: TroubleTicketCreate, buyer: str) -> TroubleTicket:
        """Open a ticket on one of the buyer's orders and plan its restoration."""
        if not any(self._owner.get(e.id) == buyer and e.id in self.orders for e in request.relatedEntity):
            ids = ", ".join(e.id for e in request.relatedEntity)
            raise SellerError(
                422, "referenceNotFound", f"relatedEntity names no product order of yours ({ids})"
            )
        now = self.clock()
        if request.issueStartDate is not None and request.issueStartDate > now:
            raise SellerError(422, "invalidValue", "issueStartDate is in the future")
        ticket_id = self._new_id("TT")
        ticket = TroubleTicket.model_validate(
            {
                **request.to_json(),
                "id": ticket_id,
                "href": self._href(TROUBLE_TICKET_API, ticket_id),
                "status": TroubleTicketStatus.ACKNOWLEDGED,
                "creationDate": now,
                "statusChange": [{"status": TroubleTicketStatus.ACKNOWLEDGED, "changeDate": now}],
            }
        )
        self.tickets[ticket_id] = ticket
        self._owner[ticket_id] = buyer
        rng = self.rng("restore", ticket_id)
        resolved = max(
            ticket.outage_start() + timedelta(hours=rng.uniform(*self.profile.restore_hours)),
            now + timedelta(minutes=10),
        ).replace(microsecond=0)
        ticket.expectedResolutionDate = resolved
        self._schedule(
            now + timedelta(minutes=5),
            ticket_id,
            lambda at: self._set_ticket_status(ticket_id, TroubleTicketStatus.IN_PROGRESS, at),
        )
        self._schedule(resolved, ticket_id, lambda at: self._resolve_ticket(ticket_id, at))
        self._schedule(
            resolved + timedelta(days=1),
            ticket_id,
            lambda at: self._set_ticket_status(ticket_id, TroubleTicketStatus.CLOSED, at),
        )
        return ticket

    def _set_ticket_status(
        self, ticket_id: str, status: TroubleTicketStatus, when: datetime, reason: str | None = None
    ) -> None:
        ticket = self.tickets[ticket_id]
        ticket.status = status
        change = {"status": status, "changeDate": when, **({"changeReason": reason} if reason else {})}
        ticket.statusChange = [*(ticket.statusChange or []), change]
        self._publish(TROUBLE_TICKET_API, "troubleTicketStatusChangeEvent", ticket_id, when)

    def _resolve_ticket(self, ticket_id: str, when: datetime) -> None:
        self.tickets[ticket_id].resolutionDate = when
        self._set_ticket_status(ticket_id, TroubleTicketStatus.RESOLVED, when, "service restored")
        self._publish(TROUBLE_TICKET_API, "troubleTicketResolvedEvent", ticket_id, when)

    def get_ticket(self, ticket_id: str, buyer: str) -> TroubleTicket:
        """The buyer's trouble ticket."""
        return self._owned(self.tickets, "trouble ticket", ticket_id, buyer)

    # --- in-life performance (simulator only, not a MEF API) ---

    def performance(self, order_id: str, period: str, buyer: str) -> dict[str, Any]:
        """Measured in-life metrics of a delivered order over one calendar month ``YYYY-MM`` (UTC).

        Outages are drawn from the profile (Poisson count, uniform restore time); availability is
        the share of the live part of the month without outage.
        """
        order = self.get_order(order_id, buyer)
        start, end = _month_bounds(period)
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


def _month_bounds(period: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise SellerError(400, "invalidQuery", f"period must be YYYY-MM, got {period!r}") from None
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start, end


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means of outage counts.
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
