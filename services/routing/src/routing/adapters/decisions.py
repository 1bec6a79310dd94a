"""The ``decisions`` collection: one screening decision per complaint number (the number is the ``_id``)."""

from __future__ import annotations

from datetime import date

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from routing.domain.screening import Decision


def _to_document(decision: Decision, event_id: str, screened_event_id: str) -> dict:
    document = decision.model_dump(exclude={"number"})
    # BSON has no date-only type: the deadline is stored as its ISO date.
    due: date | None = document["response_due"]
    document["response_due"] = due.isoformat() if due is not None else None
    return {"_id": decision.number, **document, "submitted_event_id": event_id, "screened_event_id": screened_event_id}


def _from_document(document: dict) -> Decision:
    return Decision.model_validate({**document, "number": document["_id"]})


class DecisionRepository:
    def __init__(self, db: AsyncDatabase, collection: str = "decisions") -> None:
        self.collection = db[collection]

    async def get(self, number: str, session: AsyncClientSession | None = None) -> Decision | None:
        document = await self.collection.find_one({"_id": number}, session=session)
        return None if document is None else _from_document(document)

    async def insert(
        self, decision: Decision, *, event_id: str, screened_event_id: str, session: AsyncClientSession
    ) -> None:
        """Insert inside the caller's transaction; a second decision for the number fails on the unique ``_id``."""
        await self.collection.insert_one(_to_document(decision, event_id, screened_event_id), session=session)
