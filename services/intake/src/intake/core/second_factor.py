"""The admins' second factor (TOTP): enrolment, the code at sign-in, and its reset by another admin.

An admin enrols once: the secret and its provisioning URI are shown once, and the admin confirms a code from
their authenticator; confirming ends every session of the account (``token_version``), so none signed in
with the password alone outlives it. From then on signing in asks for a code (one use per code), whatever the
account's roles. Outside development mode an admin acts as admin only with a sign-in that passed the code
(``intake.api.dependencies.require``); a not yet enrolled admin signs in with the password to enrol.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from intake.adapters.identities import Identities
from intake.adapters.second_factors import AlreadyEnrolled, SecondFactors
from intake.core.audit import Audit
from intake.domain import second_factor
from intake.domain.principals import Kind, Principal, Role

__all__ = ["AlreadyEnrolled", "NoEnrolment", "SecondFactor", "SecondFactorRequired", "WrongCode"]


class SecondFactorRequired(Exception):
    """The account has a second factor and no code came with the password."""


class WrongCode(Exception):
    """The code is not the authenticator's for now, or was used already."""


class NoEnrolment(Exception):
    """Confirming without having begun (or after the pending secret was replaced)."""


class SecondFactor:
    def __init__(self, factors: SecondFactors, identities: Identities, audit: Audit) -> None:
        self.factors = factors
        self.identities = identities
        self.audit = audit

    async def status(self, principal: Principal) -> str:
        """``verified`` (this sign-in passed a code), ``enrol`` (an admin without one yet) or ``not_required``."""
        if principal.second_factor:
            return "verified"
        if Role.ADMIN in principal.roles and not await self.factors.enrolled(principal.id):
            return "enrol"
        return "not_required"

    async def sign_in(self, principal: Principal, code: str | None) -> Principal:
        """The principal a sign-in with the right password stands for, once the code (when the account has a
        second factor) is checked and used: :class:`SecondFactorRequired` without one, :class:`WrongCode`."""
        secret = await self.factors.secret(principal.id, confirmed=True)
        if secret is None:
            return principal
        if not code:
            raise SecondFactorRequired
        step = second_factor.matching_step(secret, code, datetime.now(UTC))
        if step is None or not await self.factors.take_step(principal.id, step):
            raise WrongCode
        return replace(principal, second_factor=True)

    async def begin(self, principal: Principal) -> dict[str, Any]:
        """A new secret for the signed-in operator, shown this once; :class:`AlreadyEnrolled` when they have one."""
        login = await self.audit.login_of(principal)
        secret = second_factor.new_secret()
        await self.factors.begin(principal.id, secret)
        return {
            "secret": secret,
            "provisioning_uri": second_factor.provisioning_uri(secret, login or principal.id),
            "digits": second_factor.CODE_DIGITS,
        }

    async def confirm(self, principal: Principal, code: str) -> Principal:
        """Confirm the pending secret with a code from it: enrolled, every other session of the account ended;
        the answer is the principal of a sign-in that passed the second factor (a token of the new version)."""
        secret = await self.factors.secret(principal.id, confirmed=False)
        if secret is None:
            raise NoEnrolment
        step = second_factor.matching_step(secret, code, datetime.now(UTC))
        if step is None:
            raise WrongCode
        if not await self.factors.confirm(principal.id, step):
            raise NoEnrolment
        await self.identities.sign_out_everywhere(principal)
        account = await self.identities.account_state(Kind.OPERATOR, principal.id)
        await self.audit.action(principal, "second_factor_enrolled", target=principal.id)
        version = account.token_version if account else principal.token_version + 1
        return replace(principal, token_version=version, second_factor=True)

    async def reset(self, admin: Principal, operator_id: str, login: str) -> bool:
        """Another admin removes an operator's second factor (a lost phone); the holder enrols again at the next
        sign-in, and every session of theirs ends."""
        removed = await self.factors.remove(operator_id)
        await self.identities.sign_out_everywhere(Principal(Kind.OPERATOR, operator_id))
        await self.audit.action(admin, "second_factor_reset", target=login)
        return removed
