"""Wiring of the notification service: runtime, subscriptions, the delivery worker, the dispatch job, the routers
and the delivery gauges the runtime refreshes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from greenchannel.app import make_app
from greenchannel.contracts import AccessGuessingDetected, AccountCodeIssued
from greenchannel.messaging import Subscriptions
from greenchannel.runtime import ServiceRuntime
from greenchannel.sealing import KeyRingCipher
from greenchannel.telemetry import setup_logging, setup_tracing

from notification.adapters.alerts import AlertRepository
from notification.adapters.contacts import IntakeContacts, make_intake_client
from notification.adapters.deliveries import DeliveryRepository
from notification.adapters.dispatches import DispatchRepository
from notification.adapters.endpoints import EndpointRepository
from notification.adapters.mailer import SmtpMailer, SmtpSettings
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
from notification.domain.messages import packaged_texts
from notification.handlers.access import GuessingAlertHandler
from notification.handlers.accounts import AccountCodeHandler
from notification.handlers.lifecycle import CONSUMED_EVENT_TYPES, LifecycleEventHandler
from notification.jobs.dead_letter_watch import DeadLetterWatch
from notification.jobs.dispatcher import DispatchWorker
from notification.jobs.worker import DeliveryWorker


def _mailer(settings: Settings) -> SmtpMailer | None:
    if not settings.smtp_host:
        return None
    return SmtpMailer(SmtpSettings(
        host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
        username=settings.smtp_username or None, password=settings.smtp_password.get_secret_value() or None,
        starttls=settings.smtp_starttls, timeout_s=settings.smtp_timeout_s,
    ))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name)
    texts = packaged_texts()  # a broken texts file stops the start, not the first event

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime(settings)
        key_ring = KeyRingCipher.from_settings(settings.webhook_secret_keys.get_secret_value(),
                                               settings.webhook_secret_active_key_id)
        endpoints = EndpointRepository(runtime.db, key_ring)
        deliveries = DeliveryRepository(runtime.db)
        messages = MessageRepository(runtime.db)
        dispatches = DispatchRepository(runtime.db)
        alerts = AlertRepository(runtime.db)
        for repository in (deliveries, messages, dispatches, alerts):
            await repository.ensure_indexes()
        guard = TargetGuard(allow_private=settings.webhook_allow_private_targets,
                            allow_plain_http=settings.is_development)
        http_client = make_http_client(settings.webhook_timeout_s)
        intake_client = make_intake_client(settings.intake_timeout_s)
        worker = DeliveryWorker(
            runtime=runtime, endpoints=endpoints, deliveries=deliveries, alerts=alerts, guard=guard,
            sender=WebhookSender(http_client, settings.webhook_timeout_s),
            retry_schedule_s=settings.webhook_retry_schedule_s, lease_s=settings.delivery_lease_s,
            poll_interval_s=settings.delivery_poll_interval_s, concurrency=settings.delivery_concurrency,
            failure_alert_threshold=settings.alert_failure_threshold,
        )
        mailer = _mailer(settings)
        dispatcher = DispatchWorker(
            dispatches=dispatches,
            contacts=IntakeContacts(intake_client, settings.intake_url, settings.internal_token.get_secret_value()),
            mailer=mailer, sms=SmsLogProvider(runtime.db),
            code_transport=KeyRingCipher.from_settings(settings.code_transport_keys.get_secret_value(),
                                                       settings.code_transport_active_key_id),
            retry_schedule_s=settings.dispatch_retry_schedule_s,
            lease_s=settings.dispatch_lease_s, poll_interval_s=settings.dispatch_poll_interval_s,
            concurrency=settings.dispatch_concurrency,
        )
        handler = LifecycleEventHandler(
            runtime=runtime, endpoints=endpoints, deliveries=deliveries, messages=messages,
            company_names=CompanyNames(runtime.db), dispatches=dispatches, alerts=alerts, texts=texts,
            email_enabled=mailer is not None, wake_delivery_worker=worker.wake, wake_dispatch_worker=dispatcher.wake,
            delivery_handover=worker.handover, dispatch_handover=dispatcher.handover,
        )
        subscriptions = Subscriptions()
        for event_type in CONSUMED_EVENT_TYPES:
            subscriptions.on(event_type, handler)
        subscriptions.on(AccountCodeIssued.EVENT_TYPE, AccountCodeHandler(
            runtime=runtime, dispatches=dispatches, email_enabled=mailer is not None,
            wake_dispatch_worker=dispatcher.wake))
        subscriptions.on(AccessGuessingDetected.EVENT_TYPE, GuessingAlertHandler(runtime, alerts))
        app.state.runtime = runtime
        app.state.lifecycle = handler
        app.state.endpoints = endpoints
        app.state.deliveries = deliveries
        app.state.messages = messages
        app.state.dispatches = dispatches
        app.state.alerts = alerts
        app.state.target_guard = guard
        app.state.delivery_worker = worker
        app.state.dispatch_worker = dispatcher
        watch = DeadLetterWatch(runtime, alerts, settings.dead_letter_alert_threshold, settings.dead_letter_check_interval_s)
        app.state.dead_letter_watch = watch
        await runtime.start(subscriptions, jobs={"delivery-worker": worker.run, "dispatch-worker": dispatcher.run,
                                                 "dead-letter-watch": watch.run},
                            gauges=[lambda: refresh_delivery_metrics(deliveries)])
        try:
            yield
        finally:
            await runtime.stop()
            await http_client.aclose()
            await intake_client.aclose()

    app = make_app(
        settings=settings,
        title="Notification service",
        description="Company webhook endpoints, Standard Webhooks delivery with retries, the delivery log with "
                    "redelivery, operator alerts, and the complainant's messages (inbox, e-mail, SMS).",
        lifespan=lifespan,
        readiness=lambda application: application.state.runtime.readiness_checks(),
    )
    app.state.settings = settings
    app.include_router(endpoints_api.router)
    app.include_router(deliveries_api.router)
    app.include_router(messages_api.router)
    app.include_router(alerts_api.router)
    return app
