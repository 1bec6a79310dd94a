"""The FastAPI application shell shared by the services: problem handlers, health routes, metrics, tracing, and the
two listeners every service has.

:func:`make_app` builds the public app (served on the service's port by granian) and a second, small internal app
that shares its state: ``/internal/*`` routers, ``/metrics``, and the health routes. The public app's lifespan
serves the internal app on ``internal_host:internal_port`` (:mod:`greenchannel.listeners`) for as long as the
service runs, so nothing meant for the cluster ever answers on the public port.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from greenchannel.health import ReadinessCheck, health_router
from greenchannel.limits import RequestLimits
from greenchannel.listeners import InternalListener
from greenchannel.metrics import RequestTiming, metrics_router, service_of
from greenchannel.problems import document_problems, install_problem_handlers
from greenchannel.settings import ServiceSettings
from greenchannel.telemetry import instrument_app

INTERNAL_MAX_BODY_BYTES = 64 * 1024


def operation_id(route: APIRoute) -> str:
    """A readable operation id, ``<tag>.<function name>`` (``complaints.file``, ``company.respond``): generated
    clients name their modules and methods after it. A route's explicit ``operation_id`` wins; a route without a
    tag is named by its function alone."""
    if not route.tags:
        return route.name
    tag = re.sub(r"[^a-z0-9]+", "_", str(route.tags[0]).lower()).strip("_")
    return f"{tag}.{route.name}"


def make_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    readiness: Callable[[FastAPI], dict[str, ReadinessCheck]],
    degradable: frozenset[str] = frozenset(),
    internal: Iterable[APIRouter] = (),
    max_body_bytes: int | None = 64 * 1024,
    max_header_bytes: int = 16 * 1024,
    streamed: Iterable[str] = (),
    trust_inbound_trace_context: bool = True,
) -> FastAPI:
    """The public app (``trust_inbound_trace_context=False`` for an edge the public reaches: its requests'
    traces start here); ``app.state.internal_app`` is the internal one (``internal`` routers, ``/metrics``, health),
    and ``app.state.internal_url`` its address once the service has started."""
    internal_app = make_internal_app(
        title=title,
        readiness=lambda: readiness(app),
        degradable=degradable,
        routers=internal,
        max_header_bytes=max_header_bytes,
    )

    @asynccontextmanager
    async def with_internal_listener(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app):
            # Started once the service is: a scrape or an internal call never finds its state half-built.
            listener = InternalListener(internal_app, settings.internal_host, settings.internal_port)
            await listener.start()
            app.state.internal_url = listener.url
            try:
                yield
            finally:
                await listener.stop()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=with_internal_listener,
        generate_unique_id_function=operation_id,
    )
    install_problem_handlers(app)
    document_problems(app)
    app.add_middleware(
        RequestLimits, max_header_bytes=max_header_bytes, max_body_bytes=max_body_bytes, streamed=streamed
    )
    app.include_router(health_router(lambda: readiness(app), degradable))
    app.add_middleware(RequestTiming, service=lambda: service_of(app))
    instrument_app(app, trust_inbound_trace_context=trust_inbound_trace_context)
    # One state for both apps: what the service's lifespan puts there, its internal routes read.
    internal_app.state = app.state
    app.state.internal_app = internal_app
    return app


def make_internal_app(
    *,
    title: str,
    readiness: Callable[[], dict[str, ReadinessCheck]],
    degradable: frozenset[str],
    routers: Iterable[APIRouter],
    max_header_bytes: int,
) -> FastAPI:
    # No documentation served: only the cluster's callers reach it, and they know its routes. Its schema
    # (``internal_app.openapi()``) still lists every route, for the tests that enumerate them.
    internal_app = FastAPI(
        title=f"{title} (internal)",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        generate_unique_id_function=operation_id,
    )
    install_problem_handlers(internal_app)
    internal_app.add_middleware(
        RequestLimits, max_header_bytes=max_header_bytes, max_body_bytes=INTERNAL_MAX_BODY_BYTES, streamed=()
    )
    internal_app.include_router(health_router(readiness, degradable))
    internal_app.include_router(metrics_router())
    for router in routers:
        internal_app.include_router(router)
    internal_app.add_middleware(RequestTiming, service=lambda: service_of(internal_app))
    instrument_app(internal_app)
    return internal_app
