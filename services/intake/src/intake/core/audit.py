"""Who did what: the audit entry every operator action writes (``intake.adapters.audit_log``), with the
operator's login as it is now and the trace the action ran under. The use cases call it, never the routers,
so an action has its entry whichever edge asked for it (the API, the console)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.telemetry import current_trace_id
from intake.adapters.audit_log import AuditLog
from intake.adapters.identities import Identities
from intake.domain.principals import Kind, Principal


class Audit:
    def __init__(self, log: AuditLog, identities: Identities) -> None:
        self.log = log
        self.identities = identities

    async def login_of(self, operator: Principal) -> str | None:
        account = await self.identities.account_state(Kind.OPERATOR, operator.id)
        return account.login if account else None

    async def action(
        self,
        operator: Principal,
        action: str,
        *,
        complaint: str | None = None,
        target: str | None = None,
        reason: str | None = None,
        detail: str | None = None,
        session: AsyncClientSession | None = None,
    ) -> dict[str, Any]:
        """Record ``action``; inside the action's transaction when it has one (``session``)."""
        return await self.log.record_action(
            operator_id=operator.id,
            operator_login=await self.login_of(operator),
            action=action,
            complaint=complaint,
            target=target,
            reason=reason or None,
            detail=detail or None,
            trace_id=current_trace_id(),
            session=session,
        )
