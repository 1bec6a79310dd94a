"""How other services' events move a case: routing's screening decision, and the delivery of the
forwarding webhook to the company. Each handler applies one transition through the case store,
inside the inbox transaction, so a redelivered event changes nothing.
"""

from __future__ import annotations

import logging
from datetime import date

from greenchannel.contracts import (
    CloudEvent,
    ComplainantContact,
    ComplaintAccepted,
    ComplaintForwarded,
    ComplaintRejected,
    ComplaintScreened,
    EventData,
    EvidenceRef,
    WebhookDelivered,
)
from greenchannel.messaging import ContractViolation
from greenchannel.runtime import ServiceRuntime
from pydantic import ValidationError

from intake.adapters.case_store import CaseNotFound, CaseStore
from intake.domain.lifecycle import Action, IllegalTransition

log = logging.getLogger(__name__)

FORWARDING_WEBHOOK = "complaint.forwarded"


def _parse(event: CloudEvent, model: type[EventData]):
    try:
        return event.payload(model)
    except ValidationError as error:
        raise ContractViolation(str(error)) from None


class LifecycleHandlers:
    def __init__(self, runtime: ServiceRuntime, cases: CaseStore) -> None:
        self.runtime = runtime
        self.cases = cases

    async def on_screened(self, event: CloudEvent) -> None:
        decision: ComplaintScreened = _parse(event, ComplaintScreened)

        async def apply(session) -> None:
            if decision.decision == "accepted":
                if not (decision.company_id and decision.company_name and decision.category and decision.response_due):
                    raise ContractViolation("an acceptance must name the company, category and response deadline")
                await self.cases.transition(
                    decision.number, Action.ACCEPT, actor="routing", session=session,
                    detail=f"{decision.company_name} / {decision.category}",
                    fields={"company_id": decision.company_id, "company_name": decision.company_name,
                            "category": decision.category, "response_due": decision.response_due.isoformat(),
                            "accepted_at": decision.screened_at},
                    event=lambda case: _accepted(case, decision),
                )
            else:
                await self.cases.transition(
                    decision.number, Action.REJECT, actor="routing", session=session,
                    detail=decision.reason or "", fields={"rejection": {"reason": decision.reason, "detail": decision.detail}},
                    event=lambda case: ComplaintRejected(number=case["number"], reason=decision.reason or "unspecified",
                                                         detail=decision.detail, rejected_at=decision.screened_at),
                )

        await self._apply_once(event, decision.number, apply)

    async def on_webhook_delivered(self, event: CloudEvent) -> None:
        delivered: WebhookDelivered = _parse(event, WebhookDelivered)
        if delivered.event_type != FORWARDING_WEBHOOK:
            return

        async def apply(session) -> None:
            await self.cases.transition(
                delivered.number, Action.FORWARD, actor="notification", session=session,
                detail=f"webhook {delivered.webhook_id} delivered after {delivered.attempts} attempt(s)",
                fields={"forwarded_at": delivered.delivered_at, "forwarding_webhook_id": delivered.webhook_id},
                event=lambda case: ComplaintForwarded(number=case["number"], company_id=case["company_id"],
                                                      forwarded_at=delivered.delivered_at, webhook_id=delivered.webhook_id),
            )

        await self._apply_once(event, delivered.number, apply)

    async def _apply_once(self, event: CloudEvent, number: str, apply) -> None:
        async def guarded(session) -> None:
            try:
                await apply(session)
            except IllegalTransition as refused:
                # A late or repeated decision about a case that has moved on: record it as handled.
                log.info("event %s (%s) ignored for %s: %s", event.id, event.type, number, refused)
            except CaseNotFound:
                raise ContractViolation(f"no complaint {number}") from None

        if await self.runtime.inbox.handle_once(event, guarded):
            self.runtime.relay.wake()


def _accepted(case: dict, decision: ComplaintScreened) -> ComplaintAccepted:
    return ComplaintAccepted(
        number=case["number"], company_id=case["company_id"], company_name=case["company_name"],
        category=case["category"], title=case["title"], description=case["description"],
        occurred_on=date.fromisoformat(case["occurred_on"]), desired_outcome=case["desired_outcome"],
        complainant=ComplainantContact(name=case["complainant_masked"]["name"], phone=case["complainant_masked"]["phone"]),
        evidence=[EvidenceRef(**ref) for ref in case["evidence"]],
        response_due=decision.response_due, accepted_at=decision.screened_at,
    )
