"""Screens ``complaint.submitted``: resolves the company, decides, stores the decision and publishes ``complaint.screened``.

The decision and its event are written in one transaction together with the inbox entry, so a
redelivered event changes nothing. The complaint number is the decision's key: the same complaint
submitted again under another event id gets the stored decision back and publishes nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from greenchannel.contracts import CloudEvent, ComplaintSubmitted
from greenchannel.messaging import ContractViolation
from greenchannel.runtime import ServiceRuntime
from opentelemetry import trace
from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession

from routing.adapters.companies import CompanyRepository
from routing.adapters.decisions import DecisionRepository
from routing.domain import directory
from routing.domain.calendar import WorkingDayCalendar
from routing.domain.categories import Category, effective_category
from routing.domain.directory import Resolution
from routing.domain.screening import Decision, decide

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

Clock = Callable[[], datetime]


class ScreeningHandler:
    def __init__(
        self,
        *,
        runtime: ServiceRuntime,
        companies: CompanyRepository,
        decisions: DecisionRepository,
        categories: list[Category],
        calendar: WorkingDayCalendar,
        clock: Clock,
        response_working_days: int,
    ) -> None:
        self.runtime = runtime
        self.companies = companies
        self.decisions = decisions
        self.categories = categories
        self.calendar = calendar
        self.clock = clock
        self.response_working_days = response_working_days

    async def handle(self, event: CloudEvent) -> None:
        await self.screen(event)

    async def screen(self, event: CloudEvent) -> Decision:
        """The decision on the event's complaint: made now, or the one stored for its number before."""
        try:
            submitted = ComplaintSubmitted.model_validate(event.data)
        except ValidationError as error:
            raise ContractViolation(f"complaint.submitted breaks its contract: {error}") from error

        with tracer.start_as_current_span("screen complaint") as span:
            span.set_attribute("complaint.number", submitted.number)
            decision = decide(
                submitted.number,
                await self._resolve(submitted),
                effective_category(submitted.category, self.categories),
                screened_at=self.clock(),
                calendar=self.calendar,
                response_working_days=self.response_working_days,
            )
            outcome: list[Decision] = []
            published: list[bool] = []

            async def work(session: AsyncClientSession) -> None:
                outcome.clear()
                published.clear()
                stored = await self.decisions.get(submitted.number, session=session)
                if stored is not None:
                    outcome.append(stored)
                    return
                staged = await self.runtime.outbox.add(
                    decision, subject=submitted.number, session=session
                )
                await self.decisions.insert(decision, event_id=event.id, screened_event_id=staged.id, session=session)
                outcome.append(decision)
                published.append(True)

            applied = await self.runtime.inbox.handle_once(event, work)
            if applied and published:
                self.runtime.relay.wake()
                log.info("complaint %s screened: %s %s", submitted.number, decision.decision, decision.reason or "")
                span.set_attribute("routing.decision", decision.decision)
                return decision
            # Seen before (same event id) or screened before (same number): answer the stored decision.
            stored = outcome[0] if applied else await self.decisions.get(submitted.number)
            if stored is None:  # cannot happen: the inbox entry and the decision commit together
                raise RuntimeError(f"event {event.id} was handled but complaint {submitted.number} has no decision")
            log.info("complaint %s was screened before: keeping its decision (%s)", submitted.number, stored.decision)
            span.set_attribute("routing.decision", stored.decision)
            return stored

    async def _resolve(self, submitted: ComplaintSubmitted) -> Resolution:
        if submitted.company_id:
            return directory.resolve_by_id(submitted.company_id, await self.companies.get(submitted.company_id))
        keys = directory.lookup_keys(submitted.company_name or "")
        return directory.resolve_by_name(submitted.company_name, await self.companies.find_by_keys(keys))
