"""Company API (``X-Api-Key``): the complaints forwarded to the company, its answers and questions.

A company sees a complaint only once it was forwarded to it, and sees what it needs to act: the
complainant's name and phone in full (to reach them), the ID number and e-mail masked. The complainant's texts
are shown as :func:`intake.domain.company_view.for_company` leaves them, as in the webhooks.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from greenchannel.problems import Problem
from intake.api.complaints import _jsonable, _summary
from intake.api.dependencies import (
    CompanyActorDep,
    CompanyAnswersDep,
    CompanyDep,
    CompanyInboxDep,
    IdempotencyKey,
    Intake,
    IntakeDep,
    case_for,
)
from intake.api.paging import decode_cursor, encode_cursor
from intake.api.public import Period, PublicDep, scorecard_body
from intake.api.schemas import AnswerReceipt, CompanyComplaint, ComplaintSummary, Scorecard, Transition
from intake.core.company_inbox import CalendarUnavailable
from intake.domain.company_inbox import MAX_DUE_WITHIN, NUMBER_PREFIX, InboxFilter
from intake.domain.company_view import for_company
from intake.domain.filing import free_text
from intake.domain.lifecycle import Status

router = APIRouter(prefix="/v1/company", tags=["company"])
# ``due_within`` counts on routing's calendar; without it the filter cannot be answered (the rest of the inbox can).
CALENDAR_AWAY = Problem(
    503, "calendar_unavailable", "The working-day calendar cannot be read now; try again shortly, or drop due_within."
)
Day = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(9999, 12, 30))]


class Answer(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "response_type": "monetary_relief",
                    "text": "已核实订单，课程费用将在 3 个工作日内全额退回原支付账户。",
                }
            ]
        },
    )
    response_type: Literal["explained", "monetary_relief", "non_monetary_relief", "declined", "in_progress"]
    text: free_text(min_length=5, max_length=5000)  # type: ignore[valid-type]


class InfoRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"question": "请提供订单号和支付截图。"}]}
    )
    question: free_text(min_length=5, max_length=2000)  # type: ignore[valid-type]


class CompanyInboxItem(ComplaintSummary):
    """One line of the company's inbox."""

    category: str
    forwarded_at: str | None = Field(description="ISO 8601 date and time.")
    working_days_left: int | None = Field(
        description="Working days left to answer after today (0 on the due day, still timely); negative once late; "
        "null when the company is not expected to answer (answered, closed, withdrawn)."
    )
    appealed: bool
    collective: bool = Field(description="Part of a collective complaint (集体投诉).")


class CompanyInboxPage(BaseModel):
    items: list[CompanyInboxItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


def inbox_filter(
    status: Status | None = None,
    category: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9_]+$")] = None,
    overdue: bool | None = None,
    appealed: bool | None = None,
    collective: Annotated[bool | None, Query(description="Part of a collective complaint (集体投诉).")] = None,
    due_within: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_DUE_WITHIN,
            description="Awaiting the answer and due within this many working days, today being the first.",
        ),
    ] = None,
    number: Annotated[
        str | None, Query(pattern=NUMBER_PREFIX.pattern, description="A complaint number, or its start.")
    ] = None,
    submitted_from: Day = None,
    submitted_to: Day = None,
) -> InboxFilter:
    return InboxFilter(
        status=status.value if status is not None else None,
        category=category,
        overdue=overdue,
        appealed=appealed,
        collective=collective,
        due_within=due_within,
        number=number,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
    )


InboxFilterDep = Annotated[InboxFilter, Depends(inbox_filter)]


def _inbox_view(intake: Intake):
    def view(case: dict[str, Any]) -> dict[str, Any]:
        return {
            **_summary(case),
            "title": for_company(case["title"], complainant_phone=_phone(case, intake)),
            "forwarded_at": _jsonable(case.get("forwarded_at")),
        }

    return view


@router.get(
    "/scorecard",
    response_model=Scorecard,
    operation_id="company.scorecard",
    summary="Your company's scorecard over all its complaints, published or not (the public one counts published ones)",
)
async def own_scorecard(company: CompanyDep, data: PublicDep, period: Period = None) -> dict[str, Any]:
    # The company's own cases, every one of which it was sent: exact figures, as a regulator sees them.
    return await scorecard_body(data, company.id, period, public_only=False)


@router.get(
    "/complaints",
    response_model=CompanyInboxPage,
    operation_id="company.complaints.list",
    summary="Complaints forwarded to this company, newest first, filtered",
)
async def list_forwarded(
    intake: IntakeDep,
    inbox: CompanyInboxDep,
    company: CompanyDep,
    chosen: InboxFilterDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    try:
        items, last = await inbox.page(
            company.id, chosen, limit=limit, after=decode_cursor(cursor), view=_inbox_view(intake)
        )
    except CalendarUnavailable:
        raise CALENDAR_AWAY from None
    return {"items": items, "next_cursor": encode_cursor(last) if last is not None else None}


@router.get(
    "/complaints.csv",
    operation_id="company.complaints.export",
    summary="The complaints of the same filter as CSV (UTF-8), newest first",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_forwarded(
    intake: IntakeDep, inbox: CompanyInboxDep, company: CompanyDep, chosen: InboxFilterDep
) -> StreamingResponse:
    try:
        rows = await inbox.export(company.id, chosen, _inbox_view(intake))
    except CalendarUnavailable:
        raise CALENDAR_AWAY from None
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="complaints.csv"'},
    )


@router.get(
    "/complaints/{number}",
    response_model=CompanyComplaint,
    operation_id="company.complaints.get",
    summary="One complaint in full, with its evidence list",
)
async def read_forwarded(number: str, intake: IntakeDep, company: CompanyDep) -> dict[str, Any]:
    _, case = await case_for(intake, number, company, None)
    view = company_view(case, intake)
    # A file held for its metadata is listed, marked, without a link until an operator releases it.
    held = await intake.evidence.held_of(number) if case["evidence"] else set()
    view["evidence"] = [{**ref, "held": ref["evidence_id"] in held} for ref in view["evidence"]]
    return view


def _phone(case: dict[str, Any], intake: Intake) -> str:
    return intake.cipher.decrypt("phone", case["complainant"]["phone"])


def company_view(case: dict[str, Any], intake: Intake) -> dict[str, Any]:
    sealed = case["complainant"]
    phone = _phone(case, intake)

    def shown(text: str | None) -> str | None:
        return for_company(text, complainant_phone=phone) if text else text

    return {
        "number": case["number"],
        "status": case["status"],
        "overdue": case.get("overdue", False),
        "category": case["category"],
        "title": shown(case["title"]),
        "description": shown(case["description"]),
        "occurred_on": case["occurred_on"],
        "desired_outcome": shown(case["desired_outcome"]),
        "complainant": {
            "name": intake.cipher.decrypt("name", sealed["name"]),
            "phone": phone,
            "id_number": case["complainant_masked"]["id_number"],
            "email": case["complainant_masked"]["email"],
        },
        "evidence": case["evidence"],
        "submitted_at": case["submitted_at"].isoformat(),
        "forwarded_at": _jsonable(case.get("forwarded_at")),
        "round": case.get("round", 1),
        "response_due": case.get("response_due"),
        "info_requests": _jsonable(case.get("info_requests", [])),
        "supplements": _jsonable(
            [{**entry, "text": shown(entry.get("text"))} for entry in case.get("supplements", [])]
        ),
        "response": _jsonable(case.get("response")),
        "appeal": _jsonable(
            {**case["appeal"], "reason": shown(case["appeal"].get("reason"))} if case.get("appeal") else None
        ),
        "reforward_note": shown(case.get("reforward_note")),
        "rating": _jsonable(
            {**case["rating"], "comment": shown(case["rating"].get("comment"))} if case.get("rating") else None
        ),
        # The side of each step, never who on it: an operator's or a complainant's account stays theirs.
        "timeline": [
            {
                "at": entry["at"].isoformat(),
                "action": entry["action"],
                "status": entry["status"],
                "by": str(entry.get("actor", "system")).split(":", 1)[0],
            }
            for entry in case.get("timeline", [])
        ],
    }


@router.post(
    "/complaints/{number}/response",
    response_model=AnswerReceipt,
    operation_id="company.complaints.answer",
    summary="Answer the complaint (explained, relief, declined, in progress)",
)
async def respond(
    number: str,
    body: Answer,
    intake: IntakeDep,
    answers: CompanyAnswersDep,
    company: CompanyActorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    await case_for(intake, number, company, None)
    return await answers.respond(number, company, body.response_type, body.text, idempotency_key)


@router.post(
    "/complaints/{number}/info-request",
    response_model=Transition,
    operation_id="company.complaints.request_info",
    summary="Ask the complainant for more information (pauses the clock)",
)
async def request_info(
    number: str,
    body: InfoRequest,
    intake: IntakeDep,
    answers: CompanyAnswersDep,
    company: CompanyActorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    await case_for(intake, number, company, None)
    return await answers.request_info(number, company, body.question, idempotency_key)
