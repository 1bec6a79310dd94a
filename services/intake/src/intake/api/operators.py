"""Operator API (bearer token with the operator role): the work queue and the platform's own decisions.

Operators mediate appeals (re-forward with a note and a new deadline, or close with an outcome
code), redirect a complaint addressed to the wrong company, and accept or reject by hand, including
a complaint a rule rejected wrongly.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from greenchannel.problems import Problem
from intake.adapters.case_store import CaseNotFound
from intake.api.complaints import _summary, complainant_view
from intake.api.dependencies import (
    IdempotencyKey,
    IntakeDep,
    OperatorActionsDep,
    OperatorDep,
    StaffDep,
    WorkQueuesDep,
    case_for,
)
from intake.api.paging import decode_cursor, encode_cursor
from intake.api.schemas import (
    CompanyAssigned,
    ComplaintTraces,
    OperatorComplaintView,
    RejectionReviewed,
    Transition,
    WorkQueuePage,
)
from intake.core.work_queues import KINDS, allowed_actions
from intake.domain.filing import free_text

router = APIRouter(prefix="/v1/ops", tags=["operators"])

Note = free_text(max_length=2000)
CLOSING_OUTCOMES = (
    "mediated_settled",
    "mediated_unsettled",
    "company_upheld",
    "out_of_scope",
    "complainant_unreachable",
)


@router.get(
    "/queue",
    response_model=WorkQueuePage,
    summary="The work queue: appeals, overdue complaints, rule rejections to review, unscreened, company review, "
    "collective complaints, today's deadline breaches",
)
async def work_queue(
    _: OperatorDep,
    queues: WorkQueuesDep,
    kind: Literal[KINDS],  # type: ignore[valid-type]
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    rows = await queues.page(kind, limit=limit + 1, after=decode_cursor(cursor))
    return {
        "kind": kind,
        "items": [_summary(case) for case in rows[:limit]],
        "next_cursor": encode_cursor(rows[limit - 1]) if len(rows) > limit else None,
    }


@router.get(
    "/complaints/{number}",
    response_model=OperatorComplaintView,
    summary="A complaint as the platform sees it (identity masked)",
)
async def read(number: str, intake: IntakeDep, staff: StaffDep) -> dict[str, Any]:
    # Any staff account asks; only one that may read case files gets one (a regulator: 404, as for no case).
    _, case = await case_for(intake, number, staff, None)
    return {
        **complainant_view(case, intake),
        "account_id": case.get("account_id"),
        "round": case.get("round", 0),
        "region_code": case["region_code"],
        "cluster_id": case.get("cluster_id"),
        "operator_actions": allowed_actions(case),
    }


@router.get(
    "/complaints/{number}/traces",
    response_model=ComplaintTraces,
    summary="The traces of a complaint, with links into the trace UI",
)
async def traces(number: str, intake: IntakeDep, staff: StaffDep) -> dict[str, Any]:
    """Every timeline entry stores the trace id of the request or event that made it: one step from a
    complaint number to "where is it and why is it stuck"."""
    _, case = await case_for(intake, number, staff, None)
    seen: dict[str, dict[str, Any]] = {}
    for entry in case["timeline"]:
        trace_id = entry.get("trace_id")
        if trace_id:
            seen.setdefault(
                trace_id,
                {
                    "trace_id": trace_id,
                    "first_at": entry["at"].isoformat(),
                    "actions": [],
                    "url": f"{intake.settings.trace_ui_url.rstrip('/')}/trace/{trace_id}",
                },
            )
            seen[trace_id]["actions"].append(entry["action"])
    return {"number": number, "traces": list(seen.values())}


class Reforward(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: free_text(min_length=2, max_length=2000)  # type: ignore[valid-type]
    # Absent: routing's response period (RESPONSE_WORKING_DAYS), the one default of the platform.
    deadline_working_days: int | None = Field(default=None, ge=1, le=30)


class Closing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal[CLOSING_OUTCOMES]  # type: ignore[valid-type]
    note: Note = ""  # type: ignore[valid-type]


class Redirect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    note: Note = ""  # type: ignore[valid-type]


class ManualAcceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,39}$")]
    note: Note = ""  # type: ignore[valid-type]


class ManualRejection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Literal["out_of_scope", "duplicate", "incomplete", "company_unknown"]
    detail: Note = ""  # type: ignore[valid-type]


@router.post(
    "/complaints/{number}/reforward",
    response_model=Transition,
    summary="Mediate an appeal: send it back to the company with a note",
)
async def reforward(
    number: str,
    body: Reforward,
    actions: OperatorActionsDep,
    operator: OperatorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    try:
        return await actions.reforward(number, operator, body.note, body.deadline_working_days, idempotency_key)
    except CaseNotFound:
        raise Problem(404, "complaint_not_found", "No complaint with this number.") from None


@router.post(
    "/complaints/{number}/close",
    response_model=Transition,
    summary="Close a mediated or answered complaint with an outcome code",
)
async def close(
    number: str,
    body: Closing,
    actions: OperatorActionsDep,
    operator: OperatorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await actions.close(number, operator, body.outcome, body.note, idempotency_key)


@router.post(
    "/complaints/{number}/redirect",
    response_model=CompanyAssigned,
    summary="Send a complaint addressed to the wrong company to the right one",
)
async def redirect(
    number: str,
    body: Redirect,
    actions: OperatorActionsDep,
    operator: OperatorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await actions.redirect(number, operator, body.company_id, body.note, idempotency_key)


@router.post(
    "/complaints/{number}/accept",
    response_model=Transition,
    summary="Accept by hand (also a complaint a rule rejected wrongly)",
)
async def accept(
    number: str,
    body: ManualAcceptance,
    actions: OperatorActionsDep,
    operator: OperatorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await actions.accept(number, operator, body.company_id, body.category, body.note, idempotency_key)


@router.post("/complaints/{number}/reject", response_model=Transition, summary="Reject by hand with a stated reason")
async def reject(
    number: str,
    body: ManualRejection,
    actions: OperatorActionsDep,
    operator: OperatorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await actions.reject(number, operator, body.reason, body.detail, idempotency_key)


class CompanyResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    note: free_text(max_length=2000) = ""  # type: ignore[valid-type]


@router.post(
    "/complaints/{number}/resolve-company",
    response_model=CompanyAssigned,
    summary="Resolve a complaint under review to a directory company: it is accepted and forwarded to it",
)
async def resolve_company(
    number: str,
    body: CompanyResolution,
    actions: OperatorActionsDep,
    operator: OperatorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await actions.resolve_company(number, operator, body.company_id, body.note, idempotency_key)


@router.post(
    "/complaints/{number}/review",
    response_model=RejectionReviewed,
    summary="Mark a rule rejection as reviewed and right",
)
async def confirm_rejection(number: str, actions: OperatorActionsDep, operator: OperatorDep) -> dict[str, Any]:
    return await actions.confirm_rejection(number, operator)
