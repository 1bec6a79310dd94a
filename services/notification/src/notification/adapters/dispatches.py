"""The ``dispatches`` collection: e-mails and SMS waiting to be sent, claimed by the dispatch job with a lease.

A dispatch of a one-time code (``issue_id`` set) holds no complaint number and no text: it holds the
sealed notice of ``account.code_issued`` until it ends, and is opened only to be sent.

The same claim discipline as the webhook deliveries: one ``find_one_and_update`` sets a lease and a
claim token, and every later write is conditional on the token, so a job whose lease ran out
cannot overwrite what the replica that took over recorded.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from notification.adapters.deliveries import EPOCH, LeaseLost
from notification.domain.dispatches import DispatchStatus


class DispatchRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["dispatches"]

    async def insert(self, dispatch: dict[str, Any], session: AsyncClientSession | None) -> None:
        await self.collection.insert_one(dispatch, session=session)

    async def erase(self, number: str, session: AsyncClientSession) -> int:
        """Every e-mail and SMS of an erased complaint, sent or waiting; how many (a waiting one's job finds no claim
        and drops it)."""
        result = await self.collection.delete_many({"number": number}, session=session)
        return result.deleted_count

    async def of_number(self, number: str) -> list[dict[str, Any]]:
        return await self.collection.find({"number": number}).sort([("created_at", ASCENDING)]).to_list()

    async def claim_due(self, lease_s: float) -> dict[str, Any] | None:
        now = datetime.now(UTC)
        due = {"status": DispatchStatus.PENDING, "next_attempt_at": {"$lte": now}, "lease_until": {"$lte": now}}
        # A read first: most polls find nothing, and should cost the store no write command.
        candidate = await self.collection.find_one(due, projection={"_id": 1}, sort=[("next_attempt_at", ASCENDING)])
        if candidate is None:
            return None
        return await self.collection.find_one_and_update(
            due,
            {"$set": {"lease_until": now + timedelta(seconds=lease_s), "claim": uuid.uuid4().hex}},
            sort=[("next_attempt_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    async def _claimed_update(self, dispatch: dict[str, Any], update: dict[str, Any]) -> None:
        result = await self.collection.update_one({"_id": dispatch["_id"], "claim": dispatch["claim"]}, update)
        if result.matched_count != 1:
            raise LeaseLost(dispatch["_id"])

    async def schedule_retry(self, dispatch: dict[str, Any], attempt: dict[str, Any], next_at: datetime) -> None:
        await self._claimed_update(
            dispatch,
            {
                "$push": {"attempts": attempt},
                "$set": {
                    "next_attempt_at": next_at,
                    "lease_until": EPOCH,
                    "claim": None,
                    "updated_at": attempt["at"],
                    "last_error": attempt["error"],
                },
            },
        )

    async def finish(
        self,
        dispatch: dict[str, Any],
        attempt: dict[str, Any],
        status: DispatchStatus,
        *,
        provider_ref: str | None = None,
    ) -> None:
        # A one-time code's sealed notice is of no use once its dispatch ended: it is not kept.
        await self._claimed_update(
            dispatch,
            {
                "$push": {"attempts": attempt},
                "$set": {
                    "status": status,
                    "next_attempt_at": None,
                    "lease_until": EPOCH,
                    "claim": None,
                    "updated_at": attempt["at"],
                    "finished_at": attempt["at"],
                    "last_error": attempt["error"],
                    "provider_ref": provider_ref,
                },
                "$unset": {"sealed": ""},
            },
        )
