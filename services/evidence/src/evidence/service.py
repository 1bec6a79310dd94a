"""The evidence use cases: receive an upload, answer receipts, hand out download links.

An upload is inspected while it streams (:mod:`evidence.domain.inspection`) and spooled to a
temporary file that stays in memory only while small; once every rule passed, it goes to object
storage under a key made of the complaint number and a random id, and then ONE MongoDB transaction
writes the record and the ``evidence.stored`` event to the outbox. Nothing is left behind by a
refusal: a refused upload never reaches storage, and an object whose record could not be written
is removed again.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import structlog
from greenchannel.contracts import EvidenceStored
from greenchannel.mongo import in_transaction
from greenchannel.problems import Problem
from greenchannel.runtime import ServiceRuntime
from opentelemetry import trace

from evidence.adapters.evidence_repository import EvidenceRepository
from evidence.adapters.object_storage import ObjectStorage
from evidence.config import Settings
from evidence.domain.filenames import content_disposition, filename_or_default, sanitize_filename
from evidence.domain.inspection import InspectedContent, UploadInspection
from evidence.domain.media_types import SizeLimits
from evidence.domain.records import EvidenceRecord, object_key
from evidence.domain.refusals import (
    EmptyEvidence,
    EvidenceRefused,
    EvidenceTooLarge,
    MediaTypeMismatch,
    UnsupportedMediaType,
)

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)

#: Chunks are gathered up to this size before one write to the spool file (in a worker thread).
SPOOL_WRITE_BYTES = 256 * 1024


class EvidenceService:
    def __init__(
        self, settings: Settings, runtime: ServiceRuntime, storage: ObjectStorage, repository: EvidenceRepository
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.storage = storage
        self.repository = repository
        self.limits = SizeLimits(
            image=settings.max_image_bytes,
            document=settings.max_document_bytes,
            audio=settings.max_audio_bytes,
            video=settings.max_video_bytes,
        )

    async def receive(
        self,
        number: str | None,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str | None,
        filename: str | None,
        content_length: int | None,
    ) -> EvidenceRecord:
        """Check, store and record one uploaded file; a refused one raises its problem (413, 415, 422)."""
        spool = tempfile.SpooledTemporaryFile(max_size=self.settings.upload_spool_memory_bytes)
        try:
            inspected = await self._inspect_into(spool, chunks, content_type, content_length)
        except BaseException:
            spool.close()
            raise
        # Storing and recording run to their end even if the client goes away meanwhile, so that a
        # cancelled request cannot leave an object without its record; the task closes the spool.
        task = asyncio.create_task(self._store_and_record(number, inspected, sanitize_filename(filename), spool))
        return await asyncio.shield(task)

    async def _inspect_into(
        self,
        spool: tempfile.SpooledTemporaryFile,
        chunks: AsyncIterator[bytes],
        content_type: str | None,
        content_length: int | None,
    ) -> InspectedContent:
        try:
            inspection = UploadInspection(self.limits, content_type=content_type, content_length=content_length)
            pending = bytearray()
            async for chunk in chunks:
                inspection.feed(chunk)
                pending += chunk
                if len(pending) >= SPOOL_WRITE_BYTES:
                    await asyncio.to_thread(spool.write, bytes(pending))
                    pending.clear()
            inspected = inspection.finish()
        except EvidenceRefused as refusal:
            raise _problem(refusal) from None
        if pending:
            await asyncio.to_thread(spool.write, bytes(pending))
        return inspected

    async def _store_and_record(
        self, number: str | None, inspected: InspectedContent, filename: str, spool: tempfile.SpooledTemporaryFile
    ) -> EvidenceRecord:
        try:
            return await self._store_and_record_spooled(number, inspected, filename, spool)
        finally:
            spool.close()

    async def _store_and_record_spooled(
        self, number: str | None, inspected: InspectedContent, filename: str, spool: tempfile.SpooledTemporaryFile
    ) -> EvidenceRecord:
        evidence_id = uuid.uuid4().hex
        # MongoDB keeps milliseconds: the receipt answered now must equal the one read back later.
        received_at = _now_ms()
        record = EvidenceRecord(
            evidence_id=evidence_id,
            number=number,
            filename=filename_or_default(filename, inspected.extension),
            media_type=inspected.media_type,
            size=inspected.size,
            sha256=inspected.sha256,
            object_key=object_key(number, evidence_id),
            bucket=self.storage.bucket,
            received_at=received_at,
        )
        with tracer.start_as_current_span("evidence.store") as span:
            span.set_attribute("complaint.number", number or "")
            span.set_attribute("evidence.id", evidence_id)
            span.set_attribute("evidence.media_type", record.media_type)
            span.set_attribute("evidence.size", record.size)
            try:
                await self.storage.put(
                    record.object_key,
                    spool,
                    record.size,
                    content_type=record.media_type,
                    metadata={"sha256": record.sha256, "evidence-id": evidence_id, "complaint-number": number or ""},
                )
            except Exception as error:  # noqa: BLE001 - storage away or refusing
                log.error("evidence upload to object storage failed", number=number, error=str(error))
                await self._remove_unrecorded(record)
                raise Problem(503, "storage_unavailable", "The evidence could not be stored; try again later.") from None
            try:
                await in_transaction(self.runtime.mongo, lambda session: self._record(record, session))
            except BaseException as error:
                log.error("evidence record could not be written", number=number, error=str(error))
                await self._remove_unrecorded(record)
                if isinstance(error, Exception):
                    raise Problem(503, "store_unavailable", "The evidence could not be recorded; try again later.") from None
                raise
        self.runtime.relay.wake()
        log.info("evidence stored", number=number, evidence_id=evidence_id, media_type=record.media_type, size=record.size)
        return record

    async def _record(self, record: EvidenceRecord, session) -> None:
        await self.repository.insert(record, session)
        stored = EvidenceStored(
            evidence_id=record.evidence_id,
            number=record.number,
            filename=record.filename,
            media_type=record.media_type,
            size=record.size,
            sha256=record.sha256,
            stored_at=record.received_at,
        )
        await self.runtime.outbox.add(stored, subject=record.number or record.evidence_id, session=session)

    async def _remove_unrecorded(self, record: EvidenceRecord) -> None:
        """Remove the object of a record that was not written; keep it when that cannot be known.

        A commit whose outcome is unknown may have succeeded: a receipt without its file would be
        worse than an unreferenced object, which a later clean-up can find by its missing record.
        """
        try:
            if await self.repository.get(record.evidence_id) is not None:
                return
            await self.storage.remove(record.object_key)
        except Exception as error:  # noqa: BLE001 - store or storage away
            log.error("could not remove an unrecorded object", key=record.object_key, error=str(error))

    async def get(self, evidence_id: str) -> EvidenceRecord:
        record = await self.repository.get(evidence_id)
        if record is None:
            raise Problem(404, "evidence_not_found", f"No evidence {evidence_id}.")
        return record

    async def list_for_complaint(self, number: str) -> list[EvidenceRecord]:
        return await self.repository.list_for_complaint(number)

    async def download_link(self, evidence_id: str) -> tuple[str, datetime]:
        record = await self.get(evidence_id)
        ttl_s = self.settings.download_link_ttl_s
        expires_at = _now_ms() + timedelta(seconds=ttl_s)
        url = await self.storage.download_link(
            record.object_key,
            ttl_s,
            content_type=record.media_type,
            content_disposition=content_disposition(record.filename),
        )
        return url, expires_at


_STATUS = {EvidenceTooLarge: 413, UnsupportedMediaType: 415, MediaTypeMismatch: 415, EmptyEvidence: 422}


def _problem(refusal: EvidenceRefused) -> Problem:
    extra = {"limit_bytes": refusal.limit} if isinstance(refusal, EvidenceTooLarge) else {}
    return Problem(_STATUS.get(type(refusal), 422), refusal.code, refusal.detail, **extra)


def _now_ms() -> datetime:
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
