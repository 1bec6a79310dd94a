"""Idempotent consumption: an inbox of processed event ids, written in the handler's own transaction.

The event id is the inbox document's ``_id`` (a unique index by nature). A redelivered event finds
its id already there and is skipped; two copies processed at once race on the insert and only one
transaction commits.

A handler whose own first write is keyed by the event (a document whose ``_id`` is derived from the event
id, or a record of which there is one per complaint) already refuses a repeat on that key: it uses
:meth:`Inbox.handle_keyed`, which records nothing and takes the duplicate key error of the repeat as "seen".
It still reads the inbox first, so an event applied before this existed (recorded there) is skipped too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from greenchannel.contracts import CloudEvent
from greenchannel.mongo import in_transaction

INBOX_RETENTION = timedelta(days=90)


class Inbox:
    def __init__(self, client: AsyncMongoClient, db: AsyncDatabase, collection: str = "inbox") -> None:
        self.client = client
        self.collection = db[collection]

    async def seen(self, event_id: str) -> bool:
        return await self.collection.find_one({"_id": event_id}, projection={"_id": 1}) is not None

    async def handle_once(self, event: CloudEvent, work: Callable[[AsyncClientSession], Awaitable[None]]) -> bool:
        """Apply ``work`` and record the event in one transaction; ``False`` if it was applied before."""
        if await self.seen(event.id):
            return False

        async def record_and_apply(session: AsyncClientSession) -> None:
            await self.collection.insert_one(
                {
                    "_id": event.id,
                    "type": event.type,
                    "subject": event.subject,
                    "received_at": datetime.now(UTC),
                    # Redeliveries come within minutes; after this an event id is not expected again.
                    "expires_at": datetime.now(UTC) + INBOX_RETENTION,
                },
                session=session,
            )
            await work(session)

        try:
            await in_transaction(self.client, record_and_apply)
        except DuplicateKeyError:
            if await self.seen(event.id):
                return False
            raise
        return True

    async def handle_keyed(
        self,
        event: CloudEvent,
        work: Callable[[AsyncClientSession], Awaitable[None]],
        applied: Callable[[], Awaitable[bool]],
    ) -> bool:
        """Apply ``work`` in one transaction without an inbox record; ``False`` if it was applied before.

        Only for ``work`` whose writes are keyed by the event, so that applying it again fails on a unique
        key; ``applied`` reads whether the keyed document exists, telling that from any other duplicate key
        (which is raised, so the consumer retries the event).
        """
        if await self.seen(event.id):
            return False
        try:
            await in_transaction(self.client, work)
        except DuplicateKeyError:
            if await applied():
                return False
            raise
        return True
