"""Presigned uploads: declare a file, PUT it straight to storage (quarantine), then ask the service to complete it."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from evidence.api.dependencies import Evidence, Internal, known_format
from evidence.api.schemas import (
    EvidenceReceipt,
    PartUpload,
    StoredPart,
    UploadParts,
    UploadRequest,
    UploadState,
    UploadTicket,
)
from evidence.domain.uploads import UPLOAD_COMPLETED, UPLOAD_ID_PATTERN

router = APIRouter(tags=["uploads"], dependencies=[Internal])

_known_format = known_format(UPLOAD_ID_PATTERN, "upload_not_found", "upload")


@router.post(
    "/v1/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadTicket,
    responses={
        409: {"description": "The complaint has its maximum number of files (too_many_evidence_files)."},
        413: {"description": "The declared size is above the limit of its kind (evidence_too_large)."},
        415: {"description": "The declared type is not accepted (unsupported_media_type)."},
        422: {"description": "A zero size (empty_evidence) or fields to fix (validation_failed)."},
    },
    summary="Start a presigned upload: answers a short-lived PUT URL into quarantine",
)
async def start_upload(body: UploadRequest, evidence: Evidence) -> UploadTicket:
    ticket = await evidence.start_upload(
        filename=body.filename,
        media_type=body.media_type,
        size=body.size,
        sha256=body.sha256,
        number=body.number,
        multipart=body.multipart,
    )
    return UploadTicket(
        upload_id=ticket.upload_id,
        url=ticket.url,
        expires_at=ticket.expires_at,
        complete_by=ticket.complete_by,
        parts=None
        if ticket.parts is None
        else [PartUpload(number=p.number, size=p.size, url=p.url) for p in ticket.parts],
    )


@router.get(
    "/v1/uploads/{upload_id}/parts",
    response_model=UploadParts,
    responses={
        404: {"description": "Unknown upload (upload_not_found)."},
        409: {"description": "Not a multipart upload (not_multipart), or no longer pending (upload_not_pending)."},
        410: {"description": "Its URLs expired (upload_expired)."},
    },
    summary="The parts storage holds of a multipart upload, and a PUT URL for each part still missing",
)
async def upload_parts(upload_id: str, evidence: Evidence) -> UploadParts:
    parts = await evidence.upload_parts(_known_format(upload_id))
    return UploadParts(
        upload_id=parts.upload_id,
        stored=[StoredPart(number=number, size=size) for number, size in sorted(parts.stored.items())],
        missing=[PartUpload(number=p.number, size=p.size, url=p.url) for p in parts.missing],
    )


@router.get(
    "/v1/uploads/{upload_id}",
    response_model=UploadState,
    responses={404: {"description": "Unknown upload (upload_not_found)."}},
    summary="Where a presigned upload stands, and the complaint it was started for",
)
async def upload_state(upload_id: str, evidence: Evidence) -> UploadState:
    upload = await evidence.upload(_known_format(upload_id))
    return UploadState(
        upload_id=upload.upload_id,
        number=upload.number,
        status=upload.status,
        media_type=upload.media_type,
        size=upload.size,
        expires_at=upload.url_expires_at,
        complete_by=upload.complete_by,
        evidence_id=upload.evidence_id if upload.status == UPLOAD_COMPLETED else None,
    )


@router.post(
    "/v1/uploads/{upload_id}/complete",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceReceipt,
    responses={
        200: {"description": "Completed before: the same receipt again."},
        404: {"description": "Unknown upload (upload_not_found)."},
        409: {
            "description": "Nothing uploaded yet (upload_not_received), being checked (upload_in_progress), "
            "or the complaint has its maximum of files (too_many_evidence_files)."
        },
        410: {"description": "Not completed in time (upload_expired)."},
        413: {"description": "Larger than its kind's limit (evidence_too_large)."},
        415: {"description": "The content is not the declared type (media_type_mismatch, unsupported_media_type)."},
        422: {
            "description": "Size or SHA-256 not the declared ones (upload_size_mismatch, upload_hash_mismatch); "
            "the object was removed."
        },
    },
    summary="Verify the uploaded object (size, type by content, SHA-256), store it as evidence and answer its receipt",
)
async def complete_upload(upload_id: str, evidence: Evidence, response: Response) -> EvidenceReceipt:
    record, created = await evidence.complete_upload(_known_format(upload_id))
    if not created:
        response.status_code = status.HTTP_200_OK
    return EvidenceReceipt.of(record)
