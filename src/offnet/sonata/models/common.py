"""What every Sonata API shares: the base model, value types (RFC 3339 dates, numbers, ids), money
and prices, notes, places, contacts, related entities, durations and terms, and hub subscriptions.

The models judge a document as MEF's OpenAPI schemas do: required properties, enumerations, JSON
types without coercion (``"yes"`` is not a boolean, ``"5"`` not an integer), ``date-time`` formats
and array bounds. Business rules that the schemas do not express (unique item ids, a quote that
exists) belong to the seller, which answers them with 422.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from offnet.sonata.rules import check_number, not_null, parse_rfc3339
from offnet.sonata.units import format_rfc3339

M = TypeVar("M", bound=BaseModel)
S = TypeVar("S", bound=StrEnum)
T = TypeVar("T")

ACCESS_ELINE_OVC_TYPE = "urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all"

# --- value types ------------------------------------------------------------------------------


Rfc3339 = Annotated[
    AwareDatetime, BeforeValidator(parse_rfc3339), PlainSerializer(format_rfc3339, when_used="json")
]
"""An RFC 3339 date-time with an explicit offset; unix timestamps and naive times are refused."""
Number = Annotated[int | float, BeforeValidator(check_number)]
"""A JSON number kept as given (an int stays an int, so canonical hashes survive a round trip)."""
Percentage = Annotated[int | float, BeforeValidator(check_number), Field(ge=0, le=100)]
Str = StrictStr
Bool = StrictBool
Int = StrictInt
Uri = Annotated[str, Field(strict=True, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$")]
"""A URI with its scheme (the schemas' ``format: uri``)."""
Id = StrictStr
"""An identifier: any JSON string, as the schemas say (the seller decides what it knows)."""


class SonataModel(BaseModel):
    """Base of every Sonata document: unknown fields kept, aliases for ``@type`` and friends."""

    model_config = ConfigDict(
        extra="allow", populate_by_name=True, validate_assignment=True, defer_build=True
    )

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        return not_null(value)

    def to_json(self) -> dict[str, Any]:
        """The document as JSON-compatible data: standard names, only the fields it carries."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)


# --- shared structures --------------------------------------------------------------------------


class TimeUnit(StrEnum):
    """TimeUnit of a Sonata ``Duration`` (installation intervals, terms)."""

    CALENDAR_MONTHS = "calendarMonths"
    CALENDAR_DAYS = "calendarDays"
    CALENDAR_HOURS = "calendarHours"
    CALENDAR_MINUTES = "calendarMinutes"
    BUSINESS_DAYS = "businessDays"
    BUSINESS_HOURS = "businessHours"
    BUSINESS_MINUTES = "businessMinutes"


BuyerOrSeller = Literal["buyer", "seller"]
ByteUnits = Literal["BYTES", "KBYTES", "MBYTES", "GBYTES", "TBYTES", "PBYTES", "EBYTES", "ZBYTES", "YBYTES"]
ChargePeriod = Literal["hour", "day", "week", "month", "year"]
PriceType = Literal["recurring", "nonRecurring", "usageBased"]
ProductAction = Literal["add", "modify", "delete"]
EndOfTermAction = Literal["roll", "autoDisconnect", "autoRenew"]
Error422Code = Literal[
    "missingProperty",
    "invalidValue",
    "invalidFormat",
    "referenceNotFound",
    "unexpectedProperty",
    "tooManyRecords",
    "otherIssue",
]


class Duration(SonataModel):
    """A Sonata ``Duration``: ``{amount, units}`` (e.g. a quote item installation interval)."""

    amount: Int
    units: TimeUnit


class TimePeriod(SonataModel):
    startDateTime: Rfc3339 | None = None
    endDateTime: Rfc3339 | None = None


class Money(SonataModel):
    unit: Str | None = None
    value: Number | None = None


class Price(SonataModel):
    dutyFreeAmount: Money
    taxIncludedAmount: Money | None = None
    taxRate: Number | None = None


class ItemTerm(SonataModel):
    """``MEFItemTerm``: a commitment term and what happens when it ends."""

    name: Str
    duration: Duration
    endOfTermAction: EndOfTermAction
    description: Str | None = None
    rollInterval: Duration | None = None


class Note(SonataModel):
    """A free-text note: who wrote it (buyer or seller), when, and its id."""

    id: Str
    author: Str
    date: Rfc3339
    source: BuyerOrSeller
    text: Str


class SubUnit(SonataModel):
    subUnitNumber: Str
    subUnitType: Str


class GeographicSubAddress(SonataModel):
    buildingName: Str | None = None
    id: Str | None = None
    levelNumber: Str | None = None
    levelType: Str | None = None
    privateStreetName: Str | None = None
    privateStreetNumber: Str | None = None
    subUnit: list[SubUnit] | None = None


class FieldedAddress(SonataModel):
    """A street address broken into fields (also a contact's ``postalAddress``)."""

    city: Str
    country: Str
    streetName: Str
    streetNr: Str | None = None
    streetNrLast: Str | None = None
    streetNrSuffix: Str | None = None
    streetNrLastSuffix: Str | None = None
    streetSuffix: Str | None = None
    streetType: Str | None = None
    postcode: Str | None = None
    postcodeExtension: Str | None = None
    locality: Str | None = None
    stateOrProvince: Str | None = None
    geographicSubAddress: GeographicSubAddress | None = None


class FormattedAddress(SonataModel):
    addrLine1: Str
    city: Str
    country: Str
    addrLine2: Str | None = None
    locality: Str | None = None
    postcode: Str | None = None
    postcodeExtension: Str | None = None
    stateOrProvince: Str | None = None


class GeographicAddressLabel(SonataModel):
    externalReferenceId: Str
    externalReferenceType: Str


class Ref(SonataModel):
    """A reference by id (and href), the shape MEF gives every ``...Ref`` to a resource the other
    side knows: a product offering, a charge, a work order, a known address or site."""

    id: Str
    href: Str | None = None


GeographicRef = Ref
"""``GeographicAddressRef`` and ``GeographicSiteRef``: a known address or site."""
ProductOfferingRef = Ref


class StateChange(SonataModel, Generic[S]):
    """One entry of a resource's state history (``MEFProductOrderStateChange`` and its item twin):
    the state reached, when and why; the schemas make each property optional."""

    state: S | None = None
    changeDate: Rfc3339 | None = None
    changeReason: Str | None = None


class GeographicPoint(SonataModel):
    spatialRef: Str
    x: Str
    y: Str
    z: Str | None = None


# The place kinds of ``RelatedPlaceRefOrValue``: its ``@type`` names one of them (the schemas'
# discriminator mapping), and the place must be valid as that kind.
PLACE_KINDS: dict[str, type[SonataModel]] = {
    "FieldedAddress": FieldedAddress,
    "FormattedAddress": FormattedAddress,
    "GeographicAddressLabel": GeographicAddressLabel,
    "GeographicAddressRef": GeographicRef,
    "GeographicSiteRef": GeographicRef,
    "MEFGeographicPoint": GeographicPoint,
}


class RelatedPlace(SonataModel):
    """``RelatedPlaceRefOrValue``: a place with a role; ``@type`` says which kind of place."""

    role: Str
    type: Str = Field(alias="@type")
    schemaLocation: Uri | None = Field(None, alias="@schemaLocation")

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> RelatedPlace:
        kind = PLACE_KINDS.get(self.type)
        if kind is None:
            raise ValueError(
                f"@type {self.type!r} is not a place kind; expected one of {', '.join(PLACE_KINDS)}"
            )
        try:
            kind.model_validate(self.model_extra or {})
        except ValidationError as exc:
            raise ValueError(f"not a valid {self.type}: {describe_errors(exc)}") from None
        return self


class RelatedContactInformation(SonataModel):
    """A contact (``role`` says which: buyerContactInformation, reporterContactInformation, ...)."""

    role: Str
    name: Str
    emailAddress: Str
    number: Str
    numberExtension: Str | None = None
    organization: Str | None = None
    postalAddress: FieldedAddress | None = None


class ProductRelationship(SonataModel):
    id: Str
    relationshipType: Str
    href: Str | None = None
    groupingKey: Str | None = None


class ProductConfiguration(SonataModel):
    """``MEFProductConfiguration``: ``@type`` names the product schema; MEF 106 Access E-Line
    configurations are checked against that schema (``offnet.sonata.models.access_eline``)."""

    type: Str = Field(alias="@type")

    @model_validator(mode="after")
    def _product_schema(self) -> ProductConfiguration:
        if self.type == ACCESS_ELINE_OVC_TYPE:
            from offnet.sonata.models.access_eline import AccessElineOvc

            AccessElineOvc.model_validate(self.model_extra or {})
        return self


class Product(SonataModel):
    """MEFProductRefOrValue: a product by value (configuration, places) or by reference (id)."""

    id: Str | None = None
    href: Str | None = None
    productOffering: ProductOfferingRef | None = None
    productConfiguration: ProductConfiguration | None = None
    productRelationship: list[ProductRelationship] | None = None
    place: list[RelatedPlace] | None = None


class PoqItemRef(SonataModel):
    """The product offering qualification item a quote or order item builds on."""

    id: Str
    productOfferingQualificationId: Str
    productOfferingQualificationHref: Str | None = None


class ItemRelationship(SonataModel):
    id: Str
    relationshipType: Str


class ProductItem(SonataModel):
    """What a quote item (MEF 115) and a product order item (MEF 123) both carry: its id, the action
    on the product, the product, notes, contacts, the qualification it builds on, the agreement."""

    id: Id
    action: ProductAction
    product: Product | None = None
    note: list[Note] | None = None
    relatedContactInformation: list[RelatedContactInformation] | None = None
    productOfferingQualificationItem: PoqItemRef | None = None
    agreementName: Str | None = None


class RelatedEntity(SonataModel):
    """An entity a ticket is about (a product, an order, ...): ``@referredType`` says which."""

    id: Str
    role: Str
    href: Str | None = None
    type: Str = Field(alias="@referredType")


class TerminationError(SonataModel):
    """Why an item ended in a failed or rejected state."""

    code: Error422Code | None = None
    propertyPath: Str | None = None
    value: Str | None = None


class EventSubscriptionInput(SonataModel):
    """Body of ``POST /hub``."""

    callback: Str
    query: Str | None = None

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

    id: Str
    callback: Str
    query: Str | None = None


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
        message = error["msg"].replace("\n", " ")
        if error["type"] == "missing":
            message = "required property missing"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


# --- helpers ------------------------------------------------------------------------------------------


def require_unique(ids: list[str], what: str) -> None:
    """ValueError naming the first id that appears twice."""
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ValueError(f"duplicate {what} id {item_id!r}")
        seen.add(item_id)


def find_item(items: list[T], item_id: str, where: str) -> T:
    """The item with this id (LookupError if absent)."""
    for item in items:
        if item.id == item_id:  # type: ignore[attr-defined]
            return item
    raise LookupError(f"no item {item_id!r} in {where}")
