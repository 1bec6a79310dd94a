"""Company API (``X-Api-Key``): the complaints forwarded to the company, its answers and questions.

A company sees a complaint only once it was forwarded to it, and sees what it needs to act: the
complainant's name and phone in full (to reach them), the ID number and e-mail masked. The complainant's texts
are shown as :func:`intake.domain.company_view.for_company` leaves them, as in the webhooks.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from intake.api.complaints import _jsonable, _summary
from intake.api.dependencies import CompanyAnswersDep, CompanyDep, IdempotencyKey, Intake, IntakeDep, case_for
from intake.api.paging import decode_cursor, encode_cursor
from intake.api.schemas import AnswerReceipt, CompanyComplaint, ComplaintPage, Transition
from intake.domain.company_view import for_company
from intake.domain.filing import free_text
from intake.domain.lifecycle import Status
from intake.domain.statistics import CHINA

router = APIRouter(prefix="/v1/company", tags=["company"])
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


@router.get(
    "/complaints",
    response_model=ComplaintPage,
    operation_id="company.complaints.list",
    summary="Complaints forwarded to this company, newest first",
)
async def list_forwarded(
    intake: IntakeDep,
    company: CompanyDep,
    status: Status | None = None,
    submitted_from: Day = None,
    submitted_to: Day = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    # An erased complaint is the company's no more: its public record says what stays.
    query: dict[str, Any] = {"company_id": company.id, "forwarded_at": {"$ne": None}, "erased_at": None}
    if status is not None:
        query["status"] = status.value
    window = {}
    if submitted_from is not None:
        window["$gte"] = datetime.combine(submitted_from, datetime.min.time(), CHINA)
    if submitted_to is not None:
        window["$lt"] = datetime.combine(submitted_to, datetime.max.time(), CHINA)
    if window:
        query["submitted_at"] = window
    rows = await intake.cases.page(query, limit=limit + 1, after=decode_cursor(cursor))
    return {
        "items": [
            {**_summary(case), "title": for_company(case["title"], complainant_phone=_phone(case, intake))}
            for case in rows[:limit]
        ],
        "next_cursor": encode_cursor(rows[limit - 1]) if len(rows) > limit else None,
    }


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
    company: CompanyDep,
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
    company: CompanyDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    await case_for(intake, number, company, None)
    return await answers.request_info(number, company, body.question, idempotency_key)
