"""The ``evidence`` collection (one document per stored file, keyed by its evidence id) and the
``complaint_files`` counters (how many files each complaint has, the basis of its limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from evidence.domain.records import (
    STATUS_ATTACHED,
    STATUS_ERASING,
    STATUS_REMOVING,
    STATUS_UNATTACHED,
    EvidenceRecord,
)

_FIELDS = tuple(EvidenceRecord.__dataclass_fields__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EvidenceRepository:
    def __init__(self, db: AsyncDatabase, collection: str = "evidence") -> None:
        self.collection = db[collection]
        self.counters = db["complaint_files"]

    async def insert(self, record: EvidenceRecord, session: AsyncClientSession) -> None:
        await self.collection.insert_one(
            {"_id": record.evidence_id, **record.as_dict(), "lease_until": EPOCH}, session=session
        )

    async def get(self, evidence_id: str) -> EvidenceRecord | None:
        """The file's record; None for one erased with its complaint whose object storage still retains."""
        document = await self.collection.find_one({"_id": evidence_id, "status": {"$ne": STATUS_ERASING}})
        return _record(document) if document is not None else None

    async def list_for_complaint(self, number: str, limit: int = 1000) -> list[EvidenceRecord]:
        cursor = self.collection.find({"number": number}).sort([("received_at", ASCENDING), ("_id", ASCENDING)])
        return [_record(document) async for document in cursor.limit(limit)]

    # --- files per complaint -------------------------------------------------------------------

    async def files_of(self, number: str) -> int:
        counter = await self.counters.find_one({"_id": number})
        return counter["files"] if counter else 0

    async def count_files(self, number: str, added: int, session: AsyncClientSession) -> int:
        """Add ``added`` files to the complaint's count inside the caller's transaction; the new count.

        One counter document per complaint: two uploads racing for the last free place write the
        same document, so their transactions conflict and the retried one sees the other's count.
        """
        counter = await self.counters.find_one_and_update(
            {"_id": number},
            {"$inc": {"files": added}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if counter is None:  # an upsert answering the document after it always finds one
            raise RuntimeError(f"the file counter of {number} is missing after its upsert")
        return counter["files"]

    # --- attachment ------------------------------------------------------------------------------

    async def attach(
        self, evidence_ids: list[str], number: str, at: datetime, session: AsyncClientSession
    ) -> list[str]:
        """Attach the unattached ones of ``evidence_ids`` to ``number``; the ids that were attached now."""
        candidates = await self.collection.find(
            {"_id": {"$in": evidence_ids}, "status": STATUS_UNATTACHED}, projection={"_id": 1}, session=session
        ).to_list()
        ids = [document["_id"] for document in candidates]
        if ids:
            await self.collection.update_many(
                {"_id": {"$in": ids}, "status": STATUS_UNATTACHED},
                {"$set": {"status": STATUS_ATTACHED, "number": number, "attached_at": at}},
                session=session,
            )
        return ids

    async def attached_to(self, evidence_ids: list[str], number: str) -> set[str]:
        cursor = self.collection.find({"_id": {"$in": evidence_ids}, "number": number}, projection={"_id": 1})
        return {document["_id"] async for document in cursor}

    # --- clean-up of what was never attached -----------------------------------------------------

    async def claim_orphan(
        self, cutoff: datetime, now: datetime, lease_s: float, claimant: str
    ) -> EvidenceRecord | None:
        """Lease one unattached record received before ``cutoff`` (or one whose removal was left half-done)
        and mark it ``removing``: from then on no ``complaint.submitted`` attaches it."""
        document = await self.collection.find_one_and_update(
            {
                "status": {"$in": [STATUS_UNATTACHED, STATUS_REMOVING]},
                "received_at": {"$lt": cutoff},
                "lease_until": {"$not": {"$gt": now}},
            },
            {
                "$set": {
                    "status": STATUS_REMOVING,
                    "lease_until": now + timedelta(seconds=lease_s),
                    "claimed_by": claimant,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return _record(document) if document is not None else None

    async def delete_claimed(self, evidence_id: str, claimant: str) -> bool:
        result = await self.collection.delete_one(
            {"_id": evidence_id, "status": STATUS_REMOVING, "claimed_by": claimant}
        )
        return result.deleted_count == 1

    # --- erasure of a complaint's files ----------------------------------------------------------------

    async def of_erased_complaint(self, number: str, evidence_ids: list[str]) -> list[dict]:
        """The records of the complaint's files: uploaded for its number, or listed (uploaded before filing)."""
        return await self.collection.find(
            {"$or": [{"number": number}, {"_id": {"$in": evidence_ids}}]}, projection={"object_key": 1}
        ).to_list()

    async def erase_records(self, evidence_ids: list[str], number: str, session: AsyncClientSession) -> None:
        """Delete the records whose objects are gone, and the complaint's file counter."""
        if evidence_ids:
            await self.collection.delete_many({"_id": {"$in": evidence_ids}}, session=session)
        await self.counters.delete_one({"_id": number}, session=session)

    async def wait_for_erasure(
        self, waiting: dict[str, datetime], object_keys: dict[str, str], session: AsyncClientSession
    ) -> None:
        """Records whose objects storage still retains (an object lock) lose everything but what removing the object
        later needs: the key, the bucket, and when to try again. Replaced whole, so no filename or hash stays."""
        for evidence_id, retry_at in waiting.items():
            await self.collection.replace_one(
                {"_id": evidence_id},
                {
                    "_id": evidence_id,
                    "status": STATUS_ERASING,
                    "object_key": object_keys[evidence_id],
                    "erasure_retry_at": retry_at,
                    "lease_until": EPOCH,
                },
                session=session,
            )

    async def claim_erasure_due(self, now: datetime, lease_s: float, claimant: str) -> dict | None:
        """Lease one record waiting for its object's retention to end, once its retry is due."""
        return await self.collection.find_one_and_update(
            {"status": STATUS_ERASING, "erasure_retry_at": {"$lte": now}, "lease_until": {"$not": {"$gt": now}}},
            {"$set": {"lease_until": now + timedelta(seconds=lease_s), "claimed_by": claimant}},
            return_document=ReturnDocument.AFTER,
        )

    async def erasure_done(self, evidence_id: str, claimant: str) -> None:
        await self.collection.delete_one({"_id": evidence_id, "status": STATUS_ERASING, "claimed_by": claimant})

    async def erasure_postponed(self, evidence_id: str, claimant: str, retry_at: datetime) -> None:
        await self.collection.update_one(
            {"_id": evidence_id, "status": STATUS_ERASING, "claimed_by": claimant},
            {"$set": {"erasure_retry_at": retry_at, "lease_until": EPOCH}},
        )

    # --- operator verification -------------------------------------------------------------------

    async def release(self, evidence_id: str, release: dict) -> bool:
        """Mark a file released unless it was before; whether this call released it. One conditional update, so
        of two operators releasing at once exactly one is the one who did."""
        result = await self.collection.update_one(
            {"_id": evidence_id, "released": None}, {"$set": {"released": release}}
        )
        return result.modified_count == 1

    async def held(self, media_types: list[str], limit: int, after: str | None) -> list[EvidenceRecord]:
        """Attached files stored with their metadata not removed, of ``media_types`` (those that can carry it),
        not released; oldest first, after the file ``after``."""
        query: dict = {
            "status": STATUS_ATTACHED,
            "metadata_stripped": {"$ne": True},
            "released": None,
            "media_type": {"$in": media_types},
        }
        if after is not None:
            last = await self.collection.find_one({"_id": after}, projection={"received_at": 1})
            if last is not None:
                query["$or"] = [
                    {"received_at": {"$gt": last["received_at"]}},
                    {"received_at": last["received_at"], "_id": {"$gt": after}},
                ]
        cursor = self.collection.find(query).sort([("received_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return [_record(document) async for document in cursor]

    async def record_verification(self, evidence_id: str, verification: dict) -> None:
        await self.collection.update_one({"_id": evidence_id}, {"$set": {"last_verification": verification}})


def _record(document: dict) -> EvidenceRecord:
    values = {name: document[name] for name in _FIELDS if name in document}
    # Records written before receipts told original from stored: nothing was removed from them.
    values.setdefault("original_size", document["size"])
    values.setdefault("original_sha256", document["sha256"])
    values.setdefault("metadata_stripped", False)
    if values.get("status") == "stored":
        values["status"] = STATUS_ATTACHED if document.get("number") else STATUS_UNATTACHED
    return EvidenceRecord(**values)
