"""Presigned uploads through the gateway: for a large file, the complainant's client sends the bytes straight to
object storage, and only declares the file here and asks for it to be checked.

1. ``POST /v1/uploads`` with the file's name, media type, size and SHA-256: evidence checks the declaration
   (a type on the allow-list, a size within its kind's limit) and answers a short-lived presigned PUT URL
   into quarantine, signed for the name clients reach storage by (``S3_PUBLIC_ENDPOINT``);
2. the client PUTs the file's exact bytes to that URL, with their Content-Length: the URL is signed for the
   declared size, and storage refuses a body of any other length (or one sent without a length);
   With ``multipart: true`` the ticket holds a presigned PUT per part instead (``parts``: number, size, url); a
   client whose connection dropped asks ``GET /v1/uploads/{upload_id}/parts`` what storage holds already, with
   fresh URLs for the missing parts, and sends only those;
3. ``POST /v1/uploads/{upload_id}/complete``: evidence checks size, type by content and SHA-256 against the
   declaration and only then stores the file as evidence; the receipt is usable in ``evidence_ids`` when
   filing, like one from ``POST /v1/evidence``.

The same for a filed complaint under ``/v1/complaints/{number}/uploads``, with the authorisation of adding
a file to it (the complainant's access code or account token): completing it adds the file to the case.

An upload started for a complaint completes only through that complaint's route, and one started before
filing only through ``/v1/uploads``; anything else answers the 404 of an unknown upload. Refusals are
evidence's problem documents, passed on; a refused or expired upload leaves nothing in storage.

Operators re-verify any stored file against its receipt through ``POST /v1/ops/evidence/{id}/verify``.
"""

from __future__ import annotations

import contextlib
import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import DuplicateKeyError

from greenchannel.problems import Problem
from intake.api.complaints import open_for_evidence
from intake.api.dependencies import (
    AccessCode,
    CallerDep,
    ClientDep,
    ComplaintsDep,
    Intake,
    IntakeDep,
    OperatorDep,
    UploadBudgetDep,
)
from intake.api.schemas import EvidenceReceipt, Verification

router = APIRouter(prefix="/v1", tags=["uploads"])

_UPLOAD_ID = _EVIDENCE_ID = re.compile(r"[0-9a-f]{32}")

_REFUSED_AT_START: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many uploads from this address, or its daily byte budget of uploads before filing is "
        "used up (upload_budget_exhausted); Retry-After says when to try again."
    },
    409: {"description": "The complaint holds its maximum of files, or takes none in its state."},
    413: {"description": "The declared size is above the limit of its kind (evidence_too_large)."},
    415: {"description": "The declared type is not accepted (unsupported_media_type)."},
    422: {"description": "A zero size (empty_evidence) or fields to fix (validation_failed)."},
}
_REFUSED_AT_COMPLETION: dict[int | str, dict[str, Any]] = {
    200: {"description": "Completed before: the same receipt again."},
    404: {"description": "No such upload here (upload_not_found)."},
    409: {
        "description": "Nothing uploaded yet (upload_not_received), being checked (upload_in_progress), or the "
        "complaint holds its maximum of files."
    },
    410: {"description": "Not completed in time (upload_expired); its object was removed."},
    413: {"description": "Larger than its kind's limit (evidence_too_large); the object was removed."},
    415: {
        "description": "Not the declared type (media_type_mismatch, unsupported_media_type); the object was removed."
    },
    422: {
        "description": "Not the declared size or SHA-256 (upload_size_mismatch, upload_hash_mismatch); the object "
        "was removed."
    },
}


_PARTS_REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such upload here (upload_not_found)."},
    409: {"description": "Not a multipart upload (not_multipart), or no longer pending (upload_not_pending)."},
    410: {"description": "Its URLs expired (upload_expired): start again."},
}


class UploadDeclaration(BaseModel):
    """The file a client is about to PUT straight to storage.

    Unknown fields are ignored, not refused (and not passed on to evidence): during a rollout a page served by a
    newer replica may declare a field an older replica does not know yet (expand, then contract); refusing it would
    fail the complainant's upload for a field this release has no use for. The known fields are still checked
    strictly."""

    model_config = ConfigDict(extra="ignore")

    filename: str | None = Field(default=None, max_length=255, description="The original name (metadata only).")
    media_type: str = Field(max_length=255, description="An accepted evidence type; checked against the content.")
    size: int = Field(ge=0, description="Exact size in bytes; checked against the kind's limit now, the object later.")
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="Hex SHA-256 of the file; checked against the object")
    multipart: bool = Field(
        default=False,
        description="Send the file in parts, a PUT URL each, so a dropped connection costs only the parts storage "
        "does not hold yet (GET .../parts).",
    )


class PartUpload(BaseModel):
    number: int = Field(description="The part's number, from 1.")
    size: int = Field(description="Its exact size in bytes: the URL is signed for it.")
    url: str = Field(description="Presigned PUT of this part (object storage, not this gateway).")


class UploadTicket(BaseModel):
    upload_id: str
    method: str = Field(
        description="PUT: send the file's bytes, as they are, as the request body, with a "
        "Content-Length of the declared size (the URL is signed for it)."
    )
    url: str | None = Field(
        description="Presigned URL of object storage (not of this gateway); null for a multipart upload."
    )
    expires_at: str = Field(description="The URL is refused after this time.")
    complete_by: str = Field(description="Complete the upload before this time, or it is removed.")
    links: dict[str, str] = Field(
        description="complete: where to POST once the bytes are uploaded; parts (multipart): where to ask which "
        "parts storage holds."
    )
    parts: list[PartUpload] | None = Field(default=None, description="A multipart upload's parts, in order.")


class StoredPart(BaseModel):
    number: int
    size: int


class UploadParts(BaseModel):
    upload_id: str
    stored: list[StoredPart] = Field(description="The parts storage holds, at their size.")
    missing: list[PartUpload] = Field(description="The parts still to send, each with a fresh PUT URL.")


UploadId = Annotated[str, Path(description="The upload_id of the ticket.")]


@router.post(
    "/uploads",
    status_code=201,
    response_model=UploadTicket,
    responses=_REFUSED_AT_START,
    summary="Start a presigned upload of a large file before filing: answers a PUT URL of object storage",
)
async def start_upload(
    body: UploadDeclaration, intake: IntakeDep, client: ClientDep, budget: UploadBudgetDep
) -> dict[str, Any]:
    await intake.limits.hit(intake.rules.upload, client)
    # The declared size counts from now (the URL takes no more): given back if evidence refuses the declaration.
    async with budget.reserved(client, body.size, await intake.evidence.unattached_removed_after_s()):
        ticket = await intake.evidence.start_upload(body.model_dump())
    return _ticket(ticket, f"/v1/uploads/{ticket['upload_id']}")


@router.get(
    "/uploads/{upload_id}/parts",
    response_model=UploadParts,
    responses=_PARTS_REFUSED,
    summary="A multipart upload's parts that storage holds, and a fresh PUT URL for each one missing (to resume)",
)
async def upload_parts(upload_id: UploadId, intake: IntakeDep) -> dict[str, Any]:
    await _started_for(intake, upload_id, None)
    return await intake.evidence.upload_parts(upload_id)


@router.post(
    "/uploads/{upload_id}/complete",
    status_code=201,
    response_model=EvidenceReceipt,
    responses=_REFUSED_AT_COMPLETION,
    summary="Check the uploaded file against its declaration and store it; answers its receipt",
)
async def complete_upload(upload_id: UploadId, intake: IntakeDep, response: Response) -> dict[str, Any]:
    await _started_for(intake, upload_id, None)
    receipt, created = await intake.evidence.complete_upload(upload_id)
    if not created:
        response.status_code = 200
    return receipt


@router.post(
    "/complaints/{number}/uploads",
    status_code=201,
    response_model=UploadTicket,
    responses={**_REFUSED_AT_START, 404: {"description": "No complaint of the caller's."}},
    summary="Start a presigned upload of a large file for a filed complaint",
)
async def start_complaint_upload(
    number: str,
    body: UploadDeclaration,
    intake: IntakeDep,
    principal: CallerDep,
    client: ClientDep,
    access_code: AccessCode = None,
) -> dict[str, Any]:
    await open_for_evidence(intake, number, principal, access_code)
    await intake.limits.hit(intake.rules.upload, client)
    ticket = await intake.evidence.start_upload({**body.model_dump(), "number": number})
    return _ticket(ticket, f"/v1/complaints/{number}/uploads/{ticket['upload_id']}")


@router.get(
    "/complaints/{number}/uploads/{upload_id}/parts",
    response_model=UploadParts,
    responses={**_PARTS_REFUSED, 404: {"description": "No complaint of the caller's, or no such upload of it."}},
    summary="A multipart upload's parts that storage holds, for a filed complaint (to resume)",
)
async def complaint_upload_parts(
    number: str, upload_id: UploadId, intake: IntakeDep, principal: CallerDep, access_code: AccessCode = None
) -> dict[str, Any]:
    await open_for_evidence(intake, number, principal, access_code)
    await _started_for(intake, upload_id, number)
    return await intake.evidence.upload_parts(upload_id)


@router.post(
    "/complaints/{number}/uploads/{upload_id}/complete",
    status_code=201,
    response_model=EvidenceReceipt,
    responses=_REFUSED_AT_COMPLETION,
    summary="Check the uploaded file against its declaration, store it and add it to the complaint",
)
async def complete_complaint_upload(
    number: str,
    upload_id: UploadId,
    intake: IntakeDep,
    complaints: ComplaintsDep,
    principal: CallerDep,
    response: Response,
    access_code: AccessCode = None,
) -> dict[str, Any]:
    principal, case = await open_for_evidence(intake, number, principal, access_code)
    await _started_for(intake, upload_id, number)
    receipt, created = await intake.evidence.complete_upload(upload_id)
    if receipt["evidence_id"] not in {ref["evidence_id"] for ref in case["evidence"]}:
        with contextlib.suppress(DuplicateKeyError):  # a twin completion (a retry) linked it first
            await complaints.link_evidence(case["number"], principal, receipt)
    if not created:
        response.status_code = 200
    return receipt


@router.post(
    "/ops/evidence/{evidence_id}/verify",
    tags=["operators"],
    response_model=Verification,
    responses={404: {"description": "Unknown evidence (evidence_not_found)."}},
    summary="Operator: read a stored file back and check it against its receipt (SHA-256 and size)",
)
async def verify_evidence(evidence_id: str, intake: IntakeDep, _: OperatorDep) -> dict[str, Any]:
    verdict = await intake.evidence.verify(evidence_id) if _EVIDENCE_ID.fullmatch(evidence_id) else None
    if verdict is None:
        raise Problem(404, "evidence_not_found", "No such evidence.")
    return verdict


async def _started_for(intake: Intake, upload_id: str, number: str | None) -> None:
    """404 unless ``upload_id`` is an upload started for ``number`` (None: before filing)."""
    state = await intake.evidence.upload_state(upload_id) if _UPLOAD_ID.fullmatch(upload_id) else None
    if state is None or state["number"] != number:
        raise Problem(404, "upload_not_found", "No such upload here.")


def _ticket(ticket: dict[str, Any], upload: str) -> dict[str, Any]:
    fields = ("upload_id", "method", "url", "expires_at", "complete_by")
    answer = {**{name: ticket[name] for name in fields}, "links": {"complete": f"{upload}/complete"}}
    if ticket.get("parts") is not None:
        answer["links"]["parts"] = f"{upload}/parts"
        answer["parts"] = ticket["parts"]
    return answer
