"""The audit log, in intake's ``audit_log`` collection: who saw which personal data of which complaint in full, when,
why, and under which trace; and the actions on a complaint's personal data itself: legal holds set and lifted by
operators, erasure asked for by the complainant, and erasures carried out (by the platform, ``operator_id``
``system``, for the retention period or a request). An action's entry names it in ``field`` (``erasure``,
``erasure_request``, ``legal_hold_set``, ``legal_hold_lifted``), where a disclosure names the field revealed.

Append-only by construction: this adapter inserts and reads entries and has no way to change or
remove one; nothing else in the code opens the collection.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession


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

    async def record_action(
        self,
        *,
        actor_id: str,
        actor_login: str | None,
        complaint: str,
        action: str,
        reason: str,
        trace_id: str | None,
        session: AsyncClientSession | None = None,
    ) -> dict[str, Any]:
        """An action on the complaint's personal data, in the caller's transaction when it has one (the entry
        commits with the change it records, or neither does)."""
        entry = {
            "_id": uuid.uuid4().hex,
            "at": datetime.now(UTC),
            "operator_id": actor_id,
            "operator_login": actor_login,
            "complaint": complaint,
            "field": action,
            "reason": reason,
            "trace_id": trace_id,
        }
        await self._entries.insert_one(entry, session=session)
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
