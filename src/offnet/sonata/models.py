"""Pydantic models of the MEF LSO Sonata documents offnet exchanges (Quote v8, ProductOrder v10,
TroubleTicket v4, hubs and notification envelopes), plus the conversions of Sonata values to the
units stored on chain.

Field names are the standard's (camelCase, ``@type``). Every model keeps the fields it does not
declare (``extra="allow"``) so a carrier's extensions survive a round trip. What offnet reads or
hashes is validated strictly (ids, states, RFC 3339 dates, prices, intervals, SLS objectives);
everything else, notably the bulk of ``productConfiguration``, is kept as it comes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

ACCESS_ELINE_OVC_TYPE = "urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all"

# --- value types ------------------------------------------------------------------------------

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def _check_rfc3339(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError(
            f"expected an RFC 3339 date-time with a UTC offset (e.g. 2026-01-31T12:00:00Z), got {value!r}"
        )
    return value


def _check_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a JSON number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return value


def _check_id(value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string identifier, got {value!r}")
    return value


def _format_rfc3339(value: datetime) -> str:
    # Shortest faithful form: no fraction, milliseconds or microseconds; "Z" for UTC. Real payloads
    # use these forms, so a parsed document dumps back to the same text and the same hash.
    text = value.isoformat(
        timespec="seconds"
        if value.microsecond == 0
        else "milliseconds"
        if value.microsecond % 1000 == 0
        else "microseconds"
    )
    return text[:-6] + "Z" if text.endswith("+00:00") else text


Rfc3339 = Annotated[
    AwareDatetime, BeforeValidator(_check_rfc3339), PlainSerializer(_format_rfc3339, when_used="json")
]
"""An RFC 3339 date-time with an explicit offset; unix timestamps and naive times are refused."""
Number = Annotated[int | float, BeforeValidator(_check_number)]
"""A JSON number kept as given (an int stays an int, so canonical hashes survive a round trip)."""
NonNegative = Annotated[int | float, BeforeValidator(_check_number), Field(ge=0)]
Percentage = Annotated[int | float, BeforeValidator(_check_number), Field(ge=0, le=100)]
Id = Annotated[str, BeforeValidator(_check_id)]


class SonataModel(BaseModel):
    """Base of every Sonata document: unknown fields kept, aliases for ``@type`` and friends."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, validate_assignment=True)

    def to_json(self) -> dict[str, Any]:
        """The document as JSON-compatible data: standard names, only the fields it carries."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


# --- enumerations (values exactly the standard's) -----------------------------------------------


class QuoteState(StrEnum):
    """MEFQuoteStateType (Quote v8)."""

    ACCEPTED = "accepted"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    APPROVED_ORDERABLE = "approved.orderable"
    APPROVED_ORDERABLE_ALTERNATE = "approved.orderableAlternate"
    CANCELLED = "cancelled"
    UNABLE_TO_PROVIDE = "unableToProvide"
    DECLINED = "declined"
    EXPIRED = "expired"
    IN_PROGRESS = "inProgress"
    IN_PROGRESS_DRAFT = "inProgress.draft"
    REJECTED = "rejected"


class QuoteItemState(StrEnum):
    """MEFQuoteItemStateType (Quote v8)."""

    ANSWERED = "answered"
    ACKNOWLEDGED = "acknowledged"
    APPROVED_ORDERABLE = "approved.orderable"
    APPROVED_ORDERABLE_ALTERNATE = "approved.orderableAlternate"
    IN_PROGRESS = "inProgress"
    IN_PROGRESS_DRAFT = "inProgress.draft"
    REJECTED = "rejected"
    ABANDONED = "abandoned"
    UNABLE_TO_PROVIDE = "unableToProvide"


class ProductOrderState(StrEnum):
    """MEFProductOrderStateType (ProductOrder v10)."""

    ACKNOWLEDGED = "acknowledged"
    ASSESSING_CANCELLATION = "assessingCancellation"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"
    HELD_ASSESSING_CHARGE = "held.assessingCharge"
    IN_PROGRESS = "inProgress"
    PARTIAL = "partial"
    PENDING_ASSESSING_MODIFICATION = "pending.assessingModification"
    PENDING_CANCELLATION = "pendingCancellation"
    REJECTED = "rejected"


class ProductOrderItemState(StrEnum):
    """MEFProductOrderItemStateType (ProductOrder v10)."""

    ACKNOWLEDGED = "acknowledged"
    ASSESSING_CANCELLATION = "assessingCancellation"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"
    HELD_ASSESSING_CHARGE = "held.assessingCharge"
    IN_PROGRESS = "inProgress"
    PENDING_ASSESSING_MODIFICATION = "pending.assessingModification"
    PENDING_CANCELLATION = "pendingCancellation"
    REJECTED = "rejected"


class TroubleTicketStatus(StrEnum):
    """TroubleTicketStatusType (TroubleTicket v4; the field is ``status``)."""

    ACKNOWLEDGED = "acknowledged"
    ASSESSING_CANCELLATION = "assessingCancellation"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    IN_PROGRESS = "inProgress"
    PENDING = "pending"
    RESOLVED = "resolved"
    REOPENED = "reopened"


TERMINAL_ORDER_STATES = frozenset(
    {
        ProductOrderState.COMPLETED,
        ProductOrderState.FAILED,
        ProductOrderState.PARTIAL,
        ProductOrderState.CANCELLED,
        ProductOrderState.REJECTED,
    }
)


class TimeUnit(StrEnum):
    """TimeUnit of a Sonata ``Duration`` (installation intervals, terms)."""

    CALENDAR_MONTHS = "calendarMonths"
    CALENDAR_DAYS = "calendarDays"
    CALENDAR_HOURS = "calendarHours"
    CALENDAR_MINUTES = "calendarMinutes"
    BUSINESS_DAYS = "businessDays"
    BUSINESS_HOURS = "businessHours"
    BUSINESS_MINUTES = "businessMinutes"


class TimeDurationUnits(StrEnum):
    """Units of a Carrier Ethernet ``TimeDuration`` (SLS objectives, period T)."""

    NS = "NS"
    US = "US"
    MS = "MS"
    SEC = "SEC"
    MIN = "MIN"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


# --- shared structures --------------------------------------------------------------------------


class Duration(SonataModel):
    """A Sonata ``Duration``: ``{amount, units}`` (e.g. a quote item installation interval)."""

    amount: Annotated[int, Field(ge=0, strict=True)]
    units: TimeUnit


class TimePeriod(SonataModel):
    startDateTime: Rfc3339 | None = None
    endDateTime: Rfc3339 | None = None


class Money(SonataModel):
    unit: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    value: NonNegative


class Price(SonataModel):
    dutyFreeAmount: Money
    taxIncludedAmount: Money | None = None
    taxRate: Number | None = None


class QuotePrice(SonataModel):
    """One entry of ``quoteItemPrice``."""

    priceType: Literal["recurring", "nonRecurring", "usageBased"]
    recurringChargePeriod: Literal["hour", "day", "week", "month", "year"] | None = None
    price: Price
    name: str | None = None

    @model_validator(mode="after")
    def _recurring_has_period(self) -> QuotePrice:
        if self.priceType == "recurring" and self.recurringChargePeriod is None:
            raise ValueError("a recurring price needs recurringChargePeriod")
        return self


class ItemTerm(SonataModel):
    name: str
    duration: Duration
    endOfTermAction: str | None = None


class Note(SonataModel):
    text: str
    date: Rfc3339 | None = None
    author: str | None = None
    source: str | None = None
    id: str | None = None


class ProductConfiguration(SonataModel):
    """``productConfiguration``: only ``@type`` is checked, the rest kept exactly as it comes."""

    type: Annotated[str, Field(alias="@type", min_length=1)]


class RelatedPlace(SonataModel):
    role: str
    type: str | None = Field(None, alias="@type")


class ProductOfferingRef(SonataModel):
    id: Id
    href: str | None = None


class Product(SonataModel):
    """MEFProductRefOrValue: a product by value (configuration, places) or by reference (id)."""

    id: Id | None = None
    href: str | None = None
    productOffering: ProductOfferingRef | None = None
    productConfiguration: ProductConfiguration | None = None
    place: list[RelatedPlace] | None = None


class EventSubscriptionInput(SonataModel):
    """Body of ``POST /hub``."""

    callback: Annotated[str, Field(pattern=r"^https?://[^\s]+$")]
    query: str | None = None

    def event_types(self) -> frozenset[str] | None:
        """The event types asked for in ``query`` (``eventType=a,b``), or None for all."""
        if not self.query or not self.query.strip():
            return None
        wanted: set[str] = set()
        for clause in self.query.split("&"):
            key, sep, value = clause.partition("=")
            if not sep or key.strip() != "eventType":
                raise ValueError(f"unsupported hub query clause {clause!r}; expected eventType=...")
            wanted.update(v.strip() for v in value.split(",") if v.strip())
        if not wanted:
            raise ValueError("hub query names no eventType")
        return frozenset(wanted)


class EventSubscription(SonataModel):
    """Answer to ``POST /hub``."""

    id: Id
    callback: str
    query: str | None = None


# --- Quote v8 -----------------------------------------------------------------------------------


class QuoteItemCreate(SonataModel):
    id: Id
    action: Literal["add", "modify", "delete"]
    product: Product | None = None
    requestedQuoteItemInstallationInterval: Duration | None = None
    requestedQuoteItemTerm: ItemTerm | None = None
    note: list[Note] | None = None


class QuoteCreate(SonataModel):
    """Body of ``POST /quote``."""

    quoteItem: Annotated[list[QuoteItemCreate], Field(min_length=1)]
    requestedQuoteCompletionDate: Rfc3339 | None = None
    buyerRequestedQuoteLevel: Literal["budgetary", "firm"] | None = None
    instantSyncQuote: bool | None = None
    externalId: str | None = None
    projectId: str | None = None
    description: str | None = None
    note: list[Note] | None = None

    @model_validator(mode="after")
    def _unique_item_ids(self) -> QuoteCreate:
        _require_unique([item.id for item in self.quoteItem], "quoteItem")
        return self


class QuoteItem(QuoteItemCreate):
    state: QuoteItemState
    quoteItemPrice: list[QuotePrice] | None = None
    quoteItemInstallationInterval: Duration | None = None
    quoteItemTerm: list[ItemTerm] | None = None
    subjectToFeasibilityCheck: bool | None = None


class QuoteStateChange(SonataModel):
    state: QuoteState
    changeDate: Rfc3339
    changeReason: str | None = None


class Quote(SonataModel):
    """A quote as the seller returns it."""

    id: Id
    href: str | None = None
    state: QuoteState
    quoteDate: Rfc3339 | None = None
    quoteItem: Annotated[list[QuoteItem], Field(min_length=1)]
    requestedQuoteCompletionDate: Rfc3339 | None = None
    expectedQuoteCompletionDate: Rfc3339 | None = None
    effectiveQuoteCompletionDate: Rfc3339 | None = None
    validFor: TimePeriod | None = None
    quoteLevel: Literal["budgetary", "firmSubjectToFeasibilityCheck", "firm"] | None = None
    instantSyncQuote: bool | None = None
    externalId: str | None = None
    stateChange: list[QuoteStateChange] | None = None

    def item(self, item_id: str) -> QuoteItem:
        """The quote item with this id (LookupError if absent)."""
        return _find(self.quoteItem, item_id, f"quote {self.id}")


class QuoteOperation(SonataModel):
    """Body of ``POST /cancelQuote`` and ``POST /rejectQuote``."""

    quoteId: Id
    reason: str | None = None


# --- ProductOrder v10 ----------------------------------------------------------------------------


class QuoteItemRef(SonataModel):
    """``productOrderItem.quoteItem``: the quote item this order item accepts."""

    id: Id
    quoteId: Id
    quoteHref: str | None = None


class ProductOrderItemCreate(SonataModel):
    id: Id
    action: Literal["add", "modify", "delete"]
    product: Product | None = None
    quoteItem: QuoteItemRef | None = None
    requestedCompletionDate: Rfc3339 | None = None
    requestedItemTerm: ItemTerm | None = None
    note: list[Note] | None = None


class ProductOrderCreate(SonataModel):
    """Body of ``POST /productOrder``."""

    productOrderItem: Annotated[list[ProductOrderItemCreate], Field(min_length=1)]
    externalId: str | None = None
    projectId: str | None = None
    note: list[Note] | None = None

    @model_validator(mode="after")
    def _unique_item_ids(self) -> ProductOrderCreate:
        _require_unique([item.id for item in self.productOrderItem], "productOrderItem")
        return self


class Milestone(SonataModel):
    name: str
    date: Rfc3339
    note: str | None = None


class ProductOrderItemStateChange(SonataModel):
    state: ProductOrderItemState
    changeDate: Rfc3339
    changeReason: str | None = None


class ProductOrderItem(ProductOrderItemCreate):
    state: ProductOrderItemState
    expectedCompletionDate: Rfc3339 | None = None
    completionDate: Rfc3339 | None = None
    milestone: list[Milestone] | None = None
    stateChange: list[ProductOrderItemStateChange] | None = None


class ProductOrderStateChange(SonataModel):
    state: ProductOrderState
    changeDate: Rfc3339
    changeReason: str | None = None


class ProductOrder(SonataModel):
    """A product order as the seller returns it."""

    id: Id
    href: str | None = None
    state: ProductOrderState
    orderDate: Rfc3339 | None = None
    completionDate: Rfc3339 | None = None
    cancellationDate: Rfc3339 | None = None
    cancellationReason: str | None = None
    externalId: str | None = None
    productOrderItem: Annotated[list[ProductOrderItem], Field(min_length=1)]
    stateChange: list[ProductOrderStateChange] | None = None

    def item(self, item_id: str) -> ProductOrderItem:
        """The order item with this id (LookupError if absent)."""
        return _find(self.productOrderItem, item_id, f"product order {self.id}")


class ProductOrderRef(SonataModel):
    id: Id
    href: str | None = None


class CancelProductOrderCreate(SonataModel):
    """Body of ``POST /cancelProductOrder``."""

    productOrder: ProductOrderRef
    cancellationReason: str | None = None
    cancellationReasonType: str | None = None


class CancelProductOrder(CancelProductOrderCreate):
    """A cancellation request as the seller returns it (MEFChargeableTaskStateType states)."""

    id: Id
    state: Literal["acknowledged", "done", "done.declined", "inProgress.assessingCharge", "rejected"]


# --- TroubleTicket v4 ----------------------------------------------------------------------------


class RelatedEntity(SonataModel):
    id: Id
    role: str
    href: str | None = None
    type: str | None = Field(None, alias="@referredType")


class TroubleTicketCreate(SonataModel):
    """Body of ``POST /troubleTicket``."""

    description: str
    priority: Literal["low", "medium", "high", "critical"]
    severity: Literal["minor", "moderate", "significant", "extensive"]
    ticketType: Literal["assistance", "information", "installation", "maintenance"]
    relatedEntity: Annotated[list[RelatedEntity], Field(min_length=1)]
    issueStartDate: Rfc3339 | None = None
    observedImpact: str | None = None
    externalId: str | None = None


class TroubleTicketStatusChange(SonataModel):
    status: TroubleTicketStatus
    changeDate: Rfc3339
    changeReason: str | None = None


class TroubleTicket(TroubleTicketCreate):
    """A trouble ticket as the seller returns it (its state is ``status``)."""

    id: Id
    href: str | None = None
    status: TroubleTicketStatus
    creationDate: Rfc3339
    expectedResolutionDate: Rfc3339 | None = None
    resolutionDate: Rfc3339 | None = None
    statusChange: list[TroubleTicketStatusChange] | None = None

    def outage_start(self) -> datetime:
        """Start of the outage for time-to-restore: ``issueStartDate``, else ``creationDate``."""
        return self.issueStartDate or self.creationDate


# --- notifications -------------------------------------------------------------------------------


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


def validate(model: type[M], data: Any) -> M:
    """``model.model_validate(data)`` with a one-line ValueError naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"invalid {model.__name__}: {describe_errors(exc)}") from None


def describe_errors(exc: ValidationError) -> str:
    """A compact ``field.path: message; ...`` summary of a pydantic error."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


# --- SLS objectives and on-chain units --------------------------------------------------------------


class TimeDuration(SonataModel):
    """Carrier Ethernet ``TimeDuration``: ``{timeDurationValue, timeDurationUnits}``."""

    timeDurationValue: Annotated[int, Field(ge=0, strict=True)]
    timeDurationUnits: TimeDurationUnits


class FrameDelayObjective(SonataModel):
    orderedPairList: list[dict[str, Any]] | None = None
    oneWayFdPercentile: Percentage
    oneWayFdObjective: TimeDuration


class MeanFrameDelayObjective(SonataModel):
    orderedPairList: list[dict[str, Any]] | None = None
    oneWayMfdObjective: TimeDuration


class InterFrameDelayVariationObjective(SonataModel):
    orderedPairList: list[dict[str, Any]] | None = None
    timeDuration: TimeDuration | None = None
    oneWayIfdvObjective: TimeDuration


class FrameLossRatioObjective(SonataModel):
    orderedPairList: list[dict[str, Any]] | None = None
    oneWayFlrObjective: Percentage


class AvailabilityObjective(SonataModel):
    orderedPairList: list[dict[str, Any]] | None = None
    oneWayAvailabilityObjective: Percentage


class SlsCosNameEntry(SonataModel):
    """The objectives of one class of service (only the metrics offnet reads are typed)."""

    cosName: Annotated[str, Field(min_length=1)]
    oneWayFrameDelayPmMetric: list[FrameDelayObjective] = []
    oneWayMeanFrameDelayPmMetric: list[MeanFrameDelayObjective] = []
    oneWayInterFrameDelayVariationPmMetric: list[InterFrameDelayVariationObjective] = []
    oneWayFrameLossRatioPmMetric: list[FrameLossRatioObjective] = []
    oneWayAvailabilityPmMetric: list[AvailabilityObjective] = []


class CarrierEthernetSls(SonataModel):
    startTime: Rfc3339 | None = None
    timeDuration: TimeDuration | None = None
    slsCosNameEntry: list[SlsCosNameEntry] = []


@dataclass(frozen=True)
class SlaObjectives:
    """The SLS objectives of one class of service in on-chain units (None where not specified)."""

    cos_name: str
    availability_ppm: int | None
    frame_loss_ratio_ppm: int | None
    frame_delay_us: int | None
    frame_delay_percentile_ppm: int | None
    mean_frame_delay_us: int | None
    ifdv_us: int | None


def carrier_ethernet_sls(configuration: ProductConfiguration | dict[str, Any]) -> CarrierEthernetSls | None:
    """The validated ``carrierEthernetSls`` of a product configuration (array of one or object)."""
    data = configuration.to_json() if isinstance(configuration, SonataModel) else configuration
    raw = data.get("carrierEthernetSls")
    if raw is None or raw == []:
        return None
    if isinstance(raw, list):
        if len(raw) != 1:
            raise ValueError(f"carrierEthernetSls holds {len(raw)} entries; at most one is allowed")
        raw = raw[0]
    return validate(CarrierEthernetSls, raw)


def sla_objectives(configuration: ProductConfiguration | dict[str, Any]) -> list[SlaObjectives]:
    """Per class of service, the SLS objectives offnet enforces, converted to on-chain units.

    Where several objectives exist for one metric the tightest one is taken.
    """
    sls = carrier_ethernet_sls(configuration)
    if sls is None:
        return []
    result = []
    for entry in sls.slsCosNameEntry:
        delay = min(
            entry.oneWayFrameDelayPmMetric,
            default=None,
            key=lambda m: duration_to_microseconds(m.oneWayFdObjective),
        )
        result.append(
            SlaObjectives(
                cos_name=entry.cosName,
                availability_ppm=_max_or_none(
                    percent_to_ppm(m.oneWayAvailabilityObjective) for m in entry.oneWayAvailabilityPmMetric
                ),
                frame_loss_ratio_ppm=_min_or_none(
                    percent_to_ppm(m.oneWayFlrObjective) for m in entry.oneWayFrameLossRatioPmMetric
                ),
                frame_delay_us=duration_to_microseconds(delay.oneWayFdObjective) if delay else None,
                frame_delay_percentile_ppm=percent_to_ppm(delay.oneWayFdPercentile) if delay else None,
                mean_frame_delay_us=_min_or_none(
                    duration_to_microseconds(m.oneWayMfdObjective) for m in entry.oneWayMeanFrameDelayPmMetric
                ),
                ifdv_us=_min_or_none(
                    duration_to_microseconds(m.oneWayIfdvObjective)
                    for m in entry.oneWayInterFrameDelayVariationPmMetric
                ),
            )
        )
    return result


PPM_PER_PERCENT = 10_000

_MICROSECONDS = {
    TimeDurationUnits.NS: Decimal("0.001"),
    TimeDurationUnits.US: Decimal(1),
    TimeDurationUnits.MS: Decimal(1_000),
    TimeDurationUnits.SEC: Decimal(1_000_000),
    TimeDurationUnits.MIN: Decimal(60_000_000),
    TimeDurationUnits.HOUR: Decimal(3_600_000_000),
    TimeDurationUnits.DAY: Decimal(86_400_000_000),
    TimeDurationUnits.WEEK: Decimal(604_800_000_000),
}

_SECONDS = {TimeUnit.CALENDAR_MINUTES: 60, TimeUnit.CALENDAR_HOURS: 3_600, TimeUnit.CALENDAR_DAYS: 86_400}


def percent_to_ppm(percent: int | float | str | Decimal) -> int:
    """A percentage (0-100) in parts per million, rounded half-even: 99.95 -> 999500, 0.001 -> 10."""
    value = Decimal(str(percent))
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise ValueError(f"percentage must be within 0-100, got {percent!r}")
    return int((value * PPM_PER_PERCENT).to_integral_value(rounding=ROUND_HALF_EVEN))


def duration_to_microseconds(duration: TimeDuration | dict[str, Any]) -> int:
    """A Carrier Ethernet TimeDuration in microseconds (months and years have no fixed length)."""
    if isinstance(duration, dict):
        duration = validate(TimeDuration, duration)
    factor = _MICROSECONDS.get(duration.timeDurationUnits)
    if factor is None:
        raise ValueError(f"a duration in {duration.timeDurationUnits} has no fixed length in microseconds")
    return int((duration.timeDurationValue * factor).to_integral_value(rounding=ROUND_HALF_EVEN))


def interval_to_seconds(duration: Duration | dict[str, Any]) -> int:
    """A Sonata Duration in calendar minutes, hours or days as seconds (business units need a calendar)."""
    if isinstance(duration, dict):
        duration = validate(Duration, duration)
    seconds = _SECONDS.get(duration.units)
    if seconds is None:
        raise ValueError(
            f"an interval in {duration.units} has no fixed length; "
            "use calendarMinutes, calendarHours or calendarDays"
        )
    return duration.amount * seconds


def rfc3339_to_unix(value: datetime | str) -> int:
    """An RFC 3339 date-time as unix seconds (fractions truncated toward the past)."""
    if isinstance(value, str):
        _check_rfc3339(value)
        value = datetime.fromisoformat(value.replace("z", "Z"))
    if value.tzinfo is None:
        raise ValueError(f"date-time {value.isoformat()} has no UTC offset")
    return math.floor(value.timestamp())


def money_to_units(money: Money, decimals: int) -> int:
    """A Money value in the settlement token's smallest unit; refuses sub-unit remainders."""
    scaled = Decimal(str(money.value)) * (Decimal(10) ** decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{money.value} {money.unit} is finer than 10^-{decimals}")
    return int(scaled)


# --- helpers ------------------------------------------------------------------------------------------


def _require_unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ValueError(f"duplicate {what} id {item_id!r}")
        seen.add(item_id)


def _find(items: list[T], item_id: str, where: str) -> T:
    for item in items:
        if item.id == item_id:  # type: ignore[attr-defined]
            return item
    raise LookupError(f"no item {item_id!r} in {where}")


def _min_or_none(values: Any) -> int | None:
    return min(values, default=None)


def _max_or_none(values: Any) -> int | None:
    return max(values, default=None)
