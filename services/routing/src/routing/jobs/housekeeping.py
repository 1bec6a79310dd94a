"""Routing's housekeeping: the LSH band keys of complaints filed before the clustering window are removed.

No newcomer can join a cluster with such a complaint any more, so its band keys only cost index
space and reads (``SimilarityRepository.drop_old_bands``). The job runs in every replica; the
update is idempotent, so replicas running it at once do no harm. A day of margin keeps every
complaint a newcomer might still be compared with, whatever the lag between filing and screening.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from greenchannel.periodic import every
from greenchannel.telemetry import record_work
from routing.adapters.similarity import SimilarityRepository

log = logging.getLogger(__name__)

MARGIN = timedelta(days=1)


class BandPruning:
    def __init__(
        self, *, similar: SimilarityRepository, clock: Callable[[], datetime], window: timedelta, interval_s: float
    ) -> None:
        self.similar = similar
        self.clock = clock
        self.window = window
        self.interval_s = interval_s

    async def run(self) -> None:
        await every(self.interval_s, self.run_once, "band pruning")

    async def run_once(self) -> int:
        """Drop what is older than the window (nothing while clustering is off); answers how many complaints."""
        if self.window <= timedelta(0):
            return 0
        dropped = await self.similar.drop_old_bands(self.clock() - self.window - MARGIN)
        if dropped:
            record_work()
            log.info("dropped the band keys of %d complaints older than the clustering window", dropped)
        return dropped
