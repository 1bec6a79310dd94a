"""The evidence use cases: direct and presigned uploads, receipts, download links, operator re-verification.

A direct upload streams through :class:`~evidence.core.ingestion.Ingestion` as it arrives. A presigned
upload is checked up front against what the client declares (size within its kind's limit, type
on the allow-list), then PUT by the client into ``quarantine/<upload_id>`` with a URL signed for
exactly the declared size (storage refuses any other length); completing it checks
size, type by content and SHA-256 against the declaration (every kind that can carry metadata is read
back and stored without it, :mod:`evidence.domain.file_metadata`; plain text and AMR are copied inside
storage to their final key and the copy checked), and the quarantined object is removed whatever the verdict. Quarantined objects never
get download links: links exist for evidence records only.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.client_session import AsyncClientSession

from evidence.adapters.evidence_repository import EvidenceRepository
from evidence.adapters.object_storage import ObjectStorage
from evidence.adapters.upload_repository import UploadRepository
from evidence.config import Settings
from evidence.core.ingestion import Arrival, Ingestion, Refusal, now_ms
from evidence.domain.file_metadata import cleaned_before_storage
from evidence.domain.filenames import content_disposition, sanitize_filename
from evidence.domain.media_types import ACCEPTED, declared_type
from evidence.domain.records import EvidenceRecord
from evidence.domain.refusals import (
    EmptyEvidence,
    EvidenceRefused,
    EvidenceTooLarge,
    SizeMismatch,
    UnsupportedMediaType,
)
from evidence.domain.uploads import (
    UPLOAD_COMPLETED,
    UPLOAD_EXPIRED,
    UPLOAD_PENDING,
    UPLOAD_REJECTED,
    UPLOAD_VERIFYING,
    UploadRecord,
    missing_parts,
    part_sizes,
    quarantine_key,
)
from greenchannel.problems import Problem

log = logging.getLogger(__name__)

#: What a company is told of a held file (the public sees Chinese first).
HELD_DETAIL = (
    "平台正在核查该文件，核查完成后方可下载。"
    " The platform is checking this file; it can be downloaded once the check is done."
)
#: The accepted types that can carry metadata: a file of one of them stored with it not removed is held.
METADATA_CARRYING = sorted(media_type for media_type in ACCEPTED if cleaned_before_storage(media_type))


@dataclass(frozen=True)
class PartLink:
    number: int
    size: int
    url: str


@dataclass(frozen=True)
class UploadTicket:
    upload_id: str
    #: The presigned PUT of the whole file; None for a multipart upload, whose parts have one each.
    url: str | None
    expires_at: datetime
    complete_by: datetime
    parts: list[PartLink] | None = None


@dataclass(frozen=True)
class UploadParts:
    """What storage holds of a multipart upload (part number -> bytes), and a PUT for each part still missing."""

    upload_id: str
    stored: dict[int, int]
    missing: list[PartLink]


@dataclass(frozen=True)
class Verification:
    evidence_id: str
    ok: bool
    expected: dict[str, str | int]
    actual: dict[str, str | int] | None
    verified_at: datetime


class EvidenceService:
    def __init__(
        self,
        settings: Settings,
        ingestion: Ingestion,
        storage: ObjectStorage,
        repository: EvidenceRepository,
        uploads: UploadRepository,
    ) -> None:
        self.settings = settings
        self.ingestion = ingestion
        self.storage = storage
        self.repository = repository
        self.uploads = uploads
        self.instance_id = uuid.uuid4().hex

    # --- direct upload ---------------------------------------------------------------------------

    async def receive(
        self,
        number: str | None,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str | None,
        filename: str | None,
        content_length: int | None,
    ) -> EvidenceRecord:
        """Check, store and record one uploaded file; a refused one raises its problem (409, 413, 415, 422)."""
        arrival = Arrival(
            upload_id=uuid.uuid4().hex,
            number=number,
            filename=sanitize_filename(filename),
            content_type=content_type,
            content_length=content_length,
        )
        return await self.ingestion.ingest(arrival, chunks)

    # --- presigned upload ------------------------------------------------------------------------

    async def start_upload(
        self,
        *,
        filename: str | None,
        media_type: str,
        size: int,
        sha256: str,
        number: str | None,
        multipart: bool = False,
    ) -> UploadTicket:
        """Check what the client declares, then answer a presigned PUT into quarantine, or with ``multipart`` a
        presigned PUT of each part of a multipart upload there (a client that loses its connection sends again only
        the parts storage does not hold, :meth:`upload_parts`)."""
        upload_id = uuid.uuid4().hex
        try:
            declared = declared_type(media_type)
            if declared is None:
                raise UnsupportedMediaType(
                    "Declare the file's media type; it must be one of the accepted evidence types."
                )
            if size == 0:
                raise EmptyEvidence("The file is empty.")
            limit = self.ingestion.limits.for_kind(declared.kind)
            if size > limit:
                raise EvidenceTooLarge(
                    f"The {declared.kind.value} file is announced as {size} bytes; the limit is {limit} bytes.",
                    limit=limit,
                )
            if number is not None:
                await self.ingestion.ensure_room(number)
        except EvidenceRefused as refusal:
            raise await self.ingestion.refuse(refusal, number=number, upload_id=upload_id) from None
        now = now_ms()
        key = quarantine_key(upload_id)
        multipart_id = await self.storage.start_multipart(key) if multipart else None
        upload = UploadRecord(
            upload_id=upload_id,
            number=number,
            filename=sanitize_filename(filename),
            media_type=declared.media_type,
            size=size,
            sha256=sha256.lower(),
            quarantine_key=key,
            created_at=now,
            url_expires_at=now + timedelta(seconds=self.settings.upload_url_ttl_s),
            complete_by=now + timedelta(seconds=self.settings.upload_complete_within_s),
            evidence_id=uuid.uuid4().hex,
            multipart_id=multipart_id,
        )
        await self.uploads.insert(upload)
        log.info("presigned upload %s started for %s: %s, %d bytes", upload_id, number, upload.media_type, size)
        if multipart_id is not None:
            parts = self._part_links(upload, range(1, len(part_sizes(size)) + 1), self.settings.upload_url_ttl_s)
            return UploadTicket(upload_id, None, upload.url_expires_at, upload.complete_by, parts)
        url = self.storage.upload_link(upload.quarantine_key, size, self.settings.upload_url_ttl_s)
        return UploadTicket(
            upload_id=upload_id, url=url, expires_at=upload.url_expires_at, complete_by=upload.complete_by
        )

    def _part_links(self, upload: UploadRecord, numbers: Iterable[int], ttl_s: int) -> list[PartLink]:
        """Presigned PUTs of these parts, valid ``ttl_s`` seconds."""
        assert upload.multipart_id is not None
        sizes = part_sizes(upload.size)
        return [
            PartLink(
                number,
                sizes[number - 1],
                self.storage.part_link(upload.quarantine_key, upload.multipart_id, number, sizes[number - 1], ttl_s),
            )
            for number in numbers
        ]

    async def upload_parts(self, upload_id: str) -> UploadParts:
        """The parts storage holds of a pending multipart upload, and a PUT for each one missing (409 for an upload
        that is not multipart or no longer pending, 410 once its URLs expired)."""
        upload = await self.upload(upload_id)
        if upload.multipart_id is None:
            raise Problem(409, "not_multipart", "This upload is one PUT of the whole file; it has no parts.")
        if upload.status != UPLOAD_PENDING:
            raise Problem(409, "upload_not_pending", f"This upload is {upload.status}; its parts are no longer taken.")
        if upload.url_expires_at <= now_ms():
            raise Problem(410, "upload_expired", "The upload's URLs have expired; start the upload again.")
        held = await self.storage.stored_parts(upload.quarantine_key, upload.multipart_id) or {}
        stored = {number: size for number, (size, _) in held.items()}
        # Valid until the upload's URLs expire, as the ticket's were: a resume does not extend the upload.
        ttl_s = math.ceil((upload.url_expires_at - now_ms()).total_seconds())
        return UploadParts(upload_id, stored, self._part_links(upload, missing_parts(upload.size, stored), ttl_s))

    async def _join_parts(self, upload: UploadRecord) -> None:
        """Complete a multipart upload whose every part storage holds at its size (the ETags are storage's own, as
        it lists them); a missing part is the 409 of an upload not received yet. Joined before (a call that stopped
        after joining them): nothing to do."""
        assert upload.multipart_id is not None
        held = await self.storage.stored_parts(upload.quarantine_key, upload.multipart_id)
        if held is None:
            return
        missing = missing_parts(upload.size, {number: size for number, (size, _) in held.items()})
        if missing:
            raise Problem(
                409,
                "upload_not_received",
                f"Parts {', '.join(map(str, missing))} are not uploaded yet: PUT them, then complete.",
                missing_parts=missing,
            )
        count = len(part_sizes(upload.size))
        await self.storage.complete_multipart(
            upload.quarantine_key, upload.multipart_id, [(number, held[number][1]) for number in range(1, count + 1)]
        )

    async def upload(self, upload_id: str) -> UploadRecord:
        upload = await self.uploads.get(upload_id)
        if upload is None:
            raise Problem(404, "upload_not_found", f"No upload {upload_id}.")
        return upload

    async def complete_upload(self, upload_id: str) -> tuple[EvidenceRecord, bool]:
        """Verify the quarantined object and store it as evidence; ``(record, created now)``.

        Completing an upload that was completed before answers the same record again.
        """
        upload = await self.uploads.claim(upload_id, now_ms(), self.settings.cleanup_lease_s, self.instance_id)
        if upload is None:
            return await self._completed_before(upload_id), False
        try:
            if upload.multipart_id is not None:
                await self._join_parts(upload)
            stored_size = await self.storage.size_of(upload.quarantine_key)
        except Problem:
            await self.uploads.release(upload_id, self.instance_id)
            raise
        except Exception as error:  # noqa: BLE001 - storage away
            await self.uploads.release(upload_id, self.instance_id)
            log.error("quarantine object of upload %s could not be checked: %s", upload_id, error)
            raise Problem(503, "storage_unavailable", "The upload could not be checked; try again later.") from None
        if stored_size is None:
            await self.uploads.release(upload_id, self.instance_id)
            raise Problem(409, "upload_not_received", "Nothing was uploaded yet: PUT the file to the upload URL first.")
        # Storage refuses a PUT of another length than the signed one; this holds for a storage that would not.
        if stored_size != upload.size:
            refusal = SizeMismatch(f"The uploaded file has {stored_size} bytes; {upload.size} were declared.")
            raise await self._reject(upload, refusal) from None

        async def mark_completed(session: AsyncClientSession) -> None:
            await self.uploads.mark_completed(upload_id, now_ms(), session)

        arrival = Arrival(
            upload_id=upload_id,
            number=upload.number,
            filename=upload.filename,
            content_type=upload.media_type,
            content_length=upload.size,
            expected_size=upload.size,
            expected_sha256=upload.sha256,
            evidence_id=upload.evidence_id,
        )
        # Files that can carry metadata are rewritten without it, so they pass through the service; anything
        # else is copied inside storage and checked there.
        cleaned = cleaned_before_storage(upload.media_type)
        quarantined = self.storage.read(upload.quarantine_key) if cleaned else None
        try:
            if quarantined is not None:
                record = await self.ingestion.ingest(arrival, quarantined, also=mark_completed)
            else:
                record = await self.ingestion.adopt(arrival, upload.quarantine_key, also=mark_completed)
        except Refusal as refusal:
            # Announced already: the upload is over and its object goes.
            await self.uploads.mark_rejected(upload_id, refusal.code, refusal.detail, now_ms())
            await self._remove_quarantined(upload)
            raise
        except Problem:
            await self.uploads.release(upload_id, self.instance_id)
            raise
        except Exception as error:  # noqa: BLE001 - storage away while reading the quarantined object
            await self.uploads.release(upload_id, self.instance_id)
            log.error("quarantined object of upload %s could not be read: %s", upload_id, error)
            raise Problem(503, "storage_unavailable", "The upload could not be checked; try again later.") from None
        except BaseException:
            await self.uploads.release(upload_id, self.instance_id)
            raise
        finally:
            if quarantined is not None:
                await quarantined.aclose()  # a refusal stops reading half-way: give the connection back now
        await self._remove_quarantined(upload)
        return record, True

    async def _reject(self, upload: UploadRecord, refusal: EvidenceRefused) -> Problem:
        problem = await self.ingestion.refuse(refusal, number=upload.number, upload_id=upload.upload_id)
        await self.uploads.mark_rejected(upload.upload_id, refusal.code, refusal.detail, now_ms())
        await self._remove_quarantined(upload)
        return problem

    async def _remove_quarantined(self, upload: UploadRecord) -> None:
        """Remove the quarantined object now; the clean-up sweeps again once the URL expired, or if this fails."""
        try:
            if upload.multipart_id is not None:
                await self.storage.abort_multipart(upload.quarantine_key, upload.multipart_id)
            await self.storage.remove(upload.quarantine_key)
            await self.uploads.quarantine_removed(upload, datetime.now(UTC))
        except Exception as error:  # noqa: BLE001 - storage or store away: the clean-up retries
            log.warning("quarantine object of upload %s not removed yet: %s", upload.upload_id, error)

    async def _completed_before(self, upload_id: str) -> EvidenceRecord:
        """Why an upload could not be claimed: done before (answer its record), refused, expired, busy, unknown."""
        upload = await self.uploads.get(upload_id)
        if upload is None:
            raise Problem(404, "upload_not_found", f"No upload {upload_id}.")
        if upload.status == UPLOAD_COMPLETED and upload.evidence_id is not None:
            record = await self.repository.get(upload.evidence_id)
            if record is None:
                raise Problem(
                    410,
                    "evidence_removed",
                    "The upload was stored, but never attached to a complaint and removed since.",
                )
            return record
        if upload.status == UPLOAD_REJECTED:
            raise Problem(
                422,
                upload.reason or "upload_rejected",
                upload.reason_detail or "The upload was refused.",
                upload_id=upload_id,
            )
        if upload.status == UPLOAD_VERIFYING and upload.complete_by > datetime.now(UTC):
            raise Problem(409, "upload_in_progress", "The upload is being checked; ask again in a moment.")
        if upload.status == UPLOAD_EXPIRED or upload.complete_by <= datetime.now(UTC):
            raise Problem(410, "upload_expired", "The upload was not completed in time; start a new one.")
        raise Problem(409, "upload_in_progress", "The upload is being checked; ask again in a moment.")

    # --- receipts, links, verification -------------------------------------------------------------

    async def get(self, evidence_id: str) -> EvidenceRecord:
        record = await self.repository.get(evidence_id)
        if record is None:
            raise Problem(404, "evidence_not_found", f"No evidence {evidence_id}.")
        return record

    async def list_for_complaint(self, number: str) -> list[EvidenceRecord]:
        return await self.repository.list_for_complaint(number)

    async def download_link(self, evidence_id: str, *, for_company: bool = False) -> tuple[str, datetime]:
        """A presigned GET; a company asking for a held file gets ``evidence_held`` (409) instead."""
        record = await self.get(evidence_id)
        if for_company and record.held:
            raise Problem(409, "evidence_held", HELD_DETAIL, evidence_id=evidence_id)
        ttl_s = self.settings.download_link_ttl_s
        expires_at = now_ms() + timedelta(seconds=ttl_s)
        url = await self.storage.download_link(
            record.object_key,
            ttl_s,
            content_type=record.media_type,
            content_disposition=content_disposition(record.filename),
        )
        return url, expires_at

    async def release(self, evidence_id: str, by: str, note: str) -> tuple[EvidenceRecord, bool]:
        """An operator lets a held file go to the company as it is; the record and whether this call released it
        (releasing again changes nothing). A file that is not held cannot be released (409 ``evidence_not_held``)."""
        record = await self.get(evidence_id)
        if record.released is not None:
            return record, False
        if not record.held:
            raise Problem(409, "evidence_not_held", "This file is not held; the company can download it already.")
        released_now = await self.repository.release(evidence_id, {"by": by, "at": now_ms(), "note": note})
        if released_now:
            log.info("held evidence %s released by %s", evidence_id, by)
        return await self.get(evidence_id), released_now

    async def held(self, limit: int, after: str | None) -> list[EvidenceRecord]:
        return await self.repository.held(METADATA_CARRYING, limit, after)

    async def verify(self, evidence_id: str) -> Verification:
        """Read the stored object back, streaming, and compare its SHA-256 and size with the receipt."""
        record = await self.get(evidence_id)
        try:
            found = await self.storage.digest(record.object_key)
        except Exception as error:  # noqa: BLE001 - storage away: no verdict rather than a false one
            log.error("stored object of evidence %s could not be read for verification: %s", evidence_id, error)
            raise Problem(503, "storage_unavailable", "The stored object could not be read; try again later.") from None
        expected: dict[str, str | int] = {"sha256": record.sha256, "size": record.size}
        actual: dict[str, str | int] | None = {"sha256": found[0], "size": found[1]} if found is not None else None
        verification = Verification(evidence_id, actual == expected, expected, actual, now_ms())
        await self.repository.record_verification(
            evidence_id, {"ok": verification.ok, "actual": actual, "verified_at": verification.verified_at}
        )
        log.info("evidence %s verified: %s", evidence_id, "intact" if verification.ok else "NOT intact")
        return verification
