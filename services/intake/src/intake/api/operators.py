"""Operator API (bearer token with the operator role): the work queue and the platform's own decisions.

Operators mediate appeals (re-forward with a note and a new deadline, or close with an outcome
code), redirect a complaint addressed to the wrong company, and accept or reject by hand, including
a complaint a rule rejected wrongly.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from greenchannel.contracts import ComplaintClosed, ComplaintForwarded, ComplaintRedirected, ComplaintRejected
from greenchannel.problems import Problem
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from intake.api.complaints import _summary, complainant_view
from intake.api.deps import IdempotencyKey, IntakeDep, OperatorDep, case_for, directory_company, idempotent
from intake.api.paging import decode_cursor, encode_cursor
from intake.core import company_review
from intake.domain import case_events
from intake.domain.filing import free_text
from intake.domain.lifecycle import Action, Status
from intake.domain.principals import Principal

router = APIRouter(prefix="/v1/ops", tags=["operators"])

Note = free_text(max_length=2000)
QUEUES: dict[str, dict[str, Any]] = {
    "appeals": {"status": Status.APPEALED.value},
    "overdue": {"overdue": True, "status": {"$in": [Status.FORWARDED.value, Status.INFO_REQUESTED.value]}},
    "rejected": {"status": Status.REJECTED.value, "rejection.reason": {"$ne": None}, "reviewed": {"$ne": True}},
    "unscreened": {"status": Status.SUBMITTED.value},
    "company_review": company_review.QUEUE,
}
CLOSING_OUTCOMES = ("mediated_settled", "mediated_unsettled", "company_upheld", "out_of_scope", "complainant_unreachable")


@router.get("/queue", summary="The work queue: appeals, overdue complaints, rule rejections to review")
async def work_queue(intake: IntakeDep, _: OperatorDep, kind: Literal["appeals", "overdue", "rejected", "unscreened", "company_review"],
                     limit: Annotated[int, Query(ge=1, le=100)] = 50, cursor: str | None = None) -> dict[str, Any]:
    rows = await intake.cases.page(QUEUES[kind], limit=limit + 1, after=decode_cursor(cursor))
    return {"kind": kind, "items": [_summary(case) for case in rows[:limit]],
            "next_cursor": encode_cursor(rows[limit - 1]) if len(rows) > limit else None}


@router.get("/complaints/{number}", summary="A complaint as the platform sees it (identity masked)")
async def read(number: str, intake: IntakeDep, operator: OperatorDep) -> dict[str, Any]:
    _, case = await case_for(intake, number, operator, None)
    return {**complainant_view(case, intake), "account_id": case.get("account_id"), "round": case.get("round", 0),
            "region_code": case["region_code"]}


@router.get("/complaints/{number}/traces", summary="The traces of a complaint, with links into the trace UI")
async def traces(number: str, intake: IntakeDep, operator: OperatorDep) -> dict[str, Any]:
    """Every timeline entry stores the trace id of the request or event that made it: one step from a
    complaint number to "where is it and why is it stuck"."""
    _, case = await case_for(intake, number, operator, None)
    seen: dict[str, dict[str, Any]] = {}
    for entry in case["timeline"]:
        trace_id = entry.get("trace_id")
        if trace_id:
            seen.setdefault(trace_id, {"trace_id": trace_id, "first_at": entry["at"].isoformat(), "actions": [],
                                       "url": f"{intake.settings.trace_ui_url.rstrip('/')}/trace/{trace_id}"})
            seen[trace_id]["actions"].append(entry["action"])
    return {"number": number, "traces": list(seen.values())}


class Reforward(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: free_text(min_length=2, max_length=2000)
    deadline_working_days: int = Field(default=10, ge=1, le=30)


class Closing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal[CLOSING_OUTCOMES]  # type: ignore[valid-type]
    note: Note = ""


class Redirect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    note: Note = ""


class ManualAcceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,39}$")]
    note: Note = ""


class ManualRejection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Literal["out_of_scope", "duplicate", "incomplete", "company_unknown"]
    detail: Note = ""


def _actor(operator: Principal) -> str:
    return f"operator:{operator.id}"


@router.post("/complaints/{number}/reforward", summary="Mediate an appeal: send it back to the company with a note")
async def reforward(number: str, body: Reforward, intake: IntakeDep, operator: OperatorDep,
                    idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    now = datetime.now(timezone.utc)

    async def apply(session) -> dict[str, Any]:
        current = await intake.cases.complaints.find_one({"_id": number}, projection={"round": 1}, session=session)
        if current is None:
            raise Problem(404, "complaint_not_found", "No complaint with this number.")
        updated = await intake.cases.transition(
            number, Action.REFORWARD, actor=_actor(operator), session=session, detail=body.note[:200],
            fields={"reforward_note": body.note, "forwarded_at": now, "overdue": False, "round": current["round"] + 1},
            events=lambda case: [ComplaintForwarded(number=number, company_id=case["company_id"], forwarded_at=now,
                                                    round=case["round"], note=body.note,
                                                    deadline_working_days=body.deadline_working_days)],
        )
        return {"number": number, "status": updated["status"]}

    return await idempotent(intake, f"reforward:{number}", idempotency_key, body.model_dump(), apply)


@router.post("/complaints/{number}/close", summary="Close a mediated or answered complaint with an outcome code")
async def close(number: str, body: Closing, intake: IntakeDep, operator: OperatorDep,
                idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    now = datetime.now(timezone.utc)

    async def apply(session) -> dict[str, Any]:
        updated = await intake.cases.transition(
            number, Action.CLOSE, actor=_actor(operator), session=session, detail=body.outcome,
            fields={"closure": {"outcome": body.outcome, "at": now, "note": body.note}},
            events=lambda case: [ComplaintClosed(number=number, company_id=case["company_id"], outcome=body.outcome,
                                                 closed_at=now)],
        )
        return {"number": number, "status": updated["status"]}

    return await idempotent(intake, f"close:{number}", idempotency_key, body.model_dump(), apply)


@router.post("/complaints/{number}/redirect", summary="Send a complaint addressed to the wrong company to the right one")
async def redirect(number: str, body: Redirect, intake: IntakeDep, operator: OperatorDep,
                   idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    company = await directory_company(intake, body.company_id)
    now = datetime.now(timezone.utc)

    async def apply(session) -> dict[str, Any]:
        before = await intake.cases.complaints.find_one({"_id": number}, projection={"company_id": 1}, session=session)
        previous = before["company_id"] if before else None
        if previous == company["id"]:
            raise Problem(422, "same_company", "The complaint is already addressed to this company.")
        updated = await intake.cases.transition(
            number, Action.REDIRECT, actor=_actor(operator), session=session, detail=f"{previous} -> {company['id']}",
            fields={"company_id": company["id"], "company_name": company["name"], "forwarded_at": None,
                    "response_due": None, "overdue": False, "round": 0},
            events=lambda case: [
                ComplaintRedirected(number=number, from_company_id=previous, to_company_id=company["id"], note=body.note,
                                    redirected_at=now),
                case_events.accepted(case, accepted_at=now, redirected_from=previous),
            ],
        )
        return {"number": number, "status": updated["status"], "company_id": company["id"]}

    return await idempotent(intake, f"redirect:{number}", idempotency_key, body.model_dump(), apply)


@router.post("/complaints/{number}/accept", summary="Accept by hand (also a complaint a rule rejected wrongly)")
async def accept(number: str, body: ManualAcceptance, intake: IntakeDep, operator: OperatorDep,
                 idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    company = await directory_company(intake, body.company_id)
    now = datetime.now(timezone.utc)

    async def apply(session) -> dict[str, Any]:
        updated = await intake.cases.transition(
            number, Action.OVERRIDE_ACCEPT, actor=_actor(operator), session=session, detail=body.note[:200],
            fields={"company_id": company["id"], "company_name": company["name"], "category": body.category,
                    "accepted_at": now, "rejection": None, "reviewed": True},
            events=lambda case: [case_events.accepted(case, accepted_at=now)],
        )
        return {"number": number, "status": updated["status"]}

    return await idempotent(intake, f"accept:{number}", idempotency_key, body.model_dump(), apply)


@router.post("/complaints/{number}/reject", summary="Reject by hand with a stated reason")
async def reject(number: str, body: ManualRejection, intake: IntakeDep, operator: OperatorDep,
                 idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    now = datetime.now(timezone.utc)

    async def apply(session) -> dict[str, Any]:
        updated = await intake.cases.transition(
            number, Action.REJECT, actor=_actor(operator), session=session, detail=body.reason,
            fields={"rejection": {"reason": body.reason, "detail": body.detail}, "reviewed": True},
            events=lambda case: [ComplaintRejected(number=number, reason=body.reason, detail=body.detail, rejected_at=now)],
        )
        return {"number": number, "status": updated["status"]}

    return await idempotent(intake, f"reject:{number}", idempotency_key, body.model_dump(), apply)


@router.post("/complaints/{number}/review", summary="Mark a rule rejection as reviewed and right")
async def confirm_rejection(number: str, intake: IntakeDep, operator: OperatorDep) -> dict[str, Any]:
    result = await intake.cases.complaints.update_one({"_id": number, "status": Status.REJECTED.value},
                                                      {"$set": {"reviewed": True, "reviewed_by": operator.id}})
    if result.matched_count == 0:
        # Operators see every complaint, so a complaint in another state is a conflict, not a secret.
        _, case = await case_for(intake, number, operator, None)
        raise Problem(409, "not_rejected", "Only a rejected complaint can be reviewed.", status_now=case["status"])
    return {"number": number, "reviewed": True}
