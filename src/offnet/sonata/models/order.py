"""Product Order v10 (MEF 123): order requests, orders and their states, cancellation."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from offnet.sonata.models.common import (
    Id,
    ItemTerm,
    Note,
    Product,
    Rfc3339,
    SonataModel,
    find_item,
    require_unique,
)


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


TERMINAL_ORDER_STATES = frozenset(
    {
        ProductOrderState.COMPLETED,
        ProductOrderState.FAILED,
        ProductOrderState.PARTIAL,
        ProductOrderState.CANCELLED,
        ProductOrderState.REJECTED,
    }
)


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
        require_unique([item.id for item in self.productOrderItem], "productOrderItem")
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
        return find_item(self.productOrderItem, item_id, f"product order {self.id}")


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
