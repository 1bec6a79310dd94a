"""The account use cases proven by a one-time code: registration, password reset and (when switched on) sign-in.

Asking for a code does the same work whether or not the login has an account (one lookup, one
code record, one sealed ``account.code_issued`` in the outbox, in one transaction) and answers
the same; only the sealed notice differs, which notification sends to the login. Confirming
counts the try, compares the keyed hash in constant time, and uses the code up in the same
transaction as the account it creates or the password it sets.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import CodeNotice, CodePurpose, code_notice_field
from greenchannel.mongo import in_transaction
from greenchannel.runtime import ServiceRuntime
from greenchannel.sealing import KeyRingCipher
from intake.adapters.account_codes import AccountCodeStore
from intake.adapters.identities import Identities, LoginTaken
from intake.adapters.pii import KeyedHash
from intake.core import events
from intake.domain.account_codes import (
    CodePolicy,
    channel_of,
    code_record_id,
    is_code_shaped,
    new_code,
    notice_for,
)
from intake.domain.principals import Kind, Principal


class CodeRejected(Exception):
    """The code is wrong, expired, used up or was never issued: one answer for all, whoever the login is."""


class AccountCodes:
    def __init__(
        self,
        runtime: ServiceRuntime,
        identities: Identities,
        store: AccountCodeStore,
        logins: KeyedHash,
        code_hashes: KeyedHash,
        transport: KeyRingCipher,
        policy: CodePolicy,
    ) -> None:
        self.runtime = runtime
        self.identities = identities
        self.store = store
        self.logins = logins
        self.code_hashes = code_hashes
        self.transport = transport
        self.policy = policy

    def record_id(self, purpose: CodePurpose, login: str) -> str:
        return code_record_id(purpose, self.logins.digest(login))

    async def request(self, purpose: CodePurpose, login: str) -> None:
        """Issue a code (or the notice that replaces it) for ``login``; the previous code of the purpose is void."""
        has_account = await self.identities.has_account(login)
        notice = notice_for(purpose, has_account)
        code, issue_id = new_code(), uuid.uuid4().hex
        record_id = self.record_id(purpose, login)
        now = datetime.now(UTC)
        expires_at = now + self.policy.ttl
        # The hash is computed in both branches; only a record that may go on keeps it.
        code_hash = self.code_hashes.digest(f"{record_id}:{issue_id}:{code}")
        record = {
            "_id": record_id,
            "issue_id": issue_id,
            "code_hash": code_hash if notice == "code" else None,
            "attempts": 0,
            "expires_at": expires_at,
            "created_at": now,
        }
        sealed_notice = CodeNotice(destination=login, notice=notice, code=code if notice == "code" else None)
        event = events.account_code_issued(
            issue_id=issue_id,
            purpose=purpose,
            channel=channel_of(login),
            expires_at=expires_at,
            issued_at=now,
            sealed=self.transport.encrypt(code_notice_field(issue_id), sealed_notice.model_dump_json()),
        )

        async def work(session: AsyncClientSession) -> None:
            await self.store.replace(record, session)
            await self.runtime.outbox.add(event, subject=issue_id, session=session)

        await in_transaction(self.runtime.mongo, work)

    async def _spend(self, purpose: CodePurpose, login: str, code: str) -> tuple[str, str]:
        """Count a try of the login's code; its record id and issue id when the code is right."""
        record_id = self.record_id(purpose, login)
        now = datetime.now(UTC)
        record = await self.store.spend_attempt(record_id, now, self.policy.max_attempts)
        if record is None:
            raise CodeRejected()
        if not is_code_shaped(code) or not self.code_hashes.matches(
            f"{record_id}:{record['issue_id']}:{code}", record["code_hash"]
        ):
            raise CodeRejected()
        return record_id, record["issue_id"]

    async def confirm_registration(self, login: str, code: str, password: str, name: str | None) -> Principal:
        record_id, issue_id = await self._spend("registration", login, code)
        password_hash = await self.identities.hash_password(password)

        async def work(session: AsyncClientSession) -> str:
            if not await self.store.consume(record_id, issue_id, session):
                raise CodeRejected()
            return await self.identities.register(login, password_hash, name, session)

        try:
            account_id = await in_transaction(self.runtime.mongo, work)
        except LoginTaken:
            # An account appeared for the login since the code was issued: the code proves nothing more.
            raise CodeRejected() from None
        return Principal(Kind.COMPLAINANT, account_id)

    async def confirm_reset(self, login: str, code: str, password: str) -> Principal:
        record_id, issue_id = await self._spend("password_reset", login, code)
        password_hash = await self.identities.hash_password(password)

        async def work(session: AsyncClientSession) -> Principal:
            if not await self.store.consume(record_id, issue_id, session):
                raise CodeRejected()
            principal = await self.identities.reset_password(login, password_hash, session)
            if principal is None:
                raise CodeRejected()
            return principal

        principal = await in_transaction(self.runtime.mongo, work)
        # The old tokens end here at once, and on the other replicas within the account cache's bound.
        self.identities.forget(principal.kind, principal.id)
        return principal

    async def confirm_sign_in(self, login: str, code: str) -> Principal:
        record_id, issue_id = await self._spend("sign_in", login, code)

        async def work(session: AsyncClientSession) -> Principal:
            if not await self.store.consume(record_id, issue_id, session):
                raise CodeRejected()
            principal = await self.identities.complainant(login, session)
            if principal is None:
                raise CodeRejected()
            return principal

        return await in_transaction(self.runtime.mongo, work)
