"""``complaint.accepted`` -> a durable delivery record of the ``complaint.forwarded`` webhook for the company.

The record is written in the inbox transaction, so a redelivered event never makes a second one;
its id (the webhook id) comes from the event id, so even a second write would collide on ``_id``.
The company receives exactly the ``ComplaintAccepted`` data as its contract defines it: masked
contact data and the evidence list by reference, never download links.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

from greenchannel.contracts import CloudEvent, ComplaintAccepted
from greenchannel.messaging import ContractViolation
from greenchannel.runtime import ServiceRuntime
from opentelemetry import propagate
from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession

from notification.adapters.deliveries import EPOCH, DeliveryRepository
from notification.adapters.endpoints import EndpointRepository
from notification.domain.deliveries import (
    FORWARDED_EVENT_TYPE,
    DeliveryStatus,
    UnusableEventId,
    webhook_id_for,
    webhook_payload,
)

log = logging.getLogger(__name__)


class ComplaintAcceptedHandler:
    def __init__(
        self,
        runtime: ServiceRuntime,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        wake_worker: Callable[[], None],
    ) -> None:
        self.runtime = runtime
        self.endpoints = endpoints
        self.deliveries = deliveries
        self.wake_worker = wake_worker

    async def __call__(self, event: CloudEvent) -> None:
        try:
            accepted = event.payload(ComplaintAccepted)
            webhook_id = webhook_id_for(event.id)
        except (ValidationError, UnusableEventId) as error:
            raise ContractViolation(str(error)) from error
        assert isinstance(accepted, ComplaintAccepted)
        parked = False

        async def record_delivery(session: AsyncClientSession) -> None:
            nonlocal parked
            endpoint = await self.endpoints.get_enabled(accepted.company_id, session=session)
            parked = endpoint is None
            now = datetime.now(timezone.utc)
            trace_headers: dict[str, str] = {}
            propagate.inject(trace_headers)
            await self.deliveries.insert(
                {
                    "_id": webhook_id,
                    "event_id": event.id,
                    "company_id": accepted.company_id,
                    "number": accepted.number,
                    "event_type": FORWARDED_EVENT_TYPE,
                    "payload": webhook_payload(FORWARDED_EVENT_TYPE, event.time, accepted.model_dump(mode="json")),
                    "status": DeliveryStatus.NO_ENDPOINT if parked else DeliveryStatus.PENDING,
                    "attempts": [],
                    "next_attempt_at": now,
                    "lease_until": EPOCH,
                    "claim": None,
                    "last_error": None,
                    "trace_headers": trace_headers,
                    "created_at": now,
                    "updated_at": now,
                },
                session,
            )

        if not await self.runtime.inbox.handle_once(event, record_delivery):
            log.info("complaint.accepted %s for %s was already recorded", event.id, accepted.number)
            return
        if parked:
            # An endpoint registered while this transaction ran could not see the new record;
            # looking again after the commit closes that gap (the registration looks again after its own).
            if await self.endpoints.get_enabled(accepted.company_id) is not None:
                await self.deliveries.release_parked(accepted.company_id)
            else:
                log.info("no webhook endpoint for company %s yet; %s waits", accepted.company_id, webhook_id)
                return
        self.wake_worker()
