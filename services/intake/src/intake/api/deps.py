"""What every router depends on: the collaborators built at start-up, the caller's identity, idempotent actions.

Identity comes from exactly one of: a bearer token (complainant or operator), an ``X-Api-Key``
(company), or, on a complaint's own routes, its ``X-Access-Code`` (guest). Object-level checks
(``intake.domain.principals.may_read``) answer 404 for everything the caller may not see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from greenchannel.idempotency import IdempotencyStore, fingerprint
from greenchannel.mongo import in_transaction, is_duplicate_key
from greenchannel.problems import Problem
from pymongo.errors import BulkWriteError, DuplicateKeyError

from intake.adapters.case_store import CaseStore
from intake.adapters.evidence_client import EvidenceClient
from intake.adapters.identities import Identities
from intake.adapters.pii import KeyedHash, PiiCipher
from intake.adapters.rate_limits import RateLimiter, Rule
from intake.adapters.service_clients import NotificationClient, RoutingClient
from intake.config import Settings
from intake.domain.filing import normalize_access_code
from intake.domain.principals import Kind, Principal, Role, may_read
from intake.handlers.accounts import AccountCodes

NOT_FOUND = ("complaint_not_found", "No complaint matches this number and access.")


class Intake:
    """The collaborators the routes need, built once in ``main.create_app``."""

    def __init__(self, settings: Settings, cases: CaseStore, idempotency: IdempotencyStore, evidence: EvidenceClient,
                 routing: RoutingClient, notification: NotificationClient, cipher: PiiCipher, blind_index: KeyedHash,
                 identities: Identities, limits: RateLimiter, accounts: AccountCodes) -> None:
        self.settings = settings
        self.cases = cases
        self.idempotency = idempotency
        self.evidence = evidence
        self.routing = routing
        self.notification = notification
        self.cipher = cipher
        self.blind_index = blind_index
        self.access_codes = KeyedHash(settings.access_code_key.get_secret_value().encode(), "access-code")
        self.identities = identities
        self.limits = limits
        self.accounts = accounts
        self.rules = EdgeRules(settings)


class EdgeRules:
    """The rate-limit rules of the public edge, from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.filing = Rule("filing-ip", settings.filings_per_ip_per_hour, 3600)
        self.upload = Rule("upload-ip", settings.uploads_per_ip_per_hour, 3600)
        self.code_per_number = Rule("code-number", settings.access_code_failures_per_number_per_hour, 3600)
        self.code_per_client = Rule("code-ip", settings.access_code_failures_per_ip_per_hour, 3600)
        self.login_per_login = Rule("login-login", settings.login_failures_per_login_per_15_min, 900)
        self.login_per_client = Rule("login-ip", settings.login_failures_per_ip_per_15_min, 900)
        self.registration = Rule("registration-ip", settings.registrations_per_ip_per_hour, 3600)
        self.account_code_per_login = Rule("account-code-login", settings.account_codes_per_login_per_hour, 3600)
        self.account_code_per_client = Rule("account-code-ip", settings.account_codes_per_ip_per_hour, 3600)
        self.account_code_failures = Rule("account-code-failure-ip", settings.account_code_failures_per_ip_per_hour,
                                          3600)
        self.feedback = Rule("feedback-ip", settings.feedback_per_ip_per_hour, 3600)


def get_intake(request: Request) -> Intake:
    return request.app.state.intake


IntakeDep = Annotated[Intake, Depends(get_intake)]
@dataclass(frozen=True)
class AccessAttempt:
    """A guest access code as presented, and from where (failures are rate-limited per number and address)."""

    code: str
    client: str


def client_address(request: Request) -> str:
    header = request.app.state.intake.settings.client_ip_header
    forwarded = request.headers.get(header) if header else None
    return (forwarded or (request.client.host if request.client else "unknown"))[:64]


ClientDep = Annotated[str, Depends(client_address)]


def access_attempt(
    client: ClientDep,
    code: Annotated[str | None, Header(alias="X-Access-Code", description="The guest access code given at filing.",
                                       max_length=64)] = None,
) -> AccessAttempt | None:
    return AccessAttempt(code, client) if code else None


AccessCode = Annotated[AccessAttempt | None, Depends(access_attempt)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Makes a retried POST safe.")]


async def caller(
    intake: IntakeDep,
    authorization: Annotated[str | None, Header(description="Bearer token of a complainant or operator.")] = None,
    x_api_key: Annotated[str | None, Header(alias="X-Api-Key", description="A company's API key.")] = None,
) -> Principal | None:
    """The authenticated caller, None for anonymous; a credential that does not check out is a 401."""
    if x_api_key:
        principal = await intake.identities.principal_from_api_key(x_api_key.strip())
        if principal is None:
            raise _unauthorized("The API key is unknown or revoked.")
        return principal
    if authorization:
        scheme, _, token = authorization.partition(" ")
        principal = intake.identities.principal_from_token(token.strip()) if scheme.lower() == "bearer" else None
        if principal is None or not await intake.identities.session_current(principal):
            raise _unauthorized("The token is invalid or has expired.")
        return principal
    return None


CallerDep = Annotated[Principal | None, Depends(caller)]


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def require(kind: Kind, role: Role | None = None) -> Callable[[Principal | None], Principal]:
    def check(principal: CallerDep) -> Principal:
        if principal is None:
            raise _unauthorized("Sign in first.")
        if principal.kind is not kind or (role is not None and not principal.has_role(role)):
            raise Problem(403, "forbidden", "This action is not open to you.")
        return principal

    return check


ComplainantDep = Annotated[Principal, Depends(require(Kind.COMPLAINANT))]
CompanyDep = Annotated[Principal, Depends(require(Kind.COMPANY))]
OperatorDep = Annotated[Principal, Depends(require(Kind.OPERATOR, Role.OPERATOR))]
AdminDep = Annotated[Principal, Depends(require(Kind.OPERATOR, Role.ADMIN))]


async def case_for(intake: Intake, number: str, principal: Principal | None,
                   access: AccessAttempt | None) -> tuple[Principal, dict]:
    """The case and the principal acting on it; 404 for anything the caller may not see."""
    if principal is None and access is not None:
        await intake.limits.check(intake.rules.code_per_number, number)
        await intake.limits.check(intake.rules.code_per_client, access.client)
    case = await intake.cases.get(number) if len(number) <= 40 else None
    if principal is None and access is not None:
        if case is not None and intake.access_codes.matches(normalize_access_code(access.code), case["access_code_hash"]):
            principal = Principal(Kind.GUEST, number)
        else:
            await intake.limits.hit(intake.rules.code_per_number, number)
            await intake.limits.hit(intake.rules.code_per_client, access.client)
    if case is None or principal is None or not may_read(principal, case):
        raise Problem(404, *NOT_FOUND)
    return principal, case


async def replayed(intake: Intake, scope: str, key: str, body: Any, *, sealed: bool = False) -> dict[str, Any] | None:
    """The answer already given for ``key`` and this body, None if the key is new (422 for another body)."""
    stored = await intake.idempotency.replay(scope, key, fingerprint(body))
    if stored is None:
        return None
    return intake.cipher.decrypt_json("idempotent-response", stored) if sealed else stored


async def idempotent(
    intake: Intake, scope: str, key: str | None, body: Any, perform: Callable[[Any], Awaitable[dict[str, Any]]],
    *, sealed: bool = False,
) -> dict[str, Any]:
    """Run ``perform(session)`` in one transaction with the remembered answer for ``key``.

    The same key and body answer the first answer again; another body is refused (422). ``sealed``
    keeps the stored answer encrypted (it holds a secret, such as an access code).
    """
    body_fingerprint = fingerprint(body)

    async def previous() -> dict[str, Any] | None:
        return await replayed(intake, scope, key, body, sealed=sealed) if key is not None else None

    if (answer := await previous()) is not None:
        return answer

    async def work(session) -> dict[str, Any]:
        result = await perform(session)
        if key is not None:
            stored = intake.cipher.encrypt_json("idempotent-response", result) if sealed else result
            expires = datetime.now(timezone.utc) + timedelta(seconds=intake.settings.idempotency_ttl_s)
            await intake.idempotency.remember(scope, key, body_fingerprint, stored, expires, session)
        return result

    try:
        result = await in_transaction(intake.cases.runtime.mongo, work)
    except (DuplicateKeyError, BulkWriteError) as error:
        # A concurrent twin with the same key committed first: answer what it answered.
        if is_duplicate_key(error) and (answer := await previous()) is not None:
            return answer
        raise
    intake.cases.runtime.relay.wake()
    return result


async def directory_company(intake: Intake, company_id: str) -> dict[str, Any]:
    """A company of routing's directory, or 422 for an id it does not know."""
    company = await intake.routing.company(company_id)
    if company is None:
        raise Problem(422, "company_unknown", f"No company {company_id} in the directory.")
    return company
