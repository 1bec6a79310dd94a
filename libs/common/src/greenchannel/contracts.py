"""Integration event contracts: the CloudEvents 1.0 envelope and one versioned model per event type.

Every event crosses the broker as a CloudEvents 1.0 structured-mode JSON document
(https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md); the routing key is the
event type, the subject is the complaint number. Event data models ignore fields they do not know
so that a producer can add fields without breaking older consumers; a breaking change gets a new
version in ``dataschema`` and a new model.

Events carry no plaintext personal data: the complainant's identity stays encrypted in intake,
events carry masked values and keyed hashes only.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class EventData(BaseModel):
    """Base of every event payload: tolerant reader, versioned by ``SCHEMA_VERSION``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    EVENT_TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope in structured JSON mode."""

    model_config = ConfigDict(extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1)
    type: str = Field(min_length=1)
    source: str = Field(min_length=1)
    subject: str | None = None
    time: datetime = Field(default_factory=utc_now)
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def wrap(cls, data: EventData, *, source: str, subject: str | None = None) -> "CloudEvent":
        return cls(
            type=data.EVENT_TYPE,
            source=source,
            subject=subject,
            dataschema=f"urn:greenchannel:events:{data.EVENT_TYPE}:v{data.SCHEMA_VERSION}",
            data=data.model_dump(mode="json"),
        )

    def payload(self, model: type[EventData]) -> EventData:
        """Parse ``data`` as ``model``; raises ``pydantic.ValidationError`` on a contract violation."""
        return model.model_validate(self.data)


# --- complaint lifecycle, published by intake (the case owner) ------------------------------------


class EvidenceRef(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    evidence_id: str
    filename: str
    media_type: str
    size: int
    sha256: str


class ComplaintSubmitted(EventData):
    EVENT_TYPE: ClassVar[str] = "complaint.submitted"

    number: str
    company_id: str | None = None
    company_name: str | None = None
    category: str
    title: str
    description: str
    occurred_on: date
    desired_outcome: str
    complainant_key: str = Field(description="Keyed hash (blind index) of the complainant's ID number.")
    region_code: str = Field(description="Province code from the ID number (first two digits).")
    submitted_at: datetime


class ComplainantContact(BaseModel):
    """What a company needs to recognise the complainant: masked, never the full values."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    phone: str


class ComplaintAccepted(EventData):
    EVENT_TYPE: ClassVar[str] = "complaint.accepted"

    number: str
    company_id: str
    company_name: str
    category: str
    title: str
    description: str
    occurred_on: date
    desired_outcome: str
    complainant: ComplainantContact
    evidence: list[EvidenceRef] = Field(default_factory=list)
    response_due: date
    accepted_at: datetime


class ComplaintRejected(EventData):
    EVENT_TYPE: ClassVar[str] = "complaint.rejected"

    number: str
    reason: str
    detail: str = ""
    rejected_at: datetime


class ComplaintForwarded(EventData):
    EVENT_TYPE: ClassVar[str] = "complaint.forwarded"

    number: str
    company_id: str
    forwarded_at: datetime
    webhook_id: str


# --- decisions, published by routing ---------------------------------------------------------------


class ComplaintScreened(EventData):
    """Routing's decision on a submitted complaint: in scope and addressed to a known company, or not."""

    EVENT_TYPE: ClassVar[str] = "complaint.screened"

    number: str
    decision: Literal["accepted", "rejected"]
    reason: str | None = None
    detail: str = ""
    company_id: str | None = None
    company_name: str | None = None
    category: str | None = None
    response_due: date | None = None
    screened_at: datetime


# --- evidence --------------------------------------------------------------------------------------


class EvidenceStored(EventData):
    EVENT_TYPE: ClassVar[str] = "evidence.stored"

    evidence_id: str
    number: str | None = Field(default=None, description="None for a file uploaded before its complaint was filed.")
    filename: str
    media_type: str
    size: int
    sha256: str
    stored_at: datetime


# --- outbound delivery, published by notification --------------------------------------------------


class WebhookDelivered(EventData):
    EVENT_TYPE: ClassVar[str] = "webhook.delivered"

    webhook_id: str
    number: str
    company_id: str
    event_type: str = Field(description="The integration event the webhook carried.")
    attempts: int
    status_code: int
    delivered_at: datetime


class WebhookFailed(EventData):
    EVENT_TYPE: ClassVar[str] = "webhook.failed"

    webhook_id: str
    number: str
    company_id: str
    event_type: str
    attempts: int
    last_error: str
    failed_at: datetime


EVENT_MODELS: dict[str, type[EventData]] = {
    model.EVENT_TYPE: model
    for model in (
        ComplaintSubmitted,
        ComplaintAccepted,
        ComplaintRejected,
        ComplaintForwarded,
        ComplaintScreened,
        EvidenceStored,
        WebhookDelivered,
        WebhookFailed,
    )
}
