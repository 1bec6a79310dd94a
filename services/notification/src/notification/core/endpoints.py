"""A company's webhook endpoint: register or change it, disable and enable it, rotate its signing secret, send it a
test webhook.

The URL is checked (https outside development, not a private or unresolvable target) before anything is stored.
Registering or enabling an endpoint releases the deliveries that waited for one, after the endpoint committed (a
delivery parked meanwhile is released here or sees the endpoint: the lifecycle handler looks again after its own
commit), and wakes the delivery worker.

A test webhook (``webhook.test``) goes to an enabled endpoint only, through the delivery log like any webhook (signed,
retried on the schedule, redeliverable), and concerns no complaint (see :mod:`notification.domain.deliveries`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from greenchannel.contracts import WebhookType
from greenchannel.idempotency import IdempotencyStore
from greenchannel.problems import Problem
from notification.adapters.deliveries import DeliveryRepository, new_delivery
from notification.adapters.endpoints import ENABLED, EndpointRepository, RotationRaced
from notification.adapters.resolver import TargetForbidden, TargetGuard, TargetNotHttps, TargetUnresolvable
from notification.domain.deliveries import DeliveryStatus, data_of_test, webhook_id_of_test, webhook_payload
from notification.domain.secrets import InvalidSecret, generate_secret, validate_secret
from notification.domain.targets import InvalidWebhookUrl, parse_target


def endpoint_not_found(company_id: str) -> Problem:
    return Problem(404, "endpoint_not_found", f"Company {company_id} has no webhook endpoint.")


class WebhookEndpoints:
    def __init__(
        self,
        *,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        guard: TargetGuard,
        wake_delivery_worker: Callable[[], None],
    ) -> None:
        self.endpoints = endpoints
        self.deliveries = deliveries
        self.guard = guard
        self.wake_delivery_worker = wake_delivery_worker

    async def register(self, company_id: str, url: str, secret: str | None) -> tuple[dict[str, Any], bool]:
        """Store the endpoint (a secret is generated for a new one given none); answers it and whether it is new."""
        try:
            target = parse_target(url)
        except InvalidWebhookUrl as error:
            raise Problem(422, "invalid_webhook_url", str(error)) from None
        try:
            await self.guard.resolve(target)
        except TargetNotHttps as error:
            raise Problem(422, "webhook_url_not_https", f"{error}.") from None
        except TargetForbidden as error:
            raise Problem(422, "webhook_target_forbidden", f"{error}.", reason=error.reason) from None
        except TargetUnresolvable as error:
            raise Problem(422, "webhook_target_unresolvable", f"{error}.") from None
        if secret is not None:
            try:
                validate_secret(secret)
            except InvalidSecret as error:
                raise Problem(422, "invalid_webhook_secret", str(error)) from None
        elif await self.endpoints.get(company_id) is None:
            secret = generate_secret()
        endpoint, created = await self.endpoints.upsert(company_id, target.url, secret)
        await self._release_parked(company_id)
        return endpoint, created

    async def get(self, company_id: str) -> dict[str, Any]:
        endpoint = await self.endpoints.get(company_id)
        if endpoint is None:
            raise endpoint_not_found(company_id)
        return endpoint

    async def disable(self, company_id: str, reason: str) -> dict[str, Any]:
        """New deliveries, and those due next, wait (``no_endpoint``) until the endpoint is enabled again."""
        endpoint = await self.endpoints.disable(company_id, reason)
        if endpoint is None:
            raise endpoint_not_found(company_id)
        return endpoint

    async def enable(self, company_id: str) -> dict[str, Any]:
        stored = await self.get(company_id)
        # A plain-http endpoint (disabled as not_https) comes back only with an https URL, through a registration.
        try:
            refused = self.guard.refuses(parse_target(stored["url"]))
        except InvalidWebhookUrl as error:
            raise Problem(422, "invalid_webhook_url", f"{error} Register a valid URL instead.") from None
        if refused:
            raise Problem(
                422, "webhook_url_not_https", f"{TargetNotHttps(stored['url'])}; register an https URL instead."
            )
        endpoint = await self.endpoints.enable(company_id)
        if endpoint is None:
            raise endpoint_not_found(company_id)
        await self._release_parked(company_id)
        return endpoint

    async def rotate_secret(self, company_id: str, overlap_s: float) -> dict[str, Any]:
        """A new secret; the previous one signs too for ``overlap_s``."""
        endpoint = await self.get(company_id)
        try:
            return await self.endpoints.rotate_secret(endpoint, generate_secret(), overlap_s)
        except RotationRaced:
            raise Problem(
                409,
                "secret_changed_meanwhile",
                "The secret was changed by another request at the same time; read the endpoint and try again.",
            ) from None

    async def send_test(self, company_id: str, idempotency_key: str | None) -> dict[str, Any]:
        """A test webhook to the company's endpoint, due now; the delivery record. The same ``idempotency_key`` again
        answers the delivery the first request made, as it is now, and sends nothing more."""
        if idempotency_key is not None:
            IdempotencyStore.record_id("webhook-test", idempotency_key)  # the rule every Idempotency-Key follows
        webhook_id = webhook_id_of_test(company_id, idempotency_key or uuid.uuid4().hex)
        if (made := await self.deliveries.get(webhook_id)) is not None:
            return made
        endpoint = await self.get(company_id)
        if endpoint["status"] != ENABLED:
            raise Problem(
                409,
                "endpoint_disabled",
                f"The webhook endpoint of company {company_id} is disabled; enable it before sending a test.",
            )
        record = new_delivery(
            webhook_id,
            event_id=None,
            company_id=company_id,
            number=None,  # about no complaint: its outcome is published to no one, erasure never meets it
            event_type=WebhookType.TEST,
            payload=webhook_payload(WebhookType.TEST, datetime.now(UTC), data_of_test(company_id)),
            status=DeliveryStatus.PENDING,
        )
        try:
            await self.deliveries.insert(record, None)
        except DuplicateKeyError:  # the same request at the same time made it
            made = await self.deliveries.get(webhook_id)
            if made is None:
                raise
            return made
        self.wake_delivery_worker()
        return record

    async def _release_parked(self, company_id: str) -> None:
        # After the endpoint committed: deliveries that waited for an endpoint are due now.
        if await self.deliveries.release_parked(company_id):
            self.wake_delivery_worker()
