"""The FastAPI application shell shared by the services: problem handlers, health routes, metrics, tracing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from greenchannel.health import ReadinessCheck, health_router
from greenchannel.limits import RequestLimits
from greenchannel.metrics import Refresh, install_metrics
from greenchannel.problems import document_problems, install_problem_handlers
from greenchannel.telemetry import instrument_app


def make_app(
    *,
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    readiness: Callable[[FastAPI], dict[str, ReadinessCheck]],
    degradable: frozenset[str] = frozenset(),
    metrics: Callable[[FastAPI], list[Refresh]] = lambda app: [app.state.runtime.refresh_metrics],
    max_body_bytes: int | None = 64 * 1024,
    max_header_bytes: int = 16 * 1024,
    streamed: Iterable[str] = (),
) -> FastAPI:
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    install_problem_handlers(app)
    document_problems(app)
    app.add_middleware(RequestLimits, max_header_bytes=max_header_bytes, max_body_bytes=max_body_bytes,
                       streamed=streamed)
    app.include_router(health_router(lambda: readiness(app), degradable))
    install_metrics(app, metrics)
    instrument_app(app)
    return app
