"""The operators' use cases, the platform's own decisions on a case: mediating an appeal (send it back to the
company with a note, or close it with an outcome code), redirecting a complaint addressed to the wrong
company, accepting or rejecting by hand, and confirming a rule's rejection. Each writes its audit entry
(``intake.core.audit``) in its own transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from intake.adapters.case_store import CaseStore, StateChanged
from intake.adapters.service_clients import RoutingClient
from intake.core import events
from intake.core.audit import Audit
from intake.core.errors import CompanyUnknown, NotRejected, SameCompany
from intake.core.transactions import Transactions
from intake.domain.lifecycle import Action
from intake.domain.principals import Principal, actor


class OperatorActions:
    def __init__(self, cases: CaseStore, transactions: Transactions, routing: RoutingClient, audit: Audit) -> None:
        self.cases = cases
        self.transactions = transactions
        self.routing = routing
        self.audit = audit

    def _phone(self, case: dict[str, Any]) -> str | None:
        """The complainant's phone, which the texts sent to the company keep (:mod:`intake.domain.company_view`)."""
        return events.complainant_phone(case, self.transactions.cipher)

    async def company(self, company_id: str) -> dict[str, Any]:
        """A company of routing's directory; :class:`CompanyUnknown` for an id it does not know."""
        company = await self.routing.company(company_id)
        if company is None:
            raise CompanyUnknown(company_id)
        return company

    async def reforward(
        self,
        number: str,
        operator: Principal,
        note: str,
        deadline_working_days: int | None,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        """Send an appealed complaint back to the company for another round, with a note and a new deadline."""
        now = datetime.now(UTC)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            updated = await self.cases.transition(
                number,
                Action.REFORWARD,
                actor=actor(operator),
                session=session,
                detail=note[:200],
                fields={"reforward_note": note, "forwarded_at": now, "overdue": False},
                increment={"round": 1},
                events=lambda case: [
                    events.forwarded(
                        case,
                        forwarded_at=now,
                        note=note,
                        deadline_working_days=deadline_working_days,
                        own_phone=self._phone(case),
                    )
                ],
            )
            await self.audit.action(
                operator,
                "reforward",
                complaint=number,
                reason=note,
                detail=_days(deadline_working_days),
                session=session,
            )
            return {"number": number, "status": updated["status"]}

        return await self.transactions.idempotent(
            f"reforward:{number}",
            idempotency_key,
            {"note": note, "deadline_working_days": deadline_working_days},
            apply,
        )

    async def close(
        self, number: str, operator: Principal, outcome: str, note: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        now = datetime.now(UTC)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            updated = await self.cases.transition(
                number,
                Action.CLOSE,
                actor=actor(operator),
                session=session,
                detail=outcome,
                fields={"closure": {"outcome": outcome, "at": now, "note": note}},
                events=lambda case: [events.closed(case, outcome=outcome, closed_at=now)],
            )
            await self.audit.action(operator, "close", complaint=number, reason=note, detail=outcome, session=session)
            return {"number": number, "status": updated["status"]}

        return await self.transactions.idempotent(
            f"close:{number}", idempotency_key, {"outcome": outcome, "note": note}, apply
        )

    async def redirect(
        self, number: str, operator: Principal, company_id: str, note: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        """Address the complaint to the right company: accepted for it and forwarded to it afresh."""
        company = await self.company(company_id)
        now = datetime.now(UTC)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            before = await self.cases.get(number, session=session)
            previous = before["company_id"] if before else None
            if previous == company["id"]:
                raise SameCompany()
            updated = await self.cases.transition(
                number,
                Action.REDIRECT,
                actor=actor(operator),
                session=session,
                detail=f"{previous} -> {company['id']}",
                fields={
                    "company_id": company["id"],
                    "company_name": company["name"],
                    "forwarded_at": None,
                    "response_due": None,
                    "overdue": False,
                    "round": 0,
                },
                events=lambda case: [
                    events.redirected(
                        case, from_company_id=previous, note=note, redirected_at=now, own_phone=self._phone(case)
                    ),
                    events.accepted(case, accepted_at=now, redirected_from=previous, own_phone=self._phone(case)),
                ],
            )
            await self.audit.action(
                operator,
                "redirect",
                complaint=number,
                reason=note,
                detail=f"{previous} -> {company['id']}",
                session=session,
            )
            return {"number": number, "status": updated["status"], "company_id": company["id"]}

        return await self.transactions.idempotent(
            f"redirect:{number}", idempotency_key, {"company_id": company_id, "note": note}, apply
        )

    async def accept(
        self, number: str, operator: Principal, company_id: str, category: str, note: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        """Accept by hand, also a complaint a rule rejected wrongly."""
        company = await self.company(company_id)
        now = datetime.now(UTC)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            updated = await self.cases.transition(
                number,
                Action.OVERRIDE_ACCEPT,
                actor=actor(operator),
                session=session,
                detail=note[:200],
                fields={
                    "company_id": company["id"],
                    "company_name": company["name"],
                    "category": category,
                    "accepted_at": now,
                    "rejection": None,
                    "reviewed": True,
                },
                events=lambda case: [events.accepted(case, accepted_at=now, own_phone=self._phone(case))],
            )
            await self.audit.action(
                operator, "accept", complaint=number, reason=note, detail=f"{company['id']} {category}", session=session
            )
            return {"number": number, "status": updated["status"]}

        return await self.transactions.idempotent(
            f"accept:{number}", idempotency_key, {"company_id": company_id, "category": category, "note": note}, apply
        )

    async def resolve_company(
        self, number: str, operator: Principal, company_id: str, note: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        """Accept a complaint under review (routing's ``company_unresolved``) for a directory company, as a screening
        would have: it is forwarded with the normal deadline. The alternative, rejecting it with a reason, is
        :meth:`reject`; the complainant sees either on the timeline and in their messages."""
        company = await self.company(company_id)
        now = datetime.now(UTC)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            updated = await self.cases.transition(
                number,
                Action.RESOLVE_COMPANY,
                actor=actor(operator),
                session=session,
                detail=f"{company['id']} {note[:180]}".strip(),
                fields={
                    "company_id": company["id"],
                    "company_name": company["name"],
                    "accepted_at": now,
                    "company_review.resolved_by": operator.id,
                    "reviewed": True,
                },
                events=lambda case: [events.accepted(case, accepted_at=now, own_phone=self._phone(case))],
            )
            await self.audit.action(
                operator, "resolve_company", complaint=number, reason=note, detail=company["id"], session=session
            )
            return {"number": number, "status": updated["status"], "company_id": company["id"]}

        return await self.transactions.idempotent(
            f"resolve-company:{number}", idempotency_key, {"company_id": company_id, "note": note}, apply
        )

    async def reject(
        self, number: str, operator: Principal, reason: str, detail: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        now = datetime.now(UTC)

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            updated = await self.cases.transition(
                number,
                Action.REJECT,
                actor=actor(operator),
                session=session,
                detail=reason,
                fields={"rejection": {"reason": reason, "detail": detail}, "reviewed": True},
                events=lambda case: [events.rejected(case, reason=reason, detail=detail, rejected_at=now)],
            )
            await self.audit.action(operator, "reject", complaint=number, reason=detail, detail=reason, session=session)
            return {"number": number, "status": updated["status"]}

        return await self.transactions.idempotent(
            f"reject:{number}", idempotency_key, {"reason": reason, "detail": detail}, apply
        )

    async def confirm_rejection(self, number: str, operator: Principal) -> dict[str, Any]:
        """Mark a rule's rejection as reviewed and right; :class:`NotRejected` for a case in another state."""

        async def apply(session: AsyncClientSession) -> dict[str, Any]:
            try:
                await self.cases.mark_reviewed(number, operator.id, session=session)
            except StateChanged as changed:
                raise NotRejected(changed.status.value if changed.status else "unknown") from None
            await self.audit.action(operator, "confirm_rejection", complaint=number, session=session)
            return {"number": number, "reviewed": True}

        return await self.transactions.run(apply)


def _days(deadline_working_days: int | None) -> str | None:
    return None if deadline_working_days is None else f"{deadline_working_days} working days"
