"""Dead letters, kept for operators: messages a consumer could not handle, moved out of the
broker's dead-letter queues into intake's store, where they are listed, inspected, replayed or
discarded with a note.

A replay puts the original message back into the queue of the consumer that failed on it (and only
that one), with its event id unchanged, so the consumer's inbox still guards against doing it twice.

A dead letter's message is an integration event, and many carry a complainant's words: its body is stored sealed
under the PII key ring (``sealed_body``, AES-GCM, bound to its field) and opened when read through this class (the
``event`` operators inspect is parsed from it then). A dead letter goes after the retention period
(``expires_at``, a TTL index), whatever its status. One taken before bodies were sealed holds ``body`` and
``event`` in plaintext and no expiry: it is read as it is, until the migration ``m0002_seal_dead_letters`` has sealed it
(the fallback stays one release, for two versions live).
"""

from __future__ import annotations

import base64
import builtins
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from greenchannel.messaging import (
    CONSUMERS,
    DEAD_LETTER_QUEUE_HEADER,
    DEAD_LETTER_REASON_HEADER,
    RETRY_COUNT_HEADER,
    Broker,
)
from greenchannel.sealing import KeyRingCipher

log = logging.getLogger(__name__)

SERVICES = CONSUMERS
DEAD_LETTER_HEADERS = (DEAD_LETTER_REASON_HEADER, DEAD_LETTER_QUEUE_HEADER, RETRY_COUNT_HEADER, "x-routing-key")
# The associated data of a sealed body: a ciphertext moved into another field does not open (rotate_keys reads it here).
BODY_FIELD = "dead_letter.body"
#: Messages moved out of a dead-letter queue at one call.
COLLECT_BATCH = 500


class DeadLetters:
    def __init__(self, db, broker: Broker, cipher: KeyRingCipher, retention: timedelta) -> None:
        self.collection = db["dead_letters"]
        self.broker = broker
        self.cipher = cipher
        self.retention = retention

    def _opened(self, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if stored is None else self._open(stored)

    def _open(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The letter with its body and parsed event in plaintext; one taken before sealing has them so already."""
        if "sealed_body" not in stored:
            return stored
        letter = {key: value for key, value in stored.items() if key != "sealed_body"}
        letter["body"] = base64.b64decode(self.cipher.decrypt(BODY_FIELD, stored["sealed_body"]))
        letter["event"] = _parsed(letter["body"])
        return letter

    async def collect(self, service: str, limit: int = COLLECT_BATCH) -> int:
        """Move what waits in the service's dead-letter queue into the store."""

        async def keep(message: AbstractIncomingMessage) -> None:
            headers = {key: _plain(value) for key, value in (message.headers or {}).items()}
            taken_at = datetime.now(UTC)
            event = _parsed(message.body)
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
                    # The complaint number the event is about (a public identifier), so an erasure finds its letters
                    # without opening every one.
                    "subject": event.get("subject") if isinstance(event, dict) else None,
                    "headers": headers,
                    "sealed_body": self.cipher.encrypt(BODY_FIELD, base64.b64encode(message.body).decode()),
                    "taken_at": taken_at,
                    "expires_at": taken_at + self.retention,
                }
            )

        return await self.broker.take_dead_letters(service, limit, keep)

    async def list(self, service: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
        query = {key: value for key, value in (("service", service), ("status", status)) if value}
        letters = await self.collection.find(query).sort("taken_at", -1).limit(limit).to_list()
        return [self._open(letter) for letter in letters]

    async def get(self, letter_id: str) -> dict[str, Any] | None:
        return self._opened(await self.collection.find_one({"_id": letter_id}))

    async def replay(self, letter_id: str, operator: str) -> dict[str, Any] | None:
        letter = self._opened(
            await self.collection.find_one_and_update(
                {"_id": letter_id, "status": "pending"}, {"$set": {"status": "replaying"}}
            )
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
        return self._opened(
            await self.collection.find_one_and_update(
                {"_id": letter_id},
                {"$set": {"status": "replayed", "replayed_at": datetime.now(UTC), "replayed_by": operator}},
                return_document=True,
            )
        )

    async def discard(self, letter_id: str, operator: str, note: str) -> dict[str, Any] | None:
        return self._opened(
            await self.collection.find_one_and_update(
                {"_id": letter_id, "status": "pending"},
                {
                    "$set": {
                        "status": "discarded",
                        "discarded_at": datetime.now(UTC),
                        "discarded_by": operator,
                        "note": note,
                    }
                },
                return_document=True,
            )
        )

    async def forget(self, subject: str) -> int:
        """Delete every letter about the complaint ``subject`` whatever its status, after moving what waits in every
        consumer's dead-letter queue here (a letter still in a queue would escape); how many. Letters taken before
        the subject was recorded are opened to tell."""
        for service in SERVICES:
            while await self.collect(service, COLLECT_BATCH) == COLLECT_BATCH:
                pass
        doomed = [letter["_id"] for letter in await self.collection.find({"subject": subject}).to_list()]
        async for stored in self.collection.find({"subject": {"$exists": False}}):
            try:
                event = self._open(stored).get("event")
            except Exception as error:  # noqa: BLE001 - sealed under a key no longer in the ring: nobody can read it
                log.warning("dead letter %s cannot be opened to tell its complaint: %s", stored["_id"], error)
                continue
            if isinstance(event, dict) and event.get("subject") == subject:
                doomed.append(stored["_id"])
        if not doomed:
            return 0
        result = await self.collection.delete_many({"_id": {"$in": doomed}})
        return result.deleted_count

    async def pending_count(self, service: str) -> int:
        return await self.collection.count_documents({"service": service, "status": "pending"})

    async def pending_ids(self, service: str) -> builtins.list[str]:  # `list` here is the method above
        return await self.collection.distinct("_id", {"service": service, "status": "pending"})


def _parsed(body: bytes) -> Any:
    """The event in the message, or None when the body is no JSON (a message that broke its contract that way)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _plain(value: Any) -> Any:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
