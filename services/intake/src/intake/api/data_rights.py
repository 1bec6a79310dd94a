"""The complainant's rights over their personal data (PIPL): a copy of everything the platform holds about them, and
erasure on request (a closed complaint's data, or the account with its complaints), carried out after the hold
(``ERASURE_HOLD_DAYS``) by the retention job; and the operators' legal holds that stop any erasure, with a reason
(audited). A guest acts on their own complaint with its access code, an account on its own complaints and itself."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from intake.api.dependencies import (
    AccessCode,
    CallerDep,
    ComplainantDep,
    Intake,
    IntakeDep,
    OperatorDep,
    case_for,
    complainant_case,
)
from intake.api.schemas import AccountData, AccountErasureRequested, ComplaintData, ErasureRequested, LegalHold
from intake.core.retention import Retention
from intake.domain.filing import free_text
from intake.domain.principals import Kind

router = APIRouter(prefix="/v1", tags=["data rights"])

HOLD_REASON_MIN_LENGTH = 8  # as a disclosure's reason: long enough to say why


def _retention(request: Request) -> Retention:
    return request.app.state.retention


RetentionDep = Annotated[Retention, Depends(_retention)]


class HoldReason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: free_text(min_length=HOLD_REASON_MIN_LENGTH, max_length=500)  # type: ignore[valid-type]


@router.get(
    "/complaints/{number}/data",
    response_model=ComplaintData,
    summary="Everything the platform holds about the complainant in this complaint",
)
async def complaint_data(
    number: str, intake: IntakeDep, retention: RetentionDep, principal: CallerDep, access_code: AccessCode = None
) -> dict[str, Any]:
    _, case = await complainant_case(intake, number, principal, access_code)
    return retention.complaint_data(case)


@router.post(
    "/complaints/{number}/erasure",
    status_code=202,
    response_model=ErasureRequested,
    summary="Ask for the complaint's personal data to be erased (a closed complaint; after the hold)",
)
async def request_erasure(
    number: str, intake: IntakeDep, retention: RetentionDep, principal: CallerDep, access_code: AccessCode = None
) -> dict[str, Any]:
    principal, _ = await complainant_case(intake, number, principal, access_code)
    answer = await retention.request(number, principal)
    return {"number": answer["number"], "erasure_due_at": answer["erasure_due_at"].isoformat()}


@router.get(
    "/accounts/me/data",
    response_model=AccountData,
    summary="Everything the platform holds about the signed-in complainant",
)
async def account_data(principal: ComplainantDep, retention: RetentionDep) -> dict[str, Any]:
    return await retention.account_data(principal)


@router.post(
    "/accounts/me/erasure",
    status_code=202,
    response_model=AccountErasureRequested,
    summary="Ask for the account and its complaints' personal data to be erased (all closed; after the hold)",
)
async def request_account_erasure(principal: ComplainantDep, retention: RetentionDep) -> dict[str, Any]:
    answer = await retention.request_account(principal)
    return {"complaints": answer["complaints"], "erasure_due_at": answer["erasure_due_at"].isoformat()}


@router.post(
    "/ops/complaints/{number}/legal-hold",
    response_model=LegalHold,
    summary="Set a legal hold: no erasure until lifted (audited)",
)
async def set_legal_hold(
    number: str, body: HoldReason, intake: IntakeDep, operator: OperatorDep, retention: RetentionDep
) -> dict[str, Any]:
    await case_for(intake, number, operator, None)
    login = await _login(intake, operator.id)
    return _hold_view(await retention.set_legal_hold(number, operator, login, body.reason))


@router.post(
    "/ops/complaints/{number}/legal-hold/lift", response_model=LegalHold, summary="Lift a legal hold (audited)"
)
async def lift_legal_hold(
    number: str, body: HoldReason, intake: IntakeDep, operator: OperatorDep, retention: RetentionDep
) -> dict[str, Any]:
    await case_for(intake, number, operator, None)
    login = await _login(intake, operator.id)
    return _hold_view(await retention.lift_legal_hold(number, operator, login, body.reason))


async def _login(intake: Intake, operator_id: str) -> str | None:
    account = await intake.identities.account_state(Kind.OPERATOR, operator_id)
    return account.login if account else None


def _hold_view(answer: dict[str, Any]) -> dict[str, Any]:
    hold = answer["legal_hold"]
    return {
        "number": answer["number"],
        "legal_hold": None if hold is None else {**hold, "at": hold["at"].isoformat()},
    }
