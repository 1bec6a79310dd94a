"""A job that runs one step, waits, and runs it again, for as long as the service runs; a failed step is logged
and tried again at the next turn (the store may be away for a while). Every periodic job of the services runs on it
(each service's ``jobs/``).

Each turn is a :func:`~greenchannel.telemetry.job_run` named ``job``: a trace of its own when the step
did work (it calls :func:`~greenchannel.telemetry.record_work`) or failed, nothing when it found nothing to do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from greenchannel.telemetry import job_run

log = logging.getLogger(__name__)


async def every(
    interval_s: float, step: Callable[[], Awaitable[object]], job: str, *, wait_first: bool = False
) -> None:
    """``wait_first``: the first turn comes after one interval, for a job with nothing to find at start."""
    if wait_first:
        await asyncio.sleep(interval_s)
    while True:
        try:
            with job_run(job):
                await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", job)
        await asyncio.sleep(interval_s)
