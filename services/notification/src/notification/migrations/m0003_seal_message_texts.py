"""Seal the texts of the complainants' messages written before texts were sealed.

Such a message holds its titles and bodies (``title_zh``, ``title_en``, ``body_zh``, ``body_en``) in plaintext and
no ``expires_at``; it gets ``sealed_text`` (bound as ``MessageRepository`` binds it) and the expiry of its retention
period from its ``created_at``, and loses the plaintext. A message past its retention is then removed by the TTL
index, as the retention rule says. Each message is one conditional update (it is still unsealed and its texts are
those read), a batch's updates sent as one bulk write; a sealed message is left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo import UpdateOne

from greenchannel.migrations import StepContext, batches, rewrite
from notification.adapters.messages import TEXT_FIELD, TEXT_FIELDS
from notification.migrations._sealing import key_ring, settings_of

PLAINTEXT = {"sealed_text": {"$exists": False}}


async def up(context: StepContext) -> None:
    settings = settings_of(context)
    cipher = key_ring(settings)
    retention = timedelta(days=settings.message_retention_days)
    messages = context.db["messages"]
    async for batch in batches(messages, PLAINTEXT, context.progress):
        writes = []
        for message in batch:
            texts = {field: message.get(field) for field in TEXT_FIELDS}
            written = message.get("created_at") or datetime.now(UTC)
            writes.append(
                UpdateOne(
                    {"_id": message["_id"], **PLAINTEXT, **texts},
                    {
                        "$set": {
                            "sealed_text": cipher.encrypt_json(TEXT_FIELD, texts),
                            "expires_at": message.get("expires_at") or written + retention,
                        },
                        "$unset": dict.fromkeys(TEXT_FIELDS, ""),
                    },
                )
            )
        await rewrite(messages, writes, context.progress, "sealed")
