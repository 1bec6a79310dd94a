"""The ``operator_alerts`` collection: alerts for operators, raised once per key and acknowledged once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase


class AlertRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["operator_alerts"]

    async def raise_alert(self, alert: dict[str, Any], session: AsyncClientSession | None = None) -> bool:
        """Store ``alert`` unless one with its key exists; ``True`` when it is new."""
        result = await self.collection.update_one(
            {"key": alert["key"]}, {"$setOnInsert": alert}, upsert=True, session=session
        )
        return result.upserted_id is not None

    async def search(
        self, *, since: datetime | None, kind: str | None, company_id: str | None, acknowledged: bool | None, limit: int
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        if company_id is not None:
            query["company_id"] = company_id
        if since is not None:
            query["created_at"] = {"$gte": since}
        if kind is not None:
            query["kind"] = kind
        if acknowledged is not None:
            query["acked_at"] = {"$ne": None} if acknowledged else None
        cursor = self.collection.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return await cursor.to_list()

    async def acknowledge(self, alert_id: str) -> dict[str, Any] | None:
        """Mark the alert acknowledged (the first acknowledgement's time is kept); ``None`` when there is none."""
        acknowledged = await self.collection.find_one_and_update(
            {"_id": alert_id, "acked_at": None},
            {"$set": {"acked_at": datetime.now(UTC)}},
            return_document=ReturnDocument.AFTER,
        )
        return acknowledged or await self.collection.find_one({"_id": alert_id})
