"""Personal data in full, on purpose: an operator reveals one identity field of a complaint with a
reason (audited), and admins read the audit log of every such disclosure."""

from __future__ import annotations

import io
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from greenchannel.csv_cells import SafeWriter
from intake.adapters.audit_log import DISCLOSURE
from intake.api.dependencies import AdminDep, IntakeDep, OperatorDep, case_for
from intake.api.paging import decode_cursor, encode_cursor
from intake.api.schemas import AuditPage, Revealed
from intake.core.disclosure import Disclosure
from intake.domain.filing import free_text
from intake.domain.identity import IDENTITY_FIELDS
from intake.domain.principals import Kind

router = APIRouter(prefix="/v1/ops", tags=["operators"])

AUDIT_COLUMNS = (
    "at",
    "operator_login",
    "operator_id",
    "action",
    "complaint",
    "field",
    "target",
    "reason",
    "detail",
    "trace_id",
    "id",
)
CSV_ROWS = 10_000  # the most one export holds; a narrower period or filter gets the rest
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


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "operator_id": row["operator_id"],
        "operator_login": row.get("operator_login"),
        "complaint": row.get("complaint"),
        "field": row.get("field"),
        "reason": row.get("reason"),
        "trace_id": row.get("trace_id"),
        "id": row["_id"],
        "at": row["at"].isoformat(),
        # Entries written before every action was audited are disclosures.
        "action": row.get("action", DISCLOSURE),
        "target": row.get("target"),
        "detail": row.get("detail"),
    }


def _as_csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n")  # a note or reason typed by a person never starts a formula
    writer.writerow(AUDIT_COLUMNS)
    for entry in entries:
        writer.writerow(["" if entry[column] is None else entry[column] for column in AUDIT_COLUMNS])
    return out.getvalue()


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="The audit log: every operator action and disclosure, newest first (admin); also as CSV",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def audit_log(
    _: AdminDep,
    disclosure: DisclosureDep,
    complaint: Annotated[str | None, Query(max_length=40)] = None,
    operator: Annotated[str | None, Query(max_length=64, description="An operator's login or id.")] = None,
    action: Annotated[str | None, Query(pattern=r"^[a-z_]{2,40}$")] = None,
    since: Annotated[datetime | None, Query(description="From this time on (ISO 8601, inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    def read(limit: int, after: tuple[datetime, str] | None) -> Awaitable[list[dict[str, Any]]]:
        return disclosure.audit.page(
            complaint=complaint, operator=operator, action=action, since=since, until=until, limit=limit, after=after
        )

    if format == "csv":
        rows = await read(CSV_ROWS, None)
        return Response(
            _as_csv([_entry(row) for row in rows]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
        )
    rows = await read(limit + 1, decode_cursor(cursor))
    return {
        "items": [_entry(row) for row in rows[:limit]],
        "next_cursor": encode_cursor(rows[limit - 1], "at") if len(rows) > limit else None,
    }
