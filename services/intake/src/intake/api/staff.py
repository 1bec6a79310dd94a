"""Staff accounts, managed by admins: disable and enable an operator, set their roles. Each change holds
on this replica at once and on every other within ``account_cache_ttl_s`` (tokens are checked against
the account on every request, and roles come from the account)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from greenchannel.problems import Problem
from intake.adapters.identities import LastAdmin
from intake.api.dependencies import AdminDep, Intake, IntakeDep
from intake.api.schemas import OperatorAccount
from intake.domain.principals import Kind, Principal, Role

router = APIRouter(prefix="/v1/ops/operators", tags=["operators"])

Login = Annotated[str, Path(pattern=r"^[a-z0-9._-]{3,40}$", description="The operator's login.")]


class Roles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(min_length=1)


def _view(operator: dict[str, Any] | None, login: str) -> dict[str, Any]:
    if operator is None:
        raise Problem(404, "operator_not_found", f"No operator with the login {login}.")
    return {
        "operator_id": operator["_id"],
        "login": operator["login"],
        "roles": operator["roles"],
        "disabled": operator.get("disabled", False),
    }


async def _not_own_account(intake: Intake, admin: Principal, login: str) -> None:
    """An admin cannot lock themselves out: another admin disables them or takes the role away."""
    account = await intake.identities.account_state(Kind.OPERATOR, admin.id)
    if account is not None and account.login == login:
        raise Problem(409, "own_account", "Admins cannot disable their own account or drop their own admin role.")


async def _changed(change: Awaitable[dict[str, Any] | None], login: str) -> dict[str, Any]:
    try:
        return _view(await change, login)
    except LastAdmin:
        raise Problem(
            409, "last_admin", "This would leave no enabled admin; make another operator admin first."
        ) from None


@router.post(
    "/{login}/disable",
    response_model=OperatorAccount,
    summary="Disable an operator account: every token of it ends (admin)",
)
async def disable(login: Login, intake: IntakeDep, admin: AdminDep) -> dict[str, Any]:
    await _not_own_account(intake, admin, login)
    return await _changed(intake.staff.set_disabled(admin, login, True), login)


@router.post(
    "/{login}/enable",
    response_model=OperatorAccount,
    summary="Enable an operator account again; they sign in anew (admin)",
)
async def enable(login: Login, intake: IntakeDep, admin: AdminDep) -> dict[str, Any]:
    return await _changed(intake.staff.set_disabled(admin, login, False), login)


@router.put("/{login}/roles", response_model=OperatorAccount, summary="Set an operator's roles (admin)")
async def set_roles(login: Login, body: Roles, intake: IntakeDep, admin: AdminDep) -> dict[str, Any]:
    if Role.ADMIN not in body.roles:
        await _not_own_account(intake, admin, login)
    return await _changed(intake.staff.set_roles(admin, login, set(body.roles)), login)
