"""``access.guessing_detected`` from intake: an operator alert, applied once in the inbox's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from greenchannel.contracts import AccessGuessingDetected, CloudEvent
from greenchannel.runtime import ServiceRuntime
from notification.adapters.alerts import AlertRepository
from notification.domain.alerts import access_guessing


class GuessingAlertHandler:
    def __init__(self, runtime: ServiceRuntime, alerts: AlertRepository) -> None:
        self.runtime = runtime
        self.alerts = alerts

    async def __call__(self, event: CloudEvent, data: AccessGuessingDetected) -> None:
        alert = access_guessing(
            data.secret,
            data.target,
            data.number,
            data.distinct_sources,
            data.failures,
            data.window_started_at,
            datetime.now(UTC),
        )

        async def apply(session) -> None:
            await self.alerts.raise_alert(alert, session)

        await self.runtime.inbox.handle_once(event, apply)
