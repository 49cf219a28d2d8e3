"""Product Order v10 (MEF 123): order requests, orders and their states, cancellation, charges and
requested-delivery-date modifications."""

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
    Ref,
    RelatedContactInformation,
    Rfc3339,
    SonataModel,
    StateChange,
    Str,
    TerminationError,
    find_item,
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
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"
    HELD = "held"
    IN_PROGRESS = "inProgress"
    PENDING = "pending"
    REJECTED = "rejected"
    REJECTED_VALIDATED = "rejected.validated"
    REJECTED_UNASSESSED = "rejected.unassessed"


TERMINAL_ORDER_STATES = frozenset(
    {
        ProductOrderState.COMPLETED,
        ProductOrderState.FAILED,
        ProductOrderState.PARTIAL,
        ProductOrderState.CANCELLED,
        ProductOrderState.REJECTED,
    }
)

ChargeableTaskState = Literal[
    "acknowledged", "done", "done.declined", "inProgress.assessingCharge", "rejected"
]


class QuoteItemRef(SonataModel):
    """``productOrderItem.quoteItem``: the quote item this order item accepts."""

    id: Id
    quoteId: Id
    quoteHref: Str | None = None


class BillingAccountRef(SonataModel):
    id: Str


class CoordinatedAction(SonataModel):
    itemId: Str
    coordinationDependency: Literal["startToStart", "startToFinish", "finishToStart", "finishToFinish"]
    coordinatedActionDelay: Duration


class ProductOrderItemCreate(ProductItem):
    quoteItem: QuoteItemRef | None = None
    requestedCompletionDate: Rfc3339 | None = None
    requestedItemTerm: ItemTerm | None = None
    billingAccount: BillingAccountRef | None = None
    coordinatedAction: list[CoordinatedAction] | None = None
    productOrderItemRelationship: list[ItemRelationship] | None = None
    expediteIndicator: Bool | None = None
    endCustomerName: Str | None = None
    relatedBuyerPON: Str | None = None
    tspRestorationPriority: Str | None = None


class ProductOrderCreate(SonataModel):
    """Body of ``POST /productOrder``: who to contact, and the items."""

    productOrderItem: Annotated[list[ProductOrderItemCreate], Field(min_length=1)]
    relatedContactInformation: Annotated[list[RelatedContactInformation], Field(min_length=1)]
    externalId: Str | None = None
    projectId: Str | None = None
    note: list[Note] | None = None


class Milestone(SonataModel):
    name: Str
    date: Rfc3339
    note: Str | None = None


ProductOrderItemStateChange = StateChange[ProductOrderItemState]
ProductOrderStateChange = StateChange[ProductOrderState]
ChargeRef = Ref


class ProductOrderItem(ProductOrderItemCreate):
    """An order item as the seller returns it (its ``state`` is optional in the schema)."""

    state: ProductOrderItemState | None = None
    expectedCompletionDate: Rfc3339 | None = None
    completionDate: Rfc3339 | None = None
    expediteAcceptedIndicator: Bool | None = None
    itemTerm: Annotated[list[ItemTerm], Field(max_length=1)] | None = None
    milestone: list[Milestone] | None = None
    charge: list[ChargeRef] | None = None
    stateChange: list[ProductOrderItemStateChange] | None = None
    terminationError: list[TerminationError] | None = None


class ProductOrder(ProductOrderCreate):
    """A product order as the seller returns it."""

    id: Id
    orderDate: Rfc3339
    state: ProductOrderState
    productOrderItem: Annotated[list[ProductOrderItem], Field(min_length=1)]  # type: ignore[assignment]
    href: Str | None = None
    completionDate: Rfc3339 | None = None
    cancellationDate: Rfc3339 | None = None
    cancellationReason: Str | None = None
    cancellationCharge: list[ChargeRef] | None = None
    stateChange: list[ProductOrderStateChange] | None = None

    def item(self, item_id: str) -> ProductOrderItem:
        """The order item with this id (LookupError if absent)."""
        return find_item(self.productOrderItem, item_id, f"product order {self.id}")


class ProductOrderSummary(SonataModel):
    """``ProductOrder_Find``: one entry of ``GET /productOrder``."""

    id: Str
    orderDate: Rfc3339
    state: ProductOrderState
    externalId: Str | None = None
    projectId: Str | None = None
    completionDate: Rfc3339 | None = None
    cancellationDate: Rfc3339 | None = None


class ProductOrderRef(SonataModel):
    """``MEFProductOrderRef``: the order a cancellation is about."""

    productOrderId: Id
    productOrderHref: Str | None = None


class CancelProductOrderCreate(SonataModel):
    """Body of ``POST /cancelProductOrder``."""

    productOrder: ProductOrderRef
    relatedContactInformation: Annotated[list[RelatedContactInformation], Field(min_length=1)]
    cancellationReason: Str | None = None
    cancellationReasonType: Literal["technical", "commercial"] | None = None


class CancelProductOrder(CancelProductOrderCreate):
    """A cancellation request as the seller returns it (MEFChargeableTaskStateType states)."""

    id: Id
    state: ChargeableTaskState
    # The answer's schema sets no minimum on the contacts.
    relatedContactInformation: list[RelatedContactInformation]  # type: ignore[assignment]
    href: Str | None = None
    cancellationDeniedReason: Str | None = None
    charge: ChargeRef | None = None


class ProductOrderItemRef(SonataModel):
    productOrderId: Str
    productOrderItemId: Str
    productOrderHref: Str | None = None


class ChargeItem(SonataModel):
    id: Str
    activityType: Literal["new", "change"]
    blocking: Bool
    price: Price
    priceCategory: Literal["cancellation", "construction", "connection", "disconnect", "expedite", "other"]
    priceType: PriceType
    state: Literal["awaitingResponse", "acceptedByBuyer", "declinedByBuyer", "withdrawnBySeller"]
    acceptanceIndicator: Literal["accepted", "rejected"] | None = None
    note: list[Note] | None = None
    recurringChargePeriod: ChargePeriod | None = None
    unitOfMeasure: Str | None = None


class ProductOrderCharge(SonataModel):
    """A charge the seller asks the buyer to accept before it goes on."""

    id: Str
    chargeItem: list[ChargeItem]
    creationDate: Rfc3339
    responseDueDate: Rfc3339
    state: Literal["awaitingResponse", "completed", "timeout", "withdrawnBySeller"]
    href: Str | None = None


class ModifyRequestedDeliveryDateCreate(SonataModel):
    """Body of ``POST /modifyProductOrderItemRequestedDeliveryDate``."""

    productOrderItem: ProductOrderItemRef
    requestedCompletionDate: Rfc3339 | None = None
    expediteIndicator: Bool | None = None
