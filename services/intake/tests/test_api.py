"""intake over HTTP against the real stand-ins: filing, idempotency, access codes, bad input, and the
case moving on as routing's and notification's events arrive through RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import UTC, date, datetime

import httpx
import pytest

from devstack.eventtap import event_tap
from devstack.servers import serve
from greenchannel.contracts import CloudEvent, ComplaintScreened, WebhookDelivered
from intake.config import Settings
from intake.main import create_app

pytestmark = pytest.mark.integration

FORM = {
    "complainant": {
        "name": "李四",
        "id_number": "11010519491231002X",
        "phone": "13912345678",
        "email": "li.si@example.cn",
    },
    "company": {"name": "迅联"},
    "category": "auto_renewal",
    "title": "会员自动续费未提醒",
    "description": "会员到期前未收到任何提醒即被扣费三十元，客服拒绝退款。",
    "occurred_on": "2026-10-01",
    "desired_outcome": "退还扣费并关闭自动续费",
}


@pytest.fixture(scope="module")
async def intake(mongo_url, broker_namespace, run_id):
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_api",
        outbox_poll_interval_s=0.1,
        metrics_refresh_interval_s=0.2,
        evidence_url="http://127.0.0.1:9",
        **broker_namespace.settings_for("intake"),
    )
    app = create_app(settings)
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        client.app = app
        yield client


@pytest.fixture(scope="module")
async def events(broker_namespace):
    """What intake publishes (complaint.*), and a way to publish as routing and notification do."""
    async with event_tap(broker_namespace.amqp_url, broker_namespace.exchange, ["complaint.*"]) as tap:
        yield tap


async def wait_for_status(client, number, code, status, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        body = (await client.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
        if body["status"] == status:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number} did not reach {status}: {body['status']}")


async def test_filing_answers_number_and_code_and_publishes_submitted(intake, events):
    response = await intake.post("/v1/complaints", json=FORM)
    assert response.status_code == 201
    answer = response.json()
    assert answer["number"].startswith("GC-") and len(answer["access_code"]) == 10
    tapped = await events.wait_for("complaint.submitted", subject=answer["number"])
    assert tapped.event.specversion == "1.0" and tapped.event.data["company_name"] == "迅联"
    assert "traceparent" in tapped.headers
    # No plaintext personal data leaves intake in events.
    raw = tapped.event.model_dump_json()
    assert "11010519491231002X" not in raw and "13912345678" not in raw and "李四" not in raw

    case = (
        await intake.get(f"/v1/complaints/{answer['number']}", headers={"X-Access-Code": answer["access_code"]})
    ).json()
    assert case["status"] == "submitted"
    assert case["complainant"] == {
        "name": "李*",
        "id_number": "1101**********002X",
        "phone": "139****5678",
        "email": "l***@example.cn",
    }
    assert [entry["action"] for entry in case["timeline"]] == ["submit"]


async def test_personal_data_is_encrypted_at_rest(intake):
    answer = (await intake.post("/v1/complaints", json=FORM)).json()
    stored = await intake.app.state.intake.cases.get(answer["number"])
    text = json.dumps(stored, default=str, ensure_ascii=False)
    for secret in ("11010519491231002X", "+8613912345678", "李四", "li.si@example.cn", answer["access_code"]):
        assert secret not in text
    assert stored["complainant"]["id_number"]["kid"] == "dev-1"
    cipher = intake.app.state.intake.cipher
    assert cipher.decrypt("id_number", stored["complainant"]["id_number"]) == "11010519491231002X"


async def test_same_idempotency_key_and_body_answers_the_same_complaint(intake):
    headers = {"Idempotency-Key": "form-submit-7f3a"}
    first = await intake.post("/v1/complaints", json=FORM, headers=headers)
    second = await intake.post("/v1/complaints", json=FORM, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    count = await intake.app.state.intake.cases.complaints.count_documents(
        {"title": FORM["title"], "_id": first.json()["number"]}
    )
    assert count == 1
    concurrent = await asyncio.gather(
        *(intake.post("/v1/complaints", json=FORM, headers={"Idempotency-Key": "race-1"}) for _ in range(4))
    )
    assert {r.status_code for r in concurrent} == {201}
    assert len({r.json()["number"] for r in concurrent}) == 1


async def test_reused_idempotency_key_with_other_body_is_refused(intake):
    headers = {"Idempotency-Key": "form-submit-reuse"}
    assert (await intake.post("/v1/complaints", json=FORM, headers=headers)).status_code == 201
    before = await intake.app.state.intake.cases.complaints.count_documents({})
    response = await intake.post("/v1/complaints", json={**FORM, "title": "另一个投诉标题"}, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "idempotency_key_reused"
    assert await intake.app.state.intake.cases.complaints.count_documents({}) == before


@pytest.mark.parametrize(
    ("change", "field", "error_type"),
    [
        (
            lambda f: f["complainant"].update(id_number="110101199003074515"),
            "complainant.id_number",
            "id_number_check_digit",
        ),
        (lambda f: f["complainant"].update(phone="12345"), "complainant.phone", "phone_format"),
        (lambda f: f["complainant"].update(email="not-an-email"), "complainant.email", "email_format"),
        (lambda f: f.pop("title"), "title", "missing"),
        (lambda f: f.update(company={}), "company", "company_missing"),
    ],
)
async def test_bad_input_gets_a_machine_readable_422_and_stores_nothing(intake, change, field, error_type):
    form = json.loads(json.dumps(FORM))
    change(form)
    before = await intake.app.state.intake.cases.complaints.count_documents({})
    response = await intake.post("/v1/complaints", json=form)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {"field": field, "type": error_type} in [{"field": e["field"], "type": e["type"]} for e in body["errors"]]
    assert await intake.app.state.intake.cases.complaints.count_documents({}) == before


async def test_a_wrong_check_digit_is_refused_without_naming_the_right_one(intake):
    """A slip in a middle digit must not be "fixed" by changing the last one to what the answer names."""
    form = json.loads(json.dumps(FORM))
    wrong_middle = "110101199003084514"  # a typo in the day; the check character of the first 17 digits is X
    form["complainant"]["id_number"] = wrong_middle
    response = await intake.post("/v1/complaints", json=form)
    assert response.status_code == 422
    [error] = [e for e in response.json()["errors"] if e["field"] == "complainant.id_number"]
    assert error["type"] == "id_number_check_digit" and "check each digit" in error["message"]
    assert "X" not in response.text.replace(wrong_middle, "")


async def test_malformed_json_and_wrong_access_code_are_4xx(intake):
    response = await intake.post(
        "/v1/complaints", content=b'{"complainant": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"
    answer = (await intake.post("/v1/complaints", json=FORM)).json()
    wrong = await intake.get(f"/v1/complaints/{answer['number']}", headers={"X-Access-Code": "WRONGCODE2"})
    missing = await intake.get("/v1/complaints/GC-20000101-000001", headers={"X-Access-Code": answer["access_code"]})
    none = await intake.get(f"/v1/complaints/{answer['number']}")
    assert wrong.status_code == missing.status_code == none.status_code == 404
    assert wrong.json() == missing.json() == none.json()


def wrap(data, subject):
    return CloudEvent.wrap(data, source="/test", subject=subject)


async def test_decisions_and_delivery_move_the_case_and_repeats_change_nothing(intake, events):
    answer = (await intake.post("/v1/complaints", json=FORM)).json()
    number, code = answer["number"], answer["access_code"]
    now = datetime.now(UTC)
    screened = ComplaintScreened(
        number=number,
        decision="accepted",
        company_id="c-xunlian",
        company_name="迅联科技有限公司",
        category="auto_renewal",
        response_due=date(2026, 12, 7),
        screened_at=now,
    )
    event = await events.publish(wrap(screened, number))
    case = await wait_for_status(intake, number, code, "accepted")
    assert case["company"]["id"] == "c-xunlian" and case["response_due"] == "2026-12-07"
    accepted = (await events.wait_for("complaint.accepted", subject=number)).event
    assert accepted.data["complainant"] == {"name": "李*", "phone": "139****5678"}

    # The same event again, and a contradicting late decision: nothing changes.
    await events.publish(event)
    await events.publish(
        wrap(ComplaintScreened(number=number, decision="rejected", reason="duplicate", screened_at=now), number)
    )
    await events.publish(
        wrap(
            WebhookDelivered(
                webhook_id="msg_1",
                number=number,
                company_id="c-xunlian",
                event_type="complaint.forwarded",
                attempts=2,
                status_code=204,
                delivered_at=now,
            ),
            number,
        )
    )
    case = await wait_for_status(intake, number, code, "forwarded")
    assert [entry["action"] for entry in case["timeline"]] == ["submit", "accept", "forward"]
    assert all(entry["trace_id"] for entry in case["timeline"])
    forwarded = (await events.wait_for("complaint.forwarded", subject=number)).event
    assert forwarded.data["webhook_id"] == "msg_1"
    assert len(events.events("complaint.accepted", subject=number)) == 1


async def test_rejection_records_the_reason(intake, events):
    answer = (await intake.post("/v1/complaints", json=FORM)).json()
    await events.publish(
        wrap(
            ComplaintScreened(
                number=answer["number"],
                decision="rejected",
                reason="company_unknown",
                detail="No company matches 迅联",
                screened_at=datetime.now(UTC),
            ),
            answer["number"],
        )
    )
    case = await wait_for_status(intake, answer["number"], answer["access_code"], "rejected")
    assert case["rejection"] == {"reason": "company_unknown", "detail": "No company matches 迅联"}
    assert case["timeline"][-1]["detail"] == "company_unknown"
    rejected = (await events.wait_for("complaint.rejected", subject=answer["number"])).event
    assert rejected.data["reason"] == "company_unknown"


async def test_metrics_show_requests_events_outbox_and_cases(intake, events):
    answer = (await intake.post("/v1/complaints", json=FORM)).json()
    await events.wait_for("complaint.submitted", subject=answer["number"])
    async with httpx.AsyncClient(base_url=intake.app.state.internal_url, timeout=10) as internal:
        # The gauges follow the store at the runtime's next refresh (0.2 s here), not at the scrape.
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            text = (await internal.get("/metrics")).text
            if (
                any(
                    line.startswith('greenchannel_cases{state="submitted"}') and float(line.split()[-1]) >= 1
                    for line in text.splitlines()
                )
                or asyncio.get_running_loop().time() > deadline
            ):
                break
            await asyncio.sleep(0.05)
    assert (
        'greenchannel_http_request_seconds_count{method="POST",route="/v1/complaints",service="intake",status="201"}'
        in text
    )
    assert answer["number"] not in text  # route templates, never raw paths
    published = [
        line
        for line in text.splitlines()
        if line.startswith('greenchannel_events_published_total{service="intake",type="complaint.submitted"}')
    ]
    assert published and float(published[0].split()[-1]) >= 1
    assert 'greenchannel_outbox_backlog{service="intake"}' in text
    submitted = [line for line in text.splitlines() if line.startswith('greenchannel_cases{state="submitted"}')]
    assert submitted and float(submitted[0].split()[-1]) >= 1


async def test_a_client_cannot_pick_the_trace_of_its_request(intake, events):
    """The public edge starts its own trace: a client's traceparent neither joins another trace nor decides
    sampling (a request it marks unsampled is traced like any other). Sent with urllib: the tests' httpx
    clients are instrumented and would replace the header with their own."""
    chosen = "0af7651916cd43dd8448eb211c80319c"

    def post_as_a_stranger(flags: str) -> dict:
        # The URL is the http:// base of the service under test.
        request = urllib.request.Request(  # noqa: S310
            str(intake.base_url.join("/v1/complaints")),
            data=json.dumps(FORM).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "traceparent": f"00-{chosen}-b7ad6b7169203331-{flags}",
                "tracestate": "x=1",
                "baggage": "user=someone",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            assert response.status == 201
            return json.loads(response.read())

    for flags in ("01", "00"):
        answer = await asyncio.to_thread(post_as_a_stranger, flags)
        tapped = await events.wait_for("complaint.submitted", subject=answer["number"])
        assert chosen not in tapped.headers.get("traceparent", "")
        case = (
            await intake.get(f"/v1/complaints/{answer['number']}", headers={"X-Access-Code": answer["access_code"]})
        ).json()
        assert all(entry["trace_id"] and entry["trace_id"] != chosen for entry in case["timeline"])
