"""The feedback use cases (意见建议): anyone sends a suggestion; an operator marks it handled with a note (audited, in
the same transaction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from intake.adapters.feedback import FeedbackStore
from intake.core.audit import Audit
from intake.core.errors import FeedbackAlreadyHandled, FeedbackNotFound
from intake.core.transactions import Transactions
from intake.domain.principals import Principal, actor


class Feedback:
    def __init__(self, store: FeedbackStore, transactions: Transactions, audit: Audit) -> None:
        self.store = store
        self.transactions = transactions
        self.audit = audit

    async def send(
        self, topic: str, text: str, email: str | None, phone: str | None, idempotency_key: str | None
    ) -> dict[str, Any]:
        """The new entry (its contact encrypted); answers the entry as stored."""

        async def record(session: AsyncClientSession) -> dict[str, Any]:
            entry = await self.store.add(topic, text, {"email": email, "phone": phone}, session)
            return {"id": entry["_id"], "status": entry["status"], "submitted_at": entry["submitted_at"].isoformat()}

        return await self.transactions.idempotent(
            "feedback", idempotency_key, {"topic": topic, "text": text, "email": email, "phone": phone}, record
        )

    async def handle(
        self,
        feedback_id: str,
        operator: Principal,
        note: str,
        idempotency_key: str | None,
        view: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        """Mark an entry handled, once; ``view`` shapes the answer remembered for the key."""

        async def mark(session: AsyncClientSession) -> dict[str, Any]:
            entry = await self.store.handle(feedback_id, actor(operator), note, session)
            if entry is None:
                if await self.store.get(feedback_id) is None:
                    raise FeedbackNotFound(feedback_id)
                raise FeedbackAlreadyHandled(feedback_id)
            await self.audit.action(operator, "feedback_handle", target=feedback_id, reason=note, session=session)
            return view(entry)

        return await self.transactions.idempotent(
            f"feedback-handle:{feedback_id}", idempotency_key, {"note": note}, mark
        )
