"""Erases the personal data of complaints whose retention period after closing ran out, and of those whose
complainant asked once the hold passed, every ``RETENTION_INTERVAL_S``: a batch a pass, each complaint leased to one
replica (``core.retention.Retention.run_once``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from greenchannel.periodic import every
from intake.core.retention import Retention

NAME = "retention"


def retention(use_case: Retention, interval_s: float) -> Callable[[], Coroutine[Any, Any, None]]:
    """The job, for ``ServiceRuntime.start(jobs=...)``; its first turn at the start (a replica restarted more often
    than the interval would otherwise never erase anything)."""

    async def run() -> None:
        await every(interval_s, use_case.run_once, "retention")

    return run
