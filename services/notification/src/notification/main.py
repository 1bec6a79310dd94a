"""Wiring of the notification service: runtime, subscriptions, the delivery worker and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from greenchannel.app import make_app
from greenchannel.contracts import ComplaintAccepted
from greenchannel.messaging import Subscriptions
from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import setup_logging, setup_tracing

from notification.adapters.deliveries import DeliveryRepository
from notification.adapters.endpoints import EndpointRepository
from notification.adapters.resolver import TargetGuard
from notification.adapters.sender import WebhookSender, make_http_client
from notification.api import deliveries as deliveries_api
from notification.api import endpoints as endpoints_api
from notification.config import Settings
from notification.handlers.complaint_accepted import ComplaintAcceptedHandler
from notification.worker import DeliveryWorker


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime(settings)
        endpoints = EndpointRepository(runtime.db)
        deliveries = DeliveryRepository(runtime.db)
        await deliveries.ensure_indexes()
        guard = TargetGuard(allow_private=settings.webhook_allow_private_targets)
        http_client = make_http_client(settings.webhook_timeout_s)
        worker = DeliveryWorker(
            runtime=runtime, endpoints=endpoints, deliveries=deliveries, guard=guard,
            sender=WebhookSender(http_client, settings.webhook_timeout_s),
            retry_schedule_s=settings.webhook_retry_schedule_s, lease_s=settings.delivery_lease_s,
            poll_interval_s=settings.delivery_poll_interval_s, concurrency=settings.delivery_concurrency,
        )
        subscriptions = Subscriptions().on(
            ComplaintAccepted.EVENT_TYPE, ComplaintAcceptedHandler(runtime, endpoints, deliveries, worker.wake)
        )
        app.state.runtime = runtime
        app.state.endpoints = endpoints
        app.state.deliveries = deliveries
        app.state.target_guard = guard
        app.state.delivery_worker = worker
        await runtime.start(subscriptions, jobs={"delivery-worker": worker.run})
        try:
            yield
        finally:
            await runtime.stop()
            await http_client.aclose()

    app = make_app(
        title="Notification service",
        description="Company webhook endpoints, Standard Webhooks delivery with retries, and the delivery log.",
        lifespan=lifespan,
        readiness=lambda application: application.state.runtime.readiness_checks(),
    )
    app.state.settings = settings
    app.include_router(endpoints_api.router)
    app.include_router(deliveries_api.router)
    return app
