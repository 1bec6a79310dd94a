"""The ``clocks`` collection: one document per complaint clock (``_id`` = ``<number>/<kind>``).

Event handlers read and write clocks inside their inbox transaction, with optimistic concurrency
(``version``): a write that finds another version raises :class:`ClockChanged` and the event is
retried. The watchdog claims clocks whose ``next_check_at`` has come with one atomic
``find_one_and_update`` that sets a lease and a claim token; its write is conditional on both the
token and the version, so a clock changed by an event meanwhile (or taken over after the lease ran
out) is never overwritten with a stale decision.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from routing.domain.clock import APPEAL, RESPONSE, Clock

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ClockChanged(Exception):
    """The clock was written by someone else since it was read."""


class LeaseLost(Exception):
    """The watchdog's claim on a clock no longer holds (changed by an event, or claimed again after the lease ran out)."""


def clock_id(number: str, kind: str) -> str:
    return f"{number}/{kind}"


def _bson_ready(value: Any) -> Any:
    # BSON has no date-only type: calendar days are stored as ISO dates, instants as datetimes.
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _bson_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_bson_ready(item) for item in value]
    return value


def _fields(clock: Clock) -> dict[str, Any]:
    return {**_bson_ready(clock.model_dump(exclude={"version"})), "next_check_at": clock.next_check_at()}


def _from_document(document: dict[str, Any]) -> Clock:
    return Clock.model_validate(document)


class ClockRepository:
    def __init__(self, db: AsyncDatabase, collection: str = "clocks") -> None:
        self.collection = db[collection]

    async def load(self, number: str, session: AsyncClientSession) -> tuple[Clock | None, Clock | None]:
        """The complaint's response and appeal clocks (``None`` for one it does not have)."""
        found = {
            document["kind"]: _from_document(document)
            async for document in self.collection.find({"number": number}, session=session)
        }
        return found.get(RESPONSE), found.get(APPEAL)

    async def for_complaint(self, number: str) -> list[Clock]:
        cursor = self.collection.find({"number": number}).sort("kind", ASCENDING)
        return [_from_document(document) async for document in cursor]

    async def save(self, clock: Clock, session: AsyncClientSession) -> None:
        """Insert a new clock or replace the version it was read at, inside the caller's transaction."""
        document = {**_fields(clock), "version": clock.version + 1, "lease_until": EPOCH, "claim": None}
        if clock.version == 0:
            await self.collection.insert_one({"_id": clock_id(clock.number, clock.kind), **document}, session=session)
            return
        result = await self.collection.replace_one(
            {"_id": clock_id(clock.number, clock.kind), "version": clock.version}, document, session=session
        )
        if result.matched_count != 1:
            raise ClockChanged(clock_id(clock.number, clock.kind))

    async def claim_due(self, now: datetime, lease_s: float) -> tuple[Clock, str] | None:
        """Lease one clock whose next check has come; any number of watchdogs split the due clocks between them."""
        claim = uuid.uuid4().hex
        document = await self.collection.find_one_and_update(
            {"next_check_at": {"$lte": now}, "lease_until": {"$lte": now}},
            {"$set": {"lease_until": now + timedelta(seconds=lease_s), "claim": claim}},
            sort=[("next_check_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return None if document is None else (_from_document(document), claim)

    async def save_checked(self, clock: Clock, claim: str, session: AsyncClientSession | None = None) -> None:
        """Write the watchdog's decision on a clock it claimed, and release the claim."""
        result = await self.collection.update_one(
            {"_id": clock_id(clock.number, clock.kind), "claim": claim, "version": clock.version},
            {"$set": {**_fields(clock), "version": clock.version + 1, "lease_until": EPOCH, "claim": None}},
            session=session,
        )
        if result.matched_count != 1:
            raise LeaseLost(clock_id(clock.number, clock.kind))
