"""What intake's routes answer, as response models: the OpenAPI document describes every answer, generated
clients get types, and an answer that drifts from its description fails validation instead of reaching a client.

The models follow what the routes build (field order included, so the JSON stays as it was). Times the routes
render themselves (``datetime.isoformat()``) stay strings here, so the models never re-render them. Shapes kept
open on purpose (a timeline entry, a decision's details) allow extra fields, so none is ever dropped.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from intake.domain.lifecycle import Status


class Open(BaseModel):
    """A shape whose listed fields are the ones a client may rely on; any other the route adds passes through."""

    model_config = ConfigDict(extra="allow")


# --- shared parts -------------------------------------------------------------------------------


class CompanyRef(BaseModel):
    id: str | None = Field(description="The directory company's id; null while the company is not settled.")
    name: str | None


class EvidenceItem(Open):
    evidence_id: str
    filename: str
    media_type: str
    size: int
    sha256: str


class Transition(BaseModel):
    """The answer of an action on a complaint: where the complaint stands now."""

    number: str
    status: Status


# --- company API --------------------------------------------------------------------------------


class CompanyComplaintSummary(BaseModel):
    number: str
    status: Status
    title: str
    company: CompanyRef
    submitted_at: str = Field(description="ISO 8601 date and time.")
    response_due: str | None = Field(description="The last day of the response deadline (ISO 8601 date, China).")
    overdue: bool


class CompanyComplaintPage(BaseModel):
    items: list[CompanyComplaintSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class ComplainantContact(BaseModel):
    """Name and phone in full, to reach the complainant; the ID number and e-mail masked."""

    name: str
    phone: str
    id_number: str | None
    email: str | None


class InfoRequestEntry(Open):
    question: str
    at: str


class SupplementEntry(Open):
    text: str
    evidence: list[EvidenceItem]
    at: str


class CompanyAnswerEntry(Open):
    type: str
    text: str
    at: str
    timely: bool


class AppealEntry(Open):
    reason: str
    at: str


class CompanyComplaint(BaseModel):
    number: str
    status: Status
    overdue: bool
    category: str
    title: str
    description: str
    occurred_on: str = Field(description="ISO 8601 date.")
    desired_outcome: str
    complainant: ComplainantContact
    evidence: list[EvidenceItem]
    submitted_at: str
    forwarded_at: str | None
    round: int = Field(description="1, or 2 once an appeal was re-forwarded.")
    response_due: str | None
    info_requests: list[InfoRequestEntry]
    supplements: list[SupplementEntry]
    response: CompanyAnswerEntry | None = Field(description="The latest answer.")
    appeal: AppealEntry | None
    reforward_note: str | None


class AnswerReceipt(Transition):
    timely: bool = Field(description="Whether the answer came by the response deadline.")
