"""What every Sonata API shares: the base model, value types (RFC 3339 dates, numbers, ids), money
and prices, notes, places, related entities, durations and terms, and hub subscriptions."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
)

from offnet.sonata.units import check_rfc3339, format_rfc3339

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

ACCESS_ELINE_OVC_TYPE = "urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all"

# --- value types ------------------------------------------------------------------------------


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


Rfc3339 = Annotated[
    AwareDatetime, BeforeValidator(check_rfc3339), PlainSerializer(format_rfc3339, when_used="json")
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


class RelatedEntity(SonataModel):
    id: Id
    role: str
    href: str | None = None
    type: str | None = Field(None, alias="@referredType")


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


# --- helpers ------------------------------------------------------------------------------------------


def require_unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ValueError(f"duplicate {what} id {item_id!r}")
        seen.add(item_id)


def find_item(items: list[T], item_id: str, where: str) -> T:
    for item in items:
        if item.id == item_id:  # type: ignore[attr-defined]
            return item
    raise LookupError(f"no item {item_id!r} in {where}")
