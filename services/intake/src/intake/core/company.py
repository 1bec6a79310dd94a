"""The company's use cases: answering a complaint forwarded to it, and asking the complainant for more
information (which pauses routing's clock). The HTTP edge has checked that the complaint was forwarded to
the company asking."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from intake.adapters.case_store import CaseNotFound, CaseStore
from intake.core import events
from intake.core.transactions import Transactions
from intake.domain.lifecycle import Action
from intake.domain.principals import Principal, actor
from intake.domain.statistics import CHINA


class CompanyAnswers:
    def __init__(self, cases: CaseStore, transactions: Transactions) -> None:
        self.cases = cases
        self.transactions = transactions

    async def respond(
        self, number: str, company: Principal, response_type: str, text: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        """The company's answer, timely if given by the response deadline (China's calendar day); every answer is
        kept in ``responses``, the latest is ``response``."""
        now = datetime.now(UTC)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            current = await self.cases.get(number, session=session)
            if current is None:
                raise CaseNotFound(number)
            due = current.get("response_due")
            timely = due is None or now.astimezone(CHINA).date() <= date.fromisoformat(due)
            response = {"type": response_type, "text": text, "at": now, "timely": timely}
            updated = await self.cases.transition(
                number,
                Action.RESPOND,
                actor=actor(company),
                session=session,
                detail=response_type,
                fields={"response": response},
                append={"responses": [response]},
                events=lambda case: [events.responded(case, response)],
            )
            return {"number": number, "status": updated["status"], "timely": timely}

        return await self.transactions.idempotent(
            f"respond:{company.id}:{number}", idempotency_key, {"response_type": response_type, "text": text}, apply
        )

    async def request_info(
        self, number: str, company: Principal, question: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        now = datetime.now(UTC)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            updated = await self.cases.transition(
                number,
                Action.REQUEST_INFO,
                actor=actor(company),
                session=session,
                detail=question[:200],
                append={"info_requests": [{"question": question, "at": now}]},
                events=lambda case: [events.info_requested(case, question=question, requested_at=now)],
            )
            return {"number": number, "status": updated["status"]}

        return await self.transactions.idempotent(
            f"info:{company.id}:{number}", idempotency_key, {"question": question}, apply
        )
