"""SMS through a provider interface. The default provider sends nothing: it records the message in
``sms_log`` with the phone number masked, until a real gateway is contracted."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Protocol

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from notification.domain.dispatches import mask_phone


class SmsNotSent(Exception):
    """The provider did not take the message; the dispatch is tried again later."""


class SmsProvider(Protocol):
    async def send(self, phone: str, text: str, *, confidential: tuple[str, ...] = ()) -> str:
        """Hand ``text`` to the provider for ``phone``; answer the provider's reference of the message.

        ``confidential`` are parts of the text (a one-time code) that no record of the message may keep.
        """
        ...


async def erase_sms_log(db: AsyncDatabase, number: str, session: AsyncClientSession) -> int:
    """Every recorded SMS naming an erased complaint (its text names the number); how many."""
    result = await db["sms_log"].delete_many({"text": {"$regex": re.escape(number)}}, session=session)
    return result.deleted_count


class SmsLogProvider:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["sms_log"]

    async def send(self, phone: str, text: str, *, confidential: tuple[str, ...] = ()) -> str:
        reference = uuid.uuid4().hex
        for secret in confidential:
            text = text.replace(secret, "*" * len(secret))
        await self.collection.insert_one(
            {
                "_id": reference,
                "phone_masked": mask_phone(phone),
                "text": text,
                "recorded_at": datetime.now(UTC),
            }
        )
        return reference
