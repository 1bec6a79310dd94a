"""What intake's routes answer, as response models: the OpenAPI document describes every answer, generated
clients get types, and an answer that drifts from its description fails validation instead of reaching a client.

The models follow what the routes build (field order included, so the JSON stays as it was). Times the routes
render themselves (``datetime.isoformat()``) stay strings here, so the models never re-render them. Shapes kept
open on purpose (a timeline entry, a decision's details) allow extra fields, so none is ever dropped.
"""

from __future__ import annotations

from typing import Any, Literal

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


class ComplaintSummary(BaseModel):
    """One line of a list of complaints (the company's, an account's own)."""

    number: str
    status: Status
    title: str
    company: CompanyRef
    submitted_at: str = Field(description="ISO 8601 date and time.")
    response_due: str | None = Field(description="The last day of the response deadline (ISO 8601 date, China).")
    overdue: bool


class ComplaintPage(BaseModel):
    items: list[ComplaintSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


# --- company API --------------------------------------------------------------------------------


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


class CompanyRatingEntry(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str | None
    at: str


class CompanyTimelineEntry(BaseModel):
    at: str
    action: str
    status: Status
    by: str = Field(
        description="Which side took the step: guest, complainant, company, operator, or a service (routing, notification)."
    )


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
    rating: CompanyRatingEntry | None = Field(default=None, description="The complainant's rating of the answer.")
    timeline: list[CompanyTimelineEntry] = Field(
        default_factory=list, description="The steps of the case: when, what, and which side took it."
    )


class AnswerReceipt(Transition):
    timely: bool = Field(description="Whether the answer came by the response deadline.")


# --- complainants -------------------------------------------------------------------------------

FILING_EXAMPLE: dict[str, Any] = {
    "complainant": {
        "name": "张三",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "email": "zhang@example.cn",
    },
    "company": {"name": "迅联网络科技有限公司"},
    "category": "refund",
    "title": "课程退款被拒绝",
    "description": "七天无理由退款期内申请退款，客服以已观看为由拒绝。",
    "occurred_on": "2026-11-01",
    "desired_outcome": "全额退款",
    "evidence_ids": [],
    "publication_consent": False,
}
FILING_EXAMPLES = {"guest": {"summary": "A guest files against a directory company", "value": FILING_EXAMPLE}}
RATING_EXAMPLES = {
    "satisfied": {
        "summary": "Satisfied: closes the complaint",
        "value": {"rating": 5, "comment": "退款已到账，处理及时。"},
    },
    "unsatisfied": {"summary": "Unsatisfied: the appeal stays open", "value": {"rating": 2, "comment": "只退了一半。"}},
}
APPEAL_EXAMPLES = {
    "partial_refund": {
        "summary": "The answer did not settle it",
        "value": {"reason": "公司只退还了一半费用，与七天无理由退款的承诺不符。"},
    }
}


class FilingLinks(BaseModel):
    self: str = Field(description="Where the complaint is followed.")


class FilingReceipt(Transition):
    access_code: str | None = Field(
        description="The guest access code, shown once: keep it to follow the complaint without an account."
    )
    links: FilingLinks


class ComplaintCompany(CompanyRef):
    requested: dict[str, Any] = Field(description="The company as the complainant named it.")


class TimelineEntry(BaseModel):
    actor: str | None
    action: str | None
    status: str | None
    detail: str | None
    trace_id: str | None
    at: str


class ComplaintView(BaseModel):
    """A complaint as its complainant follows it: identity masked, every step and what may be done next."""

    number: str
    status: Status
    overdue: bool
    company: ComplaintCompany
    category: str
    title: str
    description: str
    occurred_on: str
    desired_outcome: str
    publication_consent: bool
    complainant: dict[str, str | None] = Field(description="The identity as given, masked.")
    evidence: list[EvidenceItem]
    submitted_at: str
    response_due: str | None
    appeal_due: str | None
    forwarded_at: str | None
    rejection: dict[str, Any] | None
    info_requests: list[InfoRequestEntry]
    supplements: list[SupplementEntry]
    response: CompanyAnswerEntry | None
    rating: dict[str, Any] | None
    appeal: AppealEntry | None
    closure: dict[str, Any] | None
    allowed_actions: list[str] = Field(description="What the complainant may do now (rate, appeal, withdraw, ...).")
    timeline: list[TimelineEntry]


class ClaimReceipt(BaseModel):
    number: str
    claimed: bool


# --- accounts -----------------------------------------------------------------------------------


class AccessToken(BaseModel):
    access_token: str
    token_type: str = Field(description="Always `bearer`.")
    expires_in: int = Field(description="Seconds.")


class OperatorAccessToken(AccessToken):
    second_factor: Literal["verified", "enrol", "not_required"] = Field(
        description="`verified`: the code was checked; `enrol`: an admin without a second factor yet, who enrols one "
        "(POST /v1/ops/auth/second-factor) before acting as admin; `not_required`: an operator without one."
    )


class AccountToken(BaseModel):
    """A new or recovered account, signed in."""

    account_id: str
    access_token: str
    token_type: str
    expires_in: int


class CodeSent(BaseModel):
    channel: str = Field(description="`email` or `sms`: where the code (or a notice) was sent.")
    expires_in: int = Field(description="Seconds the code stays valid.")


class SessionStarted(BaseModel):
    account_id: str
    csrf_token: str = Field(description="Send as `X-CSRF-Token` on unsafe requests signed in by the cookie.")
    expires_in: int


class OperatorCreated(BaseModel):
    operator_id: str
    login: str
    roles: list[str]


# --- operators ----------------------------------------------------------------------------------


class CompanyAssigned(Transition):
    """A complaint accepted for a company other than the one first named (redirected, resolved from review)."""

    company_id: str


class RejectionReviewed(BaseModel):
    number: str
    reviewed: bool


# --- evidence and messages (the answers of evidence and notification, passed on as they come) ----------------


class EvidenceReceipt(Open):
    """The integrity receipt of one stored file, as the evidence service gives it."""

    evidence_id: str
    number: str | None
    filename: str
    media_type: str
    size: int = Field(description="Bytes stored.")
    sha256: str = Field(description="Hex SHA-256 of the bytes stored.")
    original_size: int = Field(description="Bytes received; differs from size when metadata was removed.")
    original_sha256: str
    metadata_stripped: bool
    metadata_reason: str | None
    received_at: str
    status: str = Field(description="unattached (uploaded before filing) or attached.")


class AcceptedType(Open):
    media_type: str
    extension: str
    kind: str
    max_bytes: int


class EvidenceLimits(Open):
    types: list[AcceptedType]
    aliases: dict[str, str]
    max_bytes: dict[str, int] = Field(description="The size limit of each kind, in bytes.")
    max_files_per_complaint: int
    unattached_removed_after_s: float


class DownloadLink(Open):
    evidence_id: str
    url: str = Field(description="A short-lived link: anyone holding it can download until it expires.")
    expires_at: str


class Message(Open):
    id: str
    number: str
    kind: str = Field(description="The event that made the message, e.g. complaint.responded.")
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    created_at: str
    read_at: str | None


class MessagePage(Open):
    items: list[Message]
    next_cursor: str | None
    unread: int = Field(description="How many messages of these complaints (on every page) are still unread.")


# --- information pages, feedback, staff -----------------------------------------------------------


class PageEntry(BaseModel):
    slug: str
    order: int
    title: dict[str, str] = Field(description="The title in each language (zh-CN, en).")


class PageList(BaseModel):
    languages: list[str]
    default_language: str
    items: list[PageEntry]


class Page(BaseModel):
    slug: str
    lang: str
    title: str
    order: int
    markdown: str
    html: str = Field(description="Rendered from the Markdown and sanitised.")


class FeedbackReceipt(BaseModel):
    id: str
    status: str
    submitted_at: str


class FeedbackEntry(BaseModel):
    id: str
    topic: str
    text: str
    status: str
    contact: dict[str, Any] = Field(description="E-mail and phone: masked in lists, in full in one entry.")
    submitted_at: str | None
    handled: dict[str, Any] | None = Field(description="Who handled it, when and with what note; null while new.")


class FeedbackPage(BaseModel):
    items: list[FeedbackEntry]
    next_cursor: str | None


class OperatorAccount(BaseModel):
    operator_id: str
    login: str
    roles: list[str]
    disabled: bool


class AccessCodeReissued(BaseModel):
    number: str
    access_code: str = Field(description="The new guest access code; the old one no longer opens the complaint.")


class ApiKeyIssued(BaseModel):
    key_id: str
    company_id: str
    label: str
    api_key: str = Field(description="Shown once: only its hash is kept.")


# --- the directory (routing's, passed on) ---------------------------------------------------------


class DirectoryCompany(Open):
    """A company of the directory; its aliases, apps, domains and size follow as routing gives them."""

    id: str
    name: str = Field(description="Registered Chinese name.")
    name_en: str


class DirectoryPage(BaseModel):
    items: list[DirectoryCompany]


class Category(Open):
    code: str
    zh: str
    en: str


class CategoryList(BaseModel):
    items: list[Category]


class WorkQueuePage(BaseModel):
    kind: str = Field(
        description="appeals, overdue, rejected, unscreened, company_review, collective or breached_today."
    )
    items: list[ComplaintSummary]
    next_cursor: str | None


class OperatorComplaintView(ComplaintView):
    """The complainant's view (identity masked) and what only the platform sees."""

    account_id: str | None
    round: int
    region_code: str | None = Field(description="The region of the ID number (its first six digits' province).")
    cluster_id: str | None = Field(description="The cluster of similar complaints it joined, if any.")
    operator_actions: list[str] = Field(
        description="The operator actions the case's state allows (`reforward`, `close`, `redirect`, `accept`, "
        "`reject`, `resolve_company`, `review`): the routes under this complaint of the same names."
    )


class TraceLink(BaseModel):
    trace_id: str
    first_at: str
    actions: list[str]
    url: str = Field(description="The trace in the trace UI.")


class ComplaintTraces(BaseModel):
    number: str
    traces: list[TraceLink]


class DeadLetter(Open):
    """A message a consumer gave up on, with its service, queue, status and history as the store keeps them."""

    id: str


class DeadLetterList(BaseModel):
    service: str
    collected: int = Field(description="How many were moved from the broker's dead-letter queue by this call.")
    items: list[DeadLetter]


class DeadLettersReplayed(BaseModel):
    service: str
    replayed: int


class Revealed(BaseModel):
    number: str
    field: str
    value: str | None = Field(description="The field in full; null when the complainant did not give it.")
    audit_id: str
    revealed_at: str


class AuditEntry(BaseModel):
    operator_id: str
    operator_login: str | None
    complaint: str | None
    field: str | None = Field(description="The identity field a disclosure revealed (`action` `reveal`).")
    reason: str | None = Field(description="Why: a disclosure's reason, an action's note.")
    trace_id: str | None
    id: str
    at: str
    action: str = Field(description="`reveal`, or the operator action (`reforward`, `close`, `dead_letter_replay`...).")
    target: str | None = Field(description="What else the action concerned: a dead letter, a company, an account.")
    detail: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None


# --- public results, statistics and open data ------------------------------------------------------

# A figure keeps the type it was computed in: a count stays 1, a rate 0.5 (a plain float field would answer 1.0).
Number = int | float


class ClusterRef(BaseModel):
    id: str
    size: int
    collective: bool = Field(description="The cluster reached the size of a collective complaint (集体投诉).")


class PublicResult(BaseModel):
    """One published complaint as a list shows it; nothing here is personal."""

    number: str
    company_id: str | None
    company_name: str | None
    company_name_en: str | None = Field(description="The directory's English name; null when it has none.")
    headline: str | None = Field(description="The scrubbed title, public only with the complainant's consent.")
    category: str
    category_name_zh: str
    category_name_en: str
    filed_on: str | None = Field(description="ISO 8601 date (China).")
    forwarded_on: str | None
    responded_on: str | None
    published_on: str | None
    status: str
    response_type: str | None
    timely: bool | None
    rating: int | None
    appeal_outcome: str | None
    narrative_public: bool
    cluster: ClusterRef | None


class PublicResultDetail(PublicResult):
    narrative: str | None = Field(description="The scrubbed title and description, if consented; null otherwise.")
    answer: str | None = Field(description="The company's scrubbed answer, if consented; null otherwise.")


class PublicResultPage(BaseModel):
    items: list[PublicResult]
    next_cursor: str | None


class PublicCluster(BaseModel):
    id: str
    company_id: str
    company_name: str | None
    size: int
    collective: bool
    first_number: str
    opened_on: str


class Figures(Open):
    """The contract's figures (docs/public-api.md); null where a small cell was suppressed."""

    received: int | None
    accepted: int | None
    rejected: int | None
    rejected_by_reason: dict[str, Any]
    answered: int | None
    timely_rate: Number | None
    relief_rate: Number | None
    satisfaction: Number | None
    appeal_rate: Number | None
    median_handling_days: Number | None


class StatisticsRow(Open):
    """One group's figures (on the public side also ``suppressed`` and ``suppressed_fields``)."""

    key: str = Field(description="The month (YYYY-MM), category code, company id or province code.")
    label_zh: str
    label_en: str
    received: int | None
    accepted: int | None
    rejected: int | None
    rejected_by_reason: dict[str, Any]
    answered: int | None
    timely_rate: Number | None
    relief_rate: Number | None
    satisfaction: Number | None
    appeal_rate: Number | None
    median_handling_days: Number | None


class StatisticsTable(Open):
    """The public side adds ``min_count``: cells counting fewer complaints are published as null."""

    from_: str = Field(alias="from", description="The first month (YYYY-MM).")
    to: str
    by: str
    rows: list[StatisticsRow]
    totals: Figures = Field(description="The figures over every row.")


class SummaryFigures(Open):
    published: int | None
    answered_rate: Number | None
    timely_rate: Number | None
    satisfaction: Number | None
    companies: int | None
    last_30_days_published: int | None
    suppressed: bool = Field(description="Some figures are null because they count too few complaints.")
    suppressed_fields: list[str]


class Scorecard(Open):
    company_id: str
    company_name: str
    company_name_en: str | None
    period: str = Field(description="YYYY, YYYY-MM, or the last 12 months' range.")
    volume: int | None
    timely_rate: Number | None
    relief_rate: Number | None
    average_rating: Number | None
    appeal_rate: Number | None
    user_base: Number | None
    per_million_users: Number | None


class PublicScorecard(Scorecard):
    """A scorecard as the public reads it: figures that would single out complainants are null."""

    suppressed: bool = Field(description="Some figures are null because they count too few complaints.")
    suppressed_fields: list[str] = Field(description="The names of the figures that are null for that reason.")
    min_count: int = Field(description="Figures counting fewer complaints than this are null.")


class RankedScorecard(Open):
    rank: int
    company_id: str
    company_name: str
    company_name_en: str | None
    period: str
    volume: int | None
    timely_rate: Number | None
    relief_rate: Number | None
    average_rating: Number | None
    appeal_rate: Number | None
    user_base: Number | None
    per_million_users: Number | None
    suppressed: bool
    suppressed_fields: list[str]


class Rankings(BaseModel):
    period: str
    order_by: str
    items: list[RankedScorecard]
    min_count: int = Field(description="Figures counting fewer complaints than this are null.")


class OpenDataField(BaseModel):
    name: str
    type: str
    nullable: bool
    description: str


class OpenDataSchema(BaseModel):
    id: str
    version: int
    formats: list[str]
    fields: list[OpenDataField]


# --- passed on from notification's and evidence's operator APIs (documented; the bytes go on as they come) --


class DeliveryAttempt(Open):
    at: str
    url: str
    status_code: int | None
    error: str | None
    duration_ms: int


class Delivery(Open):
    """A webhook delivery with every attempt (notification's delivery log)."""

    webhook_id: str
    company_id: str
    number: str | None = Field(description="The complaint the webhook is about; null for a test event.")
    event_type: str
    status: str
    attempt_count: int
    attempts: list[DeliveryAttempt]
    next_attempt_at: str | None
    last_error: str | None
    created_at: str
    updated_at: str


class DeliveryDetail(Delivery):
    payload: dict[str, Any] = Field(description="The body the company receives.")


class DeliveryPage(BaseModel):
    items: list[Delivery]


class WebhookEndpoint(Open):
    company_id: str
    url: str
    status: str = Field(description="enabled, or disabled (by an operator or after 410 Gone).")
    disabled_reason: str | None
    disabled_at: str | None
    secret: str = Field(description="In full only in the answer that created it (setting, rotation); masked otherwise.")
    secret_masked: bool


class Alert(Open):
    id: str
    kind: str = Field(description="endpoint_gone, endpoint_failing, delivery_failed, case_overdue, ...")
    company_id: str | None
    number: str | None
    webhook_id: str | None
    detail: str
    created_at: str
    acked_at: str | None


class AlertPage(BaseModel):
    items: list[Alert]


class Verification(Open):
    """An operator's re-verification of a stored file against its receipt."""

    evidence_id: str
    ok: bool = Field(description="The stored object has the receipt's SHA-256 and size.")
    expected: dict[str, Any] = Field(description="The receipt's sha256 and size.")
    actual: dict[str, Any] | None = Field(description="What is stored now; null when the object is missing.")
    verified_at: str


class EvidenceReleased(BaseModel):
    number: str
    evidence_id: str
    held: bool
    released: dict[str, Any] | None = Field(description="Who released it, when and with what note.")
    released_now: bool = Field(description="False when it had been released before: that release is answered.")


class HeldEvidencePage(BaseModel):
    items: list[EvidenceReceipt]
    next_cursor: str | None


class ConsentWithdrawn(BaseModel):
    number: str
    publication_consent: bool = Field(description="Always false from now on.")
    withdrawn_at: str | None = Field(description="When it was withdrawn; null when consent was never given.")


class ApiKey(Open):
    """A company's API key as kept (its hash never shown); ``_id`` repeats ``key_id``."""

    id_: str = Field(alias="_id")
    company_id: str
    label: str
    issued_by: str | None
    created_at: str
    revoked_at: str | None = Field(description="When it was revoked; null while it opens the company API.")
    key_id: str


class ApiKeyList(BaseModel):
    items: list[ApiKey]


class ContactDetails(BaseModel):
    email: str | None
    phone: str


class ComplaintData(BaseModel):
    """Everything a case file holds about its complainant (the complainant's copy): the case's own fields as stored,
    the platform's hashes left out, and the identity opened."""

    model_config = ConfigDict(extra="allow")

    number: str
    status: str
    complainant: dict[str, str | None] = Field(description="The identity given at filing, in full.")


class AccountData(BaseModel):
    """Everything the platform holds about a signed-in complainant: the account and every complaint it filed or
    claimed."""

    account: dict[str, Any]
    complaints: list[ComplaintData]


class ErasureRequested(BaseModel):
    number: str
    erasure_due_at: str = Field(description="When the erasure is carried out (after the hold).")


class AccountErasureRequested(BaseModel):
    complaints: list[str] = Field(description="The complaints whose personal data goes with the account.")
    erasure_due_at: str


class LegalHold(BaseModel):
    number: str
    legal_hold: dict[str, Any] | None = Field(description="The hold (reason, by, at), or null once lifted.")
