"""What every router depends on (Annotated dependencies): the container of collaborators and use cases built at
start-up, the caller's identity and its access to a case.

Identity comes from exactly one of: a bearer token (complainant or operator), an ``X-Api-Key``
(company), on a complaint's own routes its ``X-Access-Code`` (guest), or else the web client's session
cookie (``intake.core.sessions``: CSRF-checked on unsafe methods). Tokens and keys are
checked against their account or key on every request (tokens through a short per-process cache,
see ``intake.adapters.identities``): a staff member's roles are the account's, not the token's.
Object-level checks (``intake.domain.principals.may_read``) answer 404 for everything the caller may
not see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Scope

from greenchannel.problems import Problem, problem_response
from intake.adapters.case_store import CaseErased, CaseStore
from intake.adapters.evidence_client import EvidenceClient
from intake.adapters.guesses import GuessGuard
from intake.adapters.identities import Identities
from intake.adapters.pii import KeyedHash, PiiCipher
from intake.adapters.rate_limits import RateLimiter, Rule, TokenBuckets, rate_limited
from intake.adapters.second_factors import SecondFactors
from intake.adapters.service_clients import NotificationClient, RoutingClient
from intake.adapters.upload_budget import UploadBudget
from intake.api import client_address as addresses
from intake.api.problems import NOT_FOUND
from intake.config import Settings
from intake.core.access_recovery import AccessRecovery, RecoveryLimits
from intake.core.account_codes import AccountCodes
from intake.core.audit import Audit
from intake.core.company import CompanyAnswers
from intake.core.company_handling import CompanyHandling
from intake.core.company_inbox import CompanyInbox
from intake.core.company_staff import CompanyStaff
from intake.core.complaints import Complaints, Windows
from intake.core.feedback import Feedback
from intake.core.filing_limits import FilingLimits
from intake.core.operations import Operations
from intake.core.operators import OperatorActions
from intake.core.second_factor import SecondFactor
from intake.core.sessions import principal_from_cookie
from intake.core.staff import Staff
from intake.core.transactions import Transactions
from intake.core.work_queues import WorkQueues
from intake.domain.company_staff import CompanyRole, may_act, may_manage
from intake.domain.filing import normalize_access_code
from intake.domain.guessing import SecretKind, source_key
from intake.domain.principals import Kind, Principal, Role, is_complainant_of, may_read


class Intake:
    """What most routes depend on (``app.state.intake``, one part of ``main.Container``): the collaborators and the
    use cases, built once in ``main.build``."""

    def __init__(
        self,
        settings: Settings,
        cases: CaseStore,
        transactions: Transactions,
        evidence: EvidenceClient,
        routing: RoutingClient,
        notification: NotificationClient,
        cipher: PiiCipher,
        blind_index: KeyedHash,
        identities: Identities,
        limits: RateLimiter,
        accounts: AccountCodes,
        guesses: GuessGuard,
        feedback: Feedback,
        audit: Audit,
        second_factors: SecondFactors,
    ) -> None:
        self.settings = settings
        self.cases = cases
        self.transactions = transactions
        self.evidence = evidence
        self.routing = routing
        self.notification = notification
        self.cipher = cipher
        self.blind_index = blind_index
        self.access_codes = KeyedHash(settings.access_code_key.get_secret_value().encode(), "access-code")
        self.identities = identities
        self.limits = limits
        self.accounts = accounts
        self.guesses = guesses
        self.feedback = feedback
        self.filing_limits = FilingLimits(settings, limits, blind_index)
        self.rules = EdgeRules(settings)
        self.public_reads = TokenBuckets(
            settings.public_reads_per_ip_per_minute / 60, settings.public_read_burst, settings.rate_limits_enabled
        )
        # The use cases.
        self.complaints = Complaints(
            cases,
            transactions,
            evidence,
            cipher,
            blind_index,
            self.access_codes,
            Windows(settings.rating_window_days, settings.appeal_window_days),
        )
        self.company_answers = CompanyAnswers(cases, transactions)
        # Every operator action writes its audit entry; admins sign in with a second factor.
        self.audit = audit
        self.operator_actions = OperatorActions(cases, transactions, routing, self.audit)
        self.second_factor = SecondFactor(second_factors, identities, self.audit)
        self.staff = Staff(identities, routing, self.audit)
        self.access_recovery = AccessRecovery(
            cases,
            transactions,
            accounts,
            guesses,
            RecoveryLimits(
                limits,
                self.rules.account_code_per_client,
                self.rules.account_code_per_login,
                self.rules.account_code_failures,
            ),
            blind_index,
            self.access_codes,
        )


class EdgeRules:
    """The rate-limit rules of the public edge, from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.upload = Rule("upload-ip", settings.uploads_per_ip_per_hour, 3600)
        self.registration = Rule("registration-ip", settings.registrations_per_ip_per_hour, 3600)
        self.account_code_per_login = Rule("account-code-login", settings.account_codes_per_login_per_hour, 3600)
        self.account_code_per_client = Rule("account-code-ip", settings.account_codes_per_ip_per_hour, 3600)
        self.account_code_failures = Rule(
            "account-code-failure-ip", settings.account_code_failures_per_ip_per_hour, 3600
        )
        self.feedback = Rule("feedback-ip", settings.feedback_per_ip_per_hour, 3600)


def get_intake(request: Request) -> Intake:
    return request.app.state.intake


IntakeDep = Annotated[Intake, Depends(get_intake)]


@dataclass(frozen=True)
class AccessAttempt:
    """A guest access code as presented, and from where (failures slow down per number and address)."""

    code: str
    client: str


def client_address(request: Request) -> str:
    """The client's address: X-Forwarded-For counts only through the trusted proxies (``TRUSTED_PROXIES``)."""
    return addresses.client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        request.app.state.intake.settings.trusted_proxies,
    )


ClientDep = Annotated[str, Depends(client_address)]


# Set on a request the cache layer already counted against the read limit (``admit_public_read``).
READ_ADMITTED = "public_read_admitted"


def public_read(request: Request, intake: IntakeDep, client: ClientDep) -> None:
    """One token of the address's read bucket (its /64 for IPv6), in this replica's memory: a read writes nothing."""
    if getattr(request.state, READ_ADMITTED, False):
        return
    if wait := intake.public_reads.take(source_key(client)):
        raise rate_limited(wait)


async def admit_public_read(scope: Scope) -> ASGIApp | None:
    """The read limit for the HTTP cache layer, which may answer from memory without running a route: one
    token per public read, taken once; a 429 problem document when the address has none left."""
    request = Request(scope)
    intake: Intake = request.app.state.intake
    if wait := intake.public_reads.take(source_key(client_address(request))):
        refused = rate_limited(wait)
        return problem_response(refused.status, refused.code, refused.detail, refused.headers, **refused.extra)
    setattr(request.state, READ_ADMITTED, True)
    return None


PublicRead = Depends(public_read)


# The security schemes the OpenAPI document declares (the Authorize button of /docs, each operation's
# ``security``). They only describe and read the headers: auto_error=False, so who the caller is and every refusal
# (401/403/404 problem documents) stay decided by ``caller`` and ``case_for`` below.
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="The access token of a complainant's or a staff member's account (POST /v1/auth/token, /v1/ops/auth/token).",
    auto_error=False,
)
API_KEY = APIKeyHeader(
    name="X-Api-Key",
    scheme_name="apiKey",
    description="A company's API key, issued by an operator.",
    auto_error=False,
)
ACCESS_CODE = APIKeyHeader(
    name="X-Access-Code",
    scheme_name="accessCode",
    description="The guest access code given at filing; opens that complaint's own routes only.",
    auto_error=False,
)
ACCESS_CODE_MAX_LENGTH = 64


def access_attempt(
    client: ClientDep, code: Annotated[str | None, Security(ACCESS_CODE)] = None
) -> AccessAttempt | None:
    if code and len(code) > ACCESS_CODE_MAX_LENGTH:
        # The refusal the header's declared bound gave before it became a security scheme: a 422 naming the field.
        raise RequestValidationError(
            [
                {
                    "type": "string_too_long",
                    "loc": ("header", "X-Access-Code"),
                    "msg": f"String should have at most {ACCESS_CODE_MAX_LENGTH} characters",
                    "input": code,
                    "ctx": {"max_length": ACCESS_CODE_MAX_LENGTH},
                }
            ]
        )
    return AccessAttempt(code, client) if code else None


AccessCode = Annotated[AccessAttempt | None, Depends(access_attempt)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Makes a retried POST safe.")]


async def caller(
    request: Request,
    intake: IntakeDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    x_api_key: Annotated[str | None, Security(API_KEY)] = None,
) -> Principal | None:
    """The authenticated caller, None for anonymous; a credential that does not check out is a 401."""
    # Read as sent: the scheme above answers nothing for an Authorization header of another scheme, which is a 401.
    authorization = request.headers.get("authorization")
    if x_api_key:
        principal = await intake.identities.principal_from_api_key(x_api_key.strip())
        if principal is None:
            raise _unauthorized("The API key is unknown or revoked.")
        return principal
    if authorization:
        scheme, _, token = authorization.partition(" ")
        principal = await intake.identities.principal_from_token(token.strip()) if scheme.lower() == "bearer" else None
        if principal is None:
            raise _unauthorized(
                "The token is invalid, has expired, or was ended (signed out, password changed, account disabled)."
            )
        return principal
    return await principal_from_cookie(request, intake.identities, intake.settings)  # the web client's session


CallerDep = Annotated[Principal | None, Depends(caller)]


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def require(kind: Kind, role: Role | None = None) -> Callable[[Principal | None, Intake], Principal]:
    def check(principal: CallerDep, intake: IntakeDep) -> Principal:
        if principal is None:
            raise _unauthorized("Sign in first.")
        if principal.kind is not kind or (role is not None and not principal.has_role(role)):
            raise Problem(403, "forbidden", "This action is not open to you.")
        if role is Role.ADMIN and not principal.second_factor and not intake.settings.is_development:
            # An admin's powers need a sign-in that passed the second factor (intake.core.second_factor); a
            # password alone lets an admin enrol one, and act as an operator.
            raise Problem(
                403,
                "second_factor_required",
                "Admin actions need a sign-in with a one-time code: enrol a second factor and sign in again.",
            )
        return principal

    return check


ComplainantDep = Annotated[Principal, Depends(require(Kind.COMPLAINANT))]
CompanyDep = Annotated[Principal, Depends(require(Kind.COMPANY))]
OperatorDep = Annotated[Principal, Depends(require(Kind.OPERATOR, Role.OPERATOR))]
AdminDep = Annotated[Principal, Depends(require(Kind.OPERATOR, Role.ADMIN))]
# Any staff account, whatever its roles: for what each role sees differently (a regulator: 404 on a case file).
StaffDep = Annotated[Principal, Depends(require(Kind.OPERATOR))]


def company_may(allowed: Callable[[CompanyRole], bool]) -> Callable[[Principal | None, Intake], Principal]:
    """A company's API key or staff member whose role allows the action (``intake.domain.company_staff``)."""

    def check(principal: CallerDep, intake: IntakeDep) -> Principal:
        company = require(Kind.COMPANY)(principal, intake)
        if company.company_role is None or not allowed(company.company_role):
            raise Problem(403, "forbidden", "Your role in the company does not allow this action.")
        return company

    return check


def company_staff_member(principal: CallerDep, intake: IntakeDep) -> Principal:
    """A company's staff member signed in to their own account (an API key names no person)."""
    company = require(Kind.COMPANY)(principal, intake)
    if company.account is None:
        raise Problem(403, "forbidden", "This action is open to a company's staff accounts only.")
    return company


# Answer, ask for information: an API key, an administrator or a handler; never a read-only colleague.
CompanyActorDep = Annotated[Principal, Depends(company_may(may_act))]
CompanyStaffDep = Annotated[Principal, Depends(company_staff_member)]


def company_administrator(principal: CompanyStaffDep, intake: IntakeDep) -> Principal:
    """The company's staff, keys, webhooks and second factor: its administrators, signed in as themselves."""
    return company_may(may_manage)(principal, intake)


CompanyAdminDep = Annotated[Principal, Depends(company_administrator)]


def signed_in(principal: CallerDep) -> Principal:
    """Any account signed in with a bearer token (complainant or staff, a company's included); a company's API
    key is no account."""
    if principal is None:
        raise _unauthorized("Sign in first.")
    if principal.kind not in (Kind.COMPLAINANT, Kind.OPERATOR) and principal.account is None:
        raise Problem(403, "forbidden", "This action is open to signed-in accounts only.")
    return principal


AccountDep = Annotated[Principal, Depends(signed_in)]


async def case_for(
    intake: Intake, number: str, principal: Principal | None, access: AccessAttempt | None
) -> tuple[Principal, dict]:
    """The case and the principal acting on it; 404 for anything the caller may not see."""
    plausible = len(number) <= 40
    if principal is None and access is not None:
        # Counted as a failure before it is checked (given back if right): concurrency buys no extra guesses.
        attempt = await intake.guesses.reserve(SecretKind.ACCESS_CODE, number if plausible else "-", access.client)
        case = await intake.cases.get(number) if plausible else None
        # An erased case keeps no access code: nobody opens it with one any more.
        if (
            case is not None
            and case.get("access_code_hash") is not None
            and intake.access_codes.matches(normalize_access_code(access.code), case["access_code_hash"])
        ):
            principal = Principal(Kind.GUEST, number)
            await intake.guesses.succeeded(attempt)
        else:
            await intake.guesses.failed(attempt)
    else:
        case = await intake.cases.get(number) if plausible else None
    if case is None or principal is None or not may_read(principal, case):
        raise Problem(404, *NOT_FOUND)
    if case.get("erased_at") is not None:
        # Only operators and the company still reach it by its number: the public record is what is left of it.
        raise CaseErased(number)
    return principal, case


async def complainant_case(
    intake: Intake, number: str, principal: Principal | None, access: AccessAttempt | None
) -> tuple[Principal, dict[str, Any]]:
    """The case and the complainant acting on it (its guest or its account); 404 for anyone else."""
    principal, case = await case_for(intake, number, principal, access)
    if not is_complainant_of(principal, case):
        raise Problem(404, *NOT_FOUND)
    return principal, case


def get_upload_budget(request: Request) -> UploadBudget:
    """The byte budget of anonymous uploads per address (built in ``main.build``)."""
    return request.app.state.upload_budget


UploadBudgetDep = Annotated[UploadBudget, Depends(get_upload_budget)]


def complaints(intake: IntakeDep) -> Complaints:
    return intake.complaints


def company_answers(intake: IntakeDep) -> CompanyAnswers:
    return intake.company_answers


def operator_actions(intake: IntakeDep) -> OperatorActions:
    return intake.operator_actions


def feedback(intake: IntakeDep) -> Feedback:
    return intake.feedback


ComplaintsDep = Annotated[Complaints, Depends(complaints)]
CompanyAnswersDep = Annotated[CompanyAnswers, Depends(company_answers)]
OperatorActionsDep = Annotated[OperatorActions, Depends(operator_actions)]
FeedbackDep = Annotated[Feedback, Depends(feedback)]


def second_factor(intake: IntakeDep) -> SecondFactor:
    return intake.second_factor


SecondFactorDep = Annotated[SecondFactor, Depends(second_factor)]


def operations(request: Request) -> Operations:
    """Dead letters and notification's operator actions, audited (built in ``main.build``)."""
    return request.app.state.operations


OperationsDep = Annotated[Operations, Depends(operations)]


def work_queues(request: Request) -> WorkQueues:
    """The operators' work queues (built in ``main.build``)."""
    return request.app.state.work_queues


WorkQueuesDep = Annotated[WorkQueues, Depends(work_queues)]


def company_staff(request: Request) -> CompanyStaff:
    """The company staff use cases (built in ``main.build``)."""
    return request.app.state.company_staff


CompanyStaffUseCasesDep = Annotated[CompanyStaff, Depends(company_staff)]


def company_inbox(request: Request) -> CompanyInbox:
    """A company's inbox (built in ``main.build``)."""
    return request.app.state.company_inbox


CompanyInboxDep = Annotated[CompanyInbox, Depends(company_inbox)]


def company_handling(request: Request) -> CompanyHandling:
    """A company's own handling of its complaints (built in ``main.build``)."""
    return request.app.state.company_handling


CompanyHandlingDep = Annotated[CompanyHandling, Depends(company_handling)]
