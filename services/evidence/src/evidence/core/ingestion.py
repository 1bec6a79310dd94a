"""Taking one file in: inspect it while it streams, store it, record it, announce it; or refuse it and say so.

The same pipeline serves a direct upload (the HTTP body, as intake streams it through) and a
presigned upload being completed (the quarantined object, read back from storage):

* The type is decided from the first bytes (:mod:`evidence.domain.inspection`); limits are enforced
  as soon as they can be (a ``Content-Length`` above the limit before the first byte is read).
* Every file that can carry metadata (images, PDF, Word and Excel files, MP3, MP4, M4A, MOV and WAV) is
  gathered in a spool file, because its metadata is removed before storage
  (:mod:`evidence.domain.image_metadata`, :mod:`evidence.domain.file_metadata`), then stored. One that
  cannot be cleaned is stored as received, and its record says so (``metadata_stripped`` false with
  ``metadata_reason``). MP4, M4A and MOV of announced length are the exception: their metadata boxes are
  zeroed in place while they stream (:class:`~evidence.domain.file_metadata.IsoMetadataStream`), which keeps
  their length, so they go as one PUT of that length like the files below.
* Everything else (plain text, AMR) streams into storage while it arrives, so the upload to storage overlaps the
  upload from the client. A file whose length is announced (Content-Length) goes as ONE PUT of that
  length, each chunk sent on as it arrives (:meth:`ObjectStorage.put_stream`: nothing gathered);
  one of unknown length as a multipart upload whose parts go to storage while the next one fills
  (:class:`StreamedPut`: memory stays at two parts whatever the size). A refusal, a client that
  goes away or one that stops sending for ``upload_idle_timeout_s`` cuts the PUT short or aborts the
  multipart upload, and nothing is kept.
* A presigned upload of anything that carries no metadata is copied inside storage out of quarantine and the
  copy is checked while read back (:meth:`Ingestion.adopt`): the bytes are not sent again.
* Then ONE MongoDB transaction writes the record, the complaint's file count and the
  ``evidence.stored`` event to the outbox. An object whose record could not be written is removed.

Every refusal (type, size, empty, integrity, too many files) answers its problem document and is
announced as ``evidence.rejected`` (reason code and a detail without personal data) via the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO, cast

from opentelemetry import trace
from pymongo.asynchronous.client_session import AsyncClientSession

from evidence.adapters.evidence_repository import EvidenceRepository
from evidence.adapters.object_storage import ObjectStorage, StorageFailed, StreamedPut
from evidence.config import Settings
from evidence.domain.file_metadata import (
    STREAM_CLEANED,
    IsoMetadataStream,
    Result,
    cleaned_before_storage,
    remove_file_metadata,
)
from evidence.domain.file_metadata import Outcome as FileOutcome
from evidence.domain.filenames import filename_or_default
from evidence.domain.image_metadata import BEST_EFFORT, REWRITABLE, Outcome, remove_metadata
from evidence.domain.inspection import InspectedContent, UploadInspection
from evidence.domain.media_types import SizeLimits
from evidence.domain.records import STATUS_ATTACHED, STATUS_UNATTACHED, EvidenceRecord, object_key
from evidence.domain.refusals import EvidenceRefused, TooManyEvidenceFiles
from evidence.domain.uploads import check_declared
from greenchannel.contracts import EvidenceRejected, EvidenceStored
from greenchannel.mongo import in_transaction
from greenchannel.problems import Problem
from greenchannel.runtime import ServiceRuntime

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

#: Chunks are gathered up to this size before one write to the spool file (in a worker thread).
SPOOL_WRITE_BYTES = 256 * 1024
HASH_READ_BYTES = 1024 * 1024

#: Work done in the recording transaction besides the record itself (a presigned upload marks itself completed).
AlsoInTransaction = Callable[[AsyncClientSession], Awaitable[None]]


class Refusal(Problem):
    """The problem answered for a refused file (already announced as ``evidence.rejected``)."""


@dataclass(frozen=True)
class Arrival:
    """What is known about a file before its first byte is read."""

    upload_id: str
    number: str | None
    filename: str
    content_type: str | None
    content_length: int | None
    #: Presigned uploads: what the client declared when it started, checked against what arrived.
    expected_size: int | None = None
    expected_sha256: str | None = None
    #: Presigned uploads choose the evidence id when they start, so a retried completion reuses its key.
    evidence_id: str | None = None


@dataclass(frozen=True)
class Stored:
    """What goes to storage: the received file, or its rewrite without metadata."""

    file: BinaryIO
    size: int
    sha256: str
    metadata_stripped: bool
    #: Why the metadata could not be removed (stored as received), None otherwise.
    metadata_reason: str | None = None


class Ingestion:
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
        self._image_slots = asyncio.Semaphore(settings.image_rewrite_concurrency)

    async def ingest(
        self, arrival: Arrival, chunks: AsyncIterator[bytes], *, also: AlsoInTransaction | None = None
    ) -> EvidenceRecord:
        """Check, store and record one file; a refusal raises its problem after announcing it."""
        try:
            inspection = UploadInspection(
                self.limits, content_type=arrival.content_type, content_length=arrival.content_length
            )
            if arrival.number is not None:
                await self.ensure_room(arrival.number)
            return await self._ingest(arrival, inspection, chunks, also)
        except EvidenceRefused as refusal:
            raise await self.refuse(refusal, number=arrival.number, upload_id=arrival.upload_id) from None

    async def ensure_room(self, number: str) -> None:
        """Refuse early when the complaint already has its maximum of files (checked again when recording)."""
        limit = self.settings.max_files_per_complaint
        if await self.repository.files_of(number) >= limit:
            raise TooManyEvidenceFiles(f"A complaint can have at most {limit} evidence files.", limit=limit)

    async def refuse(self, refusal: EvidenceRefused, *, number: str | None, upload_id: str) -> Refusal:
        """Announce ``evidence.rejected`` (through the outbox) and answer the refusal's problem."""
        rejected = EvidenceRejected(
            number=number, upload_id=upload_id, reason=refusal.code, detail=refusal.detail, rejected_at=now_ms()
        )
        try:
            await in_transaction(
                self.runtime.mongo,
                lambda session: self.runtime.outbox.add(rejected, subject=number or upload_id, session=session),
            )
        except Exception as error:  # noqa: BLE001 - the client still gets its answer; the store is away
            log.error("evidence.rejected of upload %s could not be recorded: %s", upload_id, error)
        log.info("evidence refused (%s): complaint %s, upload %s", refusal.code, number, upload_id)
        return Refusal(refusal.status, refusal.code, refusal.detail, upload_id=upload_id, **refusal.problem_extra())

    async def adopt(
        self, arrival: Arrival, source_key: str, *, also: AlsoInTransaction | None = None
    ) -> EvidenceRecord:
        """Take a presigned upload's object: copy it out of quarantine, inside storage, to its final key
        (where no client can write), check the copy while reading it back, and record it.

        Checking the copy, not the quarantined original, means a client that PUTs again with its
        still-valid URL cannot swap the bytes between the check and the copy. A refusal removes the copy.
        """
        assert arrival.evidence_id is not None
        key = object_key(arrival.number, arrival.evidence_id)
        try:
            inspection = UploadInspection(
                self.limits, content_type=arrival.content_type, content_length=arrival.content_length
            )
            if arrival.number is not None:
                await self.ensure_room(arrival.number)
        except EvidenceRefused as refusal:
            raise await self.refuse(refusal, number=arrival.number, upload_id=arrival.upload_id) from None
        assert inspection.declared is not None
        task = asyncio.create_task(self._adopt(arrival, source_key, key, inspection, also))
        return await asyncio.shield(task)

    async def _adopt(
        self, arrival: Arrival, source_key: str, key: str, inspection: UploadInspection, also: AlsoInTransaction | None
    ) -> EvidenceRecord:
        assert arrival.evidence_id is not None and inspection.declared is not None
        metadata = {
            "evidence-id": arrival.evidence_id,
            "complaint-number": arrival.number or "",
            "upload-id": arrival.upload_id,
        }
        await self.storage.copy(source_key, key, content_type=inspection.declared.media_type, metadata=metadata)
        try:
            copied = self.storage.read(key)
            try:
                async for chunk in copied:
                    inspection.feed(chunk)
            finally:
                await copied.aclose()
            inspected = inspection.finish()
            self._check_declared(arrival, inspected)
            record = self._record_of(
                arrival, arrival.evidence_id, inspected, inspected.size, inspected.sha256, stripped=False
            )
            with _store_span(record):
                return await self._record_or_remove(record, also)
        except EvidenceRefused as refusal:
            await self._remove_quietly(key)
            raise await self.refuse(refusal, number=arrival.number, upload_id=arrival.upload_id) from None
        except BaseException:
            await self._remove_quietly(key)
            raise

    async def _remove_quietly(self, key: str) -> None:
        try:
            await self.storage.remove(key)
        except Exception as error:  # noqa: BLE001 - storage away: the clean-up of expired uploads removes it
            log.error("could not remove the refused copy %s: %s", key, error)

    # --- the pipeline ----------------------------------------------------------------------------

    async def _ingest(
        self,
        arrival: Arrival,
        inspection: UploadInspection,
        chunks: AsyncIterator[bytes],
        also: AlsoInTransaction | None,
    ) -> EvidenceRecord:
        source = aiter(chunks)
        head: list[bytes] = []
        inspected: InspectedContent | None = None
        # Read until the type is decided (the leading bytes) or the content ended before that.
        while inspection.accepted is None:
            chunk = await anext(source, None)
            if chunk is None:
                inspected = inspection.finish()
                break
            inspection.feed(chunk)
            head.append(chunk)
        assert inspection.accepted is not None

        async def rest() -> AsyncIterator[bytes]:
            for chunk in head:
                yield chunk
            if inspected is None:
                async for chunk in source:
                    inspection.feed(chunk)
                    yield chunk

        evidence_id = arrival.evidence_id or uuid.uuid4().hex
        if (
            inspection.accepted.media_type in STREAM_CLEANED
            and arrival.content_length is not None
            and self.storage.streams_known_lengths
        ):
            # Cleaned as it streams: its length stays the announced one, so it goes as one PUT while it arrives.
            key = object_key(arrival.number, evidence_id)
            return await self._ingest_known_length(
                arrival,
                evidence_id,
                key,
                self._streamed_metadata(arrival, evidence_id),
                inspection,
                inspected,
                rest(),
                also,
                cleaner=IsoMetadataStream(),
            )
        if cleaned_before_storage(inspection.accepted.media_type):
            return await self._ingest_cleaned(arrival, evidence_id, inspection, inspected, rest(), also)
        return await self._ingest_streamed(arrival, evidence_id, inspection, inspected, rest(), also)

    async def _ingest_cleaned(
        self,
        arrival: Arrival,
        evidence_id: str,
        inspection: UploadInspection,
        inspected: InspectedContent | None,
        chunks: AsyncIterator[bytes],
        also: AlsoInTransaction | None,
    ) -> EvidenceRecord:
        # Closed by the storing task, or here on a refusal.
        spool = _spooled(self.settings.upload_spool_memory_bytes)
        try:
            pending = bytearray()
            async for chunk in self._within_idle_timeout(chunks):
                pending += chunk
                if len(pending) >= SPOOL_WRITE_BYTES:
                    await asyncio.to_thread(spool.write, bytes(pending))
                    pending.clear()
            if pending:
                await asyncio.to_thread(spool.write, bytes(pending))
            inspected = inspected or inspection.finish()
            self._check_declared(arrival, inspected)
            stored = await self._without_metadata(spool, inspected)
        except BaseException:
            spool.close()
            raise
        record = self._record_of(
            arrival,
            evidence_id,
            inspected,
            stored.size,
            stored.sha256,
            stripped=stored.metadata_stripped,
            reason=stored.metadata_reason,
        )
        # Storing and recording run to their end even if the client goes away meanwhile, so that a
        # cancelled request cannot leave an object without its record; the task closes the files.
        task = asyncio.create_task(self._store_spooled(record, stored, spool, also))
        return await asyncio.shield(task)

    async def _without_metadata(self, spool: BinaryIO, inspected: InspectedContent) -> Stored:
        if not cleaned_before_storage(inspected.media_type):
            return Stored(spool, inspected.size, inspected.sha256, metadata_stripped=False)
        target = _spooled(self.settings.upload_spool_memory_bytes)
        try:
            async with self._image_slots:
                result = await asyncio.to_thread(self._clean, spool, target, inspected.media_type)
            if result.outcome is FileOutcome.REWRITTEN:
                sha256, size = await asyncio.to_thread(_digest, target)
                return Stored(target, size, sha256, metadata_stripped=True)
        except BaseException:
            target.close()
            raise
        target.close()
        return Stored(
            spool, inspected.size, inspected.sha256, metadata_stripped=result.removed, metadata_reason=result.reason
        )

    def _clean(self, source: BinaryIO, target: BinaryIO, media_type: str) -> Result:
        """The metadata removal of one file, in a worker thread: images by image_metadata, the rest by file_metadata."""
        if media_type not in REWRITABLE and media_type not in BEST_EFFORT:
            return remove_file_metadata(source, target, media_type)
        outcome = remove_metadata(source, target, media_type, max_pixels=self.settings.max_image_pixels)
        if outcome is Outcome.REWRITTEN:
            return Result(FileOutcome.REWRITTEN)
        if outcome is Outcome.CLEAN:
            return Result(FileOutcome.CLEAN)
        return Result(FileOutcome.NOT_REMOVED, "image_not_decoded")

    async def _store_spooled(
        self, record: EvidenceRecord, stored: Stored, spool: BinaryIO, also: AlsoInTransaction | None
    ) -> EvidenceRecord:
        try:
            with _store_span(record):
                try:
                    await self.storage.put(
                        record.object_key,
                        stored.file,
                        stored.size,
                        content_type=record.media_type,
                        metadata=self._object_metadata(record),
                    )
                except Exception as error:  # noqa: BLE001 - storage away or refusing
                    log.error("evidence upload to object storage failed (complaint %s): %s", record.number, error)
                    await self._remove_unrecorded(record)
                    raise Problem(
                        503, "storage_unavailable", "The evidence could not be stored; try again later."
                    ) from None
                return await self._record_or_remove(record, also)
        finally:
            stored.file.close()
            spool.close()

    async def _ingest_streamed(
        self,
        arrival: Arrival,
        evidence_id: str,
        inspection: UploadInspection,
        inspected: InspectedContent | None,
        chunks: AsyncIterator[bytes],
        also: AlsoInTransaction | None,
    ) -> EvidenceRecord:
        assert inspection.accepted is not None
        key = object_key(arrival.number, evidence_id)
        metadata = self._streamed_metadata(arrival, evidence_id)
        if arrival.content_length is not None and self.storage.streams_known_lengths:
            return await self._ingest_known_length(
                arrival, evidence_id, key, metadata, inspection, inspected, chunks, also
            )
        put = self.storage.streamed_put(key, content_type=inspection.accepted.media_type, metadata=metadata)
        try:
            async for chunk in self._within_idle_timeout(chunks):
                await put.write(chunk)
            inspected = inspected or inspection.finish()
            self._check_declared(arrival, inspected)
        except StorageFailed as error:
            await put.abort()
            log.error("streamed upload to object storage failed (complaint %s): %s", arrival.number, error)
            raise Problem(503, "storage_unavailable", "The evidence could not be stored; try again later.") from None
        except BaseException:
            # Refused, stalled, or the client went away: no part is kept.
            await put.abort()
            raise
        record = self._record_of(arrival, evidence_id, inspected, inspected.size, inspected.sha256, stripped=False)
        task = asyncio.create_task(self._finish_streamed(record, put, also))
        return await asyncio.shield(task)

    async def _ingest_known_length(
        self,
        arrival: Arrival,
        evidence_id: str,
        key: str,
        metadata: dict[str, str],
        inspection: UploadInspection,
        inspected: InspectedContent | None,
        chunks: AsyncIterator[bytes],
        also: AlsoInTransaction | None,
        *,
        cleaner: IsoMetadataStream | None = None,
    ) -> EvidenceRecord:
        """One PUT of the announced length, sent while the file arrives (through ``cleaner`` when its metadata is
        removed on the way: the stored bytes are then hashed too); then the record."""
        assert inspection.accepted is not None and arrival.content_length is not None
        body = self._within_idle_timeout(chunks)
        stored = hashlib.sha256()
        outcome: list[Result] = []
        if cleaner is not None:
            body = _cleaning(body, cleaner, stored.update, outcome)
        try:
            await self.storage.put_stream(
                key,
                body,
                arrival.content_length,
                content_type=inspection.accepted.media_type,
                metadata=metadata,
            )
            inspected = inspected or inspection.finish()
            self._check_declared(arrival, inspected)
        except StorageFailed as error:
            await asyncio.shield(self._remove_quietly(key))
            log.error("streamed upload to object storage failed (complaint %s): %s", arrival.number, error)
            raise Problem(503, "storage_unavailable", "The evidence could not be stored; try again later.") from None
        except BaseException:
            # Refused, stalled, or the client went away: the PUT was cut short, so storage kept nothing,
            # unless the cut came after the last byte (a refusal at the end): remove it then.
            await asyncio.shield(self._remove_quietly(key))
            raise
        if cleaner is None:
            record = self._record_of(arrival, evidence_id, inspected, inspected.size, inspected.sha256, stripped=False)
        else:
            [result] = outcome
            record = self._record_of(
                arrival,
                evidence_id,
                inspected,
                inspected.size,
                stored.hexdigest(),
                stripped=result.removed,
                reason=result.reason,
            )

        async def record_it() -> EvidenceRecord:
            with _store_span(record):
                return await self._record_or_remove(record, also)

        # Recording runs to its end even if the client goes away meanwhile: no object without its record.
        return await asyncio.shield(asyncio.create_task(record_it()))

    async def _within_idle_timeout(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """``chunks``, answered 408 when the client sends nothing for the idle timeout.

        Only the wait for the client counts: a chunk waiting for storage has storage's own timeouts."""
        idle_s = self.settings.upload_idle_timeout_s
        source = aiter(chunks)
        while True:
            waiting = asyncio.timeout(idle_s)
            try:
                async with waiting:
                    chunk = await anext(source, None)
            except TimeoutError:
                if not waiting.expired():
                    raise
                raise Problem(408, "upload_stalled", "The upload sent nothing for too long and was dropped.") from None
            if chunk is None:
                return
            yield chunk

    async def _finish_streamed(
        self, record: EvidenceRecord, put: StreamedPut, also: AlsoInTransaction | None
    ) -> EvidenceRecord:
        with _store_span(record):
            try:
                await put.complete()
            except StorageFailed as error:
                await put.abort()
                log.error("evidence upload to object storage failed (complaint %s): %s", record.number, error)
                await self._remove_unrecorded(record)
                raise Problem(
                    503, "storage_unavailable", "The evidence could not be stored; try again later."
                ) from None
            return await self._record_or_remove(record, also)

    # --- recording -------------------------------------------------------------------------------

    def _record_of(
        self,
        arrival: Arrival,
        evidence_id: str,
        inspected: InspectedContent,
        size: int,
        sha256: str,
        *,
        stripped: bool,
        reason: str | None = None,
    ) -> EvidenceRecord:
        received_at = now_ms()
        return EvidenceRecord(
            evidence_id=evidence_id,
            number=arrival.number,
            filename=filename_or_default(arrival.filename, inspected.extension),
            media_type=inspected.media_type,
            size=size,
            sha256=sha256,
            original_size=inspected.size,
            original_sha256=inspected.sha256,
            metadata_stripped=stripped,
            metadata_reason=reason,
            object_key=object_key(arrival.number, evidence_id),
            bucket=self.storage.bucket,
            received_at=received_at,
            status=STATUS_ATTACHED if arrival.number else STATUS_UNATTACHED,
            attached_at=received_at if arrival.number else None,
            upload_id=arrival.upload_id,
        )

    async def _record_or_remove(self, record: EvidenceRecord, also: AlsoInTransaction | None) -> EvidenceRecord:
        try:
            await in_transaction(self.runtime.mongo, lambda session: self._record(record, session, also))
        except TooManyEvidenceFiles:
            await self._remove_unrecorded(record)
            raise
        except BaseException as error:
            log.error("evidence record could not be written (complaint %s): %s", record.number, error)
            await self._remove_unrecorded(record)
            if isinstance(error, Exception):
                raise Problem(
                    503, "store_unavailable", "The evidence could not be recorded; try again later."
                ) from None
            raise
        log.info(
            "evidence %s stored (complaint %s): %s, %d bytes%s",
            record.evidence_id,
            record.number,
            record.media_type,
            record.size,
            ", metadata removed" if record.metadata_stripped else "",
        )
        return record

    async def _record(
        self, record: EvidenceRecord, session: AsyncClientSession, also: AlsoInTransaction | None
    ) -> None:
        await self.repository.insert(record, session)
        if record.number is not None:
            limit = self.settings.max_files_per_complaint
            if await self.repository.count_files(record.number, 1, session) > limit:
                raise TooManyEvidenceFiles(f"A complaint can have at most {limit} evidence files.", limit=limit)
        if also is not None:
            await also(session)
        stored = EvidenceStored(
            evidence_id=record.evidence_id,
            number=record.number,
            filename=record.filename,
            media_type=record.media_type,
            size=record.size,
            sha256=record.sha256,
            stored_at=record.received_at,
            original_sha256=record.original_sha256,
            original_size=record.original_size,
            metadata_stripped=record.metadata_stripped,
            metadata_reason=record.metadata_reason,
        )
        await self.runtime.outbox.add(stored, subject=record.number or record.evidence_id, session=session)

    async def _remove_unrecorded(self, record: EvidenceRecord) -> None:
        """Remove the object of a record that was not written; keep it when that cannot be known.

        A commit whose outcome is unknown may have succeeded: a receipt without its file would be
        worse than an unreferenced object.
        """
        try:
            if await self.repository.get(record.evidence_id) is not None:
                return
            await self.storage.remove(record.object_key)
        except Exception as error:  # noqa: BLE001 - store or storage away
            log.error("could not remove the unrecorded object %s: %s", record.object_key, error)

    @staticmethod
    def _check_declared(arrival: Arrival, inspected: InspectedContent) -> None:
        if arrival.expected_sha256 is not None and arrival.expected_size is not None:
            check_declared(inspected, size=arrival.expected_size, sha256=arrival.expected_sha256)

    @staticmethod
    def _streamed_metadata(arrival: Arrival, evidence_id: str) -> dict[str, str]:
        """The object's metadata when it is stored while it arrives (its SHA-256 is not known before)."""
        return {"evidence-id": evidence_id, "complaint-number": arrival.number or "", "upload-id": arrival.upload_id}

    @staticmethod
    def _object_metadata(record: EvidenceRecord) -> dict[str, str]:
        return {
            "evidence-id": record.evidence_id,
            "complaint-number": record.number or "",
            "upload-id": record.upload_id or "",
            "sha256": record.sha256,
        }


async def _cleaning(
    chunks: AsyncIterator[bytes],
    cleaner: IsoMetadataStream,
    hashed: Callable[[bytes], object],
    outcome: list[Result],
) -> AsyncIterator[bytes]:
    """``chunks`` without their metadata boxes, each passed to ``hashed`` as it goes on; the cleaner's result
    appended to ``outcome`` at the end."""
    async for chunk in chunks:
        if cleaned := cleaner.feed(chunk):
            hashed(cleaned)
            yield cleaned
    rest, result = cleaner.finish()
    outcome.append(result)
    if rest:
        hashed(rest)
        yield rest


@contextlib.contextmanager
def _store_span(record: EvidenceRecord) -> Iterator[None]:
    with tracer.start_as_current_span("evidence.store") as span:
        span.set_attribute("complaint.number", record.number or "")
        span.set_attribute("evidence.id", record.evidence_id)
        span.set_attribute("evidence.media_type", record.media_type)
        span.set_attribute("evidence.size", record.size)
        yield


def _spooled(max_size: int) -> BinaryIO:
    """A temporary file held in memory up to ``max_size`` bytes; its caller closes it. A binary file (mode w+b),
    which typeshed declares as IO[bytes] rather than BinaryIO."""
    return cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=max_size))


def _digest(file: BinaryIO) -> tuple[str, int]:
    file.seek(0)
    sha256, size = hashlib.sha256(), 0
    while chunk := file.read(HASH_READ_BYTES):
        sha256.update(chunk)
        size += len(chunk)
    file.seek(0)
    return sha256.hexdigest(), size


def now_ms() -> datetime:
    """Now, to the millisecond MongoDB keeps: a time answered now equals the one read back later."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
