"""Watches every service's dead-letter queue and alerts operators when one grows.

Each pass reads the queues' depths from the broker; a queue at or above the threshold raises an
alert, and another each time it has doubled since (alerts are keyed by queue and depth, so replicas
watching at once raise each alert once). A queue that empties resets its watch. A pass is a job run
(``dead-letter watch``): traced only when it raised an alert or changed a watch.
"""

from __future__ import annotations

from datetime import UTC, datetime

from greenchannel.messaging import CONSUMERS
from greenchannel.periodic import every
from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import record_work
from notification.adapters.alerts import AlertRepository
from notification.domain.alerts import dead_letters_alert_due, dead_letters_growing


class DeadLetterWatch:
    def __init__(self, runtime: ServiceRuntime, alerts: AlertRepository, threshold: int, interval_s: float) -> None:
        self.runtime = runtime
        self.alerts = alerts
        self.threshold = threshold
        self.interval_s = interval_s
        self.state = runtime.db["dead_letter_watch"]

    async def run(self) -> None:
        # The broker is seldom connected yet at start: the first look comes after one interval.
        await every(self.interval_s, self.check_once, "dead-letter watch", wait_first=True)

    async def check_once(self) -> list[str]:
        """One look at every dead-letter queue; answers the queues that raised an alert."""
        if not self.runtime.broker.is_connected:
            return []
        raised = []
        prefix = self.runtime.settings.queue_prefix
        for service in CONSUMERS:
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
                if await self.alerts.raise_alert(dead_letters_growing(queue, depth, datetime.now(UTC))):
                    raised.append(queue)
                await self.state.update_one({"_id": queue}, {"$set": {"last_alerted_depth": depth}}, upsert=True)
        return raised
