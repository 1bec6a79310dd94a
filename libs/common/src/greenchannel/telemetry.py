"""OpenTelemetry and structured logging set-up, the same in every service.

Tracing follows the standard ``OTEL_*`` variables: a tracer provider is always installed (so trace
ids exist for timelines and logs), spans are exported over OTLP/HTTP only when
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces-specific variable) is set and ``OTEL_SDK_DISABLED``
is not true; locally nothing is exported by default. The sampler is the SDK's, named by
``OTEL_TRACES_SAMPLER`` and ``OTEL_TRACES_SAMPLER_ARG`` (parent-based, always on, by default).
FastAPI, httpx, aio-pika and PyMongo are covered by their standard instrumentations; services add
hand-written spans only for business attributes (complaint number, event type), never personal data.

Only traces an operator can read leave the process (:class:`WorthExporting`): a periodic job or relay
runs each iteration under :func:`job_run`, a root span whose spans are held until it ends and dropped
when it did no work (:func:`record_work` was not called); a database call with no parent (index
creation at start, readiness pings, metrics read at a scrape) is never exported.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import FastAPI
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from starlette.types import ASGIApp, Receive, Scope, Send

_instrumented = False
tracer = trace.get_tracer(__name__)

#: Set on the root span of every job run: what held spans are recognised by, and what the trace UI shows.
JOB_ATTRIBUTE = "job.name"
#: Set on a job run's root span when the run did no work: the run's spans are dropped, not exported.
IDLE_ATTRIBUTE = "job.idle"
#: A run touching more complaints than this names the first ones only (an attribute, not a list of the day's work).
MAX_NUMBERS_PER_RUN = 50
#: Trace ids of dropped runs remembered, so that a span of one ending late is dropped too.
REMEMBERED_DROPS = 4096
#: How the database instrumentation marks its spans (the older and the current semantic conventions).
_DB_SYSTEM_ATTRIBUTES = ("db.system", "db.system.name")


def _exporting_enabled() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def setup_tracing(service_name: str, extra_processors: list[SpanProcessor] | None = None) -> None:
    """Install the process's tracer provider and the library instrumentations (once per process).

    The exporter and ``extra_processors`` see only what :class:`WorthExporting` lets through."""
    global _instrumented
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
        # No sampler given: the SDK reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG itself.
        provider = TracerProvider(resource=resource)
        processors = SynchronousMultiSpanProcessor()
        if _exporting_enabled():
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            processors.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        for processor in extra_processors or []:
            processors.add_span_processor(processor)
        provider.add_span_processor(WorthExporting(processors))
        trace.set_tracer_provider(provider)
    if not _instrumented:
        from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        HTTPXClientInstrumentor().instrument()
        AioPikaInstrumentor().instrument()
        PymongoInstrumentor().instrument()
        _instrumented = True


@dataclass
class _JobRun:
    worked: bool = False
    complaints: list[str] = field(default_factory=list)


_current_run: ContextVar[_JobRun | None] = ContextVar("greenchannel_job_run", default=None)


@contextmanager
def job_run(name: str) -> Iterator[trace.Span]:
    """One iteration of a periodic job or relay, as the root of a trace of its own named ``name``.

    The trace is exported only if the iteration called :func:`record_work` or failed: a poll that
    found nothing to do leaves no trace. Its complaint numbers become the root's ``complaint.number``
    (one) or ``complaint.numbers`` (several)."""
    run = _JobRun()
    # An empty context: a run is a root whatever the caller's context (a job is started from a lifespan).
    with tracer.start_as_current_span(name, context=otel_context.Context(), attributes={JOB_ATTRIBUTE: name}) as span:
        token = _current_run.set(run)
        try:
            yield span
        except Exception:
            run.worked = True  # a failed iteration is worth seeing; a cancelled one (shutdown) is not
            raise
        finally:
            _current_run.reset(token)
            if len(run.complaints) == 1:
                span.set_attribute("complaint.number", run.complaints[0])
            elif run.complaints:
                span.set_attribute("complaint.numbers", run.complaints)
            if not run.worked:
                span.set_attribute(IDLE_ATTRIBUTE, True)


def record_work(complaint: str | None = None) -> None:
    """The current job run did work (about ``complaint``, when there is one): its trace is exported.
    Outside a job run (a handler, a test calling a pass directly) nothing happens."""
    run = _current_run.get()
    if run is None:
        return
    run.worked = True
    if complaint and complaint not in run.complaints and len(run.complaints) < MAX_NUMBERS_PER_RUN:
        run.complaints.append(complaint)


class WorthExporting(SpanProcessor):
    """Passes spans on to ``delegate`` except those no operator can read.

    * The spans of a job run (a root span with :data:`JOB_ATTRIBUTE`) are held until its root ends,
      then passed on together, or dropped when the root says the run was idle; a span of a dropped
      run that ends after its root is dropped too.
    * A database call with no parent (index creation at start, a readiness ping, metrics read at a
      scrape) is dropped: it is a trace of one span that belongs to no work.

    Everything else passes at once: a held run's spans are a poll's few commands, held for one iteration.
    """

    def __init__(self, delegate: SpanProcessor) -> None:
        self.delegate = delegate
        self._held: dict[int, list[ReadableSpan]] = {}
        self._dropped: OrderedDict[int, None] = OrderedDict()
        # Spans end in the event loop's thread and in exporter or driver threads alike.
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        if span.parent is None and JOB_ATTRIBUTE in (span.attributes or {}):
            with self._lock:
                self._held[span.context.trace_id] = []
        self.delegate.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        trace_id = span.context.trace_id
        with self._lock:
            held = self._held.get(trace_id)
            if held is not None and span.parent is not None:
                held.append(span)
                return
            if held is not None:  # the run's root ended: the run is decided
                del self._held[trace_id]
                if (span.attributes or {}).get(IDLE_ATTRIBUTE):
                    self._remember_drop(trace_id)
                    return
                passing = [*held, span]
            elif trace_id in self._dropped or _is_orphan_database_call(span):
                return
            else:
                passing = [span]
        for finished in passing:
            self.delegate.on_end(finished)

    def _remember_drop(self, trace_id: int) -> None:
        self._dropped[trace_id] = None
        while len(self._dropped) > REMEMBERED_DROPS:
            self._dropped.popitem(last=False)

    def shutdown(self) -> None:
        self.delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.delegate.force_flush(timeout_millis)


def _is_orphan_database_call(span: ReadableSpan) -> bool:
    return span.parent is None and any(key in (span.attributes or {}) for key in _DB_SYSTEM_ATTRIBUTES)


# The W3C propagation headers (the default propagators: trace context and baggage).
TRACE_CONTEXT_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


class WithoutInboundTraceContext:
    """Drops the trace-context headers a request arrives with, so its trace starts here.

    For an edge the public reaches: a client must not decide whether its requests are sampled, nor attach
    them to a trace of its choosing (and pollute someone else's complaint trace).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(name in TRACE_CONTEXT_HEADERS for name, _ in scope["headers"]):
            scope = {
                **scope,
                "headers": [(name, value) for name, value in scope["headers"] if name not in TRACE_CONTEXT_HEADERS],
            }
        await self.app(scope, receive, send)


def instrument_app(app: FastAPI, *, trust_inbound_trace_context: bool = True) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # No span per body chunk ("receive"/"send"): on uploads they cost CPU and tell nothing.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])
    if not trust_inbound_trace_context:
        # The instrumentation wraps the middleware stack it builds; this wraps that, so the headers are gone
        # before the server span reads them.
        build_instrumented_stack = app.build_middleware_stack

        def build_stack() -> ASGIApp:
            return WithoutInboundTraceContext(build_instrumented_stack())

        app.build_middleware_stack = build_stack  # type: ignore[method-assign]


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _add_trace_ids(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def setup_logging(service_name: str, level: str = "INFO", json_lines: bool = True) -> None:
    """One JSON line per log event, with the service name and the current trace and span ids."""
    renderer = structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)

    def add_service(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        return {**event_dict, "service": service_name}

    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
        add_service,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiormq", "aio_pika", "pymongo", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
