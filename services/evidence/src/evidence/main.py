"""Wiring of the evidence service: settings, runtime, object storage, repository, routes.

Run with ``uvicorn evidence.main:create_app --factory``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from greenchannel.app import make_app
from greenchannel.health import ReadinessCheck
from greenchannel.messaging import Subscriptions
from greenchannel.runtime import ServiceRuntime
from greenchannel.telemetry import setup_logging, setup_tracing

from evidence.adapters.evidence_repository import EvidenceRepository
from evidence.adapters.object_storage import ObjectStorage
from evidence.api.evidence import router as evidence_router
from evidence.config import Settings
from evidence.service import EvidenceService


def subscriptions() -> Subscriptions:
    """The events the evidence service consumes: none yet, it only publishes ``evidence.stored``."""
    return Subscriptions()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name)

    runtime = ServiceRuntime(settings)
    storage = ObjectStorage(settings)
    repository = EvidenceRepository(runtime.db)
    evidence = EvidenceService(settings, runtime, storage, repository)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await repository.ensure_indexes()
        await runtime.start(subscriptions(), jobs={"object-storage": storage.prepare})
        try:
            yield
        finally:
            await runtime.stop()

    def readiness(app: FastAPI) -> dict[str, ReadinessCheck]:
        return {**app.state.runtime.readiness_checks(), "object_storage": app.state.storage.is_ready}

    app = make_app(
        title="Evidence service",
        description="Stores complaint evidence in a private bucket, checks type and size, answers SHA-256 "
        "receipts and short-lived download links. Internal: called by intake.",
        lifespan=lifespan,
        readiness=readiness,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.storage = storage
    app.state.evidence = evidence
    app.include_router(evidence_router)
    return app
