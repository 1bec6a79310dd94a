"""Wiring of the evidence service: settings, runtime, object storage, repositories, routes, subscriptions, jobs.

Run with ``granian --interface asgi --factory evidence.main:create_app`` (the Dockerfile's command).
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
from evidence.adapters.upload_repository import UploadRepository
from evidence.api.evidence import operator_router as evidence_operator_router
from evidence.api.evidence import router as evidence_router
from evidence.api.uploads import router as uploads_router
from evidence.config import Settings
from evidence.core.ingestion import Ingestion
from evidence.core.service import EvidenceService
from evidence.handlers.submissions import SubmissionHandlers
from evidence.jobs.cleanup import Cleanup


def subscriptions(handlers: SubmissionHandlers) -> Subscriptions:
    """The events the evidence service consumes: filings and supplements, which attach the files they list."""
    return (
        Subscriptions()
        .on("complaint.submitted", handlers.on_submitted)
        .on("complaint.supplemented", handlers.on_supplemented)
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name)

    runtime = ServiceRuntime(settings)
    storage = ObjectStorage(settings)
    repository = EvidenceRepository(runtime.db)
    uploads = UploadRepository(runtime.db)
    ingestion = Ingestion(settings, runtime, storage, repository)
    evidence = EvidenceService(settings, ingestion, storage, repository, uploads)
    cleanup = Cleanup(settings, storage, repository, uploads)
    handlers = SubmissionHandlers(runtime, repository)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await repository.ensure_indexes()
        await uploads.ensure_indexes()
        await runtime.start(subscriptions(handlers), jobs={"object-storage": storage.prepare, "cleanup": cleanup.run})
        try:
            yield
        finally:
            await runtime.stop()
            await storage.close()

    def readiness(app: FastAPI) -> dict[str, ReadinessCheck]:
        return {**app.state.runtime.readiness_checks(), "object_storage": app.state.storage.is_ready}

    app = make_app(
        settings=settings,
        title="Evidence service",
        description="Stores complaint evidence in a private bucket: type by content, size limits, image metadata "
        "removed, SHA-256 receipts, presigned uploads through quarantine, short-lived download links, clean-up of "
        "files never attached. Internal: called by intake with the internal bearer token.",
        lifespan=lifespan,
        readiness=readiness,
        # Raw uploads keep the per-type limits the service checks while it streams them.
        streamed=(r"POST /v1/evidence", r"POST /v1/complaints/[^/]+/evidence"),
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.storage = storage
    app.state.evidence = evidence
    app.state.cleanup = cleanup
    app.include_router(evidence_router)
    app.include_router(evidence_operator_router)
    app.include_router(uploads_router)
    return app
