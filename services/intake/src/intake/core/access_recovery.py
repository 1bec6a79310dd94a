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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import CodeNotice, CodePurpose, code_notice_field
from intake.adapters.account_codes import AccountCodeStore
from intake.adapters.case_store import CaseStore
from intake.adapters.guesses import GuessGuard
from intake.adapters.pii import KeyedHash
from intake.adapters.rate_limits import RateLimiter, Rule
from intake.core import events
from intake.core.account_codes import AccountCodes
from intake.core.transactions import Transactions
from intake.domain.account_codes import code_record_id, is_code_shaped, new_code
from intake.domain.filing import new_access_code
from intake.domain.guessing import SecretKind

PURPOSE: CodePurpose = "access_recovery"
TIMELINE_ACTION = "access_code_reissued"


class RecoveryRejected(Exception):
    """The code is wrong, expired, used up, or was never sent for this number and phone: one answer for all."""


@dataclass(frozen=True)
class RecoveryLimits:
    """The edge's limits on one-time codes that recovery shares with accounts: per address, per complaint
    (as per login), and failed codes per address."""

    limits: RateLimiter
    per_client: Rule
    per_number: Rule
    failures: Rule


class AccessRecovery:
    def __init__(
        self,
        cases: CaseStore,
        transactions: Transactions,
        accounts: AccountCodes,
        guesses: GuessGuard,
        limits: RecoveryLimits,
        blind_index: KeyedHash,
        access_codes: KeyedHash,
    ) -> None:
        self.cases = cases
        self.transactions = transactions
        self.accounts = accounts
        self.store: AccountCodeStore = accounts.store
        self.guesses = guesses
        self.limits = limits
        self.blind_index = blind_index
        self.access_codes = access_codes

    def _record_id(self, number: str, phone: str) -> str:
        return code_record_id(PURPOSE, self.blind_index.digest(f"{number}\n{phone}"))

    async def request(self, number: str, phone: str, client: str) -> dict[str, Any]:
        """Send a code to ``phone`` if it is the phone given when ``number`` was filed; the same answer always."""
        limits = self.limits
        await limits.limits.hit(limits.per_client, client)
        await limits.limits.hit(limits.per_number, self.blind_index.digest(f"recover:{number}"))
        case = await self.cases.get(number)
        matches = case is not None and case.get("phone_key") == self.blind_index.digest(phone)
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
        outbox = self.cases.runtime.outbox

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

        await self.transactions.run(work)
        return {"channel": "sms", "expires_in": int(self.accounts.policy.ttl.total_seconds())}

    async def confirm(self, number: str, phone: str, code: str, client: str) -> dict[str, Any]:
        """A new access code for ``number`` when ``code`` is the one sent; :class:`RecoveryRejected` otherwise."""
        limits = self.limits
        await limits.limits.check(limits.failures, client)
        # A guess at the complaint's access like a wrong access code: counted before it is checked.
        attempt = await self.guesses.reserve(SecretKind.ACCESS_CODE, number, client)
        try:
            access_code = await self._reissue(number, phone, code)
        except RecoveryRejected:
            await self.guesses.failed(attempt)
            await limits.limits.hit(limits.failures, client)
            raise
        await self.guesses.succeeded(attempt)
        return {"number": number, "access_code": access_code}

    async def _reissue(self, number: str, phone: str, code: str) -> str:
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
            await self.cases.note(
                number,
                "complainant",
                TIMELINE_ACTION,
                session=session,
                fields={"access_code_hash": self.access_codes.digest(access_code)},
            )

        await self.transactions.run(work)
        return access_code
