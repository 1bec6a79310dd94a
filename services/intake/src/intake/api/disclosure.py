"""Personal data in full, on purpose: an operator reveals one identity field of a complaint with a
reason (audited), and admins read the audit log of every such disclosure."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from intake.api.dependencies import AdminDep, IntakeDep, OperatorDep, case_for
from intake.api.paging import decode_cursor, encode_cursor
from intake.api.schemas import AuditPage, Revealed
from intake.core.disclosure import Disclosure
from intake.domain.filing import free_text
from intake.domain.identity import IDENTITY_FIELDS
from intake.domain.principals import Kind

router = APIRouter(prefix="/v1/ops", tags=["operators"])

REASON_MIN_LENGTH = 8  # long enough to say why ("申诉调解需要电话联系"), short enough not to be padded


class Revealing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: Literal[IDENTITY_FIELDS]  # type: ignore[valid-type]
    reason: free_text(min_length=REASON_MIN_LENGTH, max_length=500)  # type: ignore[valid-type]


def _disclosure(request: Request) -> Disclosure:
    return request.app.state.disclosure


DisclosureDep = Annotated[Disclosure, Depends(_disclosure)]


@router.post(
    "/complaints/{number}/reveal",
    response_model=Revealed,
    summary="One identity field of a complaint in full, with a reason (audited)",
)
async def reveal(
    number: str, body: Revealing, intake: IntakeDep, operator: OperatorDep, disclosure: DisclosureDep
) -> dict[str, Any]:
    _, case = await case_for(intake, number, operator, None)
    account = await intake.identities.account_state(Kind.OPERATOR, operator.id)
    return await disclosure.reveal(
        case, body.field, body.reason, operator_id=operator.id, operator_login=account.login if account else None
    )


@router.get("/audit", response_model=AuditPage, summary="The audit log of disclosures, newest first (admin)")
async def audit_log(
    _: AdminDep,
    disclosure: DisclosureDep,
    complaint: Annotated[str | None, Query(max_length=40)] = None,
    operator: Annotated[str | None, Query(max_length=64, description="An operator's login or id.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    rows = await disclosure.audit.page(
        complaint=complaint, operator=operator, limit=limit + 1, after=decode_cursor(cursor)
    )
    return {
        "items": [
            {
                **{
                    key: row[key]
                    for key in ("operator_id", "operator_login", "complaint", "field", "reason", "trace_id")
                },
                "id": row["_id"],
                "at": row["at"].isoformat(),
            }
            for row in rows[:limit]
        ],
        "next_cursor": encode_cursor(rows[limit - 1], "at") if len(rows) > limit else None,
    }
