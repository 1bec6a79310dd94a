"""What leaves a process as traces: a job run that found nothing is dropped whole, one that did work is one
trace under its named root, a database call outside any work is dropped, and the outbox relay keeps the
writing request's trace going through the broker. Against SecantusDB and RabbitMQ, with the SDK's own
provider and an in-memory exporter behind :class:`WorthExporting`, as the services install it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from greenchannel.contracts import EvidenceStored
from greenchannel.mongo import in_transaction, make_client
from greenchannel.runtime import ServiceRuntime
from greenchannel.settings import ServiceSettings
from greenchannel.telemetry import JOB_ATTRIBUTE, WorthExporting, job_run, record_work, setup_tracing

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def exported():
    setup_tracing("common-tests")
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(WorthExporting(SimpleSpanProcessor(exporter)))
    yield exporter
    exporter.shutdown()


@pytest.fixture
async def db(mongo_url, run_id, request):
    client = make_client(mongo_url, "job-traces")
    yield client[f"t{run_id}_jobtraces_{request.node.name[-12:]}"]
    await client.close()


def of_trace(exporter: InMemorySpanExporter, trace_id: int) -> list:
    return [span for span in exporter.get_finished_spans() if span.context.trace_id == trace_id]


async def test_an_idle_run_exports_nothing_and_a_run_that_worked_one_trace(exported, db):
    with job_run("idle poll") as idle:
        assert await db.work.find_one({"due": True}) is None

        async def late() -> None:
            await asyncio.sleep(0.2)
            await db.work.find_one({"late": True})

        straggler = asyncio.create_task(late())  # a span of the run that ends after the run
    with job_run("busy poll") as busy:
        await db.work.insert_one({"due": True, "number": "GC-20261207-000007"})
        assert await db.work.find_one({"due": True}) is not None
        record_work("GC-20261207-000007")
    await straggler

    assert of_trace(exported, idle.get_span_context().trace_id) == []
    spans = of_trace(exported, busy.get_span_context().trace_id)
    roots = [span for span in spans if span.parent is None]
    assert [root.name for root in roots] == ["busy poll"]
    assert roots[0].attributes[JOB_ATTRIBUTE] == "busy poll"
    assert roots[0].attributes["complaint.number"] == "GC-20261207-000007"
    calls = [span for span in spans if span.parent is not None]
    assert len(calls) == 2 and all(span.parent.span_id == roots[0].context.span_id for span in calls)
    assert {span.name.rsplit(".", 1)[-1] for span in calls} == {"insert", "find"}


async def test_a_failed_run_is_exported_with_its_error(exported, db):
    # The error must leave the run's block for the run to see it: both statements belong inside.
    with pytest.raises(RuntimeError), job_run("failing poll") as failing:  # noqa: PT012
        await db.work.find_one({})
        raise RuntimeError("the store answered nonsense")
    spans = of_trace(exported, failing.get_span_context().trace_id)
    root = next(span for span in spans if span.parent is None)
    assert root.name == "failing poll" and root.status.status_code is StatusCode.ERROR
    assert len(spans) == 2


async def test_a_database_call_outside_any_work_is_dropped_but_one_inside_a_span_is_not(exported, db):
    before = {span.context.span_id for span in exported.get_finished_spans()}
    await db.orphans.create_index("made_at")
    await db.orphans.find_one({"nothing": True})
    with trace.get_tracer(__name__).start_as_current_span("a request") as request:
        await db.orphans.find_one({"something": True})
    new = [span for span in exported.get_finished_spans() if span.context.span_id not in before]
    assert all(span.context.trace_id == request.get_span_context().trace_id for span in new), [s.name for s in new]
    assert len(new) == 2


async def test_the_relay_exports_nothing_when_idle_and_keeps_the_request_trace_when_it_publishes(
    exported, mongo_url, run_id, broker_namespace
):
    settings = ServiceSettings(
        service_name="relay-traces",
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_relaytraces",
        outbox_poll_interval_s=0.1,
        **broker_namespace.settings_for("relay-traces"),
    )
    runtime = ServiceRuntime(settings)
    try:
        await runtime.start()
        for _ in range(100):
            if runtime.broker.is_connected:
                break
            await asyncio.sleep(0.1)
        assert runtime.broker.is_connected
        exported.clear()
        await asyncio.sleep(1.5)  # about fifteen polls of an empty outbox
        ours = [
            span
            for span in exported.get_finished_spans()
            if span.attributes.get("db.name") == settings.mongo_db or span.name == "outbox relay"
        ]
        assert ours == [], "an idle relay exports nothing"

        number = "GC-20261207-000009"
        event = EvidenceStored(
            evidence_id="ev-9",
            number=number,
            filename="a.png",
            media_type="image/png",
            size=3,
            sha256="00" * 32,
            stored_at=datetime.now(UTC),
        )
        with trace.get_tracer(__name__).start_as_current_span("POST /v1/complaints") as request:
            await in_transaction(
                runtime.mongo, lambda session: runtime.outbox.add(event, subject=number, session=session)
            )
        runtime.relay.wake()
        for _ in range(100):
            if any(span.name == "evidence.stored publish" for span in exported.get_finished_spans()):
                break
            await asyncio.sleep(0.1)
        publish = next(span for span in exported.get_finished_spans() if span.name == "evidence.stored publish")
        assert publish.context.trace_id == request.get_span_context().trace_id
        assert publish.parent.span_id == request.get_span_context().span_id
        [link] = publish.links
        relay_run = of_trace(exported, link.context.trace_id)
        root = next(span for span in relay_run if span.parent is None)
        assert root.name == "outbox relay" and root.attributes["complaint.number"] == number
        assert all(span.parent is None or span.parent.span_id == root.context.span_id for span in relay_run)
        # Handed over by the commit, the entry needed no claim. Its mark is a later pass's one write, batched
        # with whatever else was published meanwhile: a pass that only marks is bookkeeping and exports nothing.
        assert not [span for span in relay_run if span.name.rsplit(".", 1)[-1] == "update"]
        exported.clear()
        for _ in range(100):
            if await runtime.outbox.pending_count() == 0:
                break
            await asyncio.sleep(0.1)
        assert await runtime.outbox.pending_count() == 0, "marked sent"
        assert [
            span
            for span in exported.get_finished_spans()
            if span.attributes.get("db.name") == settings.mongo_db or span.name == "outbox relay"
        ] == []
    finally:
        await runtime.stop()
