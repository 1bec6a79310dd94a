"""Complainant API: recover a lost access code with a one-time code sent to the phone given at filing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, StringConstraints

from greenchannel.problems import Problem
from intake.api.dependencies import ClientDep, IntakeDep
from intake.api.schemas import AccessCodeReissued, CodeSent
from intake.core.access_recovery import RecoveryRejected
from intake.domain.filing import MobileNumber

router = APIRouter(prefix="/v1", tags=["complaints"])

Number = Annotated[str, Path(max_length=40)]
BAD_CODE = ("code_invalid", "The code is wrong, has expired or was used up; ask for a new code.")


class RecoveryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: MobileNumber


class RecoveryConfirmation(RecoveryRequest):
    # Six digits; anything else is treated as a wrong code, so the shape check tells nothing either.
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=12)]


@router.post(
    "/complaints/{number}/access-code/recovery",
    response_model=CodeSent,
    status_code=202,
    summary="Lost access code, step 1: a one-time code to the phone given at filing (the same answer for any phone)",
)
async def request_recovery(
    number: Number, body: RecoveryRequest, intake: IntakeDep, client: ClientDep
) -> dict[str, Any]:
    return await intake.access_recovery.request(number, body.phone, client)


@router.post(
    "/complaints/{number}/access-code/recovery/confirm",
    response_model=AccessCodeReissued,
    summary="Lost access code, step 2: the one-time code for a new access code, shown once; the old one stops working",
)
async def confirm_recovery(
    number: Number, body: RecoveryConfirmation, intake: IntakeDep, client: ClientDep
) -> dict[str, Any]:
    try:
        return await intake.access_recovery.confirm(number, body.phone, body.code, client)
    except RecoveryRejected:
        raise Problem(400, *BAD_CODE) from None
