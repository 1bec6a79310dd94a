"""Wiring of the evidence service: settings, runtime, object storage, repositories, use cases, subscriptions, jobs.

Run with ``granian --interface asgi --factory evidence.main:create_app`` (the Dockerfile's command).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from evidence import migrations
from evidence.adapters.evidence_repository import EvidenceRepository
from evidence.adapters.object_storage import ObjectStorage
from evidence.adapters.upload_repository import UploadRepository
from evidence.api.evidence import operator_router as evidence_operator_router
from evidence.api.evidence import router as evidence_router
from evidence.api.uploads import router as uploads_router
from evidence.config import Settings
from evidence.core.erasure import Erasure
from evidence.core.ingestion import Ingestion
from evidence.core.service import EvidenceService
from evidence.handlers.erasure import ErasureHandler
from evidence.handlers.submissions import SubmissionHandlers
from evidence.handlers.subscriptions import subscriptions
from evidence.jobs.cleanup import Cleanup
from greenchannel.app import make_app
from greenchannel.health import ReadinessCheck
from greenchannel.runtime import Overrides, ServiceRuntime, expose, observe


@dataclass(frozen=True)
class Container:
    settings: Settings
    runtime: ServiceRuntime
    storage: ObjectStorage
    repository: EvidenceRepository
    uploads: UploadRepository
    evidence: EvidenceService
    submissions: SubmissionHandlers
    erasure: ErasureHandler
    cleanup: Cleanup


def build(settings: Settings, overrides: Overrides | None = None) -> Container:
    part = overrides or Overrides()
    runtime = part("runtime", lambda: ServiceRuntime(settings))
    storage = part("storage", lambda: ObjectStorage(settings))
    repository = part("repository", lambda: EvidenceRepository(runtime.db))
    uploads = part("uploads", lambda: UploadRepository(runtime.db))
    ingestion = Ingestion(settings, runtime, storage, repository)
    erasure = Erasure(runtime, storage, repository, uploads, settings.cleanup_lease_s)
    container = Container(
        settings=settings,
        runtime=runtime,
        storage=storage,
        repository=repository,
        uploads=uploads,
        evidence=part("evidence", lambda: EvidenceService(settings, ingestion, storage, repository, uploads)),
        submissions=part("submissions", lambda: SubmissionHandlers(runtime, repository)),
        erasure=part("erasure", lambda: ErasureHandler(erasure)),
        cleanup=part("cleanup", lambda: Cleanup(settings, storage, repository, uploads, erasure)),
    )
    part.check_all_used()
    return container


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    parts: Container = app.state.container
    await parts.runtime.migrate(migrations.__name__)
    await parts.runtime.start(
        subscriptions(parts.submissions, parts.erasure),
        jobs={"object-storage": parts.storage.prepare, "cleanup": parts.cleanup.run},
    )
    try:
        yield
    finally:
        await parts.runtime.stop()
        await parts.storage.close()


def readiness(app: FastAPI) -> dict[str, ReadinessCheck]:
    return {**app.state.runtime.readiness_checks(), "object_storage": app.state.storage.is_ready}


def create_app(settings: Settings | None = None, **overrides: object) -> FastAPI:
    settings = settings or Settings()
    observe(settings)
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
    expose(app, build(settings, Overrides(overrides)))
    app.include_router(evidence_router)
    app.include_router(evidence_operator_router)
    app.include_router(uploads_router)
    return app
