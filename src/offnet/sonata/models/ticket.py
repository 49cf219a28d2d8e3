"""Trouble Ticket v4 (MEF 124): ticket requests, tickets and their statuses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from offnet.sonata.models.common import Id, RelatedEntity, Rfc3339, SonataModel


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
