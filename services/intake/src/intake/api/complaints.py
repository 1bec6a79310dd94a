"""Complainant API: file (as a guest or signed in), follow, add evidence, supplement, rate, appeal, withdraw.

Personal data is validated on the way in, encrypted before it is stored, and masked on the way out.
A complaint's routes take either its access code (guest) or the bearer token of the account that
filed or claimed it; anyone else gets the same 404 as for a complaint that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from greenchannel.problems import Problem
from intake.adapters.upload_budget import UploadBudget
from intake.adapters.upload_stream import uploaded_file
from intake.api.dependencies import (
    AccessAttempt,
    AccessCode,
    CallerDep,
    ClientDep,
    ComplainantDep,
    ComplaintsDep,
    IdempotencyKey,
    Intake,
    IntakeDep,
    PublicRead,
    UploadBudgetDep,
    case_for,
    complainant_case,
)
from intake.api.paging import decode_cursor, encode_cursor
from intake.api.schemas import (
    APPEAL_EXAMPLES,
    FILING_EXAMPLES,
    RATING_EXAMPLES,
    ClaimReceipt,
    ComplaintPage,
    ComplaintView,
    ConsentWithdrawn,
    DownloadLink,
    EvidenceLimits,
    EvidenceReceipt,
    FilingReceipt,
    Message,
    MessagePage,
    Transition,
)
from intake.core.complaints import check_open_for_evidence
from intake.domain.filing import MAX_EVIDENCE_PER_COMPLAINT, ComplaintForm, free_text
from intake.domain.lifecycle import Status, complainant_actions
from intake.domain.principals import Kind, Principal

EvidenceIds = list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]]

router = APIRouter(prefix="/v1", tags=["complaints"])


@router.post(
    "/complaints",
    status_code=201,
    response_model=FilingReceipt,
    summary="File a complaint (as a guest, or signed in)",
)
async def file_complaint(
    form: Annotated[ComplaintForm, Body(openapi_examples=FILING_EXAMPLES)],
    intake: IntakeDep,
    complaints: ComplaintsDep,
    principal: CallerDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    if principal is not None and principal.kind is not Kind.COMPLAINANT:
        raise Problem(403, "forbidden", "Complaints are filed by complainants.")
    await intake.filing_limits.admit(client, form.complainant)
    answer = await complaints.file(form, principal.id if principal is not None else None, idempotency_key)
    return JSONResponse(answer, status_code=201, headers={"Location": answer["links"]["self"]})


@router.get(
    "/complaints/{number}",
    response_model=ComplaintView,
    summary="Follow a complaint (access code, or the account's token)",
    dependencies=[PublicRead],
)
async def read_complaint(number: str, intake: IntakeDep, principal: CallerDep, access_code: AccessCode = None) -> dict:
    principal, case = await case_for(intake, number, principal, access_code)
    if principal.kind is Kind.COMPANY:
        raise Problem(404, "complaint_not_found", "No complaint matches this number and access.")
    return complainant_view(case, intake)


def complainant_view(case: dict[str, Any], intake: Intake) -> dict[str, Any]:
    status = Status(case["status"])
    return {
        "number": case["number"],
        "status": status.value,
        "overdue": case.get("overdue", False),
        "company": {"id": case["company_id"], "name": case["company_name"], "requested": case["company_requested"]},
        "category": case["category"],
        "title": case["title"],
        "description": case["description"],
        "occurred_on": case["occurred_on"],
        "desired_outcome": case["desired_outcome"],
        "publication_consent": case["publication_consent"],
        "complainant": case["complainant_masked"],
        "evidence": case["evidence"],
        "submitted_at": case["submitted_at"].isoformat(),
        "response_due": case.get("response_due"),
        "appeal_due": case.get("appeal_due"),
        "forwarded_at": _iso(case.get("forwarded_at")),
        "rejection": case.get("rejection"),
        "info_requests": [_jsonable(item) for item in case.get("info_requests", [])],
        "supplements": [_jsonable(item) for item in case.get("supplements", [])],
        "response": _jsonable(case.get("response")),
        "rating": _jsonable(case.get("rating")),
        "appeal": _jsonable(case.get("appeal")),
        "closure": _jsonable(case.get("closure")),
        "allowed_actions": complainant_actions(
            status,
            (case.get("response") or {}).get("at"),
            datetime.now(UTC),
            rating_days=intake.settings.rating_window_days,
            appeal_days=intake.settings.appeal_window_days,
            rated=case.get("rating") is not None,
        ),
        "timeline": [
            {
                **{key: entry.get(key) for key in ("actor", "action", "status", "detail", "trace_id")},
                "at": entry["at"].isoformat(),
            }
            for entry in case["timeline"]
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return _iso(value) if isinstance(value, datetime) else value


# --- evidence --------------------------------------------------------------------------------------


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file as the raw body (its Content-Type, and `Content-Disposition: attachment; "
        "filename*=UTF-8''<percent-encoded name>`), or a multipart form with the file in a field "
        "named `file`.",
        "content": {
            "*/*": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


async def _forward_upload(
    intake: Intake, request: Request, path: str, *, budget: tuple[UploadBudget, str] | None = None
) -> dict[str, Any]:
    """Stream the request's file to evidence as it arrives (no spooling). A raw body's length is passed
    on (evidence refuses an oversized file at once and stores it with one PUT); a multipart part's is
    known only at its end, so evidence counts while it receives and refuses as soon as a limit is passed.

    ``budget`` (the budget and the client's address) is for anonymous uploads: before a byte goes to
    evidence the most the body can hold is reserved (429 when it does not fit), and brought down to
    the size stored once evidence answers, or given back when it refuses the file."""
    upload = await uploaded_file(request.headers, request.stream(), max_bytes=intake.settings.max_upload_request_bytes)
    limit = await intake.evidence.check_declared(upload.media_type, upload.length)
    if budget is None:
        return await intake.evidence.upload(path, upload.chunks, upload.media_type, upload.filename, upload.length)
    upload_budget, address = budget
    # The file is no longer than the request's own length, nor than the limit of its type.
    declared = request.headers.get("content-length", "")
    most = min(
        bound
        for bound in (
            upload.length,
            int(declared) if declared.isdigit() else None,
            limit,
            intake.settings.max_upload_request_bytes,
        )
        if bound is not None
    )
    kept_s = await intake.evidence.unattached_removed_after_s()
    async with upload_budget.reserved(address, most, kept_s) as stored:
        receipt = await intake.evidence.upload(path, upload.chunks, upload.media_type, upload.filename, upload.length)
        stored(receipt["size"])
    return receipt


@router.get(
    "/evidence/limits",
    response_model=EvidenceLimits,
    summary="What evidence may be uploaded: accepted types, size limit per kind, files per complaint",
)
async def evidence_limits(intake: IntakeDep) -> dict[str, Any]:
    """The evidence service's own limits (one source of truth), so clients refuse a file before uploading it."""
    limits = await intake.evidence.limits()
    return {**limits, "max_files_per_complaint": min(limits["max_files_per_complaint"], MAX_EVIDENCE_PER_COMPLAINT)}


@router.post(
    "/evidence",
    response_model=EvidenceReceipt,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    summary="Upload an evidence file before filing (attach it with evidence_ids)",
)
async def upload_evidence(
    request: Request, intake: IntakeDep, client: ClientDep, budget: UploadBudgetDep
) -> dict[str, Any]:
    await intake.limits.hit(intake.rules.upload, client)
    return await _forward_upload(intake, request, "/v1/evidence", budget=(budget, client))


@router.post(
    "/complaints/{number}/evidence",
    response_model=EvidenceReceipt,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    summary="Add an evidence file to a filed complaint",
)
async def add_evidence(
    number: str,
    request: Request,
    intake: IntakeDep,
    complaints: ComplaintsDep,
    principal: CallerDep,
    access_code: AccessCode = None,
) -> dict[str, Any]:
    principal, case = await open_for_evidence(intake, number, principal, access_code)
    receipt = await _forward_upload(intake, request, f"/v1/complaints/{number}/evidence")
    await complaints.link_evidence(case["number"], principal, receipt)
    return receipt


async def open_for_evidence(
    intake: Intake, number: str, principal: Principal | None, access_code: AccessAttempt | None
) -> tuple[Principal, dict[str, Any]]:
    """The complainant's case, if it takes one more evidence file now (404 for anyone else, 409 if it does not)."""
    principal, case = await complainant_case(intake, number, principal, access_code)
    check_open_for_evidence(case)
    return principal, case


@router.get(
    "/complaints/{number}/evidence/{evidence_id}/link",
    response_model=DownloadLink,
    summary="A short-lived download link for one file",
)
async def evidence_link(
    number: str, evidence_id: str, intake: IntakeDep, principal: CallerDep, access_code: AccessCode = None
) -> dict[str, Any]:
    """The complainant, the company it was forwarded to, and operators; everybody else gets 404. A file held for
    its metadata (``evidence_held``, 409) reaches the company only once an operator released it."""
    principal, case = await case_for(intake, number, principal, access_code)
    if evidence_id not in {ref["evidence_id"] for ref in case["evidence"]}:
        raise Problem(404, "evidence_not_found", "No such evidence on this complaint.")
    return await intake.evidence.link(evidence_id, for_company=principal.kind is Kind.COMPANY)


# --- the complainant's actions ---------------------------------------------------------------------


class Supplement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: free_text(min_length=2, max_length=5000)  # type: ignore[valid-type]
    evidence_ids: EvidenceIds = Field(default_factory=list, max_length=MAX_EVIDENCE_PER_COMPLAINT)


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=1, le=5)
    comment: free_text(max_length=1000) = ""  # type: ignore[valid-type]


class Appeal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: free_text(min_length=5, max_length=2000)  # type: ignore[valid-type]


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: free_text(max_length=500) = ""  # type: ignore[valid-type]


@router.post(
    "/complaints/{number}/supplement",
    response_model=Transition,
    summary="Answer the company's request for more information",
)
async def supplement(
    number: str,
    body: Supplement,
    intake: IntakeDep,
    complaints: ComplaintsDep,
    principal: CallerDep,
    access_code: AccessCode = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    principal, _ = await complainant_case(intake, number, principal, access_code)
    return await complaints.supplement(number, principal, body.text, body.evidence_ids, idempotency_key)


@router.post(
    "/complaints/{number}/rating",
    response_model=Transition,
    summary="Rate the handling 1-5, once; 3-5 closes the complaint, 1-2 keeps the appeal open",
)
async def rate(
    number: str,
    body: Annotated[Rating, Body(openapi_examples=RATING_EXAMPLES)],
    intake: IntakeDep,
    complaints: ComplaintsDep,
    principal: CallerDep,
    access_code: AccessCode = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    principal, case = await complainant_case(intake, number, principal, access_code)
    return await complaints.rate(case, principal, body.rating, body.comment, idempotency_key)


@router.post(
    "/complaints/{number}/appeal",
    response_model=Transition,
    summary="Appeal (申诉) the company's answer to the platform",
)
async def appeal(
    number: str,
    body: Annotated[Appeal, Body(openapi_examples=APPEAL_EXAMPLES)],
    intake: IntakeDep,
    complaints: ComplaintsDep,
    principal: CallerDep,
    access_code: AccessCode = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    principal, case = await complainant_case(intake, number, principal, access_code)
    return await complaints.appeal(case, principal, body.reason, idempotency_key)


@router.post(
    "/complaints/{number}/withdrawal", response_model=Transition, summary="Withdraw the complaint (any open step)"
)
async def withdraw(
    number: str,
    body: Withdrawal,
    intake: IntakeDep,
    complaints: ComplaintsDep,
    principal: CallerDep,
    access_code: AccessCode = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    principal, _ = await complainant_case(intake, number, principal, access_code)
    return await complaints.withdraw(number, principal, body.reason, idempotency_key)


@router.post(
    "/complaints/{number}/publication-consent/withdrawal",
    response_model=ConsentWithdrawn,
    summary="Withdraw the consent to publishing the complaint's text (any state, final)",
)
async def withdraw_publication_consent(
    number: str,
    intake: IntakeDep,
    complaints: ComplaintsDep,
    principal: CallerDep,
    access_code: AccessCode = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    principal, _ = await complainant_case(intake, number, principal, access_code)
    return await complaints.withdraw_publication_consent(number, principal, idempotency_key)


@router.get(
    "/complaints/{number}/messages", response_model=MessagePage, summary="Platform messages about this complaint"
)
async def complaint_messages(
    number: str,
    intake: IntakeDep,
    principal: CallerDep,
    access_code: AccessCode = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> dict:
    await complainant_case(intake, number, principal, access_code)
    return await intake.notification.messages([number], limit, cursor)


@router.post(
    "/complaints/{number}/messages/{message_id}/read",
    response_model=Message,
    summary="Mark a message about this complaint read",
)
async def read_complaint_message(
    number: str, message_id: str, intake: IntakeDep, principal: CallerDep, access_code: AccessCode = None
) -> dict:
    await complainant_case(intake, number, principal, access_code)
    return await intake.notification.mark_read(message_id, [number])


# --- signed-in complainants ------------------------------------------------------------------------


class Claim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, StringConstraints(max_length=40)]
    access_code: Annotated[str, StringConstraints(max_length=40)]


@router.post("/me/complaints/claim", response_model=ClaimReceipt, summary="Claim a guest complaint into this account")
async def claim(
    body: Claim, intake: IntakeDep, complaints: ComplaintsDep, principal: ComplainantDep, client: ClientDep
) -> dict[str, Any]:
    _, case = await case_for(intake, body.number, None, AccessAttempt(body.access_code, client))
    return await complaints.claim(case["number"], principal.id)


@router.get("/me/complaints", response_model=ComplaintPage, summary="My complaints, newest first")
async def my_complaints(
    intake: IntakeDep,
    principal: ComplainantDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    rows = await intake.cases.page({"account_id": principal.id}, limit=limit + 1, after=decode_cursor(cursor))
    items = [_summary(case) for case in rows[:limit]]
    return {"items": items, "next_cursor": encode_cursor(rows[limit - 1]) if len(rows) > limit else None}


@router.get("/me/messages", response_model=MessagePage, summary="My platform messages, newest first")
async def my_messages(
    intake: IntakeDep,
    principal: ComplainantDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    numbers = await intake.cases.numbers_of(principal.id)
    return await intake.notification.messages(numbers[:500], limit, cursor)


@router.post("/me/messages/{message_id}/read", response_model=Message, summary="Mark one of my messages read")
async def read_my_message(message_id: str, intake: IntakeDep, principal: ComplainantDep) -> dict[str, Any]:
    numbers = await intake.cases.numbers_of(principal.id)
    return await intake.notification.mark_read(message_id, numbers[:100])


def _summary(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": case["number"],
        "status": case["status"],
        "title": case["title"],
        "company": {"id": case["company_id"], "name": case["company_name"]},
        "submitted_at": case["submitted_at"].isoformat(),
        "response_due": case.get("response_due"),
        "overdue": case.get("overdue", False),
    }
