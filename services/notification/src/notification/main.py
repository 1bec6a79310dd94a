"""Wiring of the notification service: runtime, repositories, subscriptions, the delivery worker, the dispatch job, the
dead-letter watch, the routers and the delivery gauges the runtime refreshes.

Run with ``granian --interface asgi --factory notification.main:create_app --port 8003`` (the Dockerfile's command).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi import FastAPI

from greenchannel.app import make_app
from greenchannel.runtime import Overrides, ServiceRuntime, expose, observe
from greenchannel.sealing import KeyRingCipher
from notification import migrations
from notification.adapters.alerts import AlertRepository
from notification.adapters.contacts import IntakeContacts, make_intake_client
from notification.adapters.deliveries import DeliveryRepository
from notification.adapters.dispatches import DispatchRepository
from notification.adapters.endpoints import EndpointRepository
from notification.adapters.mailer import SmtpMailer, SmtpSettings
from notification.adapters.message_texts import packaged_texts
from notification.adapters.messages import CompanyNames, MessageRepository
from notification.adapters.metrics import refresh_delivery_metrics
from notification.adapters.resolver import TargetGuard
from notification.adapters.sender import WebhookSender, make_http_client
from notification.adapters.sms import SmsLogProvider
from notification.api import alerts as alerts_api
from notification.api import deliveries as deliveries_api
from notification.api import endpoints as endpoints_api
from notification.api import messages as messages_api
from notification.config import Settings
from notification.core.alerts import AlertAcknowledgement
from notification.core.deliveries import Redelivery
from notification.core.endpoints import WebhookEndpoints
from notification.core.messages import MessageReading
from notification.handlers.access import GuessingAlertHandler
from notification.handlers.accounts import AccountCodeHandler
from notification.handlers.erasure import ErasureHandler
from notification.handlers.lifecycle import LifecycleEventHandler
from notification.handlers.subscriptions import subscriptions
from notification.jobs.dead_letter_watch import DeadLetterWatch
from notification.jobs.dispatcher import DispatchWorker
from notification.jobs.worker import DeliveryWorker


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: ServiceRuntime
    endpoints: EndpointRepository
    deliveries: DeliveryRepository
    messages: MessageRepository
    dispatches: DispatchRepository
    alerts: AlertRepository
    target_guard: TargetGuard
    http_client: httpx.AsyncClient
    intake_client: httpx.AsyncClient
    delivery_worker: DeliveryWorker
    dispatch_worker: DispatchWorker
    dead_letter_watch: DeadLetterWatch
    lifecycle: LifecycleEventHandler
    account_codes: AccountCodeHandler
    guessing_alerts: GuessingAlertHandler
    erasure: ErasureHandler
    webhook_endpoints: WebhookEndpoints
    redelivery: Redelivery
    message_reading: MessageReading
    alert_acknowledgement: AlertAcknowledgement


def _mailer(settings: Settings) -> SmtpMailer | None:
    if not settings.smtp_host:
        return None
    return SmtpMailer(
        SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username or None,
            password=settings.smtp_password.get_secret_value() or None,
            starttls=settings.smtp_starttls,
            timeout_s=settings.smtp_timeout_s,
        )
    )


def build(settings: Settings, overrides: Overrides | None = None) -> Container:
    part = overrides or Overrides()
    texts = packaged_texts()  # a broken texts file stops the start, not the first event
    runtime = part("runtime", lambda: ServiceRuntime(settings))
    key_ring = KeyRingCipher.from_settings(
        settings.webhook_secret_keys.get_secret_value(), settings.webhook_secret_active_key_id
    )
    endpoints = EndpointRepository(runtime.db, key_ring)
    # The complainants' personal data notification keeps (delivery bodies, messages) is sealed under the same key
    # ring as the webhook secrets, each bound to its own field.
    deliveries = DeliveryRepository(runtime.db, key_ring, timedelta(days=settings.delivery_body_retention_days))
    messages = MessageRepository(runtime.db, key_ring, timedelta(days=settings.message_retention_days))
    dispatches = DispatchRepository(runtime.db)
    alerts = AlertRepository(runtime.db)
    guard = part(
        "target_guard",
        lambda: TargetGuard(
            allow_private=settings.webhook_allow_private_targets,
            allow_plain_http=settings.is_development,
            allowed_networks=settings.webhook_private_networks_allowed,
        ),
    )
    http_client = make_http_client(settings.webhook_timeout_s)
    intake_client = make_intake_client(settings.intake_timeout_s)
    worker = DeliveryWorker(
        runtime=runtime,
        endpoints=endpoints,
        deliveries=deliveries,
        alerts=alerts,
        guard=guard,
        sender=WebhookSender(http_client, settings.webhook_timeout_s),
        retry_schedule_s=settings.webhook_retry_schedule_s,
        lease_s=settings.delivery_lease_s,
        poll_interval_s=settings.delivery_poll_interval_s,
        concurrency=settings.delivery_concurrency,
        failure_alert_threshold=settings.alert_failure_threshold,
    )
    mailer = part("mailer", lambda: _mailer(settings))
    dispatcher = DispatchWorker(
        dispatches=dispatches,
        contacts=IntakeContacts(intake_client, settings.intake_url, settings.internal_token.get_secret_value()),
        mailer=mailer,
        sms=part("sms", lambda: SmsLogProvider(runtime.db)),
        code_transport=KeyRingCipher.from_settings(
            settings.code_transport_keys.get_secret_value(), settings.code_transport_active_key_id
        ),
        retry_schedule_s=settings.dispatch_retry_schedule_s,
        lease_s=settings.dispatch_lease_s,
        poll_interval_s=settings.dispatch_poll_interval_s,
        concurrency=settings.dispatch_concurrency,
    )
    container = Container(
        settings=settings,
        runtime=runtime,
        endpoints=endpoints,
        deliveries=deliveries,
        messages=messages,
        dispatches=dispatches,
        alerts=alerts,
        target_guard=guard,
        http_client=http_client,
        intake_client=intake_client,
        delivery_worker=worker,
        dispatch_worker=dispatcher,
        dead_letter_watch=DeadLetterWatch(
            runtime, alerts, settings.dead_letter_alert_threshold, settings.dead_letter_check_interval_s
        ),
        lifecycle=LifecycleEventHandler(
            runtime=runtime,
            endpoints=endpoints,
            deliveries=deliveries,
            messages=messages,
            company_names=CompanyNames(runtime.db),
            dispatches=dispatches,
            alerts=alerts,
            texts=texts,
            email_enabled=mailer is not None,
            wake_delivery_worker=worker.wake,
            wake_dispatch_worker=dispatcher.wake,
            delivery_handover=worker.handover,
            dispatch_handover=dispatcher.handover,
        ),
        account_codes=AccountCodeHandler(
            runtime=runtime,
            dispatches=dispatches,
            email_enabled=mailer is not None,
            wake_dispatch_worker=dispatcher.wake,
        ),
        guessing_alerts=GuessingAlertHandler(runtime, alerts),
        erasure=ErasureHandler(runtime, messages, CompanyNames(runtime.db), dispatches, deliveries),
        webhook_endpoints=WebhookEndpoints(
            endpoints=endpoints, deliveries=deliveries, guard=guard, wake_delivery_worker=worker.wake
        ),
        redelivery=Redelivery(deliveries=deliveries, wake_delivery_worker=worker.wake),
        message_reading=MessageReading(messages),
        alert_acknowledgement=AlertAcknowledgement(alerts),
    )
    part.check_all_used()
    return container


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    parts: Container = app.state.container
    await parts.runtime.migrate(migrations.__name__)
    await parts.runtime.start(
        subscriptions(parts.lifecycle, parts.account_codes, parts.guessing_alerts, parts.erasure),
        jobs={
            "delivery-worker": parts.delivery_worker.run,
            "dispatch-worker": parts.dispatch_worker.run,
            "dead-letter-watch": parts.dead_letter_watch.run,
        },
        gauges=[lambda: refresh_delivery_metrics(parts.deliveries)],
    )
    try:
        yield
    finally:
        await parts.runtime.stop()
        await parts.http_client.aclose()
        await parts.intake_client.aclose()


def create_app(settings: Settings | None = None, **overrides: object) -> FastAPI:
    settings = settings or Settings()
    observe(settings)
    app = make_app(
        settings=settings,
        title="Notification service",
        description="Company webhook endpoints, Standard Webhooks delivery with retries, the delivery log with "
        "redelivery, operator alerts, and the complainant's messages (inbox, e-mail, SMS).",
        lifespan=lifespan,
        readiness=lambda application: application.state.runtime.readiness_checks(),
    )
    expose(app, build(settings, Overrides(overrides)))
    app.include_router(endpoints_api.router)
    app.include_router(deliveries_api.router)
    app.include_router(messages_api.router)
    app.include_router(alerts_api.router)
    return app
