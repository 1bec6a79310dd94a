"""Idempotency keys for public POSTs (the ``Idempotency-Key`` header).

The first request with a key stores a fingerprint of its body and, in the same transaction as its
effect, the response it answered. The same key with the same body answers that response again;
the same key with another body is refused (422), never applied twice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from greenchannel.problems import Problem

MAX_KEY_LENGTH = 200


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], collection: str = "idempotency_keys") -> None:
        self.collection = db[collection]

    @staticmethod
    def record_id(scope: str, key: str) -> str:
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise Problem(
                400, "invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters."
            )
        return f"{scope}:{key}"

    async def replay(self, scope: str, key: str, body_fingerprint: str) -> dict[str, Any] | None:
        """The stored response for this key, ``None`` if the key is new; 422 if it was used for another body."""
        record = await self.collection.find_one({"_id": self.record_id(scope, key)})
        if record is None:
            return None
        if record["fingerprint"] != body_fingerprint:
            raise Problem(
                422, "idempotency_key_reused", "This Idempotency-Key was already used with a different request body."
            )
        response: dict[str, Any] = record["response"]
        return response

    async def remember(
        self,
        scope: str,
        key: str,
        body_fingerprint: str,
        response: dict[str, Any],
        expires_at: datetime,
        session: AsyncClientSession,
    ) -> None:
        """Store the answer inside the effect's transaction; a concurrent twin fails on the unique ``_id``."""
        await self.collection.insert_one(
            {
                "_id": self.record_id(scope, key),
                "fingerprint": body_fingerprint,
                "response": response,
                "created_at": datetime.now(UTC),
                "expires_at": expires_at,
            },
            session=session,
        )
