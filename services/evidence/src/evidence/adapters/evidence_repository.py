"""The ``evidence`` collection: one document per stored file, keyed by its evidence id."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from evidence.domain.records import EvidenceRecord

_FIELDS = tuple(EvidenceRecord.__dataclass_fields__)


class EvidenceRepository:
    def __init__(self, db: AsyncDatabase, collection: str = "evidence") -> None:
        self.collection = db[collection]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("number", ASCENDING), ("received_at", ASCENDING)])

    async def insert(self, record: EvidenceRecord, session: AsyncClientSession) -> None:
        await self.collection.insert_one({"_id": record.evidence_id, **record.as_dict()}, session=session)

    async def get(self, evidence_id: str) -> EvidenceRecord | None:
        document = await self.collection.find_one({"_id": evidence_id})
        return _record(document) if document is not None else None

    async def list_for_complaint(self, number: str, limit: int = 1000) -> list[EvidenceRecord]:
        cursor = self.collection.find({"number": number}).sort([("received_at", ASCENDING), ("_id", ASCENDING)])
        return [_record(document) async for document in cursor.limit(limit)]


def _record(document: dict) -> EvidenceRecord:
    return EvidenceRecord(**{name: document[name] for name in _FIELDS if name in document})
