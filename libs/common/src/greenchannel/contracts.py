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
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(UTC)


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
    def wrap(cls, data: EventData, *, source: str, subject: str | None = None) -> CloudEvent:
        return cls(
            type=data.EVENT_TYPE,
            source=source,
            subject=subject,
            dataschema=f"urn:greenchannel:events:{data.EVENT_TYPE}:v{data.SCHEMA_VERSION}",
            data=data.model_dump(mode="json"),
        )


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
    evidence_ids: list[str] = Field(default_factory=list, description="Uploads attached to the complaint at filing.")
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
    response_due: date | None = Field(default=None, description="Projected; routing's clock starts at forwarding.")
    accepted_at: datetime
    redirected_from: str | None = Field(
        default=None, description="The company it was first addressed to, if redirected."
    )


class ComplaintRejected(EventData):
    EVENT_TYPE: ClassVar[str] = "complaint.rejected"

    number: str
    reason: str
    detail: str = ""
    rejected_at: datetime


class ComplaintForwarded(EventData):
    """The company has the complaint: its forwarding webhook was delivered (round 1), or an operator
    re-forwarded it after an appeal (round 2+, with a note and the working days the company has)."""

    EVENT_TYPE: ClassVar[str] = "complaint.forwarded"

    number: str
    company_id: str
    forwarded_at: datetime
    webhook_id: str | None = None
    round: int = 1
    note: str = ""
    deadline_working_days: int | None = Field(default=None, ge=1)


class ComplaintInfoRequested(EventData):
    """The company asked the complainant for more information: the response clock pauses."""

    EVENT_TYPE: ClassVar[str] = "complaint.info_requested"

    number: str
    company_id: str
    question: str
    requested_at: datetime


class ComplaintSupplemented(EventData):
    """The complainant answered the company's question: the response clock resumes."""

    EVENT_TYPE: ClassVar[str] = "complaint.supplemented"

    number: str
    company_id: str
    text: str
    evidence: list[EvidenceRef] = Field(default_factory=list)
    supplemented_at: datetime


class ComplaintResponded(EventData):
    EVENT_TYPE: ClassVar[str] = "complaint.responded"

    number: str
    company_id: str
    response_type: Literal["explained", "monetary_relief", "non_monetary_relief", "declined", "in_progress"]
    text: str
    timely: bool
    responded_at: datetime


class ComplaintRated(EventData):
    EVENT_TYPE: ClassVar[str] = "complaint.rated"

    number: str
    company_id: str
    rating: int = Field(ge=1, le=5)
    comment: str = ""
    rated_at: datetime


class ComplaintAppealed(EventData):
    """The complainant appealed (申诉) the company's answer: platform mediation with its own deadline."""

    EVENT_TYPE: ClassVar[str] = "complaint.appealed"

    number: str
    company_id: str
    reason: str
    appealed_at: datetime


class ComplaintClosed(EventData):
    EVENT_TYPE: ClassVar[str] = "complaint.closed"

    number: str
    company_id: str | None = None
    outcome: str = Field(description="rated, auto_closed, or a mediation outcome code")
    closed_at: datetime


class ComplaintWithdrawn(EventData):
    EVENT_TYPE: ClassVar[str] = "complaint.withdrawn"

    number: str
    company_id: str | None = None
    reason: str = ""
    withdrawn_at: datetime


class ComplaintPublished(EventData):
    """The case's handling result became public (公示): the company answered, or the publication delay
    after forwarding passed without an answer. Carries nothing beyond what the public record shows."""

    EVENT_TYPE: ClassVar[str] = "complaint.published"

    number: str
    company_id: str
    trigger: Literal["responded", "publication_due"]
    narrative_public: bool = Field(description="The complainant consented to publishing the narrative and answer.")
    published_at: datetime


class ComplaintRedirected(EventData):
    """An operator found the complaint addressed to the wrong company; it goes to ``to_company_id`` now."""

    EVENT_TYPE: ClassVar[str] = "complaint.redirected"

    number: str
    from_company_id: str | None = None
    to_company_id: str
    note: str = ""
    redirected_at: datetime


class ComplaintErased(EventData):
    """The complaint's personal data was erased from intake's case file (its retention period after closing ran
    out, or the complainant asked and the hold passed). Every service that keeps a copy of anything personal about
    the complaint (text, files, messages, deliveries, dead letters, outbox entries) erases its own; the public
    record and the statistics stay. Carries nothing personal: the number names a public record."""

    EVENT_TYPE: ClassVar[str] = "complaint.erased"

    number: str
    reason: Literal["retention", "request"] = Field(
        description="retention: the period after closing ran out; request: the complainant asked."
    )
    evidence_ids: list[str] = Field(default_factory=list, description="The complaint's evidence files, to delete.")
    erased_at: datetime


# --- decisions, published by routing ---------------------------------------------------------------


class ComplaintScreened(EventData):
    """Routing's decision on a submitted complaint: in scope and addressed to a known company, or not, or
    ``company_unresolved``: the company was named only by a name the directory does not resolve to one
    company, so operators review it (``reason`` says ``company_unknown`` and ``detail`` why, as a rejection
    for that cause did before). The value was added expand-then-contract: readers accept it first, and
    routing sends it only where they do (``REVIEW_UNRESOLVED_COMPANIES``)."""

    EVENT_TYPE: ClassVar[str] = "complaint.screened"

    number: str
    decision: Literal["accepted", "rejected", "company_unresolved"]
    reason: str | None = None
    detail: str = ""
    company_id: str | None = None
    company_name: str | None = None
    category: str | None = None
    response_due: date | None = None
    duplicate_of: str | None = Field(
        default=None, description="For reason 'duplicate': the original complaint's number."
    )
    screened_at: datetime


class ClusterJoined(EventData):
    """An accepted complaint is similar to others against the same company from other complainants
    within the clustering window: it joined (or, with the complaint it matched, formed) a cluster.
    Published for every member as it joins; ``size`` counts the members after the join. A cluster of
    at least the configured minimum size is a collective complaint (集体投诉)."""

    EVENT_TYPE: ClassVar[str] = "cluster.joined"

    cluster_id: str
    number: str
    company_id: str
    size: int = Field(ge=1)
    # Whether ``size`` reaches routing's minimum for a collective complaint; what intake may call it publicly.
    collective: bool = False
    joined_at: datetime


# --- the clock, published by routing ------------------------------------------------------------


SlaKind = Literal["response", "appeal"]


class SlaDeadlineSet(EventData):
    """A clock started, resumed after a pause, or restarted: the date the answer is due by."""

    EVENT_TYPE: ClassVar[str] = "sla.deadline_set"

    number: str
    company_id: str | None = None
    kind: SlaKind
    due: date
    reason: Literal["started", "resumed", "reforwarded"]
    paused_working_days: int = 0
    set_at: datetime


class SlaReminder(EventData):
    EVENT_TYPE: ClassVar[str] = "sla.reminder"

    number: str
    company_id: str | None = None
    kind: SlaKind
    due: date
    working_days_left: int
    reminded_at: datetime


class SlaOverdue(EventData):
    EVENT_TYPE: ClassVar[str] = "sla.overdue"

    number: str
    company_id: str | None = None
    kind: SlaKind
    due: date
    overdue_at: datetime


class SlaClockStopped(EventData):
    """A running clock stopped: for a response clock stopped by the company's answer, the working days
    it used (pauses excluded), which statistics report as the handling time."""

    EVENT_TYPE: ClassVar[str] = "sla.clock_stopped"

    number: str
    company_id: str | None = None
    kind: SlaKind
    round: int = 1
    reason: Literal["responded", "reforwarded", "redirected", "withdrawn", "closed", "rated"]
    due: date
    working_days_used: int = Field(ge=0)
    paused_working_days: int = Field(default=0, ge=0)
    stopped_at: datetime


class SlaPublicationDue(EventData):
    """The publication delay (15 working days by default) after the first forwarding has passed:
    intake publishes the case even if the company has not answered."""

    EVENT_TYPE: ClassVar[str] = "sla.publication_due"

    number: str
    company_id: str | None = None
    forwarded_at: datetime
    due: date
    raised_at: datetime


class SlaQuietPeriodElapsed(EventData):
    """No rating or appeal within the quiet period after the company's answer: intake auto-closes."""

    EVENT_TYPE: ClassVar[str] = "sla.quiet_period_elapsed"

    number: str
    responded_at: datetime
    elapsed_at: datetime


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
    original_sha256: str | None = Field(default=None, description="Of the bytes received, before metadata was removed.")
    original_size: int | None = None
    metadata_stripped: bool = False
    metadata_reason: str | None = Field(
        default=None, description="Why a file that can carry metadata was stored with it (it could not be read)."
    )


class EvidenceRejected(EventData):
    """An upload was refused (type, size, integrity); nothing of it was kept."""

    EVENT_TYPE: ClassVar[str] = "evidence.rejected"

    number: str | None = None
    upload_id: str | None = None
    reason: str
    detail: str = ""
    rejected_at: datetime


# --- access, published by intake --------------------------------------------------------------------


class AccessGuessingDetected(EventData):
    """Many distinct client addresses failed at one secret (a complaint's access code, a login's password)
    within one window: someone may be guessing it. Operators are alerted; nobody is locked out. The target
    is the complaint number or a keyed hash of the login, never the login itself or an address."""

    EVENT_TYPE: ClassVar[str] = "access.guessing_detected"

    secret: Literal["access_code", "password"]
    target: str
    number: str | None = Field(default=None, description="The complaint whose access code is attacked.")
    distinct_sources: int = Field(ge=1)
    failures: int = Field(ge=1)
    window_started_at: datetime
    detected_at: datetime


# --- outbound delivery, published by notification --------------------------------------------------


class WebhookType(StrEnum):
    """The ``type`` of each webhook a company receives (Standard Webhooks payload), named here once: notification
    sends them, intake and the platform checks recognise them, companies code against them."""

    #: A complaint forwarded to the company (made from ``complaint.accepted``). Its delivery (``webhook.delivered``
    #: with this ``event_type``) is what makes the case forwarded in intake.
    FORWARDED = "complaint.forwarded"
    #: The complaint again, after an appeal (``complaint.forwarded`` of round 2 and later).
    REFORWARDED = "complaint.reforwarded"
    SUPPLEMENTED = "complaint.supplemented"
    APPEALED = "complaint.appealed"
    WITHDRAWN = "complaint.withdrawn"
    REDIRECTED = "complaint.redirected"
    DEADLINE_REMINDER = "complaint.deadline_reminder"
    OVERDUE = "complaint.overdue"
    #: A test a company's administrator (or an operator) asked for, to check the endpoint and its signature check:
    #: signed and logged like any webhook, about no complaint (its data names the company only), and its delivery
    #: publishes neither ``webhook.delivered`` nor ``webhook.failed``.
    TEST = "webhook.test"


FORWARDING_WEBHOOK_TYPE = WebhookType.FORWARDED


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


# --- complainant accounts, published by intake ----------------------------------------------------

#: Development-only key ring of the sealed part of ``account.code_issued``; intake seals with it and
#: notification opens with it. Production injects CODE_TRANSPORT_KEYS into both from one Secret.
DEV_CODE_TRANSPORT_KEYS = '{"dev-1": "ZGV2ZWxvcG1lbnQtb25seS1jb2RlLXRyYW5zcG9ydC0="}'

# access_recovery: a code sent to the phone a complaint was filed with, for a new access code of that complaint.
# company_invitation: a one-time link inviting a company's staff member to set up their account.
CodePurpose = Literal["registration", "password_reset", "sign_in", "access_recovery", "company_invitation"]


class CodeNotice(BaseModel):
    """The sealed part of ``account.code_issued``: where the message goes and what it says.

    ``notice`` is ``code`` (a one-time code follows), ``already_registered`` (a registration for a login
    that has an account: reset the password instead) or ``no_account`` (a reset or a sign-in for a login
    without one), or ``invitation`` (a company's staff member is invited: ``link`` opens the invitation once,
    ``company`` names the company inviting).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    destination: str
    notice: Literal["code", "already_registered", "no_account", "invitation"]
    code: str | None = None
    link: str | None = None
    company: str | None = None


class AccountCodeIssued(EventData):
    """Someone asked for a one-time code for a login (registration, password reset, sign-in) and intake answered.

    Events are kept (outbox, dead letters), so the destination, the code and even which notice it is
    travel sealed (AES-256-GCM, ``sealed``, bound to ``issue_id``) under a key only intake and
    notification hold: the clear fields are the same whether or not the login has an account, and a
    kept event holds no usable code. The code expires at ``expires_at``, after which nobody sends it.
    """

    EVENT_TYPE: ClassVar[str] = "account.code_issued"

    issue_id: str
    purpose: CodePurpose
    channel: Literal["email", "sms"]
    sealed: dict[str, str] = Field(description="CodeNotice sealed with the code transport key ring.")
    expires_at: datetime
    issued_at: datetime


def code_notice_field(issue_id: str) -> str:
    """The associated data a notice is sealed under: a sealed notice cannot be moved to another issue."""
    return f"{AccountCodeIssued.EVENT_TYPE}:{issue_id}"


EVENT_MODELS: dict[str, type[EventData]] = {
    model.EVENT_TYPE: model
    for model in (
        ComplaintSubmitted,
        ComplaintAccepted,
        ComplaintRejected,
        ComplaintForwarded,
        ComplaintInfoRequested,
        ComplaintSupplemented,
        ComplaintResponded,
        ComplaintRated,
        ComplaintAppealed,
        ComplaintClosed,
        ComplaintWithdrawn,
        ComplaintRedirected,
        ComplaintPublished,
        ComplaintErased,
        SlaDeadlineSet,
        SlaReminder,
        SlaOverdue,
        SlaQuietPeriodElapsed,
        SlaClockStopped,
        SlaPublicationDue,
        ComplaintScreened,
        ClusterJoined,
        EvidenceStored,
        EvidenceRejected,
        WebhookDelivered,
        WebhookFailed,
        AccessGuessingDetected,
        AccountCodeIssued,
    )
}
