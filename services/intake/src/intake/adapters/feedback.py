"""The feedback (意见建议) people send about the platform, in intake's ``feedback`` collection.

A contact e-mail or mobile number left with it is personal data: stored encrypted with intake's
PII cipher (bound to its field, rotated by ``intake.rotate_keys``) beside a masked copy for lists.
Operators mark an entry handled with one conditional update, so two operators cannot both handle it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from intake.adapters.pii import PiiCipher
from intake.domain.identity import mask_email, mask_phone

MASKS = {"email": mask_email, "phone": mask_phone}


class FeedbackStore:
    def __init__(self, db, cipher: PiiCipher) -> None:
        self.collection = db["feedback"]
        self.cipher = cipher

    async def add(self, topic: str, text: str, contact: dict[str, str | None], session) -> dict[str, Any]:
        """Store one entry; ``contact`` maps ``email`` and ``phone`` to a value or None."""
        entry = {
            "_id": uuid.uuid4().hex,
            "topic": topic,
            "text": text,
            "status": "new",
            "contact": {
                field: self.cipher.encrypt(field, value) if value else None for field, value in contact.items()
            },
            "contact_masked": {field: MASKS[field](value) if value else None for field, value in contact.items()},
            "submitted_at": datetime.now(UTC),
            "handled": None,
        }
        await self.collection.insert_one(entry, session=session)
        return entry

    async def page(self, status: str | None, *, limit: int, after: tuple[datetime, str] | None) -> list[dict[str, Any]]:
        """Newest first, stable: ordered by (submitted_at, id) descending; ``after`` is the last row seen."""
        query: dict[str, Any] = {"status": status} if status else {}
        if after is not None:
            at, last_id = after
            query["$or"] = [{"submitted_at": {"$lt": at}}, {"submitted_at": at, "_id": {"$lt": last_id}}]
        return await self.collection.find(query).sort([("submitted_at", -1), ("_id", -1)]).limit(limit).to_list()

    async def get(self, entry_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": entry_id})

    async def handle(self, entry_id: str, operator: str, note: str, session) -> dict[str, Any] | None:
        """Mark a new entry handled; None if there is none or it was handled already."""
        return await self.collection.find_one_and_update(
            {"_id": entry_id, "status": "new"},
            {
                "$set": {
                    "status": "handled",
                    "handled": {"by": operator, "at": datetime.now(UTC), "note": note},
                }
            },
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    def contact(self, entry: dict[str, Any]) -> dict[str, str | None]:
        """The contact details in full (operators only)."""
        return {
            field: self.cipher.decrypt(field, sealed) if sealed else None
            for field, sealed in (entry.get("contact") or {}).items()
        }
