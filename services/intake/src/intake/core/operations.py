"""Operators' actions on the platform's plumbing rather than on one case: dead letters (replay, replay all,
discard with a note) and what notification owns (redeliver a webhook, disable or enable a company's endpoint,
acknowledge an alert, and an admin's endpoint changes). Each writes its audit entry once it succeeded; the
effect lives in the broker or in another service, so no transaction of ours could hold both."""

from __future__ import annotations

import json
from typing import Any

import httpx

from intake.adapters.dead_letters import DeadLetters
from intake.adapters.service_clients import NotificationClient
from intake.core.audit import Audit
from intake.domain.principals import Principal

# The longest note of a pass-on action the audit entry keeps (a disabling reason).
NOTE_LENGTH = 500


class Operations:
    def __init__(self, dead_letters: DeadLetters, notification: NotificationClient, audit: Audit) -> None:
        self.dead_letters = dead_letters
        self.notification = notification
        self.audit = audit

    async def replay(self, letter_id: str, operator: Principal) -> dict[str, Any] | None:
        """Back into the queue of the consumer that failed on it; None unless it was pending."""
        letter = await self.dead_letters.replay(letter_id, operator.id)
        if letter is not None:
            await self.audit.action(
                operator, "dead_letter_replay", complaint=_subject(letter), target=f"{letter['service']}:{letter_id}"
            )
        return letter

    async def replay_all(self, service: str, operator: Principal) -> int:
        """Every pending dead letter of ``service``, after what waits in the broker was collected."""
        await self.dead_letters.collect(service)
        replayed = [
            letter_id
            for letter_id in await self.dead_letters.pending_ids(service)
            if await self.dead_letters.replay(letter_id, operator.id) is not None
        ]
        if replayed:
            await self.audit.action(
                operator, "dead_letter_replay_all", target=service, detail=f"{len(replayed)} replayed"
            )
        return len(replayed)

    async def discard(self, letter_id: str, operator: Principal, note: str) -> dict[str, Any] | None:
        letter = await self.dead_letters.discard(letter_id, operator.id, note)
        if letter is not None:
            await self.audit.action(
                operator,
                "dead_letter_discard",
                complaint=_subject(letter),
                target=f"{letter['service']}:{letter_id}",
                reason=note,
            )
        return letter

    async def notification_action(
        self,
        operator: Principal,
        action: str,
        target: str,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        body: bytes | None,
        *,
        as_admin: bool = False,
    ) -> httpx.Response:
        """Pass an action on to notification's operator API; audited when notification carried it out. A body's
        ``reason`` (disabling an endpoint) is the entry's reason; a secret in a body is never recorded."""
        answer = await self.notification.operator_call(method, path, params, body, as_admin=as_admin)
        if answer.is_success:
            await self.audit.action(operator, action, target=target, reason=_reason(body))
        return answer


def _subject(letter: dict[str, Any]) -> str | None:
    """The complaint number a dead letter's event concerns (CloudEvents ``subject``), when it names one."""
    event = letter.get("event")
    subject = event.get("subject") if isinstance(event, dict) else None
    return subject if isinstance(subject, str) else None


def _reason(body: bytes | None) -> str | None:
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    reason = parsed.get("reason") if isinstance(parsed, dict) else None
    return reason[:NOTE_LENGTH] if isinstance(reason, str) else None
