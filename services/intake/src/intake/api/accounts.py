"""Sign-up and sign-in: complainant accounts, operator accounts, company API keys (issued by admins).

A complainant registers and resets a forgotten password with a one-time code sent to the login
(``intake.core.account_codes``); no answer says whether a login has an account.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from greenchannel.contracts import CodePurpose
from greenchannel.problems import Problem
from intake.adapters.identities import LoginTaken
from intake.api.dependencies import AdminDep, ClientDep, Intake, IntakeDep, SecondFactorDep
from intake.api.schemas import (
    AccessToken,
    AccountToken,
    ApiKeyIssued,
    ApiKeyList,
    CodeSent,
    DirectoryCompany,
    OperatorAccessToken,
    OperatorCreated,
)
from intake.core.account_codes import CodeRejected
from intake.core.second_factor import SecondFactorRequired, WrongCode
from intake.domain.account_codes import channel_of
from intake.domain.filing import PersonName, normalize_email
from intake.domain.guessing import SecretKind
from intake.domain.identity import IdentityError, normalize_mobile
from intake.domain.principals import Principal, Role

router = APIRouter(prefix="/v1", tags=["accounts"])

Password = Annotated[str, StringConstraints(min_length=10, max_length=128)]


def normalize_login(value: str) -> str:
    """A login is an e-mail address or a mainland mobile number, normalised so one person has one login."""
    value = value.strip()
    if "@" in value:
        return normalize_email(value).lower()
    try:
        return normalize_mobile(value)
    except IdentityError:
        raise PydanticCustomError(
            "login_format", "Log in with an e-mail address or a mainland mobile number."
        ) from None


Login = Annotated[str, StringConstraints(max_length=254)]
# Six digits; anything else is treated as a wrong code, so the shape check tells nothing either.
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=12)]


class _LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Login

    @field_validator("login")
    @classmethod
    def _normalized_login(cls, value: str) -> str:
        return normalize_login(value)


class CodeRequest(_LoginBody):
    pass


class RegistrationConfirmation(_LoginBody):
    code: Code
    password: Password
    name: PersonName | None = None


class ResetConfirmation(_LoginBody):
    code: Code
    password: Password


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Annotated[str, StringConstraints(max_length=254)]
    password: Annotated[str, StringConstraints(max_length=128)]


BAD_CREDENTIALS = Problem(401, "invalid_credentials", "The login or the password is wrong.")
BAD_CODE = ("code_invalid", "The code is wrong, has expired or was used up; ask for a new code.")


async def _request_code(intake: Intake, purpose: CodePurpose, login: str, client: str) -> dict[str, Any]:
    """The same answer whether or not the login has an account; the message sent to it says which."""
    await intake.limits.hit(intake.rules.account_code_per_client, client)
    await intake.limits.hit(intake.rules.account_code_per_login, intake.blind_index.digest(login))
    await intake.accounts.request(purpose, login)
    return {"channel": channel_of(login), "expires_in": intake.settings.account_code_ttl_s}


async def _confirm(intake: Intake, client: str, confirm: Callable[[], Awaitable[Principal]]) -> dict[str, Any]:
    """Wrong codes are limited per code (then it is void) and per address, across every login it tries."""
    await intake.limits.check(intake.rules.account_code_failures, client)
    try:
        principal = await confirm()
    except CodeRejected:
        await intake.limits.hit(intake.rules.account_code_failures, client)
        raise Problem(400, *BAD_CODE) from None
    return {"account_id": principal.id, **intake.identities.issue_token(principal)}


@router.post(
    "/accounts/registrations",
    response_model=CodeSent,
    status_code=202,
    summary="Register a complainant account, step 1: send a one-time code to the login",
)
async def request_registration(body: CodeRequest, intake: IntakeDep, client: ClientDep) -> dict[str, Any]:
    return await _request_code(intake, "registration", body.login, client)


@router.post(
    "/accounts/registrations/confirm",
    response_model=AccountToken,
    status_code=201,
    summary="Register a complainant account, step 2: the code, a password and a name; signs in",
)
async def confirm_registration(body: RegistrationConfirmation, intake: IntakeDep, client: ClientDep) -> dict[str, Any]:
    await intake.limits.hit(intake.rules.registration, client)  # accounts are cheap to make: limit mass sign-ups
    return await _confirm(
        intake, client, lambda: intake.accounts.confirm_registration(body.login, body.code, body.password, body.name)
    )


@router.post(
    "/accounts/password-resets",
    response_model=CodeSent,
    status_code=202,
    summary="Reset a forgotten password, step 1: send a one-time code to the login",
)
async def request_password_reset(body: CodeRequest, intake: IntakeDep, client: ClientDep) -> dict[str, Any]:
    return await _request_code(intake, "password_reset", body.login, client)


@router.post(
    "/accounts/password-resets/confirm",
    response_model=AccountToken,
    summary="Reset a forgotten password, step 2: the code and a new password; ends every other session",
)
async def confirm_password_reset(body: ResetConfirmation, intake: IntakeDep, client: ClientDep) -> dict[str, Any]:
    return await _confirm(intake, client, lambda: intake.accounts.confirm_reset(body.login, body.code, body.password))


async def _sign_in(intake: Intake, login: str, client: str, authenticate) -> dict[str, Any]:
    """Failed sign-ins slow down per (login, address) and per address, never for the login as a whole: the
    right password always works from an address that has not failed itself. The attempt is counted before
    the password is checked and given back if it was right."""
    attempt = await intake.guesses.reserve(SecretKind.PASSWORD, login, client)
    principal = await authenticate()
    if principal is None:
        await intake.guesses.failed(attempt)
        raise BAD_CREDENTIALS
    await intake.guesses.succeeded(attempt)
    return intake.identities.issue_token(principal)


@router.post(
    "/auth/token", response_model=AccessToken, summary="Sign in as a complainant: a signed, expiring bearer token"
)
async def complainant_token(body: Credentials, intake: IntakeDep, client: ClientDep) -> dict[str, Any]:
    try:
        login = normalize_login(body.login)
    except PydanticCustomError:
        raise BAD_CREDENTIALS from None
    return await _sign_in(
        intake,
        f"complainant:{intake.blind_index.digest(login)}",
        client,
        lambda: intake.identities.authenticate_complainant(login, body.password),
    )


class CodeSignIn(_LoginBody):
    code: Code


def _sign_in_by_code_on(intake: Intake) -> None:
    if not intake.settings.sign_in_by_code:
        raise Problem(404, "sign_in_by_code_off", "Signing in with a code is not offered; sign in with the password.")


@router.post(
    "/auth/code",
    response_model=CodeSent,
    status_code=202,
    summary="Sign in as a complainant with a code, step 1: send it (a setting)",
)
async def request_sign_in_code(body: CodeRequest, intake: IntakeDep, client: ClientDep) -> dict[str, Any]:
    _sign_in_by_code_on(intake)
    return await _request_code(intake, "sign_in", body.login, client)


@router.post(
    "/auth/code/token",
    response_model=AccountToken,
    summary="Sign in as a complainant with a code, step 2: the code for a bearer token",
)
async def sign_in_with_code(body: CodeSignIn, intake: IntakeDep, client: ClientDep) -> dict[str, Any]:
    _sign_in_by_code_on(intake)
    return await _confirm(intake, client, lambda: intake.accounts.confirm_sign_in(body.login, body.code))


class OperatorCredentials(Credentials):
    # The authenticator's code, for an account with a second factor (every admin's, once enrolled).
    one_time_code: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=12)] = None


@router.post(
    "/ops/auth/token",
    response_model=OperatorAccessToken,
    tags=["operators"],
    summary="Sign in as an operator (with the authenticator's code once the account has a second factor)",
)
async def operator_token(
    body: OperatorCredentials, intake: IntakeDep, client: ClientDep, second_factor: SecondFactorDep
) -> dict[str, Any]:
    """A wrong code counts as a failed sign-in, like a wrong password (the same slow-down per login and
    address); a right password without the code it needs answers ``second_factor_required`` and counts nothing."""
    login = body.login.strip()
    attempt = await intake.guesses.reserve(SecretKind.PASSWORD, f"operator:{login}", client)
    principal = await intake.identities.authenticate_operator(login, body.password)
    if principal is None:
        await intake.guesses.failed(attempt)
        raise BAD_CREDENTIALS
    try:
        principal = await second_factor.sign_in(principal, body.one_time_code)
    except SecondFactorRequired:
        await intake.guesses.succeeded(attempt)
        raise Problem(
            401, "second_factor_required", "This account signs in with its authenticator's code too."
        ) from None
    except WrongCode:
        await intake.guesses.failed(attempt)
        raise Problem(401, "second_factor_invalid", "The one-time code is wrong or was used already.") from None
    await intake.guesses.succeeded(attempt)
    return {**intake.identities.issue_token(principal), "second_factor": await second_factor.status(principal)}


class NewOperator(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9._-]{3,40}$")]
    password: Password
    roles: list[Role] = Field(min_length=1)


@router.post(
    "/ops/operators",
    response_model=OperatorCreated,
    status_code=201,
    tags=["operators"],
    summary="Create an operator account (admin)",
)
async def create_operator(body: NewOperator, intake: IntakeDep, admin: AdminDep) -> dict[str, Any]:
    try:
        operator_id = await intake.staff.create(admin, body.login, body.password, set(body.roles))
    except LoginTaken:
        raise Problem(409, "login_taken", "An operator with this login exists.") from None
    return {"operator_id": operator_id, "login": body.login, "roles": sorted(body.roles)}


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""


@router.post(
    "/ops/companies/{company_id}/api-keys",
    response_model=ApiKeyIssued,
    status_code=201,
    tags=["operators"],
    summary="Issue an API key to a company (admin); the key is shown once",
)
async def issue_api_key(company_id: str, body: NewApiKey, intake: IntakeDep, admin: AdminDep) -> dict[str, Any]:
    await intake.operator_actions.company(company_id)
    return await intake.staff.issue_api_key(admin, company_id, body.label)


@router.get(
    "/ops/companies/{company_id}/api-keys",
    response_model=ApiKeyList,
    tags=["operators"],
    summary="A company's API keys (admin)",
)
async def list_api_keys(company_id: str, intake: IntakeDep, _: AdminDep) -> dict[str, Any]:
    # The times as rendered before the answer had a model (isoformat), so the JSON is what it was.
    return jsonable_encoder({"items": await intake.identities.list_api_keys(company_id)})


@router.put(
    "/ops/companies/{company_id}",
    response_model=DirectoryCompany,
    tags=["operators"],
    summary="Add or correct a directory company (admin)",
)
async def save_company(
    company_id: str, fields: dict[str, Any], intake: IntakeDep, admin: AdminDep, response: Response
) -> dict[str, Any]:
    """Routing owns the directory and validates the entry; this passes an admin's change on to it."""
    status, company = await intake.staff.save_company(admin, company_id, fields)
    response.status_code = status
    return company


@router.delete("/ops/api-keys/{key_id}", status_code=204, tags=["operators"], summary="Revoke an API key (admin)")
async def revoke_api_key(key_id: str, intake: IntakeDep, admin: AdminDep) -> None:
    if not await intake.staff.revoke_api_key(admin, key_id):
        raise Problem(404, "api_key_not_found", "No active API key with this id.")
