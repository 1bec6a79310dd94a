"""Complainant API: file a complaint as a guest, follow it with the access code, add evidence.

Personal data is validated on the way in, encrypted before it is stored, and masked on the way out.
Existence is private: an unknown number and a wrong access code answer the same 404.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Request, UploadFile
from fastapi.responses import JSONResponse
from greenchannel.contracts import ComplaintSubmitted
from greenchannel.idempotency import IdempotencyStore, fingerprint
from greenchannel.mongo import in_transaction
from greenchannel.problems import Problem
from pymongo.errors import DuplicateKeyError

from intake.adapters.case_store import CaseStore, timeline_entry
from intake.adapters.evidence_client import EvidenceClient
from intake.adapters.pii import KeyedHash, PiiCipher
from intake.config import Settings
from intake.domain.filing import ComplaintForm, complaint_number, new_access_code, normalize_access_code
from intake.domain.identity import mask_email, mask_id_number, mask_name, mask_phone, region_code
from intake.domain.lifecycle import OPEN, Status

CHINA = ZoneInfo("Asia/Shanghai")
UPLOAD_CHUNK = 256 * 1024
FILING_SCOPE = "file-complaint"
EVIDENCE_ACCEPTED_IN = frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.FORWARDED, Status.INFO_REQUESTED})

router = APIRouter(prefix="/v1", tags=["complaints"])


class Intake:
    """The collaborators the routes need, built once in ``main.create_app``."""

    def __init__(self, settings: Settings, cases: CaseStore, idempotency: IdempotencyStore, evidence: EvidenceClient):
        self.settings = settings
        self.cases = cases
        self.idempotency = idempotency
        self.evidence = evidence
        self.cipher = PiiCipher.from_settings(settings.pii_keys, settings.pii_active_key_id)
        self.blind_index = KeyedHash(settings.blind_index_key.encode(), "blind-index")
        self.access_codes = KeyedHash(settings.access_code_key.encode(), "access-code")


def get_intake(request: Request) -> Intake:
    return request.app.state.intake


IntakeDep = Annotated[Intake, Depends(get_intake)]
AccessCode = Annotated[str | None, Header(alias="X-Access-Code", description="The guest access code given at filing.")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Makes a retried POST safe.")]


async def guest_case(intake: Intake, number: str, access_code: str | None) -> dict[str, Any]:
    case = await intake.cases.get(number) if len(number) <= 40 else None
    if case is None or not access_code or not intake.access_codes.matches(normalize_access_code(access_code), case["access_code_hash"]):
        raise Problem(404, "complaint_not_found", "No complaint matches this number and access code.")
    return case


@router.post("/complaints", status_code=201, summary="File a complaint as a guest")
async def file_complaint(form: ComplaintForm, intake: IntakeDep, idempotency_key: IdempotencyKey = None) -> JSONResponse:
    body_fingerprint = fingerprint(form.fingerprint_source())
    if idempotency_key is not None and (previous := await _previous_answer(intake, idempotency_key, body_fingerprint)):
        return previous

    evidence = [await _unattached_receipt(intake, evidence_id) for evidence_id in form.evidence_ids]
    now = datetime.now(timezone.utc)
    today = now.astimezone(CHINA)
    number = complaint_number(today, await intake.cases.next_sequence(f"{today:%Y%m%d}"))
    access_code = new_access_code()
    person = form.complainant
    case = {
        "_id": number,
        "number": number,
        "status": Status.SUBMITTED.value,
        "access_code_hash": intake.access_codes.digest(access_code),
        "complainant": {
            "name": intake.cipher.encrypt("name", person.name),
            "id_number": intake.cipher.encrypt("id_number", person.id_number),
            "phone": intake.cipher.encrypt("phone", person.phone),
            "email": intake.cipher.encrypt("email", person.email) if person.email else None,
        },
        "complainant_masked": {
            "name": mask_name(person.name),
            "id_number": mask_id_number(person.id_number),
            "phone": mask_phone(person.phone),
            "email": mask_email(person.email) if person.email else None,
        },
        "complainant_key": intake.blind_index.digest(person.id_number),
        "phone_key": intake.blind_index.digest(person.phone),
        "region_code": region_code(person.id_number),
        "company_requested": form.company.model_dump(),
        "company_id": None,
        "company_name": None,
        "category": form.category,
        "title": form.title,
        "description": form.description,
        "occurred_on": form.occurred_on.isoformat(),
        "desired_outcome": form.desired_outcome,
        "publication_consent": form.publication_consent,
        "evidence": evidence,
        "submitted_at": now,
        "response_due": None,
        "forwarded_at": None,
        "timeline": [timeline_entry("complainant", "submit", Status.SUBMITTED)],
    }
    event = ComplaintSubmitted(
        number=number, company_id=form.company.id, company_name=form.company.name, category=form.category,
        title=form.title, description=form.description, occurred_on=form.occurred_on,
        desired_outcome=form.desired_outcome, complainant_key=case["complainant_key"],
        region_code=case["region_code"], evidence_ids=[ref["evidence_id"] for ref in evidence], submitted_at=now,
    )
    answer = {"number": number, "access_code": access_code, "status": Status.SUBMITTED.value,
              "links": {"self": f"/v1/complaints/{number}"}}

    async def remember(session) -> None:
        if idempotency_key is not None:
            await intake.idempotency.remember(
                FILING_SCOPE, idempotency_key, body_fingerprint,
                intake.cipher.encrypt_json("idempotent-response", answer),
                now + timedelta(seconds=intake.settings.idempotency_ttl_s), session,
            )

    try:
        await intake.cases.file(case, event, also=remember)
    except DuplicateKeyError:
        # A concurrent twin with the same Idempotency-Key committed first: answer what it answered.
        if idempotency_key is not None and (previous := await _previous_answer(intake, idempotency_key, body_fingerprint)):
            return previous
        raise Problem(409, "evidence_already_attached", "An evidence file listed here belongs to another complaint.") from None
    return JSONResponse(answer, status_code=201, headers={"Location": answer["links"]["self"]})


async def _previous_answer(intake: Intake, key: str, body_fingerprint: str) -> JSONResponse | None:
    """The answer already given for this key (kept encrypted: it holds the access code), or None."""
    previous = await intake.idempotency.replay(FILING_SCOPE, key, body_fingerprint)
    if previous is None:
        return None
    return JSONResponse(intake.cipher.decrypt_json("idempotent-response", previous), status_code=201)


async def _unattached_receipt(intake: Intake, evidence_id: str) -> dict[str, Any]:
    receipt = await intake.evidence.receipt(evidence_id)
    if receipt is None:
        raise Problem(422, "evidence_unknown", f"Evidence {evidence_id} does not exist; upload it first.")
    if receipt.get("number") or await intake.cases.evidence_links.find_one({"_id": evidence_id}):
        raise Problem(409, "evidence_already_attached", f"Evidence {evidence_id} belongs to another complaint.")
    return _evidence_ref(receipt)


def _evidence_ref(receipt: dict[str, Any]) -> dict[str, Any]:
    return {key: receipt[key] for key in ("evidence_id", "filename", "media_type", "size", "sha256")}


@router.get("/complaints/{number}", summary="Follow a complaint with its access code")
async def read_complaint(number: str, intake: IntakeDep, access_code: AccessCode = None) -> dict[str, Any]:
    case = await guest_case(intake, number, access_code)
    return complainant_view(case)


def complainant_view(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": case["number"],
        "status": case["status"],
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
        "forwarded_at": case["forwarded_at"].isoformat() if case.get("forwarded_at") else None,
        "rejection": case.get("rejection"),
        "timeline": [
            {**{key: entry.get(key) for key in ("actor", "action", "status", "detail", "trace_id")}, "at": entry["at"].isoformat()}
            for entry in case["timeline"]
        ],
    }


async def _stream(upload: UploadFile):
    while chunk := await upload.read(UPLOAD_CHUNK):
        yield chunk


@router.post("/evidence", status_code=201, summary="Upload an evidence file before filing (attach it with evidence_ids)")
async def upload_evidence(file: UploadFile, intake: IntakeDep) -> dict[str, Any]:
    receipt = await intake.evidence.upload(
        "/v1/evidence", _stream(file), file.content_type or "application/octet-stream", file.filename, file.size
    )
    return receipt


@router.post("/complaints/{number}/evidence", status_code=201, summary="Add an evidence file to a filed complaint")
async def add_evidence(number: str, file: UploadFile, intake: IntakeDep, access_code: AccessCode = None) -> dict[str, Any]:
    case = await guest_case(intake, number, access_code)
    if Status(case["status"]) not in EVIDENCE_ACCEPTED_IN:
        raise Problem(409, "complaint_not_open_for_evidence", f"Evidence cannot be added while the complaint is {case['status']}.",
                      status_now=case["status"])
    receipt = await intake.evidence.upload(
        f"/v1/complaints/{number}/evidence", _stream(file), file.content_type or "application/octet-stream",
        file.filename, file.size,
    )
    ref = _evidence_ref(receipt)

    async def link(session) -> None:
        await intake.cases.evidence_links.insert_one({"_id": ref["evidence_id"], "number": number,
                                                      "at": datetime.now(timezone.utc)}, session=session)
        await intake.cases.complaints.update_one(
            {"_id": number, "status": {"$in": [status.value for status in OPEN]}},
            {"$push": {"evidence": ref, "timeline": timeline_entry("complainant", "add_evidence", Status(case["status"]),
                                                                   ref["filename"])}},
            session=session,
        )

    await in_transaction(intake.cases.runtime.mongo, link)
    return receipt
