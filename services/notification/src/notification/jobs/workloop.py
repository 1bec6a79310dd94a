"""The loop behind the delivery worker and the dispatch job: claim due work with a lease, run up to
``concurrency`` attempts at once, and wait for a wake-up or the poll interval when nothing is due.

Claiming is the work source's business (an atomic ``find_one_and_update`` that sets a lease), so
any number of replicas run the loop at once without making the same attempt together.

Work this process creates need not be claimed: while the loop runs, :meth:`ClaimLoop.reserve` gives the
lease fields to write into the new document (leased to this loop from its insert), and
:meth:`ClaimLoop.take`, called once the insert is committed, hands the document over in memory. That saves
the claim's write; if the process dies first, the lease runs out and any replica claims it as before.

Each claim is a job run (``<name> claim``): a claim that found nothing exports no trace; one that
found an item is a trace naming its complaint, and the attempt's spans that belong to no other
trace are its children.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from greenchannel.telemetry import job_run, record_work

log = logging.getLogger(__name__)


class ClaimLoop:
    def __init__(
        self,
        *,
        name: str,
        claim: Callable[[], Awaitable[dict[str, Any] | None]],
        attempt: Callable[[dict[str, Any]], Coroutine[Any, Any, None]],
        poll_interval_s: float,
        concurrency: int,
        lease_s: float,
    ) -> None:
        self.name = name
        self.claim = claim
        self.attempt = attempt
        self.poll_interval_s = poll_interval_s
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease_s)
        self.running = False
        self._wakeup = asyncio.Event()
        self._handed: deque[dict[str, Any]] = deque()

    def wake(self) -> None:
        """Work became due (created or released): claim it now rather than at the next poll."""
        self._wakeup.set()

    def reserve(self) -> dict[str, Any] | None:
        """The lease fields (``lease_until``, ``claim``) that make a new document this loop's from its insert;
        ``None`` when the loop does not run in this process (the document is then claimed as usual)."""
        if not self.running:
            return None
        return {"lease_until": datetime.now(UTC) + self.lease, "claim": uuid.uuid4().hex}

    def take(self, item: dict[str, Any]) -> None:
        """A document written with :meth:`reserve`'s fields was committed: attempt it without claiming it."""
        self._handed.append(item)
        self._wakeup.set()

    async def _next(self) -> dict[str, Any] | None:
        if self._handed:
            return self._handed.popleft()
        return await self.claim()

    async def run(self) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        in_flight: set[asyncio.Task[None]] = set()

        def finished(done: asyncio.Task[None]) -> None:
            in_flight.discard(done)
            slots.release()

        self.running = True
        try:
            while True:
                await slots.acquire()
                # Cleared before the claim: a wake-up that arrives during the claim is not lost.
                self._wakeup.clear()
                item = attempt_context = None
                try:
                    with job_run(f"{self.name} claim"):
                        item = await self._next()
                        if item is not None:
                            record_work(item.get("number"))
                            # The attempt runs in the run's context: its spans without a trace of
                            # their own are the run's.
                            attempt_context = contextvars.copy_context()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("claiming due %s work failed", self.name)
                if item is None:
                    slots.release()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_interval_s)
                    continue
                task = asyncio.create_task(
                    self.attempt(item), name=f"{self.name} {item['_id']}", context=attempt_context
                )
                in_flight.add(task)
                task.add_done_callback(finished)
        finally:
            self.running = False
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
