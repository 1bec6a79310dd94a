"""What the console's dashboard shows at a glance: each work queue's count (with today's deadline breaches),
the pending dead letters of each service's queue, the open alerts and the companies whose webhook endpoint
is failing or gone. Each count names the list it counts, so the page links every figure to its list."""

from __future__ import annotations

from typing import Any

from greenchannel.problems import Problem
from intake.adapters.dead_letters import SERVICES, DeadLetters
from intake.adapters.service_clients import NotificationClient
from intake.core.work_queues import WorkQueues

# The alerts that say a company's endpoint does not take webhooks.
ENDPOINT_ALERTS = ("endpoint_failing", "endpoint_gone")
OPEN_ALERTS_READ = 500  # the dashboard counts up to this many open alerts


class Dashboard:
    def __init__(self, queues: WorkQueues, dead_letters: DeadLetters, notification: NotificationClient) -> None:
        self.queues = queues
        self.dead_letters = dead_letters
        self.notification = notification

    async def figures(self) -> dict[str, Any]:
        letters: dict[str, int] = {}
        for service in SERVICES:
            # What waits in the broker's dead-letter queue is moved into the store first, so it counts.
            await self.dead_letters.collect(service)
            letters[service] = await self.dead_letters.pending_count(service)
        alerts = await self._open_alerts()
        return {
            "queues": await self.queues.counts(),
            "dead_letters": letters,
            "open_alerts": None if alerts is None else len(alerts),
            "failing_endpoints": None
            if alerts is None
            else sorted(
                {alert["company_id"] for alert in alerts if alert["kind"] in ENDPOINT_ALERTS and alert["company_id"]}
            ),
        }

    async def _open_alerts(self) -> list[dict[str, Any]] | None:
        """notification's open alerts; None while it does not answer (the rest of the dashboard still shows)."""
        try:
            answer = await self.notification.operator_call(
                "GET", "/v1/alerts", [("acknowledged", "false"), ("limit", str(OPEN_ALERTS_READ))], None
            )
        except Problem:
            return None
        if not answer.is_success:
            return None
        items: list[dict[str, Any]] = answer.json()["items"]
        return items
