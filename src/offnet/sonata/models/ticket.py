"""Trouble Ticket v4 (MEF 124): ticket requests, tickets and their statuses, incidents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from offnet.sonata.models.common import (
    BuyerOrSeller,
    ByteUnits,
    Id,
    Note,
    Number,
    Ref,
    RelatedContactInformation,
    RelatedEntity,
    Rfc3339,
    SonataModel,
    Str,
)


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


Priority = Literal["low", "medium", "high", "critical"]
Severity = Literal["minor", "moderate", "significant", "extensive"]
ObservedImpact = Literal["degraded", "intermittent", "down"]
TicketType = Literal["assistance", "information", "installation", "maintenance"]


class ByteSize(SonataModel):
    amount: Number | None = None
    units: ByteUnits | None = None


class Attachment(SonataModel):
    author: Str
    creationDate: Rfc3339
    name: Str
    source: BuyerOrSeller
    attachmentId: Str | None = None
    content: Str | None = None
    description: Str | None = None
    mimeType: Str | None = None
    size: ByteSize | None = None
    url: Str | None = None


class IssueRelationship(SonataModel):
    id: Str
    type: Str = Field(alias="@referredType")
    creationDate: Rfc3339
    description: Str
    relationshipType: Str
    source: BuyerOrSeller
    href: Str | None = None


class TroubleTicketCreate(SonataModel):
    """Body of ``POST /troubleTicket``."""

    description: Str
    priority: Priority
    severity: Severity
    ticketType: TicketType
    observedImpact: ObservedImpact
    relatedEntity: Annotated[list[RelatedEntity], Field(min_length=1, max_length=1)]
    relatedContactInformation: Annotated[list[RelatedContactInformation], Field(min_length=1)]
    issueStartDate: Rfc3339 | None = None
    externalId: Str | None = None
    attachment: list[Attachment] | None = None
    note: list[Note] | None = None
    relatedIssue: list[IssueRelationship] | None = None


class TroubleTicketUpdate(SonataModel):
    """Body of ``PATCH /troubleTicket/{id}``: what the buyer may change."""

    attachment: list[Attachment] | None = None
    externalId: Str | None = None
    issueStartDate: Rfc3339 | None = None
    observedImpact: ObservedImpact | None = None
    note: list[Note] | None = None
    priority: Priority | None = None
    relatedContactInformation: list[RelatedContactInformation] | None = None
    relatedIssue: list[IssueRelationship] | None = None
    severity: Severity | None = None


class TroubleTicketStatusChange(SonataModel):
    status: TroubleTicketStatus | None = None
    changeDate: Rfc3339 | None = None
    changeReason: Str | None = None


WorkOrderRef = Ref


class TroubleTicket(TroubleTicketCreate):
    """A trouble ticket as the seller returns it (its state is ``status``)."""

    id: Id
    creationDate: Rfc3339
    status: TroubleTicketStatus
    sellerPriority: Priority
    sellerSeverity: Severity
    href: Str | None = None
    expectedResolutionDate: Rfc3339 | None = None
    resolutionDate: Rfc3339 | None = None
    statusChange: list[TroubleTicketStatusChange] | None = None
    workOrder: list[WorkOrderRef] | None = None

    def outage_start(self) -> datetime:
        """Start of the outage for time-to-restore: ``issueStartDate``, else ``creationDate``."""
        return self.issueStartDate or self.creationDate


class TroubleTicketSummary(SonataModel):
    """``TroubleTicket_Find``: one entry of ``GET /troubleTicket``."""

    id: Str
    creationDate: Rfc3339
    description: Str
    expectedResolutionDate: Rfc3339
    externalId: Str
    observedImpact: ObservedImpact
    priority: Priority
    relatedEntity: Annotated[list[RelatedEntity], Field(min_length=1)]
    resolutionDate: Rfc3339
    sellerPriority: Priority
    sellerSeverity: Severity
    severity: Severity
    status: TroubleTicketStatus
    ticketType: TicketType


class Reason(SonataModel):
    """Body of the ticket cancel / close / reopen tasks."""

    reason: Str
