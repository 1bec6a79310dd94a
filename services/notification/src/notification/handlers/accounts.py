"""``account.code_issued``: queue the one-time code (or the notice that replaces it) for sending.

The dispatch is written in the inbox's transaction, so a redelivered event sends nothing twice; it
keeps the event's sealed notice, never the address or the code in clear, and the dispatch job
opens it only to send it (:mod:`notification.jobs.dispatcher`). A code that expired before its event
arrived is recorded as ``expired`` and not sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from greenchannel.contracts import AccountCodeIssued, CloudEvent
from greenchannel.mongo import after_commit
from greenchannel.runtime import ServiceRuntime
from notification.adapters.deliveries import EPOCH
from notification.adapters.dispatches import DispatchRepository
from notification.domain.dispatches import Channel, DispatchStatus


class AccountCodeHandler:
    def __init__(
        self,
        *,
        runtime: ServiceRuntime,
        dispatches: DispatchRepository,
        email_enabled: bool,
        wake_dispatch_worker: Callable[[], None],
    ) -> None:
        self.runtime = runtime
        self.dispatches = dispatches
        self.email_enabled = email_enabled
        self.wake_dispatch_worker = wake_dispatch_worker

    async def __call__(self, event: CloudEvent, data: AccountCodeIssued) -> None:
        now = datetime.now(UTC)
        channel = Channel(data.channel)
        if data.expires_at <= now:
            status = DispatchStatus.EXPIRED
        elif channel is Channel.EMAIL and not self.email_enabled:
            status = DispatchStatus.DISABLED
        else:
            status = DispatchStatus.PENDING
        pending = status is DispatchStatus.PENDING
        dispatch: dict[str, Any] = {
            "_id": uuid.uuid4().hex,
            "message_id": None,
            "number": None,
            "issue_id": data.issue_id,
            "purpose": data.purpose,
            "channel": channel,
            "status": status,
            "subject": None,
            "text": None,
            "sealed": data.sealed if pending else None,
            "expires_at": data.expires_at,
            "attempts": [],
            "next_attempt_at": now if pending else None,
            "lease_until": EPOCH,
            "claim": None,
            "last_error": None,
            "provider_ref": None,
            "created_at": now,
            "updated_at": now,
            "finished_at": None if pending else now,
        }

        async def apply(session) -> None:
            await self.dispatches.insert(dispatch, session)
            if pending:
                after_commit(session, self.wake_dispatch_worker)

        await self.runtime.inbox.handle_once(event, apply)
