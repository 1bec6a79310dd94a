"""Seal the messages of dead letters taken before their bodies were sealed.

Such a letter holds the message's ``body`` and its parsed ``event`` in plaintext (a complainant's words, often) and
no ``expires_at``; it gets ``sealed_body`` under the PII key ring (base64 of the body, bound to the field as
``DeadLetters`` binds it; the event is parsed from it when read), the expiry of its retention period from its
``taken_at``, and loses the plaintext. A letter past its retention is then removed by the TTL index, as the
retention rule says. Each letter is one conditional update (still unsealed), a batch's updates sent as one bulk
write; a sealed letter is left alone.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from pymongo import UpdateOne

from greenchannel.migrations import StepContext, batches, rewrite
from intake.adapters.dead_letters import BODY_FIELD
from intake.adapters.pii import PiiCipher
from intake.config import Settings

PLAINTEXT = {"body": {"$exists": True}, "sealed_body": {"$exists": False}}


async def up(context: StepContext) -> None:
    settings = context.settings
    if not isinstance(settings, Settings):
        raise TypeError(f"intake's migrations need intake's settings, not {type(settings)}")
    cipher = PiiCipher.from_settings(settings.pii_keys.get_secret_value(), settings.pii_active_key_id)
    retention = timedelta(days=settings.dead_letter_retention_days)
    letters = context.db["dead_letters"]
    async for batch in batches(letters, PLAINTEXT, context.progress):
        writes = []
        for letter in batch:
            body = bytes(letter["body"])
            taken = letter.get("taken_at") or datetime.now(UTC)
            writes.append(
                UpdateOne(
                    {"_id": letter["_id"], **PLAINTEXT},
                    {
                        "$set": {
                            "sealed_body": cipher.encrypt(BODY_FIELD, base64.b64encode(body).decode()),
                            "expires_at": letter.get("expires_at") or taken + retention,
                        },
                        "$unset": {"body": "", "event": ""},
                    },
                )
            )
        await rewrite(letters, writes, context.progress, "sealed")
