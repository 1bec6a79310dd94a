"""Applies lifecycle events to the complaint's SLA clocks (``domain/clock.py``) and publishes what they imply.

Each event is applied inside the inbox transaction: the clocks it changes and the ``sla.*`` events
it implies commit together with the inbox entry, so a redelivery changes nothing. A withdrawal or
a redirection also updates the complaint's stored signature in the same transaction (a withdrawn
complaint is no original of a duplicate any more; a redirected one is compared under its new company). An event that
does not apply (a duplicate under another id, or one that arrived out of order) is recorded in
the inbox and ignored, never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from opentelemetry import trace
from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import CloudEvent, ComplaintRedirected, ComplaintWithdrawn, EventData
from greenchannel.runtime import ServiceRuntime
from routing.adapters.clocks import ClockRepository
from routing.adapters.similarity import SimilarityRepository
from routing.domain.clock import ClockRules, Outcome

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

Clock = Callable[[], datetime]


class ClockEventHandler:
    def __init__(
        self,
        *,
        runtime: ServiceRuntime,
        clocks: ClockRepository,
        rules: ClockRules,
        clock: Clock,
        similar: SimilarityRepository,
    ) -> None:
        self.runtime = runtime
        self.clocks = clocks
        self.similar = similar
        self.rules = rules
        self.clock = clock

    async def handle(self, event: CloudEvent, data: EventData) -> None:
        """Apply one of the events the clocks follow (``domain.clock.CLOCK_EVENTS``)."""
        number: str = data.number  # type: ignore[attr-defined]  # every event the clocks follow names its complaint
        with tracer.start_as_current_span("apply to sla clocks") as span:
            span.set_attribute("complaint.number", number)
            span.set_attribute("event.type", event.type)
            outcome: list[Outcome] = []

            async def work(session: AsyncClientSession) -> None:
                outcome.clear()
                response, appeal = await self.clocks.load(number, session)
                result = self.rules.apply(data, response, appeal, now=self.clock())
                for changed in result.changed:
                    await self.clocks.save(changed, session)
                for staged in result.events:
                    await self.runtime.outbox.add(staged, subject=number, session=session)
                if isinstance(data, ComplaintWithdrawn):
                    await self.similar.withdrawn(number, data.withdrawn_at, session)
                elif isinstance(data, ComplaintRedirected):
                    await self.similar.redirected(number, data.to_company_id, session)
                outcome.append(result)

            applied = await self.runtime.inbox.handle_once(event, work)
            if not applied:
                return
            result = outcome[0]
            if result.ignored:
                log.info("complaint %s: %s ignored by the clocks (%s)", number, event.type, result.ignored)
                span.set_attribute("sla.ignored", result.ignored)
            else:
                log.info("complaint %s: %s applied to the clocks", number, event.type)
