"""Dead letters, kept for operators: messages a consumer could not handle, moved out of the
broker's dead-letter queues into intake's store, where they are listed, inspected, replayed or
discarded with a note.

A replay puts the original message back into the queue of the consumer that failed on it (and only
that one), with its event id unchanged, so the consumer's inbox still guards against doing it twice.
"""

from __future__ import annotations

import builtins
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from greenchannel.messaging import (
    CONSUMERS,
    DEAD_LETTER_QUEUE_HEADER,
    DEAD_LETTER_REASON_HEADER,
    RETRY_COUNT_HEADER,
    Broker,
)

SERVICES = CONSUMERS
DEAD_LETTER_HEADERS = (DEAD_LETTER_REASON_HEADER, DEAD_LETTER_QUEUE_HEADER, RETRY_COUNT_HEADER, "x-routing-key")


class DeadLetters:
    def __init__(self, db, broker: Broker) -> None:
        self.collection = db["dead_letters"]
        self.broker = broker

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("service", 1), ("status", 1), ("taken_at", -1)])

    async def collect(self, service: str, limit: int = 500) -> int:
        """Move what waits in the service's dead-letter queue into the store."""

        async def keep(message: AbstractIncomingMessage) -> None:
            headers = {key: _plain(value) for key, value in (message.headers or {}).items()}
            try:
                event: Any = json.loads(message.body)
            except (ValueError, UnicodeDecodeError):
                event = None
            await self.collection.insert_one(
                {
                    "_id": uuid.uuid4().hex,
                    "service": service,
                    "status": "pending",
                    "reason": headers.get(DEAD_LETTER_REASON_HEADER, ""),
                    "queue": headers.get(DEAD_LETTER_QUEUE_HEADER, f"{self.broker.settings.queue_prefix}.{service}"),
                    "routing_key": headers.get("x-routing-key"),
                    "message_id": message.message_id,
                    "type": message.type,
                    "headers": headers,
                    "event": event,
                    "body": message.body,
                    "taken_at": datetime.now(UTC),
                }
            )

        return await self.broker.take_dead_letters(service, limit, keep)

    async def list(self, service: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
        query = {key: value for key, value in (("service", service), ("status", status)) if value}
        return await self.collection.find(query, projection={"body": 0}).sort("taken_at", -1).limit(limit).to_list()

    async def get(self, letter_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": letter_id}, projection={"body": 0})

    async def replay(self, letter_id: str, operator: str) -> dict[str, Any] | None:
        letter = await self.collection.find_one_and_update(
            {"_id": letter_id, "status": "pending"}, {"$set": {"status": "replaying"}}
        )
        if letter is None:
            return None
        headers = {key: value for key, value in letter["headers"].items() if key not in DEAD_LETTER_HEADERS}
        await self.broker.send_to_queue(
            letter["queue"],
            letter["body"],
            message_id=letter["message_id"],
            message_type=letter["type"],
            headers=headers,
        )
        return await self.collection.find_one_and_update(
            {"_id": letter_id},
            {"$set": {"status": "replayed", "replayed_at": datetime.now(UTC), "replayed_by": operator}},
            projection={"body": 0},
            return_document=True,
        )

    async def discard(self, letter_id: str, operator: str, note: str) -> dict[str, Any] | None:
        return await self.collection.find_one_and_update(
            {"_id": letter_id, "status": "pending"},
            {
                "$set": {
                    "status": "discarded",
                    "discarded_at": datetime.now(UTC),
                    "discarded_by": operator,
                    "note": note,
                }
            },
            projection={"body": 0},
            return_document=True,
        )

    async def pending_ids(self, service: str) -> builtins.list[str]:  # `list` here is the method above
        return await self.collection.distinct("_id", {"service": service, "status": "pending"})


def _plain(value: Any) -> Any:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
