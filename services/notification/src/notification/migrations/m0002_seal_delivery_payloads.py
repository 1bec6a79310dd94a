"""Seal the webhook payloads of delivery records written before payloads were sealed.

Such a record holds ``payload`` in plaintext and no ``body_expires_at``; it gets ``sealed_payload`` (the key ring's
active key, bound to the field as ``DeliveryRepository`` binds it) and the expiry of its retention period from its
``created_at``, as a record written today has, and loses ``payload``. A record whose retention has already passed
is removed by the TTL index after this step, as the retention rule says. Each record is one conditional update (it
still holds the plaintext payload), a batch's updates sent as one bulk write; a sealed record is left alone, so the
step may run any number of times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne

from greenchannel.migrations import StepContext, batches, rewrite
from greenchannel.sealing import KeyRingCipher
from notification.adapters.deliveries import PAYLOAD_FIELD
from notification.migrations._sealing import key_ring, settings_of

PLAINTEXT = {"payload": {"$exists": True}, "sealed_payload": {"$exists": False}}


async def up(context: StepContext) -> None:
    settings = settings_of(context)
    cipher = key_ring(settings)
    retention = timedelta(days=settings.delivery_body_retention_days)
    deliveries = context.db["deliveries"]
    async for batch in batches(deliveries, PLAINTEXT, context.progress):
        await rewrite(deliveries, [sealed(record, cipher, retention) for record in batch], context.progress, "sealed")


def sealed(record: dict[str, Any], cipher: KeyRingCipher, retention: timedelta) -> UpdateOne:
    written = record.get("created_at") or datetime.now(UTC)
    return UpdateOne(
        {"_id": record["_id"], **PLAINTEXT},
        {
            "$set": {
                "sealed_payload": cipher.encrypt_json(PAYLOAD_FIELD, record["payload"]),
                "body_expires_at": record.get("body_expires_at") or written + retention,
            },
            "$unset": {"payload": ""},
        },
    )
