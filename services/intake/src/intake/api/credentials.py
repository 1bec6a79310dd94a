"""What any signed-in account (complainant or staff) does with its own credentials: change the password,
sign out everywhere. Both end every token the account holds (its ``token_version`` moves on): on this
replica at once, on the others within ``account_cache_ttl_s``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from greenchannel.problems import Problem
from intake.adapters.identities import PasswordChangedMeanwhile, WrongPassword
from intake.api.accounts import Password
from intake.api.dependencies import AccountDep, ClientDep, IntakeDep
from intake.api.schemas import AccessToken
from intake.domain.guessing import SecretKind

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old_password: Annotated[str, StringConstraints(max_length=128)]
    new_password: Password

    @model_validator(mode="after")
    def _a_new_password(self) -> PasswordChange:
        if self.new_password == self.old_password:
            raise PydanticCustomError("password_unchanged", "The new password must differ from the old one.")
        return self


@router.post(
    "/password",
    response_model=AccessToken,
    summary="Change your password: every other token of the account ends; a new one is answered",
)
async def change_password(
    body: PasswordChange, intake: IntakeDep, account: AccountDep, client: ClientDep
) -> dict[str, Any]:
    # Wrong old passwords slow down like failed sign-ins: a stolen token is no way to guess the password.
    attempt = await intake.guesses.reserve(
        SecretKind.PASSWORD, f"password-change:{account.kind.value}:{account.id}", client
    )
    try:
        principal = await intake.identities.change_password(account, body.old_password, body.new_password)
    except WrongPassword:
        await intake.guesses.failed(attempt)
        raise Problem(422, "wrong_password", "The old password is wrong.") from None
    except PasswordChangedMeanwhile:
        await intake.guesses.succeeded(attempt)
        raise Problem(
            409,
            "password_changed_meanwhile",
            "The password was changed by another request at the same time; sign in again.",
        ) from None
    await intake.guesses.succeeded(attempt)
    return intake.identities.issue_token(principal)


@router.post("/sign-out-everywhere", status_code=204, summary="End every token of your account, this one included")
async def sign_out_everywhere(intake: IntakeDep, account: AccountDep) -> Response:
    await intake.identities.sign_out_everywhere(account)
    return Response(status_code=204)
