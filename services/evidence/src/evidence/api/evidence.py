"""Evidence endpoints: upload (raw bytes, streamed), receipts, the accepted types and limits, time-limited download
links, operator re-verification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, status
from starlette.requests import ClientDisconnect
from starlette.types import Message

from evidence.api.dependencies import ComplaintNumber, Evidence, Internal, Operator, known_format
from evidence.api.schemas import (
    AcceptedTypeLimit,
    DownloadLink,
    EvidenceLimits,
    EvidenceList,
    EvidenceReceipt,
    HeldPage,
    ReleaseRequest,
    ReleaseResult,
    VerificationResult,
)
from evidence.core.ingestion import Refusal
from evidence.domain.filenames import decode_header_filename
from evidence.domain.media_types import ACCEPTED, ALIASES, Kind
from evidence.domain.records import EVIDENCE_ID_PATTERN
from greenchannel.problems import Problem

# Everything here is intake's (the internal token), even the limits, which hold nothing private: the public
# reads them through intake (``GET /v1/evidence/limits``), so opening them here would only widen what an
# address inside the cluster can reach without a credential, and "every route but the probes" stays one rule.
router = APIRouter(tags=["evidence"], dependencies=[Internal])
# Re-verification, the release of held files and their queue are the operators' (through intake's ``/v1/ops/``
# routes), with their token.
operator_router = APIRouter(tags=["evidence"], dependencies=[Operator])

_known_format = known_format(EVIDENCE_ID_PATTERN, "evidence_not_found", "evidence")

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes, as they are (no multipart). Content-Type declares the media type.",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}

_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The client went away before the whole file arrived (upload_interrupted); nothing was kept."},
    408: {"description": "The upload sent nothing for too long (upload_stalled); nothing was kept."},
    409: {"description": "The complaint has its maximum number of files (too_many_evidence_files)."},
    413: {"description": "Larger than the limit of its kind (evidence_too_large)."},
    415: {"description": "Type not accepted, or not the declared one (unsupported_media_type, media_type_mismatch)."},
    422: {
        "description": "Empty file (empty_evidence), an image that cannot be decoded or has too many pixels "
        "(image_unreadable, image_dimensions_too_large), or an invalid complaint number."
    },
    503: {"description": "Object storage or the store is unavailable; nothing was kept."},
}


@router.post(
    "/v1/complaints/{number}/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceReceipt,
    responses=_REFUSALS,
    openapi_extra=_UPLOAD_BODY,
    summary="Store one file as evidence of a complaint and answer its integrity receipt",
)
async def upload_evidence(
    number: ComplaintNumber,
    request: Request,
    evidence: Evidence,
    content_type: Annotated[str | None, Header()] = None,
    x_filename: Annotated[str | None, Header(description="Original filename, percent-encoded UTF-8.")] = None,
    content_length: Annotated[int | None, Header(ge=0)] = None,
) -> EvidenceReceipt:
    return await _receive(number, request, evidence, content_type, x_filename, content_length)


@router.post(
    "/v1/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceReceipt,
    responses=_REFUSALS,
    openapi_extra=_UPLOAD_BODY,
    summary="Store one file before its complaint is filed (intake links it at filing) and answer its receipt",
)
async def upload_unattached_evidence(
    request: Request,
    evidence: Evidence,
    content_type: Annotated[str | None, Header()] = None,
    x_filename: Annotated[str | None, Header(description="Original filename, percent-encoded UTF-8.")] = None,
    content_length: Annotated[int | None, Header(ge=0)] = None,
) -> EvidenceReceipt:
    return await _receive(None, request, evidence, content_type, x_filename, content_length)


async def _receive(
    number: str | None,
    request: Request,
    evidence: Evidence,
    content_type: str | None,
    x_filename: str | None,
    content_length: int | None,
) -> EvidenceReceipt:
    body = _CountedBody(request)
    try:
        record = await evidence.receive(
            number,
            body.chunks(),
            content_type=content_type,
            filename=decode_header_filename(x_filename),
            content_length=content_length,
        )
    except ClientDisconnect:
        raise Problem(400, "upload_interrupted", "The upload ended before the whole file was received.") from None
    except Refusal:
        if body.started and content_length is not None and content_length <= evidence.ingestion.limits.largest:
            await body.discard_rest()
        raise
    return EvidenceReceipt.of(record)


class _CountedBody:
    """The request body, and what is left of it after a refusal.

    A refusal answered while the caller is still sending (intake streams uploads through with httpx,
    which reads the answer only once its body is sent) would be lost: closing a connection with
    unread data resets it, and the reset discards the answer before the caller reads it. So a body
    refused once it was being read (its content was wrong), of bounded length (at most the largest
    limit), is read to its end and discarded, and the caller gets the refusal instead of a broken
    connection. One refused before its first byte (its announced type or length) is answered at once:
    intake checks those against the published limits before it forwards anything."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self._ended = False
        self.started = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's chunks as the server passes them on (what ``Request.stream`` does, noting its end)."""
        while not self._ended:
            message = await self._next()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            if body := message.get("body", b""):
                yield body

    async def discard_rest(self) -> None:
        while not self._ended:
            await self._next()

    async def _next(self) -> Message:
        message = await self._request.receive()
        self.started = True
        self._ended = message["type"] != "http.request" or not message.get("more_body", False)
        return message


@router.get(
    "/v1/limits",
    response_model=EvidenceLimits,
    summary="The accepted media types and the size limit of each kind (what the upload checks)",
)
async def evidence_limits(evidence: Evidence) -> EvidenceLimits:
    limits = evidence.ingestion.limits
    return EvidenceLimits(
        types=[
            AcceptedTypeLimit(
                media_type=accepted.media_type,
                extension=accepted.extension,
                kind=accepted.kind.value,
                max_bytes=limits.for_kind(accepted.kind),
            )
            for accepted in ACCEPTED.values()
        ],
        aliases=ALIASES,
        max_bytes={kind.value: limits.for_kind(kind) for kind in Kind},
        max_files_per_complaint=evidence.settings.max_files_per_complaint,
        unattached_removed_after_s=evidence.settings.orphan_ttl_s + evidence.settings.cleanup_interval_s,
    )


@router.get(
    "/v1/complaints/{number}/evidence", response_model=EvidenceList, summary="Receipts of a complaint's evidence"
)
async def list_evidence(number: ComplaintNumber, evidence: Evidence) -> EvidenceList:
    records = await evidence.list_for_complaint(number)
    return EvidenceList(number=number, items=[EvidenceReceipt.of(record) for record in records])


@router.get(
    "/v1/evidence/{evidence_id}",
    response_model=EvidenceReceipt,
    responses={404: {"description": "Unknown evidence (evidence_not_found)."}},
    summary="The integrity receipt of one file",
)
async def get_evidence(evidence_id: str, evidence: Evidence) -> EvidenceReceipt:
    return EvidenceReceipt.of(await evidence.get(_known_format(evidence_id)))


@router.post(
    "/v1/evidence/{evidence_id}/link",
    response_model=DownloadLink,
    responses={
        404: {"description": "Unknown evidence (evidence_not_found)."},
        409: {
            "description": "Asked for a company, and the file is held until an operator releases it (evidence_held)."
        },
    },
    summary="A short-lived download link (presigned GET) for one file",
)
async def download_link(
    evidence_id: str,
    evidence: Evidence,
    audience: Annotated[
        Literal["company"] | None,
        Query(description="company: refuse a held file (the complainant and operators omit it)."),
    ] = None,
) -> DownloadLink:
    url, expires_at = await evidence.download_link(_known_format(evidence_id), for_company=audience == "company")
    return DownloadLink(evidence_id=evidence_id, url=url, expires_at=expires_at)


@operator_router.post(
    "/v1/evidence/{evidence_id}/verify",
    response_model=VerificationResult,
    responses={401: {"description": "Not the operator (unauthorized)."}, 404: {"description": "Unknown evidence."}},
    summary="Operator: read the stored object back and check it against its receipt",
)
async def verify_evidence(evidence_id: str, evidence: Evidence) -> VerificationResult:
    verification = await evidence.verify(_known_format(evidence_id))
    return VerificationResult(
        evidence_id=verification.evidence_id,
        ok=verification.ok,
        expected=verification.expected,
        actual=verification.actual,
        verified_at=verification.verified_at,
    )


@operator_router.post(
    "/v1/evidence/{evidence_id}/release",
    response_model=ReleaseResult,
    responses={
        401: {"description": "Not the operator (unauthorized)."},
        404: {"description": "Unknown evidence."},
        409: {"description": "The file is not held (evidence_not_held)."},
    },
    summary="Operator: let a held file (metadata not removed) go to the company as it is; idempotent",
)
async def release_evidence(evidence_id: str, body: ReleaseRequest, evidence: Evidence) -> ReleaseResult:
    record, released_now = await evidence.release(_known_format(evidence_id), body.by, body.note)
    return ReleaseResult(receipt=EvidenceReceipt.of(record), released_now=released_now)


@operator_router.get(
    "/v1/held-evidence",
    response_model=HeldPage,
    responses={401: {"description": "Not the operator (unauthorized)."}},
    summary="Operator: the held files attached to complaints, oldest first",
)
async def held_evidence(
    evidence: Evidence,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    after: Annotated[str | None, Query(pattern=EVIDENCE_ID_PATTERN)] = None,
) -> HeldPage:
    records = await evidence.held(limit + 1, after)
    page = records[:limit]
    return HeldPage(
        items=[EvidenceReceipt.of(record) for record in page],
        next_after=page[-1].evidence_id if len(records) > limit else None,
    )
