"""One trace follows a complaint: from the HTTP submission through RabbitMQ, MongoDB and routing's
decision to the company's webhook, across all four services, with unbroken parent links."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from PIL import Image

pytestmark = pytest.mark.e2e

ADMIN = {"login": "admin", "password": "development-only-admin-password"}


@pytest.fixture(scope="module")
def spans(platform):
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "the services install the SDK's tracer provider"
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


async def test_one_trace_from_submission_to_webhook(spans, platform, caplog):
    caplog.set_level(logging.DEBUG)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buffer, format="PNG")
    receipt = (
        await platform.intake.post("/v1/evidence", files={"file": ("a.png", buffer.getvalue(), "image/png")})
    ).json()
    company = (await platform.routing.get("/v1/companies", params={"q": "迅联"})).json()["items"][0]["name"]
    spans.clear()
    filed = await platform.intake.post(
        "/v1/complaints",
        json={
            "complainant": {"name": "郑八", "id_number": "11010519491231002X", "phone": "13900001111"},
            "company": {"name": company},
            "category": "billing",
            "title": "重复扣费未退还",
            "description": "同一订单被扣费两次，客服未处理。",
            "occurred_on": "2026-10-10",
            "desired_outcome": "退还重复扣费",
            "evidence_ids": [receipt["evidence_id"]],
        },
    )
    number, code = filed.json()["number"], filed.json()["access_code"]

    case: dict = {}
    for _ in range(300):
        case = (await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
        if case["status"] == "forwarded":
            break
        await asyncio.sleep(0.1)
    assert case.get("status") == "forwarded"
    await asyncio.sleep(0.5)  # the last consumer spans end after the state is visible

    finished = spans.get_finished_spans()
    root = next(
        s
        for s in finished
        if s.kind is SpanKind.SERVER
        and s.attributes.get("http.route") == "/v1/complaints"
        and s.attributes.get("http.request.method", s.attributes.get("http.method")) == "POST"
    )
    trace_id = root.context.trace_id
    ours = [s for s in finished if s.context.trace_id == trace_id]
    names = [s.name for s in ours]

    # HTTP in intake, intake -> evidence over HTTP, then each hop through the broker and the webhook.
    assert any(
        s.kind is SpanKind.SERVER and s.attributes.get("http.route") == "/v1/evidence/{evidence_id}" for s in ours
    )
    for hop in (
        "complaint.submitted publish",
        "complaint.screened publish",
        "complaint.accepted publish",
        "webhook.delivered publish",
        "complaint.forwarded publish",
    ):
        assert hop in names, f"{hop} is not in the complaint's trace: {sorted(set(names))}"
    consumers = [s for s in ours if s.kind is SpanKind.CONSUMER]
    assert len(consumers) >= 4  # routing, intake (decision), notification, intake (delivery)
    assert "webhook deliver" in names
    webhook_posts = [
        s
        for s in ours
        if s.kind is SpanKind.CLIENT
        and "/webhooks/" in str(s.attributes.get("url.full", s.attributes.get("http.url", "")))
    ]
    assert webhook_posts, "the webhook POST is in the same trace"

    # Unbroken: one root, intake's own server span (the public edge starts the trace: the test client's
    # instrumented POST sent a traceparent, which it ignores), and every other span has its parent in the trace.
    ids = {s.context.span_id for s in ours}
    roots = [s for s in ours if s.parent is None]
    assert roots == [root]
    orphans = [s.name for s in ours if s.parent is not None and s.parent.span_id not in ids]
    assert orphans == []
    # Spans carry the complaint number as a business attribute, never the complainant's identity.
    assert any(s.attributes.get("complaint.number") == number for s in ours)
    dumped = " ".join(str(dict(s.attributes)) for s in ours)
    assert "11010519491231002X" not in dumped and "13900001111" not in dumped and "郑八" not in dumped
    # Nor do the logs of the four services, at every level, about this complaint's whole journey.
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert len(caplog.records) > 20  # the services did log, at every level, while handling it
    for personal in ("11010519491231002X", "13900001111", "+8613900001111", "郑八"):
        assert personal not in logged

    # The operator's one step from a number to its traces.
    token = (await platform.intake.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
    traces = (
        await platform.intake.get(f"/v1/ops/complaints/{number}/traces", headers={"Authorization": f"Bearer {token}"})
    ).json()
    assert format(trace_id, "032x") in [item["trace_id"] for item in traces["traces"]]
    assert traces["traces"][0]["url"].startswith("http://localhost:16686/trace/")
