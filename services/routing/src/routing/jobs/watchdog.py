"""The SLA watchdog: a periodic pass that raises reminders, overdue flags and elapsed quiet periods, once each.

A pass claims the clocks whose next check has come, one at a time with a lease
(``ClockRepository.claim_due``), lets the pure rules decide what is due (``ClockRules.check``), and
writes the flags together with the events in one transaction. Any number of replicas (or racing
passes) run at once: each clock is claimed by one of them, and a flag once written is never
raised again. Time is read only through the injected ``clock`` (tests pin and advance it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from opentelemetry import trace
from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import CloudEvent
from greenchannel.mongo import in_transaction
from greenchannel.periodic import every
from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import record_work
from routing.adapters.clocks import ClockRepository, LeaseLost
from routing.domain.clock import Clock, ClockRules

log = logging.getLogger(__name__)

# A bound on one pass, so one pass never runs away; what is left is found by the next one.
MAX_CLOCKS_PER_PASS = 1000


@dataclass
class WatchdogPass:
    checked_at: datetime
    published: list[CloudEvent]


class Watchdog:
    def __init__(
        self,
        *,
        runtime: ServiceRuntime,
        clocks: ClockRepository,
        rules: ClockRules,
        clock: Callable[[], datetime],
        interval_s: float,
        lease_s: float,
    ) -> None:
        self.runtime = runtime
        self.clocks = clocks
        self.rules = rules
        self.clock = clock
        self.interval_s = interval_s
        self.lease_s = lease_s

    async def run(self) -> None:
        await every(self.interval_s, self.run_once, "watchdog run")

    async def run_once(self) -> WatchdogPass:
        """One pass over the clocks due now; answers the time it decided at and the events it staged.

        Each clock claimed is work of the run (its trace, when run as a job, names the complaints); the
        events staged carry the run's trace on through the broker."""
        now = self.clock()
        published: list[CloudEvent] = []
        for _ in range(MAX_CLOCKS_PER_PASS):
            claimed = await self.clocks.claim_due(now, self.lease_s)
            if claimed is None:
                break
            record_work(claimed[0].number)
            published += await self._check(*claimed, now)
        trace.get_current_span().set_attribute("sla.published", len(published))
        return WatchdogPass(checked_at=now, published=published)

    async def _check(self, clock: Clock, claim: str, now: datetime) -> list[CloudEvent]:
        """Decide on one claimed clock; write its flags and stage its events in one transaction."""
        outcome = self.rules.check(clock, now)
        checked = outcome.changed[0] if outcome.changed else clock
        staged: list[CloudEvent] = []

        async def work(session: AsyncClientSession) -> None:
            staged.clear()
            await self.clocks.save_checked(checked, claim, session)
            staged.extend(
                [await self.runtime.outbox.add(data, subject=clock.number, session=session) for data in outcome.events]
            )

        try:
            await in_transaction(self.runtime.mongo, work)
        except LeaseLost:
            log.info(
                "clock %s/%s changed while the watchdog checked it; the next pass decides again",
                clock.number,
                clock.kind,
            )
            return []
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("watchdog check of clock %s/%s failed", clock.number, clock.kind)
            return []
        for event in staged:
            log.info("complaint %s: %s (%s clock)", clock.number, event.type, clock.kind)
        return staged
