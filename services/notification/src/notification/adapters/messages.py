"""The ``messages`` collection (the complainant's inbox) and ``complaint_companies``, the company name per complaint.

A message is read by complaint number, newest first: the index (number, created_at, _id) serves
both the listing of several numbers and the cursor that continues it.

A message's texts are stored sealed under the key ring (``sealed_text``, AES-GCM, bound to its field) and opened
when read through this repository; a message goes after the retention period (``expires_at``, a TTL index). A
message written before texts were sealed holds them in plaintext and no expiry: it is read as it is, until the
migration ``m0003_seal_message_texts`` has sealed it (the fallback stays one release, for two versions live).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from greenchannel.sealing import KeyRingCipher

# The fields of a message sealed together, and the associated data that binds their ciphertext to the messages.
TEXT_FIELDS = ("title_zh", "title_en", "body_zh", "body_en")
TEXT_FIELD = "message.text"


class MessageRepository:
    def __init__(self, db: AsyncDatabase, cipher: KeyRingCipher, retention: timedelta) -> None:
        self.collection = db["messages"]
        self.cipher = cipher
        self.retention = retention

    async def insert(self, message: dict[str, Any], session: AsyncClientSession | None) -> None:
        stored = {key: value for key, value in message.items() if key not in TEXT_FIELDS}
        stored["sealed_text"] = self.cipher.encrypt_json(TEXT_FIELD, {field: message[field] for field in TEXT_FIELDS})
        stored["expires_at"] = message["created_at"] + self.retention
        await self.collection.insert_one(stored, session=session)

    async def erase(self, number: str, session: AsyncClientSession) -> int:
        """Every message about an erased complaint, read or not; how many."""
        result = await self.collection.delete_many({"number": number}, session=session)
        return result.deleted_count

    def _opened(self, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if stored is None else self._open(stored)

    def _open(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The message with its texts in plaintext; one written before sealing has them so already."""
        if "sealed_text" not in stored:
            return stored
        message = {key: value for key, value in stored.items() if key != "sealed_text"}
        message.update(self.cipher.decrypt_json(TEXT_FIELD, stored["sealed_text"]))
        return message

    async def exists(self, message_id: str) -> bool:
        return await self.collection.find_one({"_id": message_id}, projection={"_id": 1}) is not None

    async def page(
        self, numbers: list[str], limit: int, after: tuple[datetime, str] | None = None
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` messages of ``numbers``, newest first, after the cursor position ``after``."""
        query: dict[str, Any] = {"number": {"$in": numbers}}
        if after is not None:
            created_at, message_id = after
            query["$or"] = [
                {"created_at": {"$lt": created_at}},
                {"created_at": created_at, "_id": {"$lt": message_id}},
            ]
        cursor = self.collection.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return [self._open(stored) for stored in await cursor.to_list()]

    async def unread(self, numbers: list[str]) -> int:
        """How many messages of ``numbers`` are unread (the index on number serves it)."""
        return await self.collection.count_documents({"number": {"$in": numbers}, "read_at": None})

    async def mark_read(self, message_id: str, numbers: list[str]) -> dict[str, Any] | None:
        """Mark the message read (the first reading time stays); ``None`` if there is no such message of ``numbers``."""
        query: dict[str, Any] = {"_id": message_id, "number": {"$in": numbers}}
        found = await self.collection.find_one_and_update(
            {**query, "read_at": None},
            {"$set": {"read_at": datetime.now(UTC)}},
            return_document=ReturnDocument.AFTER,
        )
        return self._opened(found if found is not None else await self.collection.find_one(query))


class CompanyNames:
    """The directory name of the company each complaint is addressed to, as ``complaint.accepted`` last said.

    The message of each ``complaint.accepted`` keeps the company it names (no write of its own). Complaints
    accepted before that was so have the name in ``complaint_companies``, which is still read for them.
    """

    def __init__(self, db: AsyncDatabase) -> None:
        self.messages = db["messages"]
        self.earlier = db["complaint_companies"]

    async def erase(self, number: str, session: AsyncClientSession) -> None:
        """An erased complaint's name record goes (its messages go with ``MessageRepository.erase``)."""
        await self.earlier.delete_one({"_id": number}, session=session)

    async def name_of(self, number: str, company_id: str | None, session: AsyncClientSession | None) -> str | None:
        """The name, when it is known for this company (a redirected complaint's old name is not used for the new one)."""
        found = await self.messages.find_one(
            {"number": number, "company_name": {"$exists": True}},
            projection={"company_id": 1, "company_name": 1},
            sort=[("created_at", DESCENDING), ("_id", DESCENDING)],
            session=session,
        )
        if found is None:
            found = await self.earlier.find_one({"_id": number}, session=session)
        if found is None or (company_id is not None and found["company_id"] != company_id):
            return None
        return found["company_name"]
