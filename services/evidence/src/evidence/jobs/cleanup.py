"""The periodic clean-up: files never attached to a filed complaint, and presigned uploads never completed.

Each pass, on every replica:

1. evidence still ``unattached`` ``orphan_ttl_s`` after it was received is claimed (status
   ``removing``, with a lease), its object removed, then its record; a replica that dies half-way
   leaves a lease that runs out, and the next pass finishes the job;
2. open presigned uploads past ``complete_by`` become ``expired``;
3. finished uploads (completed, refused, expired) whose quarantined object may still be there (a
   removal that failed, or a file PUT again while the URL was still valid) are claimed one at a
   time, once their URL expired, and their object removed; for an expired one, also an object
   stored under its evidence key whose record was never written (a completion interrupted by a crash);
4. files of erased complaints whose objects storage still retained (an object lock) are tried again once their
   retry is due (``evidence.core.erasure``).

Claims are single conditional updates with a lease, so replicas never remove the same thing twice
and a file attached by ``complaint.submitted`` while a pass runs is either attached or removed,
never both. A pass is a job run (``evidence cleanup``): traced only when it removed or expired something.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from evidence.adapters.evidence_repository import EvidenceRepository
from evidence.adapters.object_storage import ObjectStorage
from evidence.adapters.upload_repository import UploadRepository
from evidence.config import Settings
from evidence.core.erasure import Erasure
from evidence.domain.records import object_key
from evidence.domain.uploads import UPLOAD_EXPIRED
from greenchannel.periodic import every
from greenchannel.telemetry import record_work

log = logging.getLogger(__name__)

#: Items one pass handles at most, so one pass never runs unbounded.
PASS_LIMIT = 500


@dataclass
class CleanupReport:
    orphans_removed: int = 0
    uploads_expired: int = 0
    quarantined_removed: int = 0
    erased: int = 0


class Cleanup:
    def __init__(
        self,
        settings: Settings,
        storage: ObjectStorage,
        evidence: EvidenceRepository,
        uploads: UploadRepository,
        erasure: Erasure,
    ) -> None:
        self.settings = settings
        self.erasure = erasure
        self.storage = storage
        self.evidence = evidence
        self.uploads = uploads
        self.claimant = uuid.uuid4().hex

    async def run(self) -> None:
        """The background job: one pass every ``cleanup_interval_s`` (a failed pass is logged and tried again)."""
        await every(self.settings.cleanup_interval_s, self.run_once, "evidence cleanup")

    async def run_once(self, now: datetime | None = None) -> CleanupReport:
        now = now or datetime.now(UTC)
        report = CleanupReport()
        await self._remove_orphans(now, report)
        report.uploads_expired = await self.uploads.expire_overdue(now)
        await self._remove_quarantined(now, report)
        report.erased = await self.erasure.retry_due(now)
        if report.orphans_removed or report.uploads_expired or report.quarantined_removed or report.erased:
            record_work()
            log.info(
                "clean-up pass: %d unattached file(s) removed, %d upload(s) expired, %d quarantined object(s) removed, "
                "%d retained file(s) of erased complaints removed",
                report.orphans_removed,
                report.uploads_expired,
                report.quarantined_removed,
                report.erased,
            )
        return report

    async def _remove_orphans(self, now: datetime, report: CleanupReport) -> None:
        cutoff = now - timedelta(seconds=self.settings.orphan_ttl_s)
        for _ in range(PASS_LIMIT):
            record = await self.evidence.claim_orphan(cutoff, now, self.settings.cleanup_lease_s, self.claimant)
            if record is None:
                return
            # The object first: a record without its object would be a receipt for nothing.
            await self.storage.remove(record.object_key)
            if await self.evidence.delete_claimed(record.evidence_id, self.claimant):
                report.orphans_removed += 1
                log.info(
                    "unattached evidence %s removed (received %s)", record.evidence_id, record.received_at.isoformat()
                )

    async def _remove_quarantined(self, now: datetime, report: CleanupReport) -> None:
        for _ in range(PASS_LIMIT):
            upload = await self.uploads.claim_leftover(now, self.settings.cleanup_lease_s, self.claimant)
            if upload is None:
                return
            if upload.multipart_id is not None:  # the parts of one never completed
                await self.storage.abort_multipart(upload.quarantine_key, upload.multipart_id)
            await self.storage.remove(upload.quarantine_key)
            expired = upload.status == UPLOAD_EXPIRED
            if expired and upload.evidence_id is not None and await self.evidence.get(upload.evidence_id) is None:
                await self.storage.remove(object_key(upload.number, upload.evidence_id))
            await self.uploads.quarantine_removed(upload, now)
            report.quarantined_removed += 1
            record_work(upload.number)
