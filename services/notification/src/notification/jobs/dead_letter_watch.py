"""Watches every service's dead-letter queue and alerts operators when one grows.

Each pass reads the queues' depths from the broker; a queue at or above the threshold raises an
alert, and another each time it has doubled since (alerts are keyed by queue and depth, so replicas
watching at once raise each alert once). A queue that empties resets its watch. A pass is a job run
(``dead-letter watch``): traced only when it raised an alert or changed a watch.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import job_run, record_work

from notification.adapters.alerts import AlertRepository
from notification.domain.alerts import dead_letters_alert_due, dead_letters_growing

log = logging.getLogger(__name__)

SERVICES = ("intake", "routing", "notification", "evidence")


class DeadLetterWatch:
    def __init__(self, runtime: ServiceRuntime, alerts: AlertRepository, threshold: int, interval_s: float) -> None:
        self.runtime = runtime
        self.alerts = alerts
        self.threshold = threshold
        self.interval_s = interval_s
        self.state = runtime.db["dead_letter_watch"]

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                with job_run("dead-letter watch"):
                    await self.check_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the broker or store is away: look again next time
                log.warning("dead-letter watch pass failed", exc_info=True)

    async def check_once(self) -> list[str]:
        """One look at every dead-letter queue; answers the queues that raised an alert."""
        if not self.runtime.broker.is_connected:
            return []
        raised = []
        prefix = self.runtime.settings.queue_prefix
        for service in SERVICES:
            queue = f"{prefix}.{service}.dlq"
            depth = await self.runtime.broker.queue_depth(queue)
            if depth is None:
                continue
            watch = await self.state.find_one({"_id": queue}) or {"last_alerted_depth": 0}
            if depth == 0:
                if watch["last_alerted_depth"]:  # an empty queue whose watch is reset already needs no write
                    record_work()
                    await self.state.update_one({"_id": queue}, {"$set": {"last_alerted_depth": 0}}, upsert=True)
            elif dead_letters_alert_due(depth, self.threshold, watch["last_alerted_depth"]):
                record_work()
                if await self.alerts.raise_alert(dead_letters_growing(queue, depth, datetime.now(timezone.utc))):
                    raised.append(queue)
                await self.state.update_one({"_id": queue}, {"$set": {"last_alerted_depth": depth}}, upsert=True)
        return raised
