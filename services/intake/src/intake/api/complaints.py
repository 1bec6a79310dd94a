"""Complainant API: file (as a guest or signed in), follow, add evidence, supplement, rate, appeal, withdraw.

Personal data is validated on the way in, encrypted before it is stored, and masked on the way out.
A complaint's routes take either its access code (guest) or the bearer token of the account that
filed or claimed it; anyone else gets the same 404 as for a complaint that does not exist.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from greenchannel.contracts import (
    ComplaintAppealed,
    ComplaintClosed,
    ComplaintRated,
    ComplaintSubmitted,
    ComplaintSupplemented,
    ComplaintWithdrawn,
    EventData,
    EvidenceRef,
)
from greenchannel.mongo import in_transaction, is_duplicate_key
from greenchannel.problems import Problem
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pymongo.errors import BulkWriteError, DuplicateKeyError

from intake.adapters.case_store import AlreadyClaimed, AlreadySet, EvidenceRefused, timeline_entry
from intake.adapters.upload_budget import UploadBudget
from intake.adapters.upload_stream import uploaded_file
from intake.api.deps import (
    AccessAttempt,
    AccessCode,
    CallerDep,
    ClientDep,
    ComplainantDep,
    IdempotencyKey,
    Intake,
    IntakeDep,
    PublicRead,
    UploadBudgetDep,
    case_for,
    idempotent,
    replayed,
)
from intake.api.paging import decode_cursor, encode_cursor
from intake.domain.filing import MAX_EVIDENCE_PER_COMPLAINT, ComplaintForm, complaint_number, free_text, new_access_code
from intake.domain.identity import mask_identity, region_code
from intake.domain.lifecycle import (
    EVIDENCE_ACCEPTED_IN,
    Action,
    Status,
    check_window,
    complainant_actions,
    rating_action,
)
from intake.domain.principals import Kind, Principal, is_complainant_of

CHINA = ZoneInfo("Asia/Shanghai")
EvidenceIds = list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]]

router = APIRouter(prefix="/v1", tags=["complaints"])


@router.post("/complaints", status_code=201, summary="File a complaint (as a guest, or signed in)")
async def file_complaint(form: ComplaintForm, intake: IntakeDep, principal: CallerDep, client: ClientDep,
                         idempotency_key: IdempotencyKey = None) -> JSONResponse:
    if principal is not None and principal.kind is not Kind.COMPLAINANT:
        raise Problem(403, "forbidden", "Complaints are filed by complainants.")
    await intake.filing_limits.admit(client, form.complainant)
    try:
        evidence = [await _unattached_receipt(intake, evidence_id) for evidence_id in form.evidence_ids]
    except Problem as refused:
        # Attached already, perhaps by this very filing (a retry, or its twin on another replica).
        if refused.status != 409 or idempotency_key is None:
            raise
        answer = await replayed(intake, "file-complaint", idempotency_key, form.fingerprint_source(), sealed=True)
        if answer is None:
            raise
        return JSONResponse(answer, status_code=201, headers={"Location": answer["links"]["self"]})
    now = datetime.now(timezone.utc)
    today = now.astimezone(CHINA)
    person = form.complainant

    async def file(session) -> dict[str, Any]:
        # Taken inside the retried transaction body but on its own (no session): the counter never
        # becomes a write-conflict hot spot; a failed filing leaves a gap, nothing more.
        number = complaint_number(today, await intake.cases.next_sequence(f"{today:%Y%m%d}"))
        access_code = new_access_code()
        case = {
            "_id": number, "number": number, "status": Status.SUBMITTED.value,
            "access_code_hash": intake.access_codes.digest(access_code),
            "account_id": principal.id if principal is not None else None,
            "complainant": {
                "name": intake.cipher.encrypt("name", person.name),
                "id_number": intake.cipher.encrypt("id_number", person.id_number),
                "phone": intake.cipher.encrypt("phone", person.phone),
                "email": intake.cipher.encrypt("email", person.email) if person.email else None,
            },
            "complainant_masked": mask_identity(person.model_dump()),
            "complainant_key": intake.blind_index.digest(person.id_number),
            "phone_key": intake.blind_index.digest(person.phone),
            "region_code": region_code(person.id_number),
            "company_requested": form.company.model_dump(),
            "company_id": None, "company_name": None,
            "category": form.category, "title": form.title, "description": form.description,
            "occurred_on": form.occurred_on.isoformat(), "desired_outcome": form.desired_outcome,
            "publication_consent": form.publication_consent,
            "evidence": evidence,
            "submitted_at": now, "response_due": None, "forwarded_at": None, "round": 0, "overdue": False,
            "timeline": [timeline_entry("complainant", "submit", Status.SUBMITTED)],
        }
        event = ComplaintSubmitted(
            number=number, company_id=form.company.id, company_name=form.company.name, category=form.category,
            title=form.title, description=form.description, occurred_on=form.occurred_on,
            desired_outcome=form.desired_outcome, complainant_key=case["complainant_key"],
            region_code=case["region_code"], evidence_ids=[ref["evidence_id"] for ref in evidence], submitted_at=now,
        )
        await intake.cases.insert(case, event, session)
        return {"number": number, "access_code": access_code, "status": Status.SUBMITTED.value,
                "links": {"self": f"/v1/complaints/{number}"}}

    try:
        answer = await idempotent(intake, "file-complaint", idempotency_key, form.fingerprint_source(), file, sealed=True)
    except (DuplicateKeyError, BulkWriteError) as error:
        if not is_duplicate_key(error):
            raise
        raise Problem(409, "evidence_already_attached", "An evidence file listed here belongs to another complaint.") from None
    return JSONResponse(answer, status_code=201, headers={"Location": answer["links"]["self"]})


async def _unattached_receipt(intake: Intake, evidence_id: str) -> dict[str, Any]:
    receipt = await intake.evidence.receipt(evidence_id)
    if receipt is None:
        raise Problem(422, "evidence_unknown", f"Evidence {evidence_id} does not exist; upload it first.")
    if receipt.get("number") or await intake.cases.evidence_links.find_one({"_id": evidence_id}):
        raise Problem(409, "evidence_already_attached", f"Evidence {evidence_id} belongs to another complaint.")
    return _evidence_ref(receipt)


def _evidence_ref(receipt: dict[str, Any]) -> dict[str, Any]:
    return {key: receipt[key] for key in ("evidence_id", "filename", "media_type", "size", "sha256")}


@router.get("/complaints/{number}", summary="Follow a complaint (access code, or the account's token)",
            dependencies=[PublicRead])
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
            status, (case.get("response") or {}).get("at"), datetime.now(timezone.utc),
            rating_days=intake.settings.rating_window_days, appeal_days=intake.settings.appeal_window_days,
            rated=case.get("rating") is not None),
        "timeline": [
            {**{key: entry.get(key) for key in ("actor", "action", "status", "detail", "trace_id")}, "at": entry["at"].isoformat()}
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
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                               "properties": {"file": {"type": "string", "format": "binary"}}}},
        },
    }
}


async def _forward_upload(intake: Intake, request: Request, path: str, *,
                          budget: tuple[UploadBudget, str] | None = None) -> dict[str, Any]:
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
    most = min(bound for bound in (upload.length, int(declared) if declared.isdigit() else None, limit,
                                   intake.settings.max_upload_request_bytes) if bound is not None)
    kept_s = await intake.evidence.unattached_removed_after_s()
    async with upload_budget.reserved(address, most, kept_s) as stored:
        receipt = await intake.evidence.upload(path, upload.chunks, upload.media_type, upload.filename, upload.length)
        stored(receipt["size"])
    return receipt


@router.get("/evidence/limits", summary="What evidence may be uploaded: accepted types, size limit per kind, files per complaint")
async def evidence_limits(intake: IntakeDep) -> dict[str, Any]:
    """The evidence service's own limits (one source of truth), so clients refuse a file before uploading it."""
    limits = await intake.evidence.limits()
    return {**limits, "max_files_per_complaint": min(limits["max_files_per_complaint"], MAX_EVIDENCE_PER_COMPLAINT)}


@router.post("/evidence", status_code=201, openapi_extra=UPLOAD_BODY,
             summary="Upload an evidence file before filing (attach it with evidence_ids)")
async def upload_evidence(request: Request, intake: IntakeDep, client: ClientDep,
                          budget: UploadBudgetDep) -> dict[str, Any]:
    await intake.limits.hit(intake.rules.upload, client)
    return await _forward_upload(intake, request, "/v1/evidence", budget=(budget, client))


@router.post("/complaints/{number}/evidence", status_code=201, openapi_extra=UPLOAD_BODY,
             summary="Add an evidence file to a filed complaint")
async def add_evidence(number: str, request: Request, intake: IntakeDep, principal: CallerDep,
                       access_code: AccessCode = None) -> dict[str, Any]:
    principal, case = await open_for_evidence(intake, number, principal, access_code)
    receipt = await _forward_upload(intake, request, f"/v1/complaints/{number}/evidence")
    await link_evidence(intake, case, principal, receipt)
    return receipt


async def open_for_evidence(intake: Intake, number: str, principal: Principal | None,
                            access_code: AccessAttempt | None) -> tuple[Principal, dict[str, Any]]:
    """The complainant's case, if it takes one more evidence file now (404 for anyone else, 409 if it does not)."""
    principal, case = await _as_complainant(intake, number, principal, access_code)
    if Status(case["status"]) not in EVIDENCE_ACCEPTED_IN or len(case["evidence"]) >= MAX_EVIDENCE_PER_COMPLAINT:
        raise _evidence_refused(EvidenceRefused(Status(case["status"]),
                                                full=len(case["evidence"]) >= MAX_EVIDENCE_PER_COMPLAINT))
    return principal, case


def _evidence_refused(refusal: EvidenceRefused) -> Problem:
    if refusal.status not in EVIDENCE_ACCEPTED_IN:
        return Problem(409, "complaint_not_open_for_evidence",
                       f"Evidence cannot be added while the complaint is {refusal.status.value}.",
                       status_now=refusal.status.value)
    return Problem(409, "too_many_evidence_files", f"A complaint holds at most {MAX_EVIDENCE_PER_COMPLAINT} files.")


async def link_evidence(intake: Intake, case: dict[str, Any], principal: Principal, receipt: dict[str, Any]) -> None:
    """Add a file evidence stored for this complaint to its case file, with a timeline entry (once per file);
    409 when the case stopped taking evidence while the file was uploaded (the stored file stays unattached
    and is removed with the other orphans)."""
    ref = _evidence_ref(receipt)

    async def link(session) -> None:
        await intake.cases.add_evidence(case["number"], ref, _actor(principal), limit=MAX_EVIDENCE_PER_COMPLAINT,
                                        session=session)

    try:
        await in_transaction(intake.cases.runtime.mongo, link)
    except EvidenceRefused as refusal:
        raise _evidence_refused(refusal) from None


@router.get("/complaints/{number}/evidence/{evidence_id}/link", summary="A short-lived download link for one file")
async def evidence_link(number: str, evidence_id: str, intake: IntakeDep, principal: CallerDep,
                        access_code: AccessCode = None) -> dict[str, Any]:
    """The complainant, the company it was forwarded to, and operators; everybody else gets 404."""
    _, case = await case_for(intake, number, principal, access_code)
    if evidence_id not in {ref["evidence_id"] for ref in case["evidence"]}:
        raise Problem(404, "evidence_not_found", "No such evidence on this complaint.")
    return await intake.evidence.link(evidence_id)


# --- the complainant's actions ---------------------------------------------------------------------


class Supplement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: free_text(min_length=2, max_length=5000)
    evidence_ids: EvidenceIds = Field(default_factory=list, max_length=MAX_EVIDENCE_PER_COMPLAINT)


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=1, le=5)
    comment: free_text(max_length=1000) = ""


class Appeal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: free_text(min_length=5, max_length=2000)


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: free_text(max_length=500) = ""


async def _as_complainant(intake: Intake, number: str, principal: Principal | None,
                          access_code: AccessAttempt | None) -> tuple[Principal, dict[str, Any]]:
    principal, case = await case_for(intake, number, principal, access_code)
    if not is_complainant_of(principal, case):
        raise Problem(404, "complaint_not_found", "No complaint matches this number and access.")
    return principal, case


def _actor(principal: Principal) -> str:
    return f"{principal.kind.value}" if principal.kind is Kind.GUEST else f"{principal.kind.value}:{principal.id}"


@router.post("/complaints/{number}/supplement", summary="Answer the company's request for more information")
async def supplement(number: str, body: Supplement, intake: IntakeDep, principal: CallerDep,
                     access_code: AccessCode = None, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    principal, _ = await _as_complainant(intake, number, principal, access_code)
    evidence = [await _unattached_receipt(intake, evidence_id) for evidence_id in body.evidence_ids]
    now = datetime.now(timezone.utc)

    async def apply(session) -> dict[str, Any]:
        if evidence:
            await intake.cases.evidence_links.insert_many(
                [{"_id": ref["evidence_id"], "number": number, "at": now} for ref in evidence], session=session)
        updated = await intake.cases.transition(
            number, Action.SUPPLEMENT, actor=_actor(principal), session=session, detail=body.text[:200],
            append={"evidence": evidence, "supplements": [{"text": body.text, "evidence": evidence, "at": now}]},
            events=lambda case: [ComplaintSupplemented(number=number, company_id=case["company_id"], text=body.text,
                                                       evidence=[EvidenceRef(**ref) for ref in evidence],
                                                       supplemented_at=now)],
        )
        return {"number": number, "status": updated["status"]}

    return await idempotent(intake, f"supplement:{number}", idempotency_key, body.model_dump(), apply)


@router.post("/complaints/{number}/rating",
             summary="Rate the handling 1-5, once; 3-5 closes the complaint, 1-2 keeps the appeal open")
async def rate(number: str, body: Rating, intake: IntakeDep, principal: CallerDep,
               access_code: AccessCode = None, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    principal, case = await _as_complainant(intake, number, principal, access_code)
    now = datetime.now(timezone.utc)
    check_window(Action.RATE, (case.get("response") or {}).get("at"), now, intake.settings.rating_window_days)
    action = rating_action(body.rating)
    rating = {"rating": body.rating, "comment": body.comment, "at": now}

    async def apply(session) -> dict[str, Any]:
        def events(case: dict[str, Any]) -> list[EventData]:
            rated = ComplaintRated(number=number, company_id=case["company_id"], rating=body.rating,
                                   comment=body.comment, rated_at=now)
            if action is not Action.RATE:
                return [rated]
            return [rated, ComplaintClosed(number=number, company_id=case["company_id"], outcome="rated", closed_at=now)]

        try:
            updated = await intake.cases.transition(
                number, action, actor=_actor(principal), session=session, detail=f"{body.rating}/5",
                fields={"rating": rating, **({"closure": {"outcome": "rated", "at": now}} if action is Action.RATE else {})},
                events=events, unless_set="rating",
            )
        except AlreadySet:
            raise Problem(409, "already_rated", "This complaint has been rated already; a rating is given once.") from None
        return {"number": number, "status": updated["status"]}

    return await idempotent(intake, f"rate:{number}", idempotency_key, body.model_dump(), apply)


@router.post("/complaints/{number}/appeal", summary="Appeal (申诉) the company's answer to the platform")
async def appeal(number: str, body: Appeal, intake: IntakeDep, principal: CallerDep,
                 access_code: AccessCode = None, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    principal, case = await _as_complainant(intake, number, principal, access_code)
    now = datetime.now(timezone.utc)
    check_window(Action.APPEAL, (case.get("response") or {}).get("at"), now, intake.settings.appeal_window_days)

    async def apply(session) -> dict[str, Any]:
        updated = await intake.cases.transition(
            number, Action.APPEAL, actor=_actor(principal), session=session, detail=body.reason[:200],
            fields={"appeal": {"reason": body.reason, "at": now}},
            events=lambda case: [ComplaintAppealed(number=number, company_id=case["company_id"], reason=body.reason,
                                                   appealed_at=now)],
        )
        return {"number": number, "status": updated["status"]}

    return await idempotent(intake, f"appeal:{number}", idempotency_key, body.model_dump(), apply)


@router.post("/complaints/{number}/withdrawal", summary="Withdraw the complaint (any open step)")
async def withdraw(number: str, body: Withdrawal, intake: IntakeDep, principal: CallerDep,
                   access_code: AccessCode = None, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    principal, _ = await _as_complainant(intake, number, principal, access_code)
    now = datetime.now(timezone.utc)

    async def apply(session) -> dict[str, Any]:
        updated = await intake.cases.transition(
            number, Action.WITHDRAW, actor=_actor(principal), session=session, detail=body.reason,
            fields={"closure": {"outcome": "withdrawn", "at": now, "note": body.reason}},
            events=lambda case: [ComplaintWithdrawn(number=number, company_id=case["company_id"],
                                                    reason=body.reason, withdrawn_at=now)],
        )
        return {"number": number, "status": updated["status"]}

    return await idempotent(intake, f"withdraw:{number}", idempotency_key, body.model_dump(), apply)


@router.get("/complaints/{number}/messages", summary="Platform messages about this complaint")
async def complaint_messages(number: str, intake: IntakeDep, principal: CallerDep, access_code: AccessCode = None,
                             limit: Annotated[int, Query(ge=1, le=100)] = 20, cursor: str | None = None) -> dict:
    await _as_complainant(intake, number, principal, access_code)
    return await intake.notification.messages([number], limit, cursor)


# --- signed-in complainants ------------------------------------------------------------------------


class Claim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, StringConstraints(max_length=40)]
    access_code: Annotated[str, StringConstraints(max_length=40)]


@router.post("/me/complaints/claim", summary="Claim a guest complaint into this account")
async def claim(body: Claim, intake: IntakeDep, principal: ComplainantDep, client: ClientDep) -> dict[str, Any]:
    _, case = await case_for(intake, body.number, None, AccessAttempt(body.access_code, client))
    try:
        await intake.cases.claim(case["number"], principal.id)
    except AlreadyClaimed:
        raise Problem(409, "complaint_already_claimed", "This complaint belongs to another account.") from None
    return {"number": body.number, "claimed": True}


@router.get("/me/complaints", summary="My complaints, newest first")
async def my_complaints(intake: IntakeDep, principal: ComplainantDep,
                        limit: Annotated[int, Query(ge=1, le=100)] = 20, cursor: str | None = None) -> dict[str, Any]:
    rows = await intake.cases.page({"account_id": principal.id}, limit=limit + 1, after=decode_cursor(cursor))
    items = [_summary(case) for case in rows[:limit]]
    return {"items": items, "next_cursor": encode_cursor(rows[limit - 1]) if len(rows) > limit else None}


@router.get("/me/messages", summary="My platform messages, newest first")
async def my_messages(intake: IntakeDep, principal: ComplainantDep,
                      limit: Annotated[int, Query(ge=1, le=100)] = 20, cursor: str | None = None) -> dict[str, Any]:
    numbers = await intake.cases.complaints.distinct("_id", {"account_id": principal.id})
    return await intake.notification.messages(numbers[:500], limit, cursor)


def _summary(case: dict[str, Any]) -> dict[str, Any]:
    return {"number": case["number"], "status": case["status"], "title": case["title"],
            "company": {"id": case["company_id"], "name": case["company_name"]},
            "submitted_at": case["submitted_at"].isoformat(), "response_due": case.get("response_due"),
            "overdue": case.get("overdue", False)}
