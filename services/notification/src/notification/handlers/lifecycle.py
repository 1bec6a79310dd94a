"""Every lifecycle event notification consumes, applied once in the inbox's transaction: the company's
webhook (:mod:`notification.domain.company_webhooks`), the complainant's inbox message
(:mod:`notification.domain.messages`) and the e-mail and SMS that carry it, and the operators'
``case_overdue`` alert when a company missed its response deadline.

A webhook or a message is keyed by the event (the webhook id, the message's and its dispatches' ids are
derived from the event id), so a copy of the event finds them written and makes nothing twice, with no
inbox record of its own. When these keyed documents are all the event makes, each is written on its own,
without a transaction: a copy of the event (a redelivery after a failure half-way, or one racing it on
another replica) writes the ones still missing and leaves the others as they are, so the event's effect is
complete once any copy was acknowledged. An event that also raises an operators' alert writes everything in
one transaction, refused as a whole by the keys (``Inbox.handle_keyed``); one that makes neither goes
through the inbox. An event recorded in the inbox (applied before the keys existed) is skipped. A delivery or dispatch due at once
is written leased to this process's worker (when one runs here) and handed to it after the commit, so
its first attempt needs no claim. The webhook id comes from
the event id, so even a second write would collide on ``_id``. The company receives the event's
data exactly as its contract defines it (masked contact data, evidence by reference).
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from greenchannel.contracts import CloudEvent, ComplaintAccepted, EventData, SlaOverdue
from greenchannel.messaging import ContractViolation
from greenchannel.mongo import after_commit
from greenchannel.runtime import ServiceRuntime
from notification.adapters.alerts import AlertRepository
from notification.adapters.deliveries import EPOCH, DeliveryRepository, new_delivery
from notification.adapters.dispatches import DispatchRepository
from notification.adapters.endpoints import EndpointRepository
from notification.adapters.messages import CompanyNames, MessageRepository
from notification.domain.alerts import case_overdue
from notification.domain.company_webhooks import COMPANY_WEBHOOKS, CompanyWebhook, company_webhook
from notification.domain.deliveries import DeliveryStatus, UnusableEventId, webhook_id_for, webhook_payload
from notification.domain.dispatches import Channel, DispatchStatus, email_subject, email_text, sms_text
from notification.domain.messages import (
    COMPLAINANT_MESSAGES,
    SMS_KINDS,
    MessageTexts,
    RenderedMessage,
    facts_of,
    message_text_key,
)
from notification.jobs.workloop import ClaimLoop

log = logging.getLogger(__name__)

# The contracts this handler is subscribed to: every event that may make a webhook or a message.
CONSUMED_EVENTS: tuple[type[EventData], ...] = tuple(
    sorted(set(COMPANY_WEBHOOKS) | set(COMPLAINANT_MESSAGES), key=lambda model: model.EVENT_TYPE)
)


def keyed_id(event_id: str, *parts: str) -> str:
    """The id of a document one event makes (its message, a dispatch per channel): the same for every copy of
    the event, so a second copy fails on it. Shaped like the random ids of documents made before."""
    return uuid.uuid5(uuid.NAMESPACE_URL, ":".join(("greenchannel-event", event_id, *parts))).hex


def _now_ms() -> datetime:
    # MongoDB keeps milliseconds; a cursor made from a stored time must match it exactly.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class LifecycleEventHandler:
    def __init__(
        self,
        *,
        runtime: ServiceRuntime,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        messages: MessageRepository,
        company_names: CompanyNames,
        dispatches: DispatchRepository,
        alerts: AlertRepository,
        texts: MessageTexts,
        email_enabled: bool,
        wake_delivery_worker: Callable[[], None],
        wake_dispatch_worker: Callable[[], None],
        delivery_handover: ClaimLoop | None = None,
        dispatch_handover: ClaimLoop | None = None,
    ) -> None:
        self.runtime = runtime
        self.endpoints = endpoints
        self.deliveries = deliveries
        self.messages = messages
        self.company_names = company_names
        self.dispatches = dispatches
        self.alerts = alerts
        self.texts = texts
        self.email_enabled = email_enabled
        self.wake_delivery_worker = wake_delivery_worker
        self.wake_dispatch_worker = wake_dispatch_worker
        self.delivery_handover = delivery_handover
        self.dispatch_handover = dispatch_handover

    async def __call__(self, event: CloudEvent, data: EventData) -> None:
        try:
            webhook_id = webhook_id_for(event.id)
        except UnusableEventId as error:
            raise ContractViolation(str(error)) from error
        number: str = data.number  # type: ignore[attr-defined]  # every consumed event names its complaint
        webhook = company_webhook(data)
        text_key = message_text_key(data)
        parked = handed = False

        async def apply(session: AsyncClientSession | None) -> None:
            nonlocal parked, handed
            if webhook is not None:
                parked, handed = await self._record_delivery(event, data, webhook, webhook_id, session)
            if text_key is not None:
                # complaint.accepted names the company; its message keeps the name for the later ones.
                company = (data.company_id, data.company_name) if isinstance(data, ComplaintAccepted) else None
                company_name = (
                    company[1]
                    if company
                    else await self.company_names.name_of(number, getattr(data, "company_id", None), session)
                )
                message = self.texts.render(text_key, facts_of(data, company_name))
                if await self._record_message(event, number, message, session, company):
                    after_commit(session, self.wake_dispatch_worker)
            if raises_alert:
                assert session is not None and isinstance(data, SlaOverdue)
                await self.alerts.raise_alert(
                    case_overdue(number, data.company_id, data.due, datetime.now(UTC)), session
                )

        raises_alert = isinstance(data, SlaOverdue) and data.kind == "response"
        if (webhook is not None or text_key is not None) and not raises_alert:
            applied = not await self.runtime.inbox.seen(event.id)
            if applied:
                await apply(None)
        elif webhook is not None or text_key is not None:
            applied = await self.runtime.inbox.handle_keyed(
                event, apply, lambda: self._applied(webhook_id if webhook is not None else None, event.id)
            )
        else:
            applied = await self.runtime.inbox.handle_once(event, apply)
        if not applied:
            log.info("%s %s for %s was already applied", event.type, event.id, number)
            return
        if webhook is not None and not handed:
            await self._after_delivery_recorded(webhook, webhook_id, parked)

    async def applied(self, event: CloudEvent) -> bool:
        """Whether ``event`` was applied: recorded in the inbox, or the documents keyed by it exist."""
        if await self.runtime.inbox.seen(event.id):
            return True
        try:
            webhook_id = webhook_id_for(event.id)
        except UnusableEventId:
            return False
        return await self._applied(webhook_id, event.id) or await self._applied(None, event.id)

    async def _applied(self, webhook_id: str | None, event_id: str) -> bool:
        """Whether the documents keyed by the event exist: it was applied before."""
        if webhook_id is not None:
            return await self.deliveries.get(webhook_id) is not None
        return await self.messages.exists(keyed_id(event_id))

    async def _record_delivery(
        self,
        event: CloudEvent,
        data: EventData,
        webhook: CompanyWebhook,
        webhook_id: str,
        session: AsyncClientSession | None,
    ) -> tuple[bool, bool]:
        """Write the delivery record; whether it waits for the company to register an endpoint, and whether it
        goes to this process's worker without a claim."""
        endpoint = await self.endpoints.get_enabled(webhook.company_id, session=session)
        lease = self.delivery_handover.reserve() if self.delivery_handover and endpoint is not None else None
        record = new_delivery(
            webhook_id,
            event_id=event.id,
            company_id=webhook.company_id,
            number=data.number,  # type: ignore[attr-defined]
            event_type=webhook.webhook_type,
            payload=webhook_payload(webhook.webhook_type, event.time, data.model_dump(mode="json")),
            status=DeliveryStatus.NO_ENDPOINT if endpoint is None else DeliveryStatus.PENDING,
        ) | (lease or {})
        if not await _insert_keyed(self.deliveries.insert(record, session), session):
            return False, False  # a copy of the event wrote it: whatever it needs was done for that copy
        if lease is not None:
            handover = self.delivery_handover
            assert handover is not None
            after_commit(session, lambda: handover.take(record))
        return endpoint is None, lease is not None

    async def _after_delivery_recorded(self, webhook: CompanyWebhook, webhook_id: str, parked: bool) -> None:
        if parked:
            # An endpoint registered while the transaction ran could not see the new record;
            # looking again after the commit closes that gap (the registration looks again after its own).
            if await self.endpoints.get_enabled(webhook.company_id) is not None:
                await self.deliveries.release_parked(webhook.company_id)
            else:
                log.info("no webhook endpoint for company %s yet; %s waits", webhook.company_id, webhook_id)
                return
        self.wake_delivery_worker()

    async def _record_message(
        self,
        event: CloudEvent,
        number: str,
        message: RenderedMessage,
        session: AsyncClientSession | None,
        company: tuple[str, str] | None = None,
    ) -> bool:
        """Write the inbox message (with the company it names, for complaint.accepted) and its dispatches;
        ``True`` when one of them is due for sending."""
        now = _now_ms()
        message_id = keyed_id(event.id)
        named = {"company_id": company[0], "company_name": company[1]} if company else {}
        await _insert_keyed(
            self.messages.insert(
                {
                    "_id": message_id,
                    "number": number,
                    "kind": event.type,
                    "title_zh": message.title_zh,
                    "title_en": message.title_en,
                    "body_zh": message.body_zh,
                    "body_en": message.body_en,
                    "event_id": event.id,
                    "created_at": now,
                    "read_at": None,
                    **named,
                },
                session,
            ),
            session,
        )
        channels: list[tuple[Channel, dict[str, Any]]] = [
            (
                Channel.EMAIL,
                {
                    "status": DispatchStatus.PENDING if self.email_enabled else DispatchStatus.DISABLED,
                    "subject": email_subject(message),
                    "text": email_text(message),
                },
            )
        ]
        if event.type in SMS_KINDS:
            channels.append(
                (Channel.SMS, {"status": DispatchStatus.PENDING, "subject": None, "text": sms_text(message)})
            )
        handover = self.dispatch_handover
        handed = False
        for channel, fields in channels:
            pending = fields["status"] == DispatchStatus.PENDING
            lease = handover.reserve() if handover is not None and pending else None
            dispatch = {
                "_id": keyed_id(event.id, channel),
                "message_id": message_id,
                "number": number,
                "channel": channel,
                **fields,
                "attempts": [],
                "next_attempt_at": now if pending else None,
                "lease_until": EPOCH,
                "claim": None,
                "last_error": None,
                "provider_ref": None,
                "created_at": now,
                "updated_at": now,
                "finished_at": None if pending else now,
                **(lease or {}),
            }
            if not await _insert_keyed(self.dispatches.insert(dispatch, session), session):
                continue
            if lease is not None:
                assert handover is not None
                after_commit(session, functools.partial(handover.take, dispatch))
                handed = True
        # A dispatch handed over needs no claim: the worker is woken by the hand-over itself.
        return not handed and any(fields["status"] == DispatchStatus.PENDING for _, fields in channels)


async def _insert_keyed(insert: Awaitable[None], session: AsyncClientSession | None) -> bool:
    """Write a document keyed by the event; ``False`` when, outside a transaction, a copy of the event wrote it
    already (inside one, the duplicate refuses the whole transaction)."""
    if session is not None:
        await insert
        return True
    try:
        await insert
    except DuplicateKeyError:
        return False
    return True
