"""intake's wiring: settings -> runtime (store, broker, outbox relay) -> case store -> routers and subscriptions.

Run with ``uvicorn intake.main:create_app --factory``; tests pass their own ``Settings``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from greenchannel.app import make_app
from greenchannel.idempotency import IdempotencyStore
from greenchannel.messaging import Subscriptions
from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import setup_logging, setup_tracing

from intake.adapters.case_store import CaseStore
from intake.adapters.evidence_client import EvidenceClient
from intake.api import complaints
from intake.config import Settings
from intake.handlers.lifecycle import LifecycleHandlers


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = ServiceRuntime(settings)
        cases = CaseStore(runtime)
        idempotency = IdempotencyStore(runtime.db)
        evidence = EvidenceClient(settings.evidence_url, settings.evidence_upload_timeout_s)
        await cases.ensure_indexes()
        await idempotency.ensure_indexes()
        handlers = LifecycleHandlers(runtime, cases)
        subscriptions = (
            Subscriptions()
            .on("complaint.screened", handlers.on_screened)
            .on("webhook.delivered", handlers.on_webhook_delivered)
        )
        app.state.runtime = runtime
        app.state.intake = complaints.Intake(settings, cases, idempotency, evidence)
        await runtime.start(subscriptions)
        try:
            yield
        finally:
            await runtime.stop()
            await evidence.close()

    app = make_app(
        title="Complaint platform: intake gateway",
        description="File complaints, follow them, add evidence. 互联网信息服务投诉平台 受理网关。",
        lifespan=lifespan,
        readiness=lambda app: app.state.runtime.readiness_checks(),
        # Filing needs only the store: events wait in the outbox while the broker is away.
        degradable=frozenset({"broker"}),
    )
    app.include_router(complaints.router)
    return app
