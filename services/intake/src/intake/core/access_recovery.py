"""A lost access code recovered with a one-time code sent to the phone given at filing.

Step 1: the complaint number and a phone number. The answer is the same whether or not they belong
together, so nobody learns which complaint has which phone; only when they do is a six-digit code sent,
by SMS, sealed in ``account.code_issued`` (purpose ``access_recovery``) as account codes are. The code
record is written either way (keyed by the number and the phone, so a stranger asking with another phone
voids nothing of the complainant's), only its hash is missing when they do not match, so the work done
is the same but for the one outbox entry.

Step 2: the number, the phone and the code. The code is tried as a guess of the complaint's access
(:class:`intake.adapters.guesses.GuessGuard`: failures slow down per number and address, counted before
the code is checked), tried at most ``account_code_max_attempts`` times, and used once: in the same
transaction the complaint gets a new access code, shown once, and the old one stops working. The timeline
records that a new code was issued, so the complainant sees it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import CodeNotice, CodePurpose, code_notice_field
from intake.adapters.account_codes import AccountCodeStore
from intake.core import events
from intake.domain.account_codes import code_record_id, is_code_shaped, new_code
from intake.domain.filing import new_access_code
from intake.domain.guessing import SecretKind

if TYPE_CHECKING:  # the container of collaborators the API builds; only its type is needed here
    from intake.api.dependencies import Intake

PURPOSE: CodePurpose = "access_recovery"
TIMELINE_ACTION = "access_code_reissued"


class RecoveryRejected(Exception):
    """The code is wrong, expired, used up, or was never sent for this number and phone: one answer for all."""


class AccessRecovery:
    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.accounts = intake.accounts
        self.store: AccountCodeStore = intake.accounts.store

    def _record_id(self, number: str, phone: str) -> str:
        return code_record_id(PURPOSE, self.intake.blind_index.digest(f"{number}\n{phone}"))

    async def request(self, number: str, phone: str, client: str) -> dict[str, Any]:
        """Send a code to ``phone`` if it is the phone given when ``number`` was filed; the same answer always."""
        intake = self.intake
        await intake.limits.hit(intake.rules.account_code_per_client, client)
        await intake.limits.hit(intake.rules.account_code_per_login, intake.blind_index.digest(f"recover:{number}"))
        case = await intake.cases.get(number)
        matches = case is not None and case.get("phone_key") == intake.blind_index.digest(phone)
        code, issue_id = new_code(), uuid.uuid4().hex
        record_id = self._record_id(number, phone)
        now = datetime.now(UTC)
        expires_at = now + self.accounts.policy.ttl
        code_hash = self.accounts.code_hashes.digest(f"{record_id}:{issue_id}:{code}")
        record = {
            "_id": record_id,
            "issue_id": issue_id,
            "code_hash": code_hash if matches else None,
            "attempts": 0,
            "expires_at": expires_at,
            "created_at": now,
        }
        outbox = intake.cases.runtime.outbox

        async def work(session: AsyncClientSession) -> None:
            await self.store.replace(record, session)
            if matches:
                notice = CodeNotice(destination=phone, notice="code", code=code)
                await outbox.add(
                    events.account_code_issued(
                        issue_id=issue_id,
                        purpose=PURPOSE,
                        channel="sms",
                        expires_at=expires_at,
                        issued_at=now,
                        sealed=self.accounts.transport.encrypt(code_notice_field(issue_id), notice.model_dump_json()),
                    ),
                    subject=issue_id,
                    session=session,
                )

        await intake.transactions.run(work)
        return {"channel": "sms", "expires_in": intake.settings.account_code_ttl_s}

    async def confirm(self, number: str, phone: str, code: str, client: str) -> dict[str, Any]:
        """A new access code for ``number`` when ``code`` is the one sent; :class:`RecoveryRejected` otherwise."""
        intake = self.intake
        await intake.limits.check(intake.rules.account_code_failures, client)
        # A guess at the complaint's access like a wrong access code: counted before it is checked.
        attempt = await intake.guesses.reserve(SecretKind.ACCESS_CODE, number, client)
        try:
            access_code = await self._reissue(number, phone, code)
        except RecoveryRejected:
            await intake.guesses.failed(attempt)
            await intake.limits.hit(intake.rules.account_code_failures, client)
            raise
        await intake.guesses.succeeded(attempt)
        return {"number": number, "access_code": access_code}

    async def _reissue(self, number: str, phone: str, code: str) -> str:
        intake = self.intake
        record_id = self._record_id(number, phone)
        record = await self.store.spend_attempt(record_id, datetime.now(UTC), self.accounts.policy.max_attempts)
        if (
            record is None
            or not is_code_shaped(code)
            or not self.accounts.code_hashes.matches(f"{record_id}:{record['issue_id']}:{code}", record["code_hash"])
        ):
            raise RecoveryRejected()
        access_code = new_access_code()

        async def work(session: AsyncClientSession) -> None:
            if not await self.store.consume(record_id, record["issue_id"], session):
                raise RecoveryRejected()
            await intake.cases.note(
                number,
                "complainant",
                TIMELINE_ACTION,
                session=session,
                fields={"access_code_hash": intake.access_codes.digest(access_code)},
            )

        await intake.transactions.run(work)
        return access_code
