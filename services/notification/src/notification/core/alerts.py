"""Operator alerts: acknowledging one (it stays in the list, marked as seen)."""

from __future__ import annotations

from typing import Any

from greenchannel.problems import Problem
from notification.adapters.alerts import AlertRepository


class AlertAcknowledgement:
    def __init__(self, alerts: AlertRepository) -> None:
        self.alerts = alerts

    async def acknowledge(self, alert_id: str) -> dict[str, Any]:
        alert = await self.alerts.acknowledge(alert_id)
        if alert is None:
            raise Problem(404, "alert_not_found", f"No alert {alert_id}.")
        return alert
