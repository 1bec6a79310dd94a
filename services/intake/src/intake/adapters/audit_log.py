"""The audit log of disclosures, in intake's ``audit_log`` collection: who saw which personal data of
which complaint in full, when, why, and under which trace.

Append-only by construction: this adapter inserts and reads entries and has no way to change or
remove one; nothing else in the code opens the collection.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


class AuditLog:
    def __init__(self, db) -> None:
        self._entries = db["audit_log"]

    async def record(
        self,
        *,
        operator_id: str,
        operator_login: str | None,
        complaint: str,
        field: str,
        reason: str,
        trace_id: str | None,
    ) -> dict[str, Any]:
        entry = {
            "_id": uuid.uuid4().hex,
            "at": datetime.now(UTC),
            "operator_id": operator_id,
            "operator_login": operator_login,
            "complaint": complaint,
            "field": field,
            "reason": reason,
            "trace_id": trace_id,
        }
        await self._entries.insert_one(entry)
        return entry

    async def page(
        self, *, complaint: str | None, operator: str | None, limit: int, after: tuple[datetime, str] | None
    ) -> list[dict[str, Any]]:
        """Newest first, stable over (at, id); ``operator`` is an operator's login or id."""
        conditions: list[dict[str, Any]] = []
        if complaint:
            conditions.append({"complaint": complaint})
        if operator:
            conditions.append({"$or": [{"operator_login": operator}, {"operator_id": operator}]})
        if after is not None:
            at, last_id = after
            conditions.append({"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": last_id}}]})
        query = {"$and": conditions} if conditions else {}
        return await self._entries.find(query).sort([("at", -1), ("_id", -1)]).limit(limit).to_list()
