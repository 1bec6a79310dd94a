"""The second factor of staff accounts (TOTP, ``intake.core.second_factor``): enrol one (the secret is shown
once and confirmed with a code), see whether this sign-in passed it, and an admin's reset for a colleague who
lost the device; and the list of staff accounts the console manages them by."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from greenchannel.problems import Problem
from intake.api.dependencies import AdminDep, IntakeDep, SecondFactorDep, StaffDep
from intake.api.schemas import OperatorAccessToken
from intake.core.second_factor import AlreadyEnrolled, NoEnrolment, WrongCode
from intake.domain.principals import Kind

router = APIRouter(prefix="/v1/ops", tags=["operators"])

Login = Annotated[str, Path(pattern=r"^[a-z0-9._-]{3,40}$", description="The operator's login.")]


class SecondFactorState(BaseModel):
    status: Literal["verified", "enrol", "not_required"] = Field(
        description="`verified`: this sign-in passed the code; `enrol`: an admin without a second factor yet; "
        "`not_required`: an operator without one (or an admin with one, signed in before enrolling)."
    )
    enrolled: bool
    roles: list[str]
    login: str | None


class Enrolment(BaseModel):
    secret: str = Field(description="The shared secret (base32), shown this once.")
    provisioning_uri: str = Field(description="The `otpauth://` URI an authenticator app imports.")
    digits: int


class Confirmation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    one_time_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=12)]


class StaffAccount(BaseModel):
    operator_id: str
    login: str
    roles: list[str]
    disabled: bool
    second_factor: bool


@router.get("/auth/second-factor", response_model=SecondFactorState, summary="This sign-in and its second factor")
async def state(principal: StaffDep, intake: IntakeDep, second_factor: SecondFactorDep) -> dict[str, Any]:
    return {
        "status": await second_factor.status(principal),
        "enrolled": await second_factor.factors.enrolled(principal.id),
        "roles": sorted(role.value for role in principal.roles),
        "login": await intake.audit.login_of(principal),
    }


@router.post(
    "/auth/second-factor",
    response_model=Enrolment,
    status_code=201,
    summary="Enrol a second factor, step 1: a new secret and its provisioning URI, shown once",
)
async def begin(principal: StaffDep, second_factor: SecondFactorDep) -> dict[str, Any]:
    try:
        return await second_factor.begin(principal)
    except AlreadyEnrolled:
        raise Problem(
            409, "second_factor_enrolled", "This account has a second factor; an admin resets it first."
        ) from None


@router.post(
    "/auth/second-factor/confirm",
    response_model=OperatorAccessToken,
    summary="Enrol a second factor, step 2: a code from the authenticator; ends every other session and signs in",
)
async def confirm(
    body: Confirmation, principal: StaffDep, intake: IntakeDep, second_factor: SecondFactorDep
) -> dict[str, Any]:
    try:
        verified = await second_factor.confirm(principal, body.one_time_code)
    except NoEnrolment:
        raise Problem(409, "no_enrolment", "Begin the enrolment first (POST /v1/ops/auth/second-factor).") from None
    except WrongCode:
        raise Problem(
            400, "second_factor_invalid", "The code is not the authenticator's for now; check the phone's clock."
        ) from None
    return {**intake.identities.issue_token(verified), "second_factor": "verified"}


@router.get("/operators", response_model=list[StaffAccount], summary="Every staff account (admin)")
async def staff_accounts(_: AdminDep, intake: IntakeDep, second_factor: SecondFactorDep) -> list[dict[str, Any]]:
    return [
        {
            "operator_id": operator["_id"],
            "login": operator["login"],
            "roles": operator.get("roles", []),
            "disabled": operator.get("disabled", False),
            "second_factor": await second_factor.factors.enrolled(operator["_id"]),
        }
        for operator in await intake.identities.operators_listed()
    ]


@router.post(
    "/operators/{login}/second-factor/reset",
    response_model=StaffAccount,
    summary="Remove an operator's second factor (a lost device): they enrol again at the next sign-in (admin)",
)
async def reset(login: Login, admin: AdminDep, intake: IntakeDep, second_factor: SecondFactorDep) -> dict[str, Any]:
    operator_id = await intake.identities.operator_id(login)
    if operator_id is None:
        raise Problem(404, "operator_not_found", f"No operator with the login {login}.")
    if operator_id == admin.id:
        # Resetting one's own factor with a session that passed it would let a stolen session remove it.
        raise Problem(409, "own_account", "Another admin resets your second factor.")
    await second_factor.reset(admin, operator_id, login)
    account = await intake.identities.account_state(Kind.OPERATOR, operator_id)
    return {
        "operator_id": operator_id,
        "login": login,
        "roles": sorted(role.value for role in account.roles) if account else [],
        "disabled": account.disabled if account else False,
        "second_factor": False,
    }
