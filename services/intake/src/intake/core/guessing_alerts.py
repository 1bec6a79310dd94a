"""Many addresses failing at one secret: raised for operators as ``access.guessing_detected`` (notification
turns it into an alert). Published through the outbox like every other event, so it survives a broker outage.
"""

from __future__ import annotations

from datetime import UTC, datetime

from greenchannel.mongo import in_transaction
from greenchannel.runtime import ServiceRuntime
from intake.core import events
from intake.domain.guessing import SecretKind


class GuessingAlerts:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    async def __call__(
        self, kind: SecretKind, target: str, sources: int, failures: int, window_started_at: datetime
    ) -> None:
        event = events.guessing_detected(
            kind,
            target,
            sources=sources,
            failures=failures,
            window_started_at=window_started_at,
            detected_at=datetime.now(UTC),
        )
        await in_transaction(
            self.runtime.mongo, lambda session: self.runtime.outbox.add(event, subject=target, session=session)
        )
