"""How other services' events move a case: routing's screening decision, and the delivery of the
forwarding webhook to the company. Each handler applies one transition through the case store,
inside the inbox transaction, so a redelivered event changes nothing.
"""

from __future__ import annotations

import logging

from greenchannel.contracts import (
    FORWARDING_WEBHOOK_TYPE,
    CloudEvent,
    ComplaintScreened,
    SlaDeadlineSet,
    SlaOverdue,
    SlaQuietPeriodElapsed,
    SlaReminder,
    WebhookDelivered,
)
from greenchannel.messaging import ContractViolation
from greenchannel.runtime import ServiceRuntime
from greenchannel.sealing import KeyRingCipher
from intake.adapters.case_store import CaseNotFound, CaseStore
from intake.core import events
from intake.domain.lifecycle import Action, IllegalTransition

log = logging.getLogger(__name__)


class LifecycleHandlers:
    def __init__(self, runtime: ServiceRuntime, cases: CaseStore, cipher: KeyRingCipher | None = None) -> None:
        self.runtime = runtime
        self.cases = cases
        # Opens the complainant's phone, which the texts sent to the company keep; without it every phone is masked.
        self.cipher = cipher

    async def on_screened(self, event: CloudEvent, decision: ComplaintScreened) -> None:

        async def apply(session) -> None:
            if decision.decision == "accepted":
                if not (decision.company_id and decision.company_name and decision.category and decision.response_due):
                    raise ContractViolation("an acceptance must name the company, category and response deadline")
                await self.cases.transition(
                    decision.number,
                    Action.ACCEPT,
                    actor="routing",
                    session=session,
                    detail=f"{decision.company_name} / {decision.category}",
                    fields={
                        "company_id": decision.company_id,
                        "company_name": decision.company_name,
                        "category": decision.category,
                        "response_due": decision.response_due.isoformat(),
                        "accepted_at": decision.screened_at,
                    },
                    events=lambda case: [
                        events.accepted(
                            case,
                            accepted_at=decision.screened_at,
                            response_due=decision.response_due,
                            own_phone=events.complainant_phone(case, self.cipher),
                        )
                    ],
                )
            elif decision.decision == "company_unresolved":
                # No rejection: the operators' review queue lists it until one resolves the company or rejects it.
                await self.cases.transition(
                    decision.number,
                    Action.REFER_FOR_REVIEW,
                    actor="routing",
                    session=session,
                    detail=decision.reason or "",
                    fields={"company_review": {"reason": decision.reason, "detail": decision.detail}},
                )
            else:
                await self.cases.transition(
                    decision.number,
                    Action.REJECT,
                    actor="routing",
                    session=session,
                    detail=decision.reason or "",
                    fields={"rejection": {"reason": decision.reason, "detail": decision.detail}},
                    events=lambda case: [
                        events.rejected(
                            case,
                            reason=decision.reason or "unspecified",
                            detail=decision.detail,
                            rejected_at=decision.screened_at,
                        )
                    ],
                )

        await self._apply_once(event, decision.number, apply)

    async def on_webhook_delivered(self, event: CloudEvent, delivered: WebhookDelivered) -> None:
        if delivered.event_type != FORWARDING_WEBHOOK_TYPE:
            return

        async def apply(session) -> None:
            await self.cases.transition(
                delivered.number,
                Action.FORWARD,
                actor="notification",
                session=session,
                detail=f"webhook {delivered.webhook_id} delivered after {delivered.attempts} attempt(s)",
                fields={
                    "forwarded_at": delivered.delivered_at,
                    "forwarding_webhook_id": delivered.webhook_id,
                    "round": 1,
                },
                events=lambda case: [
                    events.forwarded(case, forwarded_at=delivered.delivered_at, webhook_id=delivered.webhook_id)
                ],
            )

        await self._apply_once(event, delivered.number, apply)

    async def on_deadline_set(self, event: CloudEvent, deadline: SlaDeadlineSet) -> None:
        field = "response_due" if deadline.kind == "response" else "appeal_due"

        async def apply(session) -> None:
            await self.cases.note(
                deadline.number,
                "routing",
                f"deadline_{deadline.reason}",
                session=session,
                detail=f"{deadline.kind} due {deadline.due.isoformat()}",
                fields={field: deadline.due.isoformat(), "overdue": False},
            )

        await self._apply_once(event, deadline.number, apply)

    async def on_reminder(self, event: CloudEvent, reminder: SlaReminder) -> None:

        async def apply(session) -> None:
            await self.cases.note(
                reminder.number,
                "routing",
                "deadline_reminder",
                session=session,
                detail=f"{reminder.working_days_left} working day(s) left until {reminder.due.isoformat()}",
            )

        await self._apply_once(event, reminder.number, apply)

    async def on_overdue(self, event: CloudEvent, overdue: SlaOverdue) -> None:

        async def apply(session) -> None:
            # A flag, not a state: the case stays where it is and shows in the operators' queue.
            await self.cases.note(
                overdue.number,
                "routing",
                "overdue",
                session=session,
                detail=f"{overdue.kind} was due {overdue.due.isoformat()}",
                fields={"overdue": True, "overdue_kind": overdue.kind},
            )

        await self._apply_once(event, overdue.number, apply)

    async def on_quiet_period_elapsed(self, event: CloudEvent, quiet: SlaQuietPeriodElapsed) -> None:

        async def apply(session) -> None:
            await self.cases.transition(
                quiet.number,
                Action.AUTO_CLOSE,
                actor="routing",
                session=session,
                detail="auto_closed",
                fields={"closure": {"outcome": "auto_closed", "at": quiet.elapsed_at}},
                events=lambda case: [events.closed(case, outcome="auto_closed", closed_at=quiet.elapsed_at)],
            )

        await self._apply_once(event, quiet.number, apply)

    async def _apply_once(self, event: CloudEvent, number: str, apply) -> None:
        async def guarded(session) -> None:
            try:
                await apply(session)
            except IllegalTransition as refused:
                # A late or repeated decision about a case that has moved on: record it as handled.
                log.info("event %s (%s) ignored for %s: %s", event.id, event.type, number, refused)
            except CaseNotFound:
                raise ContractViolation(f"no complaint {number}") from None

        await self.runtime.inbox.handle_once(event, guarded)
