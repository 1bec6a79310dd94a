"""SMS through a provider interface. The default provider sends nothing: it records the message in
``sms_log`` with the phone number masked, until a real gateway is contracted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Protocol

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
