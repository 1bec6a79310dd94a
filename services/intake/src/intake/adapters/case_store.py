"""The case file in MongoDB: complaints, their timelines, evidence links, and every transition.

Every transition is one conditional update (the case must still be in a state the action may start
from), appends a timeline entry (who, when, what, trace id) and stages its event in the outbox, all
in one transaction (DESIGN.md, "The complaint lifecycle"). Two concurrent transitions on one case:
the loser's filter no longer matches and it answers :class:`~intake.domain.lifecycle.IllegalTransition`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from greenchannel.contracts import EventData
from greenchannel.mongo import in_transaction
from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import current_trace_id
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from intake.domain.lifecycle import Action, IllegalTransition, Status, allowed_from, transition


def timeline_entry(actor: str, action: str, status: Status, detail: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "at": datetime.now(timezone.utc),
        "actor": actor,
        "action": action,
        "status": status.value,
        "detail": detail,
        "trace_id": current_trace_id(),
        **extra,
    }


class CaseNotFound(Exception):
    pass


class CaseStore:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.complaints = runtime.db["complaints"]
        self.counters = runtime.db["counters"]
        self.evidence_links = runtime.db["evidence_links"]

    async def ensure_indexes(self) -> None:
        await self.complaints.create_index("number", unique=True)
        await self.complaints.create_index([("status", ASCENDING), ("submitted_at", ASCENDING)])
        await self.complaints.create_index([("company_id", ASCENDING), ("status", ASCENDING)])
        await self.complaints.create_index("complainant_key")

    async def next_sequence(self, day: str) -> int:
        """Per-day sequence for complaint numbers; taken outside the filing transaction so the
        counter never becomes a write-conflict hot spot (a failed filing leaves a gap, nothing more)."""
        counter = await self.counters.find_one_and_update(
            {"_id": f"complaint:{day}"}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        return int(counter["value"])

    async def get(self, number: str) -> dict[str, Any] | None:
        return await self.complaints.find_one({"_id": number})

    async def file(
        self,
        case: dict[str, Any],
        event: EventData,
        also: Callable[[AsyncClientSession], Any] | None = None,
    ) -> None:
        """Insert a new case with its evidence links and stage ``complaint.submitted``, in one transaction."""

        async def write(session: AsyncClientSession) -> None:
            await self.complaints.insert_one(case, session=session)
            if case["evidence"]:
                await self.evidence_links.insert_many(
                    [{"_id": ref["evidence_id"], "number": case["_id"], "at": case["submitted_at"]} for ref in case["evidence"]],
                    session=session,
                )
            await self.runtime.outbox.add(event, subject=case["_id"], session=session)
            if also is not None:
                await also(session)

        await in_transaction(self.runtime.mongo, write)
        self.runtime.relay.wake()

    async def transition(
        self,
        number: str,
        action: Action,
        *,
        actor: str,
        session: AsyncClientSession,
        detail: str = "",
        fields: dict[str, Any] | None = None,
        event: Callable[[dict[str, Any]], EventData] | None = None,
    ) -> dict[str, Any]:
        """Apply ``action`` inside the caller's transaction; ``event(case)`` builds the event to stage."""
        current = await self.complaints.find_one({"_id": number}, projection={"status": 1}, session=session)
        if current is None:
            raise CaseNotFound(number)
        target = transition(action, Status(current["status"]))
        updated = await self.complaints.find_one_and_update(
            {"_id": number, "status": {"$in": [status.value for status in allowed_from(action)]}},
            {
                "$set": {"status": target.value, **(fields or {})},
                "$push": {"timeline": timeline_entry(actor, action.value, target, detail)},
            },
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if updated is None:
            latest = await self.complaints.find_one({"_id": number}, projection={"status": 1}, session=session)
            raise IllegalTransition(action, Status(latest["status"]))
        if event is not None:
            await self.runtime.outbox.add(event(updated), subject=number, session=session)
        return updated
