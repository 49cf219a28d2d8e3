"""Notifications: the thin event envelopes of the three notification APIs and the ``SonataApi``
table (base paths, listener paths, event types) that the seller, the client and the listener share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from offnet.sonata.models.common import Id, Rfc3339, SonataModel, Str, validate


class EventPayload(SonataModel):
    """What an event is about: the resource id (and where to GET it), the parties."""

    id: Id
    href: Str | None = None
    buyerId: Str | None = None
    sellerId: Str | None = None


class QuoteEventPayload(EventPayload):
    quoteItemId: Str | None = None


class ProductOrderEventPayload(EventPayload):
    orderItemId: Str | None = None
    milestoneName: Str | None = None


class Envelope(SonataModel):
    """A notification as POSTed to ``{callback}/.../listener/{eventType}`` (thin: ids only).

    The schemas make the item id and milestone name optional even in item and milestone events:
    a listener fetches the resource anyway.
    """

    eventId: Str
    eventTime: Rfc3339
    eventType: str
    event: EventPayload

    @property
    def item_id(self) -> str | None:
        """The quote or order item the event is about, when it names one."""
        return getattr(self.event, "quoteItemId", None) or getattr(self.event, "orderItemId", None)


class QuoteEvent(Envelope):
    eventType: Literal["quoteStateChangeEvent", "quoteItemStateChangeEvent"]
    event: QuoteEventPayload


class ProductOrderEvent(Envelope):
    eventType: Literal[
        "productOrderStateChangeEvent",
        "productOrderItemStateChangeEvent",
        "productOrderItemExpectedCompletionDateSet",
        "productSpecificProductOrderItemMilestoneEvent",
    ]
    event: ProductOrderEventPayload


class CancelProductOrderEvent(Envelope):
    eventType: Literal["cancelProductOrderStateChangeEvent"]


class ChargeEvent(Envelope):
    eventType: Literal["chargeCreateEvent", "chargeStateChangeEvent", "chargeTimeoutEvent"]


class ModifyRequestedDeliveryDateEvent(Envelope):
    eventType: Literal["modifyProductOrderItemRequestedDeliveryDateStateChangeEvent"]


class TroubleTicketEvent(Envelope):
    eventType: Literal[
        "troubleTicketStatusChangeEvent",
        "troubleTicketAttributeValueChangeEvent",
        "troubleTicketResolvedEvent",
        "troubleTicketInformationRequiredEvent",
    ]


class IncidentEvent(Envelope):
    eventType: Literal[
        "incidentCreateEvent", "incidentAttributeValueChangeEvent", "incidentStatusChangeEvent"
    ]


# The notification operations whose request body the specs declare as any media type ("*/*")
# rather than application/json: a listener accepts a JSON body there whatever its Content-Type.
ANY_MEDIA_TYPE_EVENTS = frozenset(
    {
        "cancelProductOrderStateChangeEvent",
        "chargeCreateEvent",
        "chargeStateChangeEvent",
        "chargeTimeoutEvent",
        "modifyProductOrderItemRequestedDeliveryDateStateChangeEvent",
    }
)


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
    {
        **_events(ProductOrderEvent),
        **_events(CancelProductOrderEvent),
        **_events(ChargeEvent),
        **_events(ModifyRequestedDeliveryDateEvent),
    },
)
TROUBLE_TICKET_API = SonataApi(
    "troubleTicket",
    "troubleTicket",
    "troubleTicketNotification",
    4,
    {**_events(TroubleTicketEvent), **_events(IncidentEvent)},
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
    event type, a body that is not JSON, or any invalid field. As in the schemas, the body may
    carry any event type of the envelope the path takes (a quote listener path takes both quote
    event types).
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
    return validate(envelope, body)
