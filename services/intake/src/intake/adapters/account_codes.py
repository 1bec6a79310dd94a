"""The ``account_codes`` collection: the live one-time code per login and purpose, as a keyed hash.

A record holds the code's HMAC (never the code), when it expires and how often it was tried; a
TTL index removes it after it expired. Every try is counted atomically *before* the code is
compared, so concurrent guesses cannot pass the limit; using the code deletes the record, so only
one of two concurrent confirmations with the right code wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession


class AccountCodeStore:
    def __init__(self, db) -> None:
        self.collection = db["account_codes"]

    async def replace(self, record: dict[str, Any], session: AsyncClientSession) -> None:
        """Store ``record`` as the live code of its login and purpose; an earlier code is void from now."""
        await self.collection.replace_one({"_id": record["_id"]}, record, upsert=True, session=session)

    async def spend_attempt(self, record_id: str, now: datetime, max_attempts: int) -> dict[str, Any] | None:
        """Count one try of a live code and answer its record, or None when no code may be tried."""
        return await self.collection.find_one_and_update(
            {
                "_id": record_id,
                "code_hash": {"$ne": None},
                "expires_at": {"$gt": now},
                "attempts": {"$lt": max_attempts},
            },
            {"$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def consume(self, record_id: str, issue_id: str, session: AsyncClientSession) -> bool:
        """Use the code of issue ``issue_id`` up; False when it is gone (used, replaced or expired meanwhile)."""
        result = await self.collection.delete_one({"_id": record_id, "issue_id": issue_id}, session=session)
        return result.deleted_count == 1
