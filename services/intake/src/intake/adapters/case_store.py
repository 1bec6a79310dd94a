"""The case file in MongoDB: complaints, their timelines, evidence links, and every transition.

The only writer of the ``complaints`` and ``evidence_links`` collections. Every transition is one
conditional update (the case must still be in a state the action may start from), appends a timeline
entry (who, when, what, trace id) and stages its events in the outbox, all in the caller's transaction.
Every update checks that it matched: two concurrent transitions on one case, the loser's filter no
longer matches and it answers :class:`~intake.domain.lifecycle.IllegalTransition`; any other write that
matched nothing raises :class:`StateChanged`, never passes silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import EventData
from greenchannel.mongo import upserted
from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import current_trace_id
from intake.core import events
from intake.domain.lifecycle import (
    EVIDENCE_ACCEPTED_IN,
    FINAL,
    Action,
    IllegalTransition,
    Status,
    allowed_from,
    transition,
)
from intake.domain.publication import CONSENT_WITHDRAWN, due_on_answer, due_unanswered


def timeline_entry(actor: str, action: str, status: Status, detail: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC),
        "actor": actor,
        "action": action,
        "status": status.value,
        "detail": detail,
        "trace_id": current_trace_id(),
        **extra,
    }


class CaseNotFound(Exception):
    pass


class EvidenceRefused(Exception):
    """The case no longer takes this file: it moved to a state that takes none, or it is full."""

    def __init__(self, status: Status, full: bool) -> None:
        super().__init__(f"the case is {status.value}" + (" and full" if full else ""))
        self.status = status
        self.full = full


class StateChanged(Exception):
    """A write whose filter matched nothing: the case moved on (or went away) since it was read."""

    def __init__(self, number: str, status: Status | None) -> None:
        super().__init__(f"complaint {number} changed meanwhile" + (f" (now {status.value})" if status else ""))
        self.number = number
        self.status = status


class CaseErased(Exception):
    """The case's personal data was erased: it takes no step any more (what it kept is its public record's)."""

    def __init__(self, number: str) -> None:
        super().__init__(f"complaint {number} was erased")
        self.number = number


class AlreadyClaimed(Exception):
    """Another account holds the complaint."""


class AlreadySet(Exception):
    """The action may happen once, and the field it records holds a value already."""

    def __init__(self, field: str) -> None:
        super().__init__(f"'{field}' is recorded already.")
        self.field = field


class Projection(Protocol):
    """What follows every change of a case in its transaction (the public record and the statistics)."""

    async def project(
        self, before: Mapping[str, Any] | None, after: Mapping[str, Any], session: AsyncClientSession | None
    ) -> None: ...


class CaseStore:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.complaints = runtime.db["complaints"]
        self.counters = runtime.db["counters"]
        self.evidence_links = runtime.db["evidence_links"]
        self.projection: Projection | None = None

    def follow(self, projection: Projection) -> None:
        self.projection = projection

    async def _changed(
        self, before: Mapping[str, Any] | None, after: dict[str, Any], session: AsyncClientSession
    ) -> dict[str, Any]:
        """Follow one change: publish the case if this change is the company's answer that publishes it, then
        project it. Answers the case as it is now (published, if this change published it)."""
        if due_on_answer(before, after):
            after = await self._publish(after, "responded", session)
        if self.projection is not None:
            await self.projection.project(before, after, session)
        return after

    async def _publish(
        self, case: dict[str, Any], trigger: Literal["responded", "publication_due"], session: AsyncClientSession
    ) -> dict[str, Any]:
        """Mark ``case`` published now and stage ``complaint.published``; the caller projects it."""
        now = datetime.now(UTC)
        result = await self.complaints.update_one(
            {"_id": case["_id"], "published_at": None},
            {"$set": {"published_at": now, "publication_trigger": trigger}},
            session=session,
        )
        if result.matched_count == 0:
            raise StateChanged(case["_id"], None)
        await self.runtime.outbox.add(
            events.published(case, trigger=trigger, published_at=now), subject=case["_id"], session=session
        )
        return {**case, "published_at": now, "publication_trigger": trigger}

    async def publish_if_unanswered(self, number: str, session: AsyncClientSession) -> bool:
        """Publish a case the company has not answered in time; False when it was answered, withdrawn or closed
        meanwhile, or is published already."""
        case = await self.get(number, session=session)
        if case is None:
            raise CaseNotFound(number)
        if not due_unanswered(case):
            return False
        published = await self._publish(case, "publication_due", session)
        if self.projection is not None:
            await self.projection.project(case, published, session)
        return True

    async def next_sequence(self, day: str) -> int:
        """Per-day sequence for complaint numbers; taken outside the filing transaction so the
        counter never becomes a write-conflict hot spot (a failed filing leaves a gap, nothing more)."""
        # Two replicas may create the day's counter at the same moment: the loser counts on the winner's.
        counter = await upserted(self.counters, {"_id": f"complaint:{day}"}, {"$inc": {"value": 1}}, rounds=3)
        if counter is not None:
            return int(counter["value"])
        raise RuntimeError(f"the complaint counter of {day} could not be advanced")

    async def get(self, number: str, *, session: AsyncClientSession | None = None) -> dict[str, Any] | None:
        return await self.complaints.find_one({"_id": number}, session=session)

    async def is_linked(self, evidence_id: str) -> bool:
        """Whether a stored file belongs to a complaint already."""
        return await self.evidence_links.find_one({"_id": evidence_id}, projection={"_id": 1}) is not None

    async def numbers_of(self, account_id: str) -> list[str]:
        return await self.complaints.distinct("_id", {"account_id": account_id})

    async def insert(self, case: dict[str, Any], event: EventData, session: AsyncClientSession) -> None:
        """A new case with its evidence links and ``complaint.submitted``, inside the caller's transaction."""
        await self.complaints.insert_one(case, session=session)
        await self.link(case["_id"], case["evidence"], case["submitted_at"], session)
        await self.runtime.outbox.add(event, subject=case["_id"], session=session)

    async def link(self, number: str, refs: list[dict[str, Any]], at: datetime, session: AsyncClientSession) -> None:
        """Link stored files to the case: a file linked already (to any case) fails the transaction
        (a duplicate key), so no file ever belongs to two complaints."""
        if refs:
            await self.evidence_links.insert_many(
                [{"_id": ref["evidence_id"], "number": number, "at": at} for ref in refs], session=session
            )

    async def transition(
        self,
        number: str,
        action: Action,
        *,
        actor: str,
        session: AsyncClientSession,
        detail: str = "",
        fields: dict[str, Any] | None = None,
        events: Callable[[dict[str, Any]], list[EventData]] | None = None,
        timeline: dict[str, Any] | None = None,
        append: dict[str, list[Any]] | None = None,
        increment: dict[str, int] | None = None,
        unless_set: str | None = None,
    ) -> dict[str, Any]:
        """Apply ``action`` inside the caller's transaction; ``events(case)`` builds the events to stage
        (from the case as updated); ``timeline`` adds fields to the timeline entry (a note, a rating);
        ``append`` adds items to array fields in the same update, so nothing another request added to
        them meanwhile is overwritten by a copy read earlier; ``increment`` counts fields up (a round) in the same
        update; with ``unless_set`` the action is refused
        (:class:`AlreadySet`) once that field holds a value, checked by the update itself."""
        current = await self.complaints.find_one({"_id": number}, session=session)
        if current is None:
            raise CaseNotFound(number)
        if current.get("erased_at") is not None:
            raise CaseErased(number)
        target = transition(action, Status(current["status"]))
        if unless_set is not None and current.get(unless_set) is not None:
            raise AlreadySet(unless_set)
        once = {unless_set: None} if unless_set is not None else {}
        # When the case ended, for its retention period; cleared when an operator's override opens it again.
        ended = {"ended_at": datetime.now(UTC) if target in FINAL else None}
        updated = await self.complaints.find_one_and_update(
            {
                "_id": number,
                "status": {"$in": [status.value for status in allowed_from(action)]},
                "erased_at": None,
                **once,
            },
            {
                "$set": {"status": target.value, **ended, **(fields or {})},
                "$push": {
                    "timeline": timeline_entry(actor, action.value, target, detail, **(timeline or {})),
                    **{name: {"$each": items} for name, items in (append or {}).items()},
                },
                **({"$inc": increment} if increment else {}),
            },
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if updated is None:
            latest = await self.complaints.find_one({"_id": number}, session=session)
            if latest is None:
                raise CaseNotFound(number)
            if latest.get("erased_at") is not None:
                raise CaseErased(number)
            if unless_set is not None and latest.get(unless_set) is not None:
                raise AlreadySet(unless_set)
            raise IllegalTransition(action, Status(latest["status"]))
        updated = await self._changed(current, updated, session)
        for event in events(updated) if events is not None else []:
            await self.runtime.outbox.add(event, subject=number, session=session)
        return updated

    async def add_evidence(
        self, number: str, ref: dict[str, Any], actor: str, *, limit: int, session: AsyncClientSession
    ) -> None:
        """Link one stored file to the case and list it, if the case still takes evidence and has room.

        The caller checked both before the upload, but the case may have moved on while the file was on
        its way: they are checked again here, and the update's filter repeats them, so a concurrent
        change makes it miss; then :class:`EvidenceRefused` aborts the transaction, link included.
        """
        current = await self.complaints.find_one(
            {"_id": number}, projection={"status": 1, "evidence": 1}, session=session
        )
        if current is None:
            raise CaseNotFound(number)
        status = Status(current["status"])
        if status not in EVIDENCE_ACCEPTED_IN or len(current["evidence"]) >= limit:
            raise EvidenceRefused(status, full=len(current["evidence"]) >= limit)
        await self.link(number, [ref], datetime.now(UTC), session)
        result = await self.complaints.update_one(
            {"_id": number, "status": status.value, f"evidence.{limit - 1}": {"$exists": False}},
            {"$push": {"evidence": ref, "timeline": timeline_entry(actor, "add_evidence", status, ref["filename"])}},
            session=session,
        )
        if result.matched_count == 0:
            latest = await self.complaints.find_one(
                {"_id": number}, projection={"status": 1, "evidence": 1}, session=session
            )
            if latest is None:
                raise CaseNotFound(number)
            raise EvidenceRefused(Status(latest["status"]), full=len(latest["evidence"]) >= limit)

    async def withdraw_publication_consent(
        self, number: str, actor: str, *, session: AsyncClientSession
    ) -> dict[str, Any]:
        """Take back the complainant's consent to publishing the case's text, in any state, for good: the field and
        a timeline entry in one conditional update, and the public record rewritten without the text in the same
        transaction. Answers the case as it is now; a case without consent (never given, or withdrawn already) is
        left as it is."""
        current = await self.complaints.find_one({"_id": number}, session=session)
        if current is None:
            raise CaseNotFound(number)
        if not current.get("publication_consent"):
            return current
        updated = await self.complaints.find_one_and_update(
            {"_id": number, "publication_consent": True},
            {
                "$set": {"publication_consent": False, "publication_consent_withdrawn_at": datetime.now(UTC)},
                "$push": {"timeline": timeline_entry(actor, CONSENT_WITHDRAWN, Status(current["status"]))},
            },
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if updated is None:
            raise StateChanged(number, None)
        return await self._changed(current, updated, session)

    async def claim(self, number: str, account_id: str) -> None:
        """Give a guest complaint to an account; claiming one's own again is fine, another's raises."""
        result = await self.complaints.update_one(
            {"_id": number, "account_id": {"$in": [None, account_id]}}, {"$set": {"account_id": account_id}}
        )
        if result.matched_count == 0:
            if await self.complaints.find_one({"_id": number}, projection={"_id": 1}) is None:
                raise CaseNotFound(number)
            raise AlreadyClaimed(number)

    async def note(
        self,
        number: str,
        actor: str,
        action: str,
        *,
        session: AsyncClientSession,
        detail: str = "",
        fields: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """A timeline entry (and field changes) that do not change the state: deadlines, reminders, overdue."""
        current = await self.complaints.find_one({"_id": number}, session=session)
        if current is None:
            raise CaseNotFound(number)
        updated = await self.complaints.find_one_and_update(
            {"_id": number},
            {
                "$set": fields or {},
                "$push": {"timeline": timeline_entry(actor, action, Status(current["status"]), detail)},
            },
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if updated is None:
            raise StateChanged(number, None)
        return await self._changed(current, updated, session)

    async def record(self, number: str, fields: dict[str, Any], *, session: AsyncClientSession) -> dict[str, Any]:
        """Field changes that are no step of the case (a cluster, a handling time): no timeline entry."""
        current = await self.complaints.find_one({"_id": number}, session=session)
        if current is None:
            raise CaseNotFound(number)
        updated = await self.complaints.find_one_and_update(
            {"_id": number}, {"$set": fields}, return_document=ReturnDocument.AFTER, session=session
        )
        if updated is None:
            raise StateChanged(number, None)
        return await self._changed(current, updated, session)

    async def mark_reviewed(self, number: str, operator_id: str, session: AsyncClientSession | None = None) -> None:
        """Mark a rejection reviewed and right; :class:`StateChanged` (with the state now) unless the case is
        rejected."""
        result = await self.complaints.update_one(
            {"_id": number, "status": Status.REJECTED.value},
            {"$set": {"reviewed": True, "reviewed_by": operator_id}},
            session=session,
        )
        if result.matched_count == 0:
            latest = await self.complaints.find_one({"_id": number}, projection={"status": 1}, session=session)
            if latest is None:
                raise CaseNotFound(number)
            raise StateChanged(number, Status(latest["status"]))

    async def count(self, query: dict[str, Any]) -> int:
        return await self.complaints.count_documents(query)

    async def page(
        self, query: dict[str, Any], *, limit: int, after: tuple[datetime, str] | None
    ) -> list[dict[str, Any]]:
        """Newest first, stable: ordered by (submitted_at, number) descending; ``after`` is the last row seen."""
        if after is not None:
            at, number = after
            query = {**query, "$or": [{"submitted_at": {"$lt": at}}, {"submitted_at": at, "_id": {"$lt": number}}]}
        cursor = self.complaints.find(query).sort([("submitted_at", -1), ("_id", -1)]).limit(limit)
        return await cursor.to_list()

    # --- retention and erasure ---------------------------------------------------------------------

    async def due_for_erasure(self, ended_before: datetime, now: datetime, limit: int) -> list[str]:
        """Numbers of cases whose personal data is due for erasure: ended before ``ended_before`` or asked for and
        due by ``now``; not erased yet, under no legal hold, not leased to another eraser. Oldest first."""
        waiting = {"erased_at": None, "legal_hold": None, "erasure_lease_until": {"$not": {"$gt": now}}}
        numbers: list[str] = []
        for due in ({"ended_at": {"$lte": ended_before}}, {"erasure_due_at": {"$lte": now}}):
            field = next(iter(due))
            cursor = self.complaints.find({**due, **waiting}, projection={"_id": 1}).sort(field, ASCENDING)
            numbers += [document["_id"] for document in await cursor.limit(limit).to_list()]
        return list(dict.fromkeys(numbers))[:limit]

    async def lease_for_erasure(self, number: str, now: datetime, until: datetime) -> bool:
        """Take the case for one eraser until ``until``: of two replicas' retention jobs, one erases it."""
        result = await self.complaints.update_one(
            {"_id": number, "erased_at": None, "erasure_lease_until": {"$not": {"$gt": now}}},
            {"$set": {"erasure_lease_until": until}},
        )
        return result.modified_count == 1

    async def replace_erased(self, case: dict[str, Any], erased: dict[str, Any], session: AsyncClientSession) -> None:
        """Replace the case file by what it keeps after erasure (``domain.retention.erased_case``), if it is still as
        read: no projection follows, the public record and the statistics stay as they are. :class:`StateChanged`
        when the case changed meanwhile (a legal hold set, a state changed)."""
        result = await self.complaints.replace_one(
            {
                "_id": case["_id"],
                "status": case["status"],
                "erased_at": None,
                "legal_hold": None,
                "timeline": {"$size": len(case.get("timeline") or [])},
            },
            erased,
            session=session,
        )
        if result.matched_count == 0:
            raise StateChanged(case["_id"], None)

    async def set_erasure_due(
        self, number: str, requested_at: datetime, due_at: datetime, session: AsyncClientSession
    ) -> None:
        """Record the complainant's request: the earliest due time wins (asking again does not postpone it)."""
        current = await self.complaints.find_one({"_id": number}, projection={"erasure_due_at": 1}, session=session)
        if current is None:
            raise CaseNotFound(number)
        if current.get("erasure_due_at") is not None and current["erasure_due_at"] <= due_at:
            return
        result = await self.complaints.update_one(
            {"_id": number, "erased_at": None},
            {"$set": {"erasure_requested_at": requested_at, "erasure_due_at": due_at}},
            session=session,
        )
        if result.matched_count == 0:
            raise StateChanged(number, None)

    async def set_legal_hold(
        self, number: str, hold: dict[str, Any] | None, actor: str, session: AsyncClientSession
    ) -> dict[str, Any]:
        """Set (``hold``) or lift (None) a legal hold, with a timeline entry; answers the case as it is now."""
        current = await self.complaints.find_one({"_id": number}, session=session)
        if current is None:
            raise CaseNotFound(number)
        action = "legal_hold_set" if hold is not None else "legal_hold_lifted"
        updated = await self.complaints.find_one_and_update(
            {"_id": number, "erased_at": None},
            {
                "$set": {"legal_hold": hold},
                "$push": {"timeline": timeline_entry(actor, action, Status(current["status"]))},
            },
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if updated is None:
            raise StateChanged(number, None)
        return updated

    async def of_account(self, account_id: str) -> list[dict[str, Any]]:
        """Every case the account filed or claimed, oldest first."""
        return await self.complaints.find({"account_id": account_id}).sort("submitted_at", ASCENDING).to_list()
