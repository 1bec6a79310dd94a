"""The audit log, in intake's ``audit_log`` collection: every action of an operator (who, when, what, on which
complaint or object, the note they gave, under which trace), every disclosure of personal data (which field of
which complaint was seen in full, and why), and the actions on a complaint's personal data itself: legal holds set
and lifted, erasure asked for by the complainant, and erasures carried out (by the platform, ``operator_id``
``system``, for the retention period or a request). Every entry names its ``action``; a disclosure's is
``reveal`` and names the field revealed in ``field``.

Append-only by construction: this adapter inserts and reads entries and has no way to change or remove one;
nothing else in the code opens the collection. An action on a case is written in the transaction of the
action itself (``session``), so a case never changes without its entry, nor an entry without its change.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

DISCLOSURE = "reveal"  # the action of a disclosure entry


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
        """A disclosure: ``field`` of ``complaint`` seen in full, for ``reason``."""
        return await self.record_action(
            operator_id=operator_id,
            operator_login=operator_login,
            action=DISCLOSURE,
            complaint=complaint,
            field=field,
            reason=reason,
            trace_id=trace_id,
        )

    async def record_action(
        self,
        *,
        operator_id: str,
        operator_login: str | None,
        action: str,
        trace_id: str | None,
        complaint: str | None = None,
        target: str | None = None,
        field: str | None = None,
        reason: str | None = None,
        detail: str | None = None,
        session: AsyncClientSession | None = None,
    ) -> dict[str, Any]:
        """One entry; ``target`` names what else the action concerned (a dead letter, a company, an account)."""
        entry = {
            "_id": uuid.uuid4().hex,
            "at": datetime.now(UTC),
            "operator_id": operator_id,
            "operator_login": operator_login,
            "action": action,
            "complaint": complaint,
            "target": target,
            "field": field,
            "reason": reason,
            "detail": detail,
            "trace_id": trace_id,
        }
        await self._entries.insert_one(entry, session=session)
        return entry

    async def page(
        self,
        *,
        complaint: str | None,
        operator: str | None,
        limit: int,
        after: tuple[datetime, str] | None,
        since: datetime | None = None,
        until: datetime | None = None,
        action: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first, stable over (at, id); ``operator`` is an operator's login or id; ``since`` inclusive,
        ``until`` exclusive."""
        conditions: list[dict[str, Any]] = []
        if complaint:
            conditions.append({"complaint": complaint})
        if operator:
            conditions.append({"$or": [{"operator_login": operator}, {"operator_id": operator}]})
        if action:
            conditions.append({"action": action})
        if since is not None:
            conditions.append({"at": {"$gte": since}})
        if until is not None:
            conditions.append({"at": {"$lt": until}})
        if after is not None:
            at, last_id = after
            conditions.append({"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": last_id}}]})
        query = {"$and": conditions} if conditions else {}
        return await self._entries.find(query).sort([("at", -1), ("_id", -1)]).limit(limit).to_list()
