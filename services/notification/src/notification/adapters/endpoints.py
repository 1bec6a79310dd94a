"""The ``endpoints`` collection: one webhook endpoint per company (``_id`` = company id)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

ENABLED = "enabled"
DISABLED = "disabled"


class EndpointRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["endpoints"]

    async def get(self, company_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": company_id})

    async def get_enabled(self, company_id: str, session: AsyncClientSession | None = None) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": company_id, "status": ENABLED}, session=session)

    async def upsert(self, company_id: str, url: str, secret: str | None) -> tuple[dict[str, Any], bool]:
        """Create or replace the endpoint and enable it. ``secret`` ``None`` keeps the stored one.

        Returns the stored endpoint and whether it was created. The caller passes a secret when
        the endpoint may be new (``$setOnInsert`` cannot leave it out), so creation always stores one.
        """
        now = datetime.now(timezone.utc)
        update: dict[str, Any] = {
            "$set": {"url": url, "status": ENABLED, "disabled_reason": None, "updated_at": now},
            "$setOnInsert": {"created_at": now},
        }
        if secret is not None:
            update["$set"]["secret"] = secret
        before = await self.collection.find_one_and_update(
            {"_id": company_id}, update, upsert=True, return_document=ReturnDocument.BEFORE
        )
        stored = await self.collection.find_one({"_id": company_id})
        assert stored is not None
        return stored, before is None

    async def disable(
        self, company_id: str, reason: str, *, url: str | None = None, session: AsyncClientSession | None = None
    ) -> bool:
        """Disable the endpoint; with ``url``, only if it still points there (it may have been changed meanwhile)."""
        query: dict[str, Any] = {"_id": company_id}
        if url is not None:
            query["url"] = url
        result = await self.collection.update_one(
            query,
            {"$set": {"status": DISABLED, "disabled_reason": reason, "updated_at": datetime.now(timezone.utc)}},
            session=session,
        )
        return result.matched_count == 1
