"""What the trace store receives from the four services run as processes, exporting over OTLP/HTTP to a
receiver of the test's own, their tracing configured only through ``OTEL_*`` variables: one trace per complaint,
from its POST to its forwarding, under one root with no orphan span; beside it only the traces of jobs
that did work, each under a root named for its job; and nothing at all from an idle platform over many
polling intervals."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from devstack.eventtap import event_tap
from devstack.filing import complaint_form
from devstack.platform import WEBHOOK_SECRET, register_endpoints
from devstack.processes import SERVICES, running_replicas
from devstack.receiver import WebhookReceiver
from devstack.servers import serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

POLL_S = "0.2"
# Every periodic job polls at least this often here, so an idle stretch spans several turns of each.
FAST_JOBS = {
    "intake": {"STATISTICS_FOLD_INTERVAL_S": POLL_S},
    "evidence": {"CLEANUP_INTERVAL_S": "0.5"},
    "routing": {"WATCHDOG_INTERVAL_S": "0.5", "BAND_PRUNING_INTERVAL_S": "0.5"},
    "notification": {"DISPATCH_POLL_INTERVAL_S": POLL_S, "DEAD_LETTER_CHECK_INTERVAL_S": "0.5"},
}
IDLE_S = 3.0
QUIET_S = 1.5  # no span for this long (several export delays) and the services have exported what they had


@dataclass
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int
    attributes: dict


@dataclass
class OtlpReceiver:
    """An OTLP/HTTP trace receiver (protobuf), as a collector would be: it keeps every span it is sent."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    last_at: float = 0.0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/traces")
        async def export(request: Request) -> Response:
            body = await request.body()
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            message = ExportTraceServiceRequest()
            message.ParseFromString(body)
            for resource_spans in message.resource_spans:
                resource = attributes_of(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(
                            ReceivedSpan(
                                resource.get("service.name", ""),
                                span.name,
                                span.trace_id.hex(),
                                span.span_id.hex(),
                                span.parent_span_id.hex(),
                                span.kind,
                                attributes_of(span.attributes),
                            )
                        )
            self.last_at = time.monotonic()
            return Response(ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf")

        return app

    def traces(self) -> dict[str, list[ReceivedSpan]]:
        grouped: dict[str, list[ReceivedSpan]] = defaultdict(list)
        for span in self.spans:
            grouped[span.trace_id].append(span)
        return grouped

    async def wait_quiet(self, quiet_s: float = QUIET_S, timeout: float = 30.0) -> None:
        """Wait until no span has arrived for ``quiet_s`` (counted from the call at the earliest)."""
        called = time.monotonic()
        deadline = called + timeout
        while time.monotonic() < deadline:
            if time.monotonic() - max(self.last_at, called) >= quiet_s:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"spans kept arriving for {timeout:.0f} s: {[s.name for s in self.spans[-20:]]}")


def attributes_of(pairs) -> dict:
    values = {}
    for pair in pairs:
        kind = pair.value.WhichOneof("value")
        value = getattr(pair.value, kind) if kind else None
        values[pair.key] = [v.string_value for v in pair.value.array_value.values] if kind == "array_value" else value
    return values


async def idle(platform, http: httpx.AsyncClient, otlp: OtlpReceiver) -> None:
    """``IDLE_S`` of an idle platform as production sees it: each service probed for readiness and scraped
    for metrics every second (whatever the answer), then the time for the last export."""
    replicas = [replica for service in SERVICES for replica in platform.running(service)]
    began = time.monotonic()
    with suppress_instrumentation():
        while time.monotonic() - began < IDLE_S:
            for replica in replicas:
                await replica.wait_ready()
                await http.get(f"{replica.internal_url}/metrics")
            await asyncio.sleep(1.0)
    await otlp.wait_quiet()


def orphans(spans: list[ReceivedSpan]) -> list[str]:
    ids = {span.span_id for span in spans}
    return [f"{span.service}: {span.name}" for span in spans if span.parent_id and span.parent_id not in ids]


async def test_one_trace_per_complaint_and_nothing_from_an_idle_platform(
    mongo_url, s3_endpoint, broker_namespace, run_id, tmp_path
):
    namespace = broker_namespace.isolated("trace-store")
    for service in SERVICES:
        namespace.settings_for(service)
    broker = namespace.broker_settings()
    otlp = OtlpReceiver()
    hooks = WebhookReceiver(WEBHOOK_SECRET)
    async with serve(otlp.app()) as otlp_url, serve(hooks.app()) as hooks_url:
        telemetry = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_url,
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        }
        env = {service: {**telemetry, **FAST_JOBS[service]} for service in SERVICES}
        async with (
            event_tap(broker["amqp_url"], broker["event_exchange"], ["complaint.forwarded"]) as tap,
            running_replicas(
                mongo_url=mongo_url,
                s3_endpoint=s3_endpoint,
                broker=broker,
                db_prefix=f"t{run_id}_tracestore",
                bucket=f"t-{run_id}-tracestore",
                log_dir=tmp_path / "logs",
                replicas=dict.fromkeys(SERVICES, 1),
                env=env,
            ) as platform,
            httpx.AsyncClient(timeout=30) as http,
        ):
            # Starting exported nothing: no index creation, no readiness ping, no poll of an empty store.
            await otlp.wait_quiet()
            assert [f"{span.service}: {span.name}" for span in otlp.spans] == [], "starting exports nothing"
            # The test is a client from outside: it sends no trace context of its own.
            with suppress_instrumentation():
                async with (
                    httpx.AsyncClient(base_url=platform.url("routing"), timeout=30) as routing,
                    httpx.AsyncClient(base_url=platform.url("notification"), timeout=30) as notification,
                ):
                    await register_endpoints(routing, notification, hooks_url)
                    listing = (await routing.get("/v1/companies", params={"limit": 1})).json()
            company = (listing["items"] if isinstance(listing, dict) else listing)[0]
            await otlp.wait_quiet()

            # Idle: several turns of every job and relay, probes and scrapes, and not one span.
            otlp.spans.clear()
            await idle(platform, http, otlp)
            assert [f"{span.service}: {span.name}" for span in otlp.spans] == [], "an idle platform exports nothing"

            with suppress_instrumentation():
                filed = await http.post(
                    f"{platform.url('intake')}/v1/complaints",
                    json=complaint_form("trace-store", 1, company["name"]),
                    headers={"Idempotency-Key": f"trace-store-{run_id}"},
                )
            assert filed.status_code == 201, filed.text
            number = filed.json()["number"]
            await tap.wait_for("complaint.forwarded", subject=number, timeout=45)
            await otlp.wait_quiet()

            traces = otlp.traces()
            [complaint_trace] = [
                spans
                for spans in traces.values()
                if any(
                    span.service == "intake"
                    and span.kind == ProtoSpan.SPAN_KIND_SERVER
                    and span.attributes.get("http.route") == "/v1/complaints"
                    for span in spans
                )
            ]
            roots = [span for span in complaint_trace if not span.parent_id]
            assert [(root.service, root.kind) for root in roots] == [("intake", ProtoSpan.SPAN_KIND_SERVER)]
            assert orphans(complaint_trace) == []
            assert {span.service for span in complaint_trace} == set(SERVICES)
            names = {span.name for span in complaint_trace}
            assert {"complaint.submitted publish", "complaint.forwarded publish", "webhook deliver"} <= names
            assert any(span.attributes.get("complaint.number") == number for span in complaint_trace)

            # Beside it, only jobs that did work: each one trace under a root named for its job.
            others = [spans for spans in traces.values() if spans is not complaint_trace]
            for spans in others:
                roots = [span for span in spans if not span.parent_id]
                assert len(roots) == 1 and "job.name" in roots[0].attributes, [
                    (span.service, span.name, bool(span.parent_id)) for span in spans
                ]
                assert orphans(spans) == []
            job_roots = [next(span for span in spans if not span.parent_id) for spans in others]
            jobs = sorted(root.attributes["job.name"] for root in job_roots)
            assert "outbox relay" in jobs and "delivery claim" in jobs
            for root in job_roots:
                if root.attributes["job.name"] in ("outbox relay", "delivery claim"):
                    assert root.attributes.get("complaint.number") == number, root.attributes
            print(
                f"\ncomplaint trace: {len(complaint_trace)} spans across {len(SERVICES)} services; "
                f"other traces while it went from filing to forwarded: {len(others)} {jobs}"
            )

            # And once it is forwarded the platform is idle again.
            otlp.spans.clear()
            await idle(platform, http, otlp)
            assert [f"{span.service}: {span.name}" for span in otlp.spans] == [], "an idle platform exports nothing"
