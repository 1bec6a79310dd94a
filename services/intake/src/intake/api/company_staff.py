"""A company's staff accounts: an operator admin invites a company's first administrator, who invites colleagues
with roles, disables them, ends their sessions and may require a second factor (TOTP) for the whole company.

Staff sign in with their e-mail address and password (and the authenticator's code where required) for a bearer
token, which the portal trades for the session cookie like every other account (``POST /v1/session``); with it
they use the company API as the company, within their role (``intake.domain.company_staff``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from greenchannel.problems import Problem
from intake.adapters.company_staff import EmailTaken
from intake.api.accounts import BAD_CREDENTIALS, Password
from intake.api.dependencies import (
    AdminDep,
    ClientDep,
    CompanyAdminDep,
    CompanyStaffDep,
    CompanyStaffUseCasesDep,
    IdempotencyKey,
    Intake,
    IntakeDep,
)
from intake.api.schemas import AccessToken
from intake.core.company_staff import (
    InvitationInvalid,
    LastAdministrator,
    SignInRefused,
    StaffNotFound,
    TotpEnrolment,
    TotpRequired,
)
from intake.core.errors import CompanyUnknown
from intake.domain.company_staff import CompanyRole
from intake.domain.filing import PersonName, normalize_email
from intake.domain.guessing import SecretKind
from intake.domain.principals import Principal

router = APIRouter(prefix="/v1", tags=["company staff"])

StaffId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The staff account's id.")]
Token = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TotpCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=12)]


class _Email(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, StringConstraints(max_length=254)]

    @field_validator("email")
    @classmethod
    def _normalized(cls, value: str) -> str:
        return normalize_email(value.strip()).lower()


class FirstAdministrator(_Email):
    pass


class Invitation(_Email):
    role: CompanyRole


class InvitationToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: Token


class InvitationAcceptance(InvitationToken):
    name: PersonName
    password: Password


class StaffCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]
    password: Annotated[str, StringConstraints(max_length=128)]
    totp: TotpCode | None = None


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: CompanyRole


class Security(BaseModel):
    model_config = ConfigDict(extra="forbid")
    totp_required: bool


class InvitationSent(BaseModel):
    invitation_id: str
    role: CompanyRole
    expires_at: str


class InvitationDetails(BaseModel):
    company_id: str
    company_name: str
    role: CompanyRole
    email: str
    expires_at: str


class StaffMember(BaseModel):
    staff_id: str
    email: str
    name: str
    role: CompanyRole
    disabled: bool
    totp: bool = Field(description="Whether the account has set up its second factor.")
    created_at: str


class Me(StaffMember):
    company_id: str


class PendingInvitation(BaseModel):
    invitation_id: str
    email: str
    role: CompanyRole
    expires_at: str


class Staff(BaseModel):
    totp_required: bool
    staff: list[StaffMember]
    invitations: list[PendingInvitation]


class SecuritySettings(BaseModel):
    totp_required: bool


async def _company_name(intake: Intake, company_id: str) -> str:
    company = await intake.routing.company(company_id)
    if company is None:
        raise CompanyUnknown(company_id)
    return str(company.get("name") or company_id)


async def _invite(
    staff: CompanyStaffUseCasesDep,
    intake: Intake,
    company_id: str,
    email: str,
    role: CompanyRole,
    inviter: Principal,
    idempotency_key: str | None,
) -> dict[str, Any]:
    name = await _company_name(intake, company_id)
    try:
        return await staff.invite(company_id, name, email, role, inviter.account_id, idempotency_key)
    except EmailTaken:
        raise Problem(409, "email_taken", "A staff account with this e-mail address exists already.") from None


@router.post(
    "/ops/companies/{company_id}/staff-invitations",
    response_model=InvitationSent,
    status_code=201,
    tags=["operators"],
    summary="Invite a company's administrator: an e-mail with a one-time link (admin)",
)
async def invite_first_administrator(
    company_id: str,
    body: FirstAdministrator,
    intake: IntakeDep,
    staff: CompanyStaffUseCasesDep,
    admin: AdminDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await _invite(staff, intake, company_id, body.email, CompanyRole.ADMINISTRATOR, admin, idempotency_key)


@router.post(
    "/company/staff/invitations",
    response_model=InvitationSent,
    status_code=201,
    operation_id="company.staff.invite",
    summary="Invite a colleague with a role: an e-mail with a one-time link (company administrator)",
)
async def invite_colleague(
    body: Invitation,
    intake: IntakeDep,
    staff: CompanyStaffUseCasesDep,
    administrator: CompanyAdminDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await _invite(staff, intake, administrator.id, body.email, body.role, administrator, idempotency_key)


def _invalid_invitation() -> Problem:
    return Problem(
        404, "invitation_invalid", "This invitation link is unknown, expired or used; ask for a new invitation."
    )


@router.post(
    "/company/invitation",
    response_model=InvitationDetails,
    operation_id="company.invitation.read",
    summary="What an invitation link invites to (the token travels in the body, never in an address)",
)
async def read_invitation(body: InvitationToken, staff: CompanyStaffUseCasesDep) -> dict[str, Any]:
    try:
        return await staff.invitation(body.token)
    except InvitationInvalid:
        raise _invalid_invitation() from None


@router.post(
    "/company/invitation/accept",
    response_model=AccessToken,
    status_code=201,
    operation_id="company.invitation.accept",
    summary="Accept an invitation: set your name and password; answers a bearer token",
)
async def accept_invitation(
    body: InvitationAcceptance, intake: IntakeDep, staff: CompanyStaffUseCasesDep
) -> dict[str, Any]:
    try:
        principal = await staff.accept(body.token, body.password, body.name)
    except InvitationInvalid:
        raise _invalid_invitation() from None
    except EmailTaken:
        raise Problem(409, "email_taken", "A staff account with this e-mail address exists already.") from None
    return intake.identities.issue_token(principal)


@router.post(
    "/company/auth/token",
    response_model=AccessToken,
    operation_id="company.auth.token",
    summary="Sign in as a company's staff member (with the authenticator's code where required)",
)
async def staff_token(
    body: StaffCredentials, intake: IntakeDep, staff: CompanyStaffUseCasesDep, client: ClientDep
) -> dict[str, Any]:
    # Failed sign-ins slow down per (login, address) and per address, as every password sign-in does.
    email = body.email.lower()
    attempt = await intake.guesses.reserve(
        SecretKind.PASSWORD, f"company-staff:{intake.blind_index.digest(email)}", client
    )
    try:
        principal = await staff.authenticate(email, body.password, body.totp)
    except SignInRefused:
        await intake.guesses.failed(attempt)
        raise BAD_CREDENTIALS from None
    except TotpRequired:
        await intake.guesses.failed(attempt)
        raise Problem(
            401, "totp_required", "Enter the current six-digit code of your authenticator app (each code works once)."
        ) from None
    except TotpEnrolment as enrolment:
        await intake.guesses.succeeded(attempt)  # the password was right
        raise Problem(
            403,
            "totp_enrolment_required",
            "Your company requires a second factor: add this key to an authenticator app, then sign in with its code.",
            totp_secret=enrolment.secret,
            otpauth_uri=enrolment.uri,
        ) from None
    await intake.guesses.succeeded(attempt)
    return intake.identities.issue_token(principal)


@router.get(
    "/company/me",
    response_model=Me,
    operation_id="company.me",
    summary="Your own staff account: name, role, second factor",
)
async def me(staff: CompanyStaffUseCasesDep, member: CompanyStaffDep) -> dict[str, Any]:
    try:
        return await staff.me(member)
    except StaffNotFound:
        raise Problem(404, "staff_not_found", "No such staff account.") from None


@router.get(
    "/company/staff",
    response_model=Staff,
    operation_id="company.staff.list",
    summary="The company's staff and pending invitations (company administrator)",
)
async def list_staff(staff: CompanyStaffUseCasesDep, administrator: CompanyAdminDep) -> dict[str, Any]:
    return await staff.staff_of(administrator.id)


async def _changed(change: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = await change
    except StaffNotFound:
        raise Problem(404, "staff_not_found", "No staff account of your company has this id.") from None
    except LastAdministrator:
        raise Problem(
            409, "last_administrator", "This would leave the company no enabled administrator; make another first."
        ) from None
    return result


def _not_yourself(administrator: Principal, staff_id: str) -> None:
    """An administrator cannot lock themselves out: a colleague disables them or takes the role away."""
    if administrator.account == staff_id:
        raise Problem(409, "own_account", "You cannot disable your own account or change your own role.")


@router.post(
    "/company/staff/{staff_id}/disable",
    response_model=StaffMember,
    operation_id="company.staff.disable",
    summary="Disable a colleague's account: their sessions end (company administrator)",
)
async def disable(staff_id: StaffId, staff: CompanyStaffUseCasesDep, administrator: CompanyAdminDep) -> dict:
    _not_yourself(administrator, staff_id)
    return await _changed(staff.set_disabled(administrator.id, staff_id, True))


@router.post(
    "/company/staff/{staff_id}/enable",
    response_model=StaffMember,
    operation_id="company.staff.enable",
    summary="Enable a colleague's account again; they sign in anew (company administrator)",
)
async def enable(staff_id: StaffId, staff: CompanyStaffUseCasesDep, administrator: CompanyAdminDep) -> dict:
    return await _changed(staff.set_disabled(administrator.id, staff_id, False))


@router.put(
    "/company/staff/{staff_id}/role",
    response_model=StaffMember,
    operation_id="company.staff.set_role",
    summary="Set a colleague's role (company administrator)",
)
async def set_role(
    staff_id: StaffId, body: RoleChange, staff: CompanyStaffUseCasesDep, administrator: CompanyAdminDep
) -> dict:
    _not_yourself(administrator, staff_id)
    return await _changed(staff.set_role(administrator.id, staff_id, body.role))


@router.post(
    "/company/staff/{staff_id}/sign-out",
    response_model=StaffMember,
    operation_id="company.staff.sign_out",
    summary="End every session of a colleague (company administrator)",
)
async def sign_out(staff_id: StaffId, staff: CompanyStaffUseCasesDep, administrator: CompanyAdminDep) -> dict:
    return await _changed(staff.end_sessions(administrator.id, staff_id))


@router.put(
    "/company/security",
    response_model=SecuritySettings,
    operation_id="company.security.set",
    summary="Require a second factor (TOTP) of every staff member; sessions without one end (company administrator)",
)
async def set_security(
    body: Security, staff: CompanyStaffUseCasesDep, administrator: CompanyAdminDep
) -> dict[str, Any]:
    return await staff.require_totp(administrator.id, body.totp_required)
