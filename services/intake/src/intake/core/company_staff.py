"""The company staff use cases: invitations, the first sign-in, signing in (with TOTP where the company requires it)
and an administrator's management of colleagues.

The invitation mail travels as every one-time code does: its address and link sealed with the code transport keys in
``account.code_issued`` (written to the outbox in the invitation's transaction), opened by notification only to
send it. Tokens of staff accounts are the platform's tokens (``intake.adapters.identities``): checked against the
account on every request, so disabling a colleague, ending their sessions or requiring a second factor ends their
sessions on this replica at once and on every other within the account cache's bound.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import CodeNotice, code_notice_field
from greenchannel.runtime import ServiceRuntime
from greenchannel.sealing import KeyRingCipher
from intake.adapters.company_staff import CompanyStaffStore, EmailTaken
from intake.adapters.identities import Identities
from intake.adapters.pii import KeyedHash, PiiCipher
from intake.core import events
from intake.core.transactions import Transactions
from intake.domain.company_staff import (
    CompanyRole,
    invitation_link,
    invitation_token,
    new_invitation_secret,
    split_invitation_token,
)
from intake.domain.principals import Kind, Principal

# The issuer an authenticator app shows beside the account.
TOTP_ISSUER = "Green Channel 投诉平台"
# Codes of the step before and after the current one count too: a phone's clock a little off still signs in.
TOTP_DRIFT_STEPS = 1


class InvitationInvalid(Exception):
    """Unknown, used, expired or forged: one answer for all."""


class LastAdministrator(Exception):
    """The change would leave the company without an enabled administrator."""


class StaffNotFound(Exception):
    pass


class SignInRefused(Exception):
    """Wrong e-mail address or password, or a disabled account: one answer for all."""


class TotpRequired(Exception):
    """The password was right; the account's second factor is missing or wrong."""


@dataclass(frozen=True)
class TotpEnrolment(Exception):
    """The company requires a second factor the account has not set up: here is the secret to set it up with."""

    secret: str
    uri: str


@dataclass(frozen=True)
class InvitationPolicy:
    ttl: timedelta
    public_base_url: str


class CompanyStaff:
    def __init__(
        self,
        runtime: ServiceRuntime,
        transactions: Transactions,
        store: CompanyStaffStore,
        identities: Identities,
        cipher: PiiCipher,
        logins: KeyedHash,
        secrets: KeyedHash,
        transport: KeyRingCipher,
        policy: InvitationPolicy,
    ) -> None:
        self.runtime = runtime
        self.transactions = transactions
        self.store = store
        self.identities = identities
        self.cipher = cipher
        self.logins = logins
        self.secrets = secrets
        self.transport = transport
        self.policy = policy

    # --- invitations ------------------------------------------------------------------------------

    async def invite(
        self,
        company_id: str,
        company_name: str,
        email: str,
        role: CompanyRole,
        invited_by: str,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        """Invite ``email`` to the company with ``role``: the invitation and its sealed mail in one transaction.
        A retry with the same ``Idempotency-Key`` answers the same invitation and sends no second mail."""
        email_key = self.logins.digest(email)
        if await self.store.email_in_use(email_key):
            raise EmailTaken()
        now = datetime.now(UTC)
        invitation_id, secret, issue_id = uuid.uuid4().hex, new_invitation_secret(), uuid.uuid4().hex
        expires_at = now + self.policy.ttl
        invitation = {
            "_id": invitation_id,
            "company_id": company_id,
            "company_name": company_name,
            "email_key": email_key,
            "email": self.cipher.encrypt("login", email),
            "role": role.value,
            "secret_hash": self.secrets.digest(f"{invitation_id}:{secret}"),
            "invited_by": invited_by,
            "created_at": now,
            "expires_at": expires_at,
            "used_at": None,
        }
        link = invitation_link(self.policy.public_base_url, invitation_token(invitation_id, secret))
        notice = CodeNotice(destination=email, notice="invitation", link=link, company=company_name)
        event = events.account_code_issued(
            issue_id=issue_id,
            purpose="company_invitation",
            channel="email",
            expires_at=expires_at,
            issued_at=now,
            sealed=self.transport.encrypt(code_notice_field(issue_id), notice.model_dump_json()),
        )

        async def work(session: AsyncClientSession) -> dict[str, Any]:
            await self.store.add_invitation(invitation, session)
            await self.runtime.outbox.add(event, subject=issue_id, session=session)
            return {"invitation_id": invitation_id, "role": role.value, "expires_at": expires_at.isoformat()}

        return await self.transactions.idempotent(
            f"company-invitation:{company_id}", idempotency_key, {"email": email, "role": role.value}, work
        )

    async def _open(self, token: str) -> dict[str, Any]:
        parts = split_invitation_token(token)
        if parts is None:
            raise InvitationInvalid()
        invitation_id, secret = parts
        invitation = await self.store.invitation(invitation_id)
        if (
            invitation is None
            or invitation["used_at"] is not None
            or invitation["expires_at"] <= datetime.now(UTC)
            or not self.secrets.matches(f"{invitation_id}:{secret}", invitation["secret_hash"])
        ):
            raise InvitationInvalid()
        return invitation

    async def invitation(self, token: str) -> dict[str, Any]:
        """What the invitation page shows before the password is set: the company, the role and the address."""
        invitation = await self._open(token)
        return {
            "company_id": invitation["company_id"],
            "company_name": invitation.get("company_name", invitation["company_id"]),
            "role": invitation["role"],
            "email": self.cipher.decrypt("login", invitation["email"]),
            "expires_at": invitation["expires_at"].isoformat(),
        }

    async def accept(self, token: str, password: str, name: str) -> Principal:
        """Create the invited account with its password; the invitation is used up in the same transaction."""
        invitation = await self._open(token)
        password_hash = await self.identities.hash_password(password)
        staff_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        account = {
            "_id": staff_id,
            "company_id": invitation["company_id"],
            "email_key": invitation["email_key"],
            "email": invitation["email"],
            "name": self.cipher.encrypt("name", name),
            "role": invitation["role"],
            "password_hash": password_hash,
            "disabled": False,
            "token_version": 0,
            "totp_secret": None,
            "totp_pending": None,
            "totp_last_step": None,
            "invited_by": invitation["invited_by"],
            "created_at": now,
        }
        await self.store.ensure_company(invitation["company_id"])

        async def work(session: AsyncClientSession) -> None:
            if not await self.store.use_invitation(invitation["_id"], now, session):
                raise InvitationInvalid()
            await self.store.add_account(account, session)
            await self.store.count_change(invitation["company_id"], session)

        await self.transactions.run(work)
        return _principal(account)

    # --- signing in -------------------------------------------------------------------------------

    async def authenticate(self, email: str, password: str, totp: str | None) -> Principal:
        account = await self.store.account_by_email(self.logins.digest(email))
        usable = account is not None and not account["disabled"]
        stored = account["password_hash"] if usable and account is not None else None
        if not await self.identities.password_matches(password, stored) or account is None:
            raise SignInRefused()
        company = await self.store.company_settings(account["company_id"])
        if account.get("totp_secret"):
            secret = self.cipher.decrypt("totp", account["totp_secret"])
            if totp is None or not await self._spend_totp(account["_id"], secret, totp):
                raise TotpRequired()
        elif company.get("totp_required"):
            await self._enrol(account, email, totp)
        return _principal(account)

    async def _spend_totp(self, staff_id: str, secret: str, code: str, enrol: dict[str, str] | None = None) -> bool:
        step = _matching_step(secret, code, datetime.now(UTC))
        return step is not None and await self.store.use_totp_step(staff_id, step, enrol)

    async def _enrol(self, account: dict[str, Any], email: str, totp: str | None) -> None:
        """Set up the second factor at sign-in: the code of the pending secret makes it the account's; without a
        (right) one, the secret to set it up with."""
        sealed = account.get("totp_pending")
        if (
            sealed is not None
            and totp is not None
            and await self._spend_totp(account["_id"], self.cipher.decrypt("totp", sealed), totp, enrol=sealed)
        ):
            return
        if sealed is None:
            sealed = self.cipher.encrypt("totp", pyotp.random_base32())
            await self.store.set_pending_totp(account["_id"], sealed)
        secret = self.cipher.decrypt("totp", sealed)
        raise TotpEnrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER))

    # --- an administrator's management ------------------------------------------------------------

    async def staff_of(self, company_id: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        settings = await self.store.company_settings(company_id)
        return {
            "totp_required": bool(settings.get("totp_required")),
            "staff": [self.view(account) for account in await self.store.accounts(company_id)],
            "invitations": [
                {
                    "invitation_id": invitation["_id"],
                    "email": self.cipher.decrypt("login", invitation["email"]),
                    "role": invitation["role"],
                    "expires_at": invitation["expires_at"].isoformat(),
                }
                for invitation in await self.store.pending_invitations(company_id, now)
            ],
        }

    def view(self, account: dict[str, Any]) -> dict[str, Any]:
        return {
            "staff_id": account["_id"],
            "email": self.cipher.decrypt("login", account["email"]),
            "name": self.cipher.decrypt("name", account["name"]),
            "role": account["role"],
            "disabled": account["disabled"],
            "totp": account.get("totp_last_step") is not None,
            "created_at": account["created_at"].isoformat(),
        }

    async def me(self, principal: Principal) -> dict[str, Any]:
        account = await self.store.account(principal.id, principal.account_id)
        if account is None:
            raise StaffNotFound()
        return {**self.view(account), "company_id": principal.id}

    async def set_disabled(self, company_id: str, staff_id: str, disabled: bool) -> dict[str, Any]:
        """Disabling ends every session of the account, so enabling it again brings none of them back."""
        if disabled:
            change = {"$set": {"disabled": True, "disabled_at": datetime.now(UTC)}, "$inc": {"token_version": 1}}
        else:
            change = {"$set": {"disabled": False, "disabled_at": None}}
        return await self._change(company_id, staff_id, change)

    async def set_role(self, company_id: str, staff_id: str, role: CompanyRole) -> dict[str, Any]:
        return await self._change(company_id, staff_id, {"$set": {"role": role.value}})

    async def end_sessions(self, company_id: str, staff_id: str) -> dict[str, Any]:
        return await self._change(company_id, staff_id, {"$inc": {"token_version": 1}})

    async def _change(self, company_id: str, staff_id: str, change: dict[str, Any]) -> dict[str, Any]:
        await self.store.ensure_company(company_id)

        async def work(session: AsyncClientSession) -> dict[str, Any]:
            account = await self.store.change_account(company_id, staff_id, change, session)
            if account is None:
                raise StaffNotFound()
            await self.store.count_change(company_id, session)
            if not await self.store.enabled_administrators(company_id, session):
                raise LastAdministrator()
            return account

        account = await self.transactions.run(work)
        self.identities.forget(Kind.COMPANY, staff_id)
        return self.view(account)

    async def require_totp(self, company_id: str, required: bool) -> dict[str, Any]:
        """Requiring a second factor ends the sessions of everyone without one: they sign in again and set it up."""
        await self.store.ensure_company(company_id)

        async def work(session: AsyncClientSession) -> list[str]:
            await self.store.count_change(company_id, session, totp_required=required)
            return await self.store.end_sessions_without_totp(company_id, session) if required else []

        for staff_id in await self.transactions.run(work):
            self.identities.forget(Kind.COMPANY, staff_id)
        return {"totp_required": required}


def _principal(account: dict[str, Any]) -> Principal:
    return Principal(
        Kind.COMPANY,
        account["company_id"],
        token_version=account.get("token_version", 0),
        account=account["_id"],
        company_role=CompanyRole(account["role"]),
    )


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, within the allowed drift; None when it is none of them."""
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    for drift in range(-TOTP_DRIFT_STEPS, TOTP_DRIFT_STEPS + 1):
        moment = now + timedelta(seconds=drift * totp.interval)
        if pyotp.utils.strings_equal(totp.at(moment), code):
            return totp.timecode(moment)
    return None
