"""Prometheus metrics every service exposes at ``/metrics`` on its internal listener: HTTP latency by route, events
published, consumed, retried and dead-lettered by type, and the outbox backlog with the age of its oldest entry.

Metrics carry a ``service`` label, so several services in one process (the tests) stay apart.
Gauges read from the store (open cases by state, the outbox backlog, pending deliveries) are refreshed by a
periodic job of the service's runtime (:class:`greenchannel.runtime.ServiceRuntime`), never by the scrape: a
scrape answers what is in memory and issues no query, however often, and by however many scrapers, it comes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_SECONDS = Histogram(
    "greenchannel_http_request_seconds",
    "HTTP request latency by route template.",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EVENTS_PUBLISHED = Counter(
    "greenchannel_events_published_total", "Events published (confirmed by the broker).", ["service", "type"]
)
EVENTS_CONSUMED = Counter(
    "greenchannel_events_consumed_total",
    "Events consumed, by outcome: handled, retried, dead_lettered.",
    ["service", "type", "outcome"],
)
OUTBOX_BACKLOG = Gauge("greenchannel_outbox_backlog", "Outbox entries not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "greenchannel_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox entry.", ["service"]
)

# Reads figures from the store into gauges; run by the runtime's periodic job.
Refresh = Callable[[], Awaitable[None]]


def service_of(app: FastAPI) -> str:
    runtime = getattr(app.state, "runtime", None)
    return runtime.settings.service_name if runtime is not None else app.title


class RequestTiming:
    """Time every request by its route template (never the raw path: numbers would explode the labels).

    A plain ASGI middleware, not ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` starts a
    task group for every ``receive()`` of the request body, which made a streamed upload pay for one
    per chunk (a large share of the CPU an upload cost the gateway and the evidence service).
    """

    def __init__(self, app: ASGIApp, *, service: Callable[[], str]) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the application raises before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            if template != "/metrics":
                HTTP_SECONDS.labels(self.service(), scope["method"], template, str(status)).observe(
                    time.perf_counter() - started
                )


def metrics_router() -> APIRouter:
    """``GET /metrics``: the process's registry as it is (the gauges were set by the last refresh)."""
    router = APIRouter(tags=["health"])

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
