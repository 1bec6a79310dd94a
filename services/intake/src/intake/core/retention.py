"""Retention, erasure and the complainant's rights over their data (PIPL): erasing a complaint's personal data when its
retention period ran out or the complainant asked, asking for it (a complaint, or an account with its complaints),
legal holds that stop it, and the copy of everything the platform holds about a complainant.

An erasure is one transaction in intake: the case file replaced by what it keeps (``domain.retention.erased_case``),
the complaint's entries in intake's outbox deleted, the audit entry, and ``complaint.erased`` staged; the other
services erase their own copies when that event reaches them. The complaint's dead letters (moved out of every
consumer's dead-letter queue first) and the filing limits' counters of its complainant are deleted just before. The public record and the statistics are not touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import current_trace_id, record_work
from intake.adapters.audit_log import AuditLog
from intake.adapters.case_store import CaseNotFound, CaseStore, StateChanged
from intake.adapters.dead_letters import DeadLetters
from intake.adapters.identities import Identities
from intake.adapters.pii import PiiCipher
from intake.adapters.rate_limits import RateLimiter
from intake.core import events
from intake.core.transactions import Transactions
from intake.domain.identity import IDENTITY_FIELDS
from intake.domain.principals import Principal, actor
from intake.domain.retention import (
    ErasureReason,
    ErasureRefused,
    Refusal,
    check_erasable,
    erased_case,
    is_erased,
)

log = logging.getLogger(__name__)

#: How long one eraser holds a case it took: far beyond one erasure (a transaction and the dead-letter queues), so a
#: replica that died mid-way leaves the case to the next pass of any replica after it.
ERASURE_LEASE = timedelta(minutes=10)
#: Who the audit log names for what the platform does by itself.
SYSTEM = "system"
#: Fields of a case file that are the platform's own bookkeeping, not what the complainant gave or was told.
#: A legal hold's reason is the authority's, not the complainant's (the timeline still shows that one was set).
INTERNAL_FIELDS = frozenset(
    {
        "access_code_hash",
        "complainant_key",
        "phone_key",
        "erasure_lease_until",
        "complainant",
        "complainant_masked",
        "legal_hold",
    }
)


@dataclass(frozen=True)
class RetentionPolicy:
    #: How long after a case ended its personal data is kept.
    period: timedelta
    #: How long after the complainant asked their data is erased (time to change their mind, or for a hold).
    hold: timedelta
    #: Complaints one pass erases at most.
    batch: int


@dataclass
class RetentionReport:
    erased: int = 0
    refused: int = 0
    accounts_deleted: int = 0


class AccountErasureRefused(Exception):
    """The account has complaints whose data may not be erased (open, or under a legal hold)."""

    def __init__(self, refusals: dict[str, Refusal]) -> None:
        super().__init__("the account has complaints that may not be erased: " + ", ".join(sorted(refusals)))
        self.refusals = refusals


class Retention:
    def __init__(
        self,
        runtime: ServiceRuntime,
        cases: CaseStore,
        transactions: Transactions,
        audit: AuditLog,
        dead_letters: DeadLetters,
        identities: Identities,
        cipher: PiiCipher,
        limits: RateLimiter,
        policy: RetentionPolicy,
    ) -> None:
        self.runtime = runtime
        self.cases = cases
        self.transactions = transactions
        self.audit = audit
        self.dead_letters = dead_letters
        self.identities = identities
        self.cipher = cipher
        self.limits = limits
        self.policy = policy

    # --- erasure -----------------------------------------------------------------------------------

    async def erase(self, number: str, reason: ErasureReason, now: datetime | None = None) -> dict[str, Any]:
        """Erase the complaint's personal data now; :class:`ErasureRefused` when it may not be (open, held, erased
        already), :class:`CaseNotFound`. Answers the case file as it is kept."""
        now = now or datetime.now(UTC)
        case = await self.cases.get(number)
        if case is None:
            raise CaseNotFound(number)
        check_erasable(case)
        # Outside the transaction (it reads the broker's queues): letters deleted for a case whose transaction then
        # fails were about data due for erasure anyway.
        await self.dead_letters.forget(number)
        # The filing limits count the complainant by the keyed hashes of their ID number and phone for an hour or two.
        await self.limits.forget([case[key] for key in ("complainant_key", "phone_key") if case.get(key)])
        erased = erased_case(case, reason, now)
        evidence_ids = [ref["evidence_id"] for ref in case.get("evidence") or []]

        async def work(session: AsyncClientSession) -> None:
            await self.cases.replace_erased(case, erased, session)
            # Every event about the complaint intake still keeps (the narrative in complaint.submitted, ...).
            await self.runtime.outbox.forget(number, session=session)
            await self.audit.record_action(
                operator_id=SYSTEM,
                operator_login=None,
                complaint=number,
                action="erasure",
                reason=reason.value,
                trace_id=current_trace_id(),
                session=session,
            )
            await self.runtime.outbox.add(
                events.erased(number, reason=reason.value, evidence_ids=evidence_ids, erased_at=now),
                subject=number,
                session=session,
            )

        await self.transactions.run(work)
        record_work(number)
        log.info("complaint %s: personal data erased (%s)", number, reason.value)
        return erased

    async def run_once(self, now: datetime | None = None) -> RetentionReport:
        """One pass of the retention job: erase up to a batch of due complaints (each leased first, so replicas
        never erase one twice), then delete the accounts whose erasure is due and whose complaints are all erased."""
        now = now or datetime.now(UTC)
        report = RetentionReport()
        for number in await self.cases.due_for_erasure(now - self.policy.period, now, self.policy.batch):
            if not await self.cases.lease_for_erasure(number, now, now + ERASURE_LEASE):
                continue
            case = await self.cases.get(number)
            if case is None:
                continue
            reason = ErasureReason.REQUEST if _asked_and_due(case, now) else ErasureReason.RETENTION
            try:
                await self.erase(number, reason, now)
                report.erased += 1
            except (ErasureRefused, StateChanged) as refused:
                # Opened again by an operator, or changed while read: the next pass looks again.
                report.refused += 1
                log.info("complaint %s not erased: %s", number, refused)
        for account_id in await self.identities.accounts_due_for_erasure(now, self.policy.batch):
            if await self._erase_account(account_id, now):
                report.accounts_deleted += 1
        return report

    async def _erase_account(self, account_id: str, now: datetime) -> bool:
        """The account's complaints that ended are erased, then the account, unless one is still open or held
        (filed after the request, or held since): the account waits for it."""
        waiting = False
        for case in await self.cases.of_account(account_id):
            try:
                check_erasable(case)
            except ErasureRefused as refused:
                waiting = waiting or refused.refusal is not Refusal.ERASED
                continue
            try:
                await self.erase(case["_id"], ErasureReason.REQUEST, now)
            except (ErasureRefused, StateChanged):
                waiting = True
        if waiting:
            return False

        async def work(session: AsyncClientSession) -> bool:
            return await self.identities.delete_account(account_id, session)

        deleted = await self.transactions.run(work)
        if deleted:
            record_work()
            log.info("account %s erased at its holder's request", account_id)
        return deleted

    # --- the complainant's requests ---------------------------------------------------------------

    async def request(self, number: str, principal: Principal, now: datetime | None = None) -> dict[str, Any]:
        """The complainant asks for their complaint's personal data to be erased: due after the hold.
        :class:`ErasureRefused` while it is open or held (or erased already)."""
        now = now or datetime.now(UTC)
        case = await self.cases.get(number)
        if case is None:
            raise CaseNotFound(number)
        check_erasable(case)
        due_at = now + self.policy.hold

        async def work(session: AsyncClientSession) -> None:
            await self.cases.set_erasure_due(number, now, due_at, session)
            await self._audit(principal, number, "erasure_request", "", session)

        await self.transactions.run(work)
        latest = await self.cases.get(number)
        return {"number": number, "erasure_due_at": (latest or {}).get("erasure_due_at", due_at)}

    async def request_account(self, principal: Principal, now: datetime | None = None) -> dict[str, Any]:
        """The account holder asks for the account and every complaint's personal data to be erased, due after the
        hold; :class:`AccountErasureRefused` (naming each complaint and why) while any is open or held."""
        now = now or datetime.now(UTC)
        cases = [case for case in await self.cases.of_account(principal.id) if not is_erased(case)]
        refusals: dict[str, Refusal] = {}
        for case in cases:
            try:
                check_erasable(case)
            except ErasureRefused as refused:
                refusals[case["_id"]] = refused.refusal
        if refusals:
            raise AccountErasureRefused(refusals)
        due_at = now + self.policy.hold

        async def work(session: AsyncClientSession) -> None:
            for case in cases:
                await self.cases.set_erasure_due(case["_id"], now, due_at, session)
                await self._audit(principal, case["_id"], "erasure_request", "account", session)
            await self.identities.set_account_erasure_due(principal.id, now, due_at, session)

        await self.transactions.run(work)
        return {"complaints": [case["_id"] for case in cases], "erasure_due_at": due_at}

    # --- legal holds -------------------------------------------------------------------------------

    async def set_legal_hold(
        self, number: str, operator: Principal, operator_login: str | None, reason: str
    ) -> dict[str, Any]:
        """Stop the complaint's erasure (retention or request) until the hold is lifted; audited with the reason."""
        hold = {"reason": reason, "by": operator.id, "at": datetime.now(UTC)}
        return await self._hold(number, operator, operator_login, hold, reason)

    async def lift_legal_hold(
        self, number: str, operator: Principal, operator_login: str | None, reason: str
    ) -> dict[str, Any]:
        return await self._hold(number, operator, operator_login, None, reason)

    async def _hold(
        self,
        number: str,
        operator: Principal,
        operator_login: str | None,
        hold: dict[str, Any] | None,
        reason: str,
    ) -> dict[str, Any]:
        case = await self.cases.get(number)
        if case is None:
            raise CaseNotFound(number)
        if is_erased(case):
            raise ErasureRefused(number, Refusal.ERASED)

        async def work(session: AsyncClientSession) -> dict[str, Any]:
            updated = await self.cases.set_legal_hold(number, hold, actor(operator), session)
            await self.audit.record_action(
                operator_id=operator.id,
                operator_login=operator_login,
                complaint=number,
                action="legal_hold_set" if hold is not None else "legal_hold_lifted",
                reason=reason,
                trace_id=current_trace_id(),
                session=session,
            )
            return updated

        updated = await self.transactions.run(work)
        return {"number": number, "legal_hold": updated.get("legal_hold")}

    # --- the complainant's copy of their data ------------------------------------------------------

    def complaint_data(self, case: dict[str, Any]) -> dict[str, Any]:
        """Everything the case file holds about the complainant, identity opened, the platform's hashes left out."""
        sealed = case.get("complainant") or {}
        identity = {
            field: self.cipher.decrypt(field, sealed[field]) if sealed.get(field) else None for field in IDENTITY_FIELDS
        }
        data = {key: value for key, value in case.items() if key not in INTERNAL_FIELDS and key != "_id"}
        return {**data, "complainant": identity}

    async def account_data(self, principal: Principal) -> dict[str, Any]:
        """The account and every complaint it filed or claimed."""
        account = await self.identities.account_data(principal.id)
        complaints = [self.complaint_data(case) for case in await self.cases.of_account(principal.id)]
        return {"account": account, "complaints": complaints}

    async def _audit(
        self, principal: Principal, number: str, action: str, reason: str, session: AsyncClientSession
    ) -> None:
        await self.audit.record_action(
            operator_id=actor(principal),
            operator_login=None,
            complaint=number,
            action=action,
            reason=reason,
            trace_id=current_trace_id(),
            session=session,
        )


def _asked_and_due(case: dict[str, Any], now: datetime) -> bool:
    due = case.get("erasure_due_at")
    return due is not None and due <= now
