"""OpenTelemetry and structured logging set-up, the same in every service.

Tracing follows the standard ``OTEL_*`` variables: a tracer provider is always installed (so trace
ids exist for timelines and logs), spans are exported over OTLP/HTTP only when
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces-specific variable) is set and ``OTEL_SDK_DISABLED``
is not true; locally nothing is exported by default. FastAPI, httpx, aio-pika and PyMongo are
covered by their standard instrumentations; services add hand-written spans only for business
attributes (complaint number, event type), never personal data.
"""

from __future__ import annotations

import logging
import os
import sys

import structlog
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_instrumented = False


def _exporting_enabled() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def setup_tracing(service_name: str, extra_processors: list[SpanProcessor] | None = None) -> None:
    """Install the process's tracer provider and the library instrumentations (once per process)."""
    global _instrumented
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
        provider = TracerProvider(resource=resource)
        if _exporting_enabled():
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        for processor in extra_processors or []:
            provider.add_span_processor(processor)
        trace.set_tracer_provider(provider)
    if not _instrumented:
        from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        HTTPXClientInstrumentor().instrument()
        AioPikaInstrumentor().instrument()
        PymongoInstrumentor().instrument()
        _instrumented = True


def instrument_app(app: FastAPI) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # No span per body chunk ("receive"/"send"): on uploads they cost CPU and tell nothing.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _add_trace_ids(_, __, event_dict: dict) -> dict:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def setup_logging(service_name: str, level: str = "INFO", json_lines: bool = True) -> None:
    """One JSON line per log event, with the service name and the current trace and span ids."""
    renderer = structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
        lambda _, __, event_dict: {**event_dict, "service": service_name},
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
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.format_exc_info, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiormq", "aio_pika", "pymongo", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
