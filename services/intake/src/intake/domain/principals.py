"""Who is asking, and what they may see: the principals of intake's APIs and the object-level rules.

Authorisation is checked on every object: a guest sees only the
complaint whose access code it presented, a complainant only their own complaints, a company only
complaints forwarded to it (never before forwarding), an operator (or admin) everything, with the
complainant's identity masked. A regulator reads figures, never a case file, its evidence or contact
details. Callers answer a denial exactly like a missing complaint (404), so existence itself stays private.

A staff member's roles are those of their account at the time of the request, never those of the
moment they signed in: the token names the account and its ``token_version`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from intake.domain.company_staff import CompanyRole


class Kind(StrEnum):
    GUEST = "guest"
    COMPLAINANT = "complainant"
    COMPANY = "company"
    OPERATOR = "operator"


class Role(StrEnum):
    OPERATOR = "operator"  # moderates, mediates appeals, redirects, accepts or rejects by hand
    ADMIN = "admin"  # also manages staff, company API keys, webhook secrets, the directory; reads the audit log
    REGULATOR = "regulator"  # reads statistics, including unpublished cases; never a case file


@dataclass(frozen=True)
class Principal:
    kind: Kind
    id: str  # complaint number (guest), account id, company id, or operator id
    roles: frozenset[Role] = field(default_factory=frozenset)
    token_version: int = 0  # the account's token version the credential was issued under (bearer tokens only)
    # The sign-in the credential came from passed the second factor (an admin's TOTP code): its ``amr`` claim.
    second_factor: bool = False
    # A company's staff member: ``id`` is their company (what they may see), ``account`` their own staff account
    # (what signs in and out). An API key names no account.
    account: str | None = None
    company_role: CompanyRole | None = None

    @property
    def account_id(self) -> str:
        """The account the credential belongs to: a staff member's own account, else the principal's id."""
        return self.account or self.id

    def has_role(self, role: Role) -> bool:
        return role in self.roles or (self.kind is Kind.OPERATOR and Role.ADMIN in self.roles)


def may_read(principal: Principal, case: dict[str, Any]) -> bool:
    match principal.kind:
        case Kind.GUEST:
            return bool(case["number"] == principal.id)
        case Kind.COMPLAINANT:
            return case.get("account_id") == principal.id
        case Kind.COMPANY:
            return case.get("company_id") == principal.id and case.get("forwarded_at") is not None
        case Kind.OPERATOR:
            return principal.has_role(Role.OPERATOR)
    return False


def is_complainant_of(principal: Principal, case: dict[str, Any]) -> bool:
    """Guest with the code, or the account that filed or claimed it: may act as the complainant."""
    return principal.kind in (Kind.GUEST, Kind.COMPLAINANT) and may_read(principal, case)


def actor(principal: Principal) -> str:
    """Who did a step, as the timeline records it: ``guest`` (a code names no person), else kind and id."""
    return principal.kind.value if principal.kind is Kind.GUEST else f"{principal.kind.value}:{principal.id}"
