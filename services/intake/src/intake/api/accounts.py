"""Sign-up and sign-in: complainant accounts, operator accounts, company API keys (issued by admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from greenchannel.problems import Problem
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from intake.adapters.identities import LoginTaken
from intake.api.deps import AdminDep, ClientDep, Intake, IntakeDep, directory_company
from intake.domain.filing import PersonName, normalize_email
from intake.domain.guessing import SecretKind
from intake.domain.identity import IdentityError, normalize_mobile
from intake.domain.principals import Role

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
        raise PydanticCustomError("login_format", "Log in with an e-mail address or a mainland mobile number.") from None


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Annotated[str, StringConstraints(max_length=254)]
    password: Password
    name: PersonName | None = None

    @field_validator("login")
    @classmethod
    def _normalized_login(cls, value: str) -> str:
        return normalize_login(value)


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Annotated[str, StringConstraints(max_length=254)]
    password: Annotated[str, StringConstraints(max_length=128)]


BAD_CREDENTIALS = Problem(401, "invalid_credentials", "The login or the password is wrong.")


@router.post("/accounts", status_code=201, summary="Register a complainant account")
async def register(body: Registration, intake: IntakeDep, client: ClientDep) -> dict[str, Any]:
    await intake.limits.hit(intake.rules.registration, client)  # accounts are cheap to make: limit mass sign-ups
    try:
        account_id = await intake.identities.register(body.login, body.password, body.name)
    except LoginTaken:
        raise Problem(409, "login_taken", "An account with this login exists; sign in instead.") from None
    return {"account_id": account_id}


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


@router.post("/auth/token", summary="Sign in as a complainant: a signed, expiring bearer token")
async def complainant_token(body: Credentials, intake: IntakeDep, client: ClientDep) -> dict[str, Any]:
    try:
        login = normalize_login(body.login)
    except PydanticCustomError:
        raise BAD_CREDENTIALS from None
    return await _sign_in(intake, f"complainant:{intake.blind_index.digest(login)}", client,
                          lambda: intake.identities.authenticate_complainant(login, body.password))


@router.post("/ops/auth/token", tags=["operators"], summary="Sign in as an operator")
async def operator_token(body: Credentials, intake: IntakeDep, client: ClientDep) -> dict[str, Any]:
    login = body.login.strip()
    return await _sign_in(intake, f"operator:{login}", client,
                          lambda: intake.identities.authenticate_operator(login, body.password))


class NewOperator(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9._-]{3,40}$")]
    password: Password
    roles: list[Role] = Field(min_length=1)


@router.post("/ops/operators", status_code=201, tags=["operators"], summary="Create an operator account (admin)")
async def create_operator(body: NewOperator, intake: IntakeDep, _: AdminDep) -> dict[str, Any]:
    try:
        operator_id = await intake.identities.create_operator(body.login, body.password, set(body.roles))
    except LoginTaken:
        raise Problem(409, "login_taken", "An operator with this login exists.") from None
    return {"operator_id": operator_id, "login": body.login, "roles": sorted(body.roles)}


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""


@router.post("/ops/companies/{company_id}/api-keys", status_code=201, tags=["operators"],
             summary="Issue an API key to a company (admin); the key is shown once")
async def issue_api_key(company_id: str, body: NewApiKey, intake: IntakeDep, admin: AdminDep) -> dict[str, Any]:
    await directory_company(intake, company_id)
    return await intake.identities.issue_api_key(company_id, body.label, admin.id)


@router.get("/ops/companies/{company_id}/api-keys", tags=["operators"], summary="A company's API keys (admin)")
async def list_api_keys(company_id: str, intake: IntakeDep, _: AdminDep) -> dict[str, Any]:
    return {"items": await intake.identities.list_api_keys(company_id)}


@router.put("/ops/companies/{company_id}", tags=["operators"], summary="Add or correct a directory company (admin)")
async def save_company(company_id: str, fields: dict[str, Any], intake: IntakeDep, _: AdminDep,
                       response: Response) -> dict[str, Any]:
    """Routing owns the directory and validates the entry; this passes an admin's change on to it."""
    status, company = await intake.routing.save_company(company_id, fields)
    response.status_code = status
    return company


@router.delete("/ops/api-keys/{key_id}", status_code=204, tags=["operators"], summary="Revoke an API key (admin)")
async def revoke_api_key(key_id: str, intake: IntakeDep, _: AdminDep) -> None:
    if not await intake.identities.revoke_api_key(key_id):
        raise Problem(404, "api_key_not_found", "No active API key with this id.")
