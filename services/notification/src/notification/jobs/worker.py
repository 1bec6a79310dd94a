"""The delivery worker: claims due deliveries with a lease, POSTs them, records every attempt.

Any number of replicas run it at once: a delivery is claimed with one atomic
``find_one_and_update`` that sets a lease, so two replicas never make the same attempt together;
a worker that dies mid-attempt leaves a lease that runs out, and the attempt is made again (at
least once, with the same webhook id so the company can deduplicate).

Outcomes (Standard Webhooks, "retry schedule" and "endpoint disabling"):
* 2xx: ``delivered`` and ``webhook.delivered`` in the same transaction;
* 410 Gone: the endpoint is disabled, the delivery fails, ``webhook.failed``;
* a plain-http URL outside development (registered before https was required): no request is made,
  the endpoint is disabled with an ``endpoint_not_https`` alert, and the delivery waits like any
  delivery without an endpoint until an https URL is registered;
* anything else (other status, network error, a target the SSRF guard refuses): retried after
  the next delay of the schedule; when the schedule is exhausted the delivery ``failed`` (the
  dead letter operators see) and ``webhook.failed`` is published.

A redelivered delivery (an operator's) runs the schedule again from its start, and its round ends
with its own ``webhook.delivered`` or ``webhook.failed``.

A test webhook (``webhook.test``, no complaint number) goes through the same attempts, schedule and endpoint rules
(410 disables, a failure lengthens the streak), but its outcome is published to no one: ``webhook.delivered`` would
move a complaint on and ``webhook.failed`` names one; nor is an exhausted test an operators' dead letter, since no
complaint waits for it (the company sees it failed in its delivery log).

Operators are alerted (``operator_alerts``) in the same transaction as the outcome: an endpoint
disabled by 410, a company whose attempts failed ``alert_failure_threshold`` times in a row (one
alert per streak, a success ends it), a delivery whose schedule ran out. Each attempt is counted
in the Prometheus metrics (:mod:`notification.adapters.metrics`) once its outcome is stored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import WebhookDelivered, WebhookFailed
from greenchannel.mongo import in_transaction
from greenchannel.runtime import ServiceRuntime
from notification.adapters import metrics
from notification.adapters.alerts import AlertRepository
from notification.adapters.deliveries import DeliveryRepository, LeaseLost
from notification.adapters.endpoints import EndpointRepository
from notification.adapters.metrics import Outcome
from notification.adapters.resolver import TargetForbidden, TargetGuard, TargetNotHttps, TargetUnresolvable
from notification.adapters.sender import SendResult, WebhookSender
from notification.domain.alerts import (
    delivery_failed,
    endpoint_failing,
    endpoint_gone,
    endpoint_not_https,
    failure_streak_alerts,
)
from notification.domain.deliveries import GONE, DeliveryStatus, attempt_record, concerns_complaint, is_success
from notification.domain.schedule import next_attempt_at
from notification.domain.secrets import signing_secrets
from notification.domain.targets import InvalidWebhookUrl, parse_target
from notification.jobs.workloop import ClaimLoop

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


class DeliveryWorker:
    def __init__(
        self,
        *,
        runtime: ServiceRuntime,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        alerts: AlertRepository,
        guard: TargetGuard,
        sender: WebhookSender,
        retry_schedule_s: list[float],
        lease_s: float,
        poll_interval_s: float,
        concurrency: int,
        failure_alert_threshold: int,
    ) -> None:
        self.runtime = runtime
        self.endpoints = endpoints
        self.deliveries = deliveries
        self.alerts = alerts
        self.failure_alert_threshold = failure_alert_threshold
        self.guard = guard
        self.sender = sender
        self.retry_schedule_s = list(retry_schedule_s)
        self.lease_s = lease_s
        self.poll_interval_s = poll_interval_s
        self.concurrency = concurrency
        self._loop = ClaimLoop(
            name="delivery",
            claim=lambda: self.deliveries.claim_due(self.lease_s),
            attempt=self.attempt,
            poll_interval_s=poll_interval_s,
            concurrency=concurrency,
            lease_s=lease_s,
        )

    def wake(self) -> None:
        """A delivery became due (created or released): claim it now rather than at the next poll."""
        self._loop.wake()

    @property
    def handover(self) -> ClaimLoop:
        """Where the deliveries this process creates go without being claimed (``reserve`` and ``take``)."""
        return self._loop

    async def run(self) -> None:
        await self._loop.run()

    async def attempt(self, delivery: dict[str, Any]) -> None:
        """Make one attempt of a claimed delivery and record its outcome."""
        parent = propagate.extract(delivery.get("trace_headers") or {})
        with tracer.start_as_current_span("webhook deliver", context=parent, kind=SpanKind.INTERNAL) as span:
            if delivery.get("number"):
                span.set_attribute("complaint.number", delivery["number"])
            span.set_attribute("webhook.id", delivery["_id"])
            span.set_attribute("webhook.attempt", len(delivery["attempts"]) + 1)
            try:
                await self._attempt(delivery)
            except LeaseLost:
                log.warning("delivery %s was taken over by another worker; its result is dropped", delivery["_id"])
            except Exception:
                log.exception("attempt of delivery %s failed", delivery["_id"])

    async def _attempt(self, delivery: dict[str, Any]) -> None:
        company_id = delivery["company_id"]
        endpoint = await self.endpoints.get_enabled(company_id)
        if endpoint is None:
            await self._park(delivery)
            return
        started = datetime.now(UTC)
        result = await self._send(endpoint, delivery, started)
        if result.refused == "not_https":
            await self._not_https(delivery, endpoint)
            metrics.DELIVERIES.labels(outcome=Outcome.NOT_HTTPS).inc()
            return
        if result.refused is None:
            metrics.DELIVERY_SECONDS.observe(result.duration_ms / 1000)
        attempt = attempt_record(started, endpoint["url"], result.duration_ms, result.status_code, result.error)
        attempts_made = len(delivery["attempts"]) + 1
        if result.status_code is not None and is_success(result.status_code):
            await self._delivered(delivery, attempt, attempts_made, endpoint)
            outcome = Outcome.DELIVERED
        elif result.status_code == GONE:
            await self._gone(delivery, endpoint, attempt, attempts_made)
            outcome = Outcome.GONE
        else:
            # A redelivery starts the schedule anew: count the attempts of this round only.
            attempts_in_round = attempts_made - delivery.get("round_start", 0)
            retry_at = next_attempt_at(self.retry_schedule_s, attempts_in_round, datetime.now(UTC))
            if retry_at is None:
                await self._failed(delivery, attempt, attempts_made)
                outcome = Outcome.FAILED
            else:
                await self._retry(delivery, attempt, attempts_made, retry_at)
                outcome = Outcome.RETRY
            if result.refused == "forbidden":
                outcome = Outcome.FORBIDDEN
        metrics.DELIVERIES.labels(outcome=outcome).inc()

    async def _send(self, endpoint: dict[str, Any], delivery: dict[str, Any], now: datetime) -> SendResult:
        # The guard runs again at every attempt: DNS may have changed since the endpoint was registered.
        try:
            resolved = await self.guard.resolve(parse_target(endpoint["url"]))
        except TargetNotHttps as error:
            return SendResult(None, f"webhook_url_not_https: {error}", 0, refused="not_https")
        except TargetForbidden as error:
            return SendResult(None, f"webhook_target_forbidden: {error}", 0, refused="forbidden")
        except (TargetUnresolvable, InvalidWebhookUrl) as error:
            return SendResult(None, f"webhook_target_unresolvable: {error}", 0, refused="unresolvable")
        secrets = signing_secrets(
            endpoint["secret"], endpoint.get("previous_secret"), endpoint.get("previous_expires_at"), now
        )
        return await self.sender.send(resolved, secrets, delivery["_id"], delivery["payload"], now)

    async def _park(self, delivery: dict[str, Any]) -> None:
        """The company has no enabled endpoint: the delivery waits until one is registered or enabled."""
        await self.deliveries.park(delivery)
        # An endpoint registered during this attempt released nothing yet; look once more.
        company_id = delivery["company_id"]
        if await self.endpoints.get_enabled(company_id) is not None and await self.deliveries.release_parked(
            company_id
        ):
            self.wake()

    async def _not_https(self, delivery: dict[str, Any], endpoint: dict[str, Any]) -> None:
        """Nothing goes in clear: the endpoint is disabled (one alert) and the delivery waits for an https URL."""
        company_id = delivery["company_id"]

        async def record(session: AsyncClientSession) -> None:
            if await self.endpoints.disable_not_https(company_id, endpoint["url"], session):
                await self.alerts.raise_alert(
                    endpoint_not_https(company_id, delivery["_id"], delivery.get("number"), datetime.now(UTC)),
                    session,
                )
                log.warning("endpoint of company %s is plain http and was disabled", company_id)

        await in_transaction(self.runtime.mongo, record)
        await self._park(delivery)

    async def _retry(
        self, delivery: dict[str, Any], attempt: dict[str, Any], attempts_made: int, retry_at: datetime
    ) -> None:
        async def record(session: AsyncClientSession) -> None:
            await self.deliveries.schedule_retry(delivery, attempt, retry_at, session)
            await self._count_failure(session, delivery, attempt, attempts_made)

        await in_transaction(self.runtime.mongo, record)
        log.info(
            "delivery %s attempt %d: %s; next at %s",
            delivery["_id"],
            attempts_made,
            attempt["error"] or attempt["status_code"],
            retry_at.isoformat(),
        )

    async def _delivered(
        self, delivery: dict[str, Any], attempt: dict[str, Any], attempts_made: int, endpoint: dict[str, Any]
    ) -> None:
        # Most endpoints have no streak to end: the endpoint read for this attempt says so without a write.
        streak = endpoint.get("failure_streak", 0) > 0 or endpoint.get("failure_streak_alerted", False)

        async def record(session: AsyncClientSession) -> None:
            await self.deliveries.finish(delivery, attempt, DeliveryStatus.DELIVERED, session)
            if streak:
                await self.endpoints.end_failure_streak(delivery["company_id"], session)
            if not concerns_complaint(delivery):
                return
            await self.runtime.outbox.add(
                WebhookDelivered(
                    webhook_id=delivery["_id"],
                    number=delivery["number"],
                    company_id=delivery["company_id"],
                    event_type=delivery["event_type"],
                    attempts=attempts_made,
                    status_code=attempt["status_code"],
                    delivered_at=attempt["at"],
                ),
                subject=delivery["number"],
                session=session,
            )

        await in_transaction(self.runtime.mongo, record)
        log.info("delivery %s delivered after %d attempt(s)", delivery["_id"], attempts_made)

    async def _gone(
        self, delivery: dict[str, Any], endpoint: dict[str, Any], attempt: dict[str, Any], attempts_made: int
    ) -> None:
        async def record(session: AsyncClientSession) -> None:
            if await self.endpoints.disable_gone(delivery["company_id"], endpoint["url"], session):
                await self.alerts.raise_alert(
                    endpoint_gone(delivery["company_id"], delivery["_id"], delivery.get("number"), attempt["at"]),
                    session,
                )
            await self._fail_in(session, delivery, attempt, attempts_made, "HTTP 410 Gone: the endpoint was disabled")

        await in_transaction(self.runtime.mongo, record)
        log.warning("endpoint of company %s answered 410 Gone and was disabled", delivery["company_id"])

    async def _failed(self, delivery: dict[str, Any], attempt: dict[str, Any], attempts_made: int) -> None:
        last_error = attempt["error"] or f"HTTP {attempt['status_code']}"

        async def record(session: AsyncClientSession) -> None:
            await self._fail_in(session, delivery, attempt, attempts_made, last_error)
            await self._count_failure(session, delivery, attempt, attempts_made)
            if not concerns_complaint(delivery):
                return
            await self.alerts.raise_alert(
                delivery_failed(
                    delivery["company_id"],
                    delivery["_id"],
                    delivery["number"],
                    delivery.get("redeliveries", 0),
                    attempts_made,
                    last_error,
                    attempt["at"],
                ),
                session,
            )

        await in_transaction(self.runtime.mongo, record)
        log.warning("delivery %s failed after %d attempts: %s", delivery["_id"], attempts_made, last_error)

    async def _fail_in(
        self,
        session: AsyncClientSession,
        delivery: dict[str, Any],
        attempt: dict[str, Any],
        attempts_made: int,
        last_error: str,
    ) -> None:
        await self.deliveries.finish(delivery, attempt, DeliveryStatus.FAILED, session, last_error=last_error)
        if not concerns_complaint(delivery):
            return
        await self.runtime.outbox.add(
            WebhookFailed(
                webhook_id=delivery["_id"],
                number=delivery["number"],
                company_id=delivery["company_id"],
                event_type=delivery["event_type"],
                attempts=attempts_made,
                last_error=last_error[:500],
                failed_at=attempt["at"],
            ),
            subject=delivery["number"],
            session=session,
        )

    async def _count_failure(
        self, session: AsyncClientSession, delivery: dict[str, Any], attempt: dict[str, Any], attempts_made: int
    ) -> None:
        """Lengthen the company's failure streak; the attempt that reaches the threshold raises its one alert."""
        company_id = delivery["company_id"]
        streak = await self.endpoints.count_failed_attempt(company_id, session)
        if streak is None:  # the endpoint was removed meanwhile: no streak to keep
            return
        length = streak.get("failure_streak", 0)
        alerted = streak.get("failure_streak_alerted", False)
        if not failure_streak_alerts(length, self.failure_alert_threshold, alerted):
            return
        if await self.endpoints.mark_streak_alerted(company_id, session):
            last_error = attempt["error"] or f"HTTP {attempt['status_code']}"
            await self.alerts.raise_alert(
                endpoint_failing(company_id, delivery["_id"], attempts_made, length, last_error, attempt["at"]),
                session,
            )
            log.warning("webhook endpoint of company %s failed %d times in a row", company_id, length)
