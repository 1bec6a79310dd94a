"""Operators resolve a complaint whose company routing could not find in the directory.

Routing's ``company_unresolved`` decision puts the case in ``under_review`` (the ``company_review`` work
queue). An operator either resolves it to a directory company, which accepts it for that company as a
screening would have (the company is forwarded the complaint and its response clock starts with the normal
deadline), or rejects it with a reason through the ordinary rejection. The complainant sees both on the
timeline and in their messages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from intake.api.deps import Intake, directory_company, idempotent
from intake.domain import case_events
from intake.domain.lifecycle import Action, Status
from intake.domain.principals import Principal

QUEUE = {"status": Status.UNDER_REVIEW.value}


async def resolve_company(
    intake: Intake, number: str, company_id: str, note: str, operator: Principal, idempotency_key: str | None
) -> dict[str, Any]:
    """Accept the reviewed complaint for ``company_id``; 422 for a company the directory does not know,
    409 when the complaint is no longer under review (resolved, rejected or withdrawn meanwhile)."""
    company = await directory_company(intake, company_id)
    now = datetime.now(UTC)

    async def apply(session) -> dict[str, Any]:
        updated = await intake.cases.transition(
            number,
            Action.RESOLVE_COMPANY,
            actor=f"operator:{operator.id}",
            session=session,
            detail=f"{company['id']} {note[:180]}".strip(),
            fields={
                "company_id": company["id"],
                "company_name": company["name"],
                "accepted_at": now,
                "company_review.resolved_by": operator.id,
                "reviewed": True,
            },
            events=lambda case: [case_events.accepted(case, accepted_at=now)],
        )
        return {"number": number, "status": updated["status"], "company_id": company["id"]}

    return await idempotent(
        intake, f"resolve-company:{number}", idempotency_key, {"company_id": company_id, "note": note}, apply
    )
