"""The ``deliveries`` collection: the durable delivery log, claimed by workers with a lease.

A worker claims a due attempt with one ``find_one_and_update`` that sets a lease and a claim token;
every later write is conditional on that token, so a worker whose lease ran out (and whose
attempt another replica has taken over) cannot overwrite the newer state.

An operator can redeliver a finished delivery: it becomes pending again with the same id and its
attempts kept, and starts a new round of the retry schedule (``round_start`` is the number of
attempts made before the round).

The payload (the body the company receives) is personal data: it is stored sealed under the key ring
(``sealed_payload``, AES-GCM, bound to its field) and opened only when read through this repository, and the
whole delivery record goes with it after the retention period (``body_expires_at``, a TTL index). A record
written before payloads were sealed holds ``payload`` in plaintext and no expiry: it is read as it is, until
the migration ``m0002_seal_delivery_payloads`` has sealed it (the fallback stays one release, for two versions live).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry import propagate
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from greenchannel.sealing import KeyRingCipher
from notification.domain.deliveries import DeliveryStatus

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


FINISHED = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)
# The associated data of a sealed payload: a ciphertext moved into another field does not open.
PAYLOAD_FIELD = "delivery.payload"


def new_delivery(
    webhook_id: str,
    *,
    event_id: str | None,
    company_id: str,
    number: str | None,
    event_type: str,
    payload: dict[str, Any],
    status: str,
) -> dict[str, Any]:
    """A delivery as first written: due now, with no attempt, lease or claim, carrying the caller's trace."""
    now = datetime.now(UTC)
    trace_headers: dict[str, str] = {}
    propagate.inject(trace_headers)
    return {
        "_id": webhook_id,
        "event_id": event_id,
        "company_id": company_id,
        "number": number,
        "event_type": event_type,
        "payload": payload,
        "status": status,
        "attempts": [],
        "next_attempt_at": now,
        "lease_until": EPOCH,
        "claim": None,
        "last_error": None,
        "trace_headers": trace_headers,
        "created_at": now,
        "updated_at": now,
    }


class LeaseLost(Exception):
    """The delivery was claimed by another worker after this worker's lease ran out."""


class NotFinished(Exception):
    """A redelivery was asked for a delivery that is still pending or waiting for an endpoint."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class DeliveryRepository:
    def __init__(self, db: AsyncDatabase, cipher: KeyRingCipher, body_retention: timedelta) -> None:
        self.collection = db["deliveries"]
        self.cipher = cipher
        self.body_retention = body_retention

    def _sealed(self, record: dict[str, Any]) -> dict[str, Any]:
        stored = {key: value for key, value in record.items() if key != "payload"}
        stored["sealed_payload"] = self.cipher.encrypt_json(PAYLOAD_FIELD, record["payload"])
        stored["body_expires_at"] = record["created_at"] + self.body_retention
        return stored

    def _opened(self, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if stored is None else self._open(stored)

    def _open(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The record with its payload in plaintext; one written before sealing has it so already."""
        if "sealed_payload" not in stored:
            return stored
        record = {key: value for key, value in stored.items() if key != "sealed_payload"}
        record["payload"] = self.cipher.decrypt_json(PAYLOAD_FIELD, stored["sealed_payload"])
        return record

    async def insert(self, record: dict[str, Any], session: AsyncClientSession | None) -> None:
        await self.collection.insert_one(self._sealed(record), session=session)

    async def erase(self, number: str, session: AsyncClientSession) -> int:
        """Every delivery of an erased complaint's webhooks, payload and attempts; how many. One still being tried
        is gone too: its worker's next write finds no claim (``LeaseLost``) and drops it. A test webhook's record has
        no number and is never among them."""
        result = await self.collection.delete_many({"number": number}, session=session)
        return result.deleted_count

    async def get(self, webhook_id: str) -> dict[str, Any] | None:
        return self._opened(await self.collection.find_one({"_id": webhook_id}))

    async def search(
        self, *, company_id: str | None, status: str | None, number: str | None, limit: int
    ) -> list[dict[str, Any]]:
        query = {
            key: value for key, value in (("company_id", company_id), ("status", status), ("number", number)) if value
        }
        cursor = self.collection.find(query).sort([("created_at", DESCENDING), ("_id", ASCENDING)]).limit(limit)
        return [self._open(stored) for stored in await cursor.to_list()]

    async def release_parked(self, company_id: str) -> int:
        """Make the deliveries that waited for an endpoint due now."""
        now = datetime.now(UTC)
        result = await self.collection.update_many(
            {"company_id": company_id, "status": DeliveryStatus.NO_ENDPOINT},
            {
                "$set": {
                    "status": DeliveryStatus.PENDING,
                    "next_attempt_at": now,
                    "lease_until": EPOCH,
                    "updated_at": now,
                }
            },
        )
        return result.modified_count

    async def count_pending(self) -> int:
        return await self.collection.count_documents({"status": DeliveryStatus.PENDING})

    async def redeliver(self, webhook_id: str) -> dict[str, Any] | None:
        """Schedule a finished delivery again now, for a new round; ``None`` when there is no such delivery.

        Raises :class:`NotFinished` when it is pending or waiting already. The update is conditional
        on the status and the number of attempts read, so two redeliveries at once start one round.
        """
        delivery = await self.get(webhook_id)
        if delivery is None:
            return None
        if delivery["status"] not in FINISHED:
            raise NotFinished(delivery["status"])
        now = datetime.now(UTC)
        attempts_made = len(delivery["attempts"])
        redelivered = await self.collection.find_one_and_update(
            {"_id": webhook_id, "status": delivery["status"], "attempts": {"$size": attempts_made}},
            {
                "$set": {
                    "status": DeliveryStatus.PENDING,
                    "next_attempt_at": now,
                    "lease_until": EPOCH,
                    "claim": None,
                    "round_start": attempts_made,
                    "finished_at": None,
                    "redelivered_at": now,
                    "updated_at": now,
                },
                "$inc": {"redeliveries": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        if redelivered is None:
            current = await self.get(webhook_id)
            raise NotFinished(current["status"] if current else DeliveryStatus.PENDING)
        return self._opened(redelivered)

    async def claim_due(self, lease_s: float) -> dict[str, Any] | None:
        now = datetime.now(UTC)
        due = {"status": DeliveryStatus.PENDING, "next_attempt_at": {"$lte": now}, "lease_until": {"$lte": now}}
        # A read first: most polls find nothing, and should cost the store no write command.
        candidate = await self.collection.find_one(due, projection={"_id": 1}, sort=[("next_attempt_at", ASCENDING)])
        if candidate is None:
            return None
        return self._opened(
            await self.collection.find_one_and_update(
                due,
                {"$set": {"lease_until": now + timedelta(seconds=lease_s), "claim": uuid.uuid4().hex}},
                sort=[("next_attempt_at", ASCENDING)],
                return_document=ReturnDocument.AFTER,
            )
        )

    async def _claimed_update(
        self, delivery: dict[str, Any], update: dict[str, Any], session: AsyncClientSession | None = None
    ) -> None:
        result = await self.collection.update_one(
            {"_id": delivery["_id"], "claim": delivery["claim"]}, update, session=session
        )
        if result.matched_count != 1:
            raise LeaseLost(delivery["_id"])

    async def park(self, delivery: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        await self._claimed_update(
            delivery,
            {"$set": {"status": DeliveryStatus.NO_ENDPOINT, "lease_until": EPOCH, "claim": None, "updated_at": now}},
        )

    async def schedule_retry(
        self, delivery: dict[str, Any], attempt: dict[str, Any], next_at: datetime, session: AsyncClientSession
    ) -> None:
        await self._claimed_update(
            delivery,
            {
                "$push": {"attempts": attempt},
                "$set": {
                    "next_attempt_at": next_at,
                    "lease_until": EPOCH,
                    "claim": None,
                    "updated_at": attempt["at"],
                    "last_error": attempt["error"] or f"HTTP {attempt['status_code']}",
                },
            },
            session=session,
        )

    async def finish(
        self,
        delivery: dict[str, Any],
        attempt: dict[str, Any],
        status: DeliveryStatus,
        session: AsyncClientSession,
        last_error: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "status": status,
            "next_attempt_at": None,
            "lease_until": EPOCH,
            "claim": None,
            "updated_at": attempt["at"],
            "finished_at": attempt["at"],
            "last_error": last_error,
        }
        await self._claimed_update(delivery, {"$push": {"attempts": attempt}, "$set": fields}, session=session)
