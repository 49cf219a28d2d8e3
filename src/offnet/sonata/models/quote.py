"""Quote v8 (MEF 115): quote requests, quotes and their states, cancel and reject."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from offnet.sonata.models.common import (
    Bool,
    ChargePeriod,
    Duration,
    Id,
    ItemRelationship,
    ItemTerm,
    Note,
    Price,
    PriceType,
    ProductItem,
    RelatedContactInformation,
    Rfc3339,
    SonataModel,
    Str,
    TerminationError,
    TimePeriod,
    find_item,
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


QuoteLevel = Literal["budgetary", "firmSubjectToFeasibilityCheck", "firm"]

APPROVED_QUOTE_STATES = frozenset({QuoteState.APPROVED_ORDERABLE, QuoteState.APPROVED_ORDERABLE_ALTERNATE})
"""The states in which a quote may be ordered."""


class QuotePrice(SonataModel):
    """One entry of ``quoteItemPrice``."""

    priceType: PriceType | None = None
    recurringChargePeriod: ChargePeriod | None = None
    price: Price | None = None
    name: Str | None = None
    description: Str | None = None
    unitOfMeasure: Str | None = None


class QuoteItemCreate(ProductItem):
    requestedQuoteItemInstallationInterval: Duration | None = None
    requestedQuoteItemTerm: ItemTerm | None = None
    quoteItemRelationship: list[ItemRelationship] | None = None
    dealReference: Str | None = None


class QuoteCreate(SonataModel):
    """Body of ``POST /quote``."""

    quoteItem: Annotated[list[QuoteItemCreate], Field(min_length=1)]
    buyerRequestedQuoteLevel: Literal["budgetary", "firm"]
    instantSyncQuote: Bool
    requestedQuoteCompletionDate: Rfc3339 | None = None
    relatedContactInformation: list[RelatedContactInformation] | None = None
    externalId: Str | None = None
    projectId: Str | None = None
    description: Str | None = None
    note: list[Note] | None = None


class QuoteItem(QuoteItemCreate):
    state: QuoteItemState
    quoteItemPrice: list[QuotePrice] | None = None
    quoteItemInstallationInterval: Duration | None = None
    quoteItemTerm: Annotated[list[ItemTerm], Field(max_length=1)] | None = None
    subjectToFeasibilityCheck: Bool | None = None
    terminationError: list[TerminationError] | None = None


class QuoteStateChange(SonataModel):
    state: QuoteState
    changeDate: Rfc3339
    changeReason: Str | None = None


class Quote(QuoteCreate):
    """A quote as the seller returns it (its ``state`` is optional in the schema)."""

    id: Id
    quoteDate: Rfc3339
    quoteItem: Annotated[list[QuoteItem], Field(min_length=1)]  # type: ignore[assignment]
    href: Str | None = None
    state: QuoteState | None = None
    expectedQuoteCompletionDate: Rfc3339 | None = None
    effectiveQuoteCompletionDate: Rfc3339 | None = None
    validFor: TimePeriod | None = None
    quoteLevel: QuoteLevel | None = None
    stateChange: list[QuoteStateChange] | None = None

    def item(self, item_id: str) -> QuoteItem:
        """The quote item with this id (LookupError if absent)."""
        return find_item(self.quoteItem, item_id, f"quote {self.id}")


class QuoteSummary(SonataModel):
    """``Quote_Find``: one entry of ``GET /quote``."""

    id: Str | None = None
    state: QuoteState
    quoteDate: Rfc3339 | None = None
    quoteLevel: QuoteLevel | None = None
    externalId: Str | None = None
    projectId: Str | None = None
    requestedQuoteCompletionDate: Rfc3339 | None = None
    expectedQuoteCompletionDate: Rfc3339 | None = None
    effectiveQuoteCompletionDate: Rfc3339 | None = None


class QuoteOperation(SonataModel):
    """``QuoteOperationData``: body and answer of ``POST /cancelQuote`` and ``POST /rejectQuote``."""

    quoteId: Id
    reason: Str | None = None
