"""Notifications: the thin event envelopes of the three notification APIs and the ``SonataApi``
table (base paths, listener paths, event types) that the seller, the client and the listener share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import model_validator

from offnet.sonata.models.common import Id, Rfc3339, SonataModel, validate


class EventPayload(SonataModel):
    id: Id
    href: str | None = None
    buyerId: str | None = None
    sellerId: str | None = None


class QuoteEventPayload(EventPayload):
    quoteItemId: Id | None = None


class ProductOrderEventPayload(EventPayload):
    orderItemId: Id | None = None
    milestoneName: str | None = None


class Envelope(SonataModel):
    """A notification as POSTed to ``{callback}/.../listener/{eventType}`` (thin: ids only)."""

    ITEM_EVENTS: ClassVar[frozenset[str]] = frozenset()
    MILESTONE_EVENTS: ClassVar[frozenset[str]] = frozenset()
    ITEM_FIELD: ClassVar[str] = ""

    eventId: Id
    eventTime: Rfc3339
    eventType: str
    event: EventPayload

    @model_validator(mode="after")
    def _item_and_milestone_present(self) -> Envelope:
        if self.eventType in self.ITEM_EVENTS and not getattr(self.event, self.ITEM_FIELD, None):
            raise ValueError(f"{self.eventType} needs event.{self.ITEM_FIELD}")
        if self.eventType in self.MILESTONE_EVENTS and not getattr(self.event, "milestoneName", None):
            raise ValueError(f"{self.eventType} needs event.milestoneName")
        return self


class QuoteEvent(Envelope):
    ITEM_EVENTS = frozenset({"quoteItemStateChangeEvent"})
    ITEM_FIELD = "quoteItemId"

    eventType: Literal["quoteStateChangeEvent", "quoteItemStateChangeEvent"]
    event: QuoteEventPayload


class ProductOrderEvent(Envelope):
    ITEM_EVENTS = frozenset(
        {
            "productOrderItemStateChangeEvent",
            "productOrderItemExpectedCompletionDateSet",
            "productSpecificProductOrderItemMilestoneEvent",
            "productOrderItemMilestoneEvent",
        }
    )
    MILESTONE_EVENTS = frozenset(
        {"productSpecificProductOrderItemMilestoneEvent", "productOrderItemMilestoneEvent"}
    )
    ITEM_FIELD = "orderItemId"

    eventType: Literal[
        "productOrderStateChangeEvent",
        "productOrderItemStateChangeEvent",
        "productOrderItemExpectedCompletionDateSet",
        "productSpecificProductOrderItemMilestoneEvent",
        "productOrderItemMilestoneEvent",
    ]
    event: ProductOrderEventPayload


class CancelProductOrderEvent(Envelope):
    eventType: Literal["cancelProductOrderStateChangeEvent"]


class ChargeEvent(Envelope):
    eventType: Literal["chargeCreateEvent", "chargeStateChangeEvent", "chargeTimeoutEvent"]


class TroubleTicketEvent(Envelope):
    # The SDK's listener path is troubleTicketStatusChangeEvent; the "State" spelling some
    # documents use is accepted too.
    eventType: Literal[
        "troubleTicketStatusChangeEvent",
        "troubleTicketStateChangeEvent",
        "troubleTicketAttributeValueChangeEvent",
        "troubleTicketResolvedEvent",
        "troubleTicketInformationRequiredEvent",
    ]


@dataclass(frozen=True)
class SonataApi:
    """One Sonata API: its management and notification base paths and its event envelopes."""

    name: str  # short name used in offnet: "quote", "productOrder", "troubleTicket"
    management: str  # e.g. "quoteManagement"
    notification: str  # e.g. "quoteNotification"
    version: int
    events: dict[str, type[Envelope]]

    @property
    def management_base(self) -> str:
        return f"/mefApi/sonata/{self.management}/v{self.version}"

    @property
    def notification_base(self) -> str:
        return f"/mefApi/sonata/{self.notification}/v{self.version}"

    def listener_path(self, event_type: str) -> str:
        """The path a seller POSTs ``event_type`` to, relative to the buyer's hub callback."""
        if event_type not in self.events:
            raise ValueError(f"{event_type!r} is not a {self.notification} event type")
        return f"{self.notification_base}/listener/{event_type}"


def _events(envelope: type[Envelope]) -> dict[str, type[Envelope]]:
    literal = envelope.model_fields["eventType"].annotation
    return {value: envelope for value in literal.__args__}  # type: ignore[union-attr]


QUOTE_API = SonataApi("quote", "quoteManagement", "quoteNotification", 8, _events(QuoteEvent))
PRODUCT_ORDER_API = SonataApi(
    "productOrder",
    "productOrderingManagement",
    "productOrderingNotification",
    10,
    {**_events(ProductOrderEvent), **_events(CancelProductOrderEvent), **_events(ChargeEvent)},
)
TROUBLE_TICKET_API = SonataApi(
    "troubleTicket", "troubleTicket", "troubleTicketNotification", 4, _events(TroubleTicketEvent)
)
SONATA_APIS: tuple[SonataApi, ...] = (QUOTE_API, PRODUCT_ORDER_API, TROUBLE_TICKET_API)


def api_for_notification(segment: str) -> SonataApi:
    """The API whose notification path segment is ``segment`` (``quoteNotification`` or ``.../v8``)."""
    name, _, version = segment.strip("/").partition("/")
    for api in SONATA_APIS:
        if api.notification == name and version in ("", f"v{api.version}"):
            return api
    known = ", ".join(f"{a.notification}/v{a.version}" for a in SONATA_APIS)
    raise ValueError(f"unknown Sonata notification API {segment!r}; known: {known}")


def parse_notification(api: str, event_type: str, body: bytes | str | dict[str, Any]) -> Envelope:
    """Validate a notification received at ``.../{api}/listener/{event_type}``.

    Returns the typed envelope; raises ValueError with a one-line reason for an unknown API or
    event type, a body that is not JSON, a body whose eventType differs from the path, or any
    invalid field.
    """
    sonata_api = api_for_notification(api)
    envelope = sonata_api.events.get(event_type)
    if envelope is None:
        raise ValueError(
            f"unknown {sonata_api.notification} event type {event_type!r}; known: "
            + ", ".join(sorted(sonata_api.events))
        )
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"notification body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ValueError("notification body must be a JSON object")
    if body.get("eventType") != event_type:
        raise ValueError(
            f"eventType {body.get('eventType')!r} in the body does not match the path's {event_type!r}"
        )
    return validate(envelope, body)
