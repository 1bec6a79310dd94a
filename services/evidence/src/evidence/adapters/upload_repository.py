"""The ``uploads`` collection: presigned uploads from their start to completion, refusal or expiry.

A ``complete`` call and the clean-up take an upload with a lease, so two replicas never check or
remove the same upload at once. ``quarantine_present`` stays true until the quarantined object is
gone for good: a removal interrupted by a crash is finished by the next clean-up pass, and since
the presigned URL can still be used until it expires, an upload finished before then is swept once
more after its URL expired (``sweep_after``), so a file PUT again meanwhile does not stay behind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from evidence.domain.uploads import (
    UPLOAD_COMPLETED,
    UPLOAD_EXPIRED,
    UPLOAD_PENDING,
    UPLOAD_REJECTED,
    UPLOAD_VERIFYING,
    UploadRecord,
)

_FIELDS = tuple(UploadRecord.__dataclass_fields__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Finished uploads are kept this long (a repeated ``complete`` answers the same), then dropped by a TTL index.
FINISHED_RETENTION = timedelta(days=7)
OPEN = [UPLOAD_PENDING, UPLOAD_VERIFYING]
FINISHED = [UPLOAD_COMPLETED, UPLOAD_REJECTED, UPLOAD_EXPIRED]


class UploadRepository:
    def __init__(self, db: AsyncDatabase, collection: str = "uploads") -> None:
        self.collection = db[collection]

    async def insert(self, upload: UploadRecord) -> None:
        await self.collection.insert_one(
            {"_id": upload.upload_id, **upload.as_dict(), "lease_until": EPOCH, "quarantine_present": True}
        )

    async def forget_names(self, number: str, evidence_ids: list[str], session: AsyncClientSession) -> None:
        """The uploads of an erased complaint keep no filename (the record stays until its purge, for the clean-up
        of its quarantined object)."""
        await self.collection.update_many(
            {"$or": [{"number": number}, {"evidence_id": {"$in": evidence_ids}}]},
            {"$set": {"filename": ""}},
            session=session,
        )

    async def get(self, upload_id: str) -> UploadRecord | None:
        document = await self.collection.find_one({"_id": upload_id})
        return _upload(document) if document is not None else None

    async def claim(self, upload_id: str, now: datetime, lease_s: float, claimant: str) -> UploadRecord | None:
        """Lease an open upload that is still within its time for checking; ``None`` if it is not available."""
        document = await self.collection.find_one_and_update(
            {
                "_id": upload_id,
                "status": {"$in": OPEN},
                "complete_by": {"$gt": now},
                "lease_until": {"$not": {"$gt": now}},
            },
            {
                "$set": {
                    "status": UPLOAD_VERIFYING,
                    "lease_until": now + timedelta(seconds=lease_s),
                    "claimed_by": claimant,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return _upload(document) if document is not None else None

    async def release(self, upload_id: str, claimant: str) -> None:
        """Hand a claimed upload back unchanged (its file was not there yet)."""
        await self.collection.update_one(
            {"_id": upload_id, "status": UPLOAD_VERIFYING, "claimed_by": claimant},
            {"$set": {"status": UPLOAD_PENDING, "lease_until": EPOCH}},
        )

    async def mark_completed(self, upload_id: str, now: datetime, session: AsyncClientSession) -> None:
        """Inside the transaction that records the evidence: the upload and its evidence commit together."""
        await self.collection.update_one(
            {"_id": upload_id},
            {
                "$set": {
                    "status": UPLOAD_COMPLETED,
                    "lease_until": EPOCH,
                    "finished_at": now,
                    "purge_at": now + FINISHED_RETENTION,
                }
            },
            session=session,
        )

    async def mark_rejected(self, upload_id: str, reason: str, detail: str, now: datetime) -> None:
        await self.collection.update_one(
            {"_id": upload_id},
            {
                "$set": {
                    "status": UPLOAD_REJECTED,
                    "reason": reason,
                    "reason_detail": detail,
                    "lease_until": EPOCH,
                    "finished_at": now,
                    "purge_at": now + FINISHED_RETENTION,
                }
            },
        )

    async def quarantine_removed(self, upload: UploadRecord, now: datetime) -> None:
        """The quarantined object was removed: for good once the URL is dead, else sweep again after that."""
        done = {"quarantine_present": False} if now >= upload.url_expires_at else {"sweep_after": upload.url_expires_at}
        await self.collection.update_one({"_id": upload.upload_id}, {"$set": {**done, "lease_until": EPOCH}})

    async def expire_overdue(self, now: datetime) -> int:
        """Open uploads past their time become ``expired`` (their objects are removed by :meth:`claim_leftover`)."""
        result = await self.collection.update_many(
            {"status": {"$in": OPEN}, "complete_by": {"$lte": now}, "lease_until": {"$not": {"$gt": now}}},
            {"$set": {"status": UPLOAD_EXPIRED, "finished_at": now, "purge_at": now + FINISHED_RETENTION}},
        )
        return result.modified_count

    async def claim_leftover(self, now: datetime, lease_s: float, claimant: str) -> UploadRecord | None:
        """Lease one finished upload whose quarantined object may still be there."""
        document = await self.collection.find_one_and_update(
            {
                "quarantine_present": True,
                "status": {"$in": FINISHED},
                "lease_until": {"$not": {"$gt": now}},
                "sweep_after": {"$not": {"$gt": now}},
            },
            {"$set": {"lease_until": now + timedelta(seconds=lease_s), "claimed_by": claimant}},
            return_document=ReturnDocument.AFTER,
        )
        return _upload(document) if document is not None else None


def _upload(document: dict) -> UploadRecord:
    return UploadRecord(**{name: document[name] for name in _FIELDS if name in document})
