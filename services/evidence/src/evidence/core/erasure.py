"""Erasing a complaint's files when intake erased its personal data (``complaint.erased``): every object removed
from storage, every version of it, then the records, the complaint's file counter and the filenames of its uploads,
and every entry about the complaint or its files in evidence's outbox (``evidence.stored`` names the files), with the
inbox entry in one transaction.

An object storage still retains (an object lock retention or legal hold) cannot be removed before it ends: its record
keeps only its key and when to try again (the retention's end when storage tells it, else after
``ERASURE_RETRY``), and the clean-up pass retries it (:meth:`Erasure.retry_due`) until the object is gone.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.client_session import AsyncClientSession

from evidence.adapters.evidence_repository import EvidenceRepository
from evidence.adapters.object_storage import ObjectRetained, ObjectStorage
from evidence.adapters.upload_repository import UploadRepository
from greenchannel.contracts import CloudEvent, ComplaintErased
from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import record_work

log = logging.getLogger(__name__)

#: When storage does not say how long it retains an object (a legal hold, or a store that cannot tell), look again
#: after this long.
ERASURE_RETRY = timedelta(days=1)
#: Records one clean-up pass retries at most.
RETRIES_PER_PASS = 500


def retry_at(retained: ObjectRetained, now: datetime) -> datetime:
    """When to try removing a retained object again: just after its retention ends, or after ``ERASURE_RETRY``."""
    if retained.until is not None and retained.until > now:
        return retained.until + timedelta(minutes=1)
    return now + ERASURE_RETRY


class Erasure:
    def __init__(
        self,
        runtime: ServiceRuntime,
        storage: ObjectStorage,
        repository: EvidenceRepository,
        uploads: UploadRepository,
        lease_s: float,
    ) -> None:
        self.runtime = runtime
        self.storage = storage
        self.repository = repository
        self.uploads = uploads
        self.lease_s = lease_s
        self.claimant = uuid.uuid4().hex

    async def on_erased(self, event: CloudEvent, erased: ComplaintErased) -> None:
        if await self.runtime.inbox.seen(event.id):
            return
        now = datetime.now(UTC)
        records = await self.repository.of_erased_complaint(erased.number, list(erased.evidence_ids))
        keys = {record["_id"]: record["object_key"] for record in records}
        # The objects first (removing what is gone already is no error, so a redelivery does it again harmlessly):
        # a record without its object is a receipt for nothing, an object without its record would be lost.
        waiting: dict[str, datetime] = {}
        for evidence_id, key in keys.items():
            try:
                await self.storage.erase(key)
            except ObjectRetained as retained:
                waiting[evidence_id] = retry_at(retained, now)
                log.info("complaint %s: evidence %s retained by storage, erased later", erased.number, evidence_id)

        async def erase(session: AsyncClientSession) -> None:
            await self.repository.erase_records([key for key in keys if key not in waiting], erased.number, session)
            await self.repository.wait_for_erasure(waiting, keys, session)
            await self.uploads.forget_names(erased.number, list(erased.evidence_ids), session)
            # A file uploaded before filing had its evidence.stored staged under its own id.
            for subject in (erased.number, *erased.evidence_ids):
                await self.runtime.outbox.forget(subject, session=session)

        if await self.runtime.inbox.handle_once(event, erase):
            log.info("complaint %s: %d evidence file(s) erased, %d waiting", erased.number, len(keys), len(waiting))

    async def retry_due(self, now: datetime) -> int:
        """Remove the retained objects whose retry is due; how many are gone now."""
        removed = 0
        for _ in range(RETRIES_PER_PASS):
            record = await self.repository.claim_erasure_due(now, self.lease_s, self.claimant)
            if record is None:
                break
            try:
                await self.storage.erase(record["object_key"])
            except ObjectRetained as retained:
                await self.repository.erasure_postponed(record["_id"], self.claimant, retry_at(retained, now))
                continue
            await self.repository.erasure_done(record["_id"], self.claimant)
            record_work()
            removed += 1
        return removed
