"""Quote v8 (MEF 115): quote requests, quotes and their states, cancel and reject."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from offnet.sonata.models.common import (
    Duration,
    Id,
    ItemTerm,
    Note,
    Price,
    Product,
    Rfc3339,
    SonataModel,
    TimePeriod,
    find_item,
    require_unique,
)


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
        require_unique([item.id for item in self.quoteItem], "quoteItem")
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
        return find_item(self.quoteItem, item_id, f"quote {self.id}")


class QuoteOperation(SonataModel):
    """Body of ``POST /cancelQuote`` and ``POST /rejectQuote``."""

    quoteId: Id
    reason: str | None = None
