"""intake's use cases over HTTP and on the real store: one Idempotency-Key is one effect however many
retries arrive together, the company's answer and its record are one write, a publication falls due once
however often it is told, and an operator's review answers the state the case is in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from devstack.eventtap import event_tap
from devstack.servers import serve
from greenchannel.contracts import CloudEvent, ComplaintScreened, WebhookDelivered
from greenchannel.mongo import in_transaction
from intake.adapters.service_clients import RoutingClient
from intake.config import Settings
from intake.domain.statistics import CHINA
from intake.main import create_app

pytestmark = pytest.mark.integration

FORM = {
    "complainant": {"name": "钱七", "id_number": "11010519491231002X", "phone": "13712345678"},
    "company": {"name": "迅联"},
    "category": "refund",
    "title": "课程退款被拒",
    "description": "购买的课程无法播放，申请退款被客服拒绝。",
    "occurred_on": "2026-09-01",
    "desired_outcome": "全额退款",
}
ADMIN = {"login": "admin", "password": "development-only-admin-password"}
COMPANY = "c-usecases"


DIRECTORY = {COMPANY: "迅联科技", "c-right": "正确公司"}


def directory_app() -> FastAPI:
    """routing's directory as intake reads it (``GET /v1/companies/{id}``), over real HTTP."""
    app = FastAPI()

    @app.get("/v1/companies/{company_id}")
    async def company(company_id: str) -> JSONResponse:
        if company_id not in DIRECTORY:
            return JSONResponse({"code": "company_not_found"}, status_code=404)
        return JSONResponse({"id": company_id, "name": DIRECTORY[company_id]})

    return app


@pytest.fixture(scope="module")
async def platform(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("intake-use-cases")
    # Concurrent requests with one access code are what these tests make; the guessing guard's counting of them
    # (tested on its own) is off here.
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_use_cases",
        outbox_poll_interval_s=0.1,
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        rate_limits_enabled=False,
        **namespace.settings_for("intake"),
    )
    async with serve(directory_app()) as directory_url:
        # The routing client replaced by one reading this directory (the settings point nowhere).
        routing = RoutingClient(directory_url, "internal", "operator")
        app = create_app(settings, routing=routing)
        async with (
            event_tap(namespace.amqp_url, namespace.exchange, ["complaint.*"]) as tap,
            serve(app) as base_url,
            httpx.AsyncClient(base_url=base_url, timeout=10) as client,
        ):
            await tap.wait_for_consumer(f"{namespace.queue_prefix}.intake")
            client.app, client.tap = app, tap
            yield client
        await routing.close()


async def file(client) -> tuple[str, dict[str, str]]:
    filed = (await client.post("/v1/complaints", json=FORM)).json()
    return filed["number"], {"X-Access-Code": filed["access_code"]}


async def screened(client, number: str, decision: str) -> None:
    now = datetime.now(UTC)
    fields = (
        {
            "company_id": COMPANY,
            "company_name": "迅联科技",
            "category": "refund",
            "response_due": datetime.now(CHINA).date() + timedelta(days=14),
        }
        if decision == "accepted"
        else {"reason": "out_of_scope"}
    )
    await client.tap.publish(
        CloudEvent.wrap(
            ComplaintScreened(number=number, decision=decision, screened_at=now, **fields), source="/t", subject=number
        )
    )
    await client.tap.wait_for(f"complaint.{decision}", subject=number)


async def forward(client, number: str) -> None:
    await screened(client, number, "accepted")
    await client.tap.publish(
        CloudEvent.wrap(
            WebhookDelivered(
                webhook_id=f"msg_{number}",
                number=number,
                company_id=COMPANY,
                event_type="complaint.forwarded",
                attempts=1,
                status_code=204,
                delivered_at=datetime.now(UTC),
            ),
            source="/t",
            subject=number,
        )
    )
    await client.tap.wait_for("complaint.forwarded", subject=number)


async def test_one_key_withdraws_once_however_many_retries_arrive_together(platform):
    number, guest = await file(platform)
    headers = {**guest, "Idempotency-Key": f"withdraw-{number}"}
    answers = await asyncio.gather(
        *(
            platform.post(f"/v1/complaints/{number}/withdrawal", headers=headers, json={"reason": "已和解"})
            for _ in range(4)
        )
    )
    assert [answer.status_code for answer in answers] == [200] * 4, [answer.text for answer in answers]
    assert {answer.text for answer in answers} == {answers[0].text}
    case = (await platform.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert [entry["action"] for entry in case["timeline"]] == ["submit", "withdraw"]
    await platform.tap.wait_for("complaint.withdrawn", subject=number)
    await asyncio.sleep(0.3)  # a second event would have been relayed by now
    assert len(platform.tap.events("complaint.withdrawn", subject=number)) == 1
    # The key with another body is refused, not replayed.
    other = await platform.post(f"/v1/complaints/{number}/withdrawal", headers=headers, json={"reason": "改主意了"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


async def test_two_answers_at_once_record_one_answer(platform):
    number, _ = await file(platform)
    await forward(platform, number)
    issued = await platform.app.state.intake.identities.issue_api_key(COMPANY, "test", "test")
    company = {"X-Api-Key": issued["api_key"]}
    answers = await asyncio.gather(
        *(
            platform.post(
                f"/v1/company/complaints/{number}/response",
                headers=company,
                json={"response_type": kind, "text": "已为您办理全额退款。"},
            )
            for kind in ("monetary_relief", "explained")
        )
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200, 409], [answer.text for answer in answers]
    [refused] = [answer.json() for answer in answers if answer.status_code == 409]
    assert refused["code"] == "illegal_transition" and refused["status_now"] == "responded"
    case = await platform.app.state.intake.cases.get(number)
    # The answer and the list of answers are written by the same update: never one without the other.
    assert case["responses"] == [case["response"]]
    assert len(platform.tap.events("complaint.responded", subject=number)) <= 1


async def test_a_publication_due_twice_at_once_publishes_once(platform):
    number, _ = await file(platform)
    await forward(platform, number)
    cases = platform.app.state.intake.cases

    async def publish() -> bool:
        return await in_transaction(cases.runtime.mongo, lambda session: cases.publish_if_unanswered(number, session))

    published = await asyncio.gather(*(publish() for _ in range(3)))
    assert sorted(published) == [False, False, True]
    case = await cases.get(number)
    assert case["publication_trigger"] == "publication_due" and case["published_at"] is not None
    await platform.tap.wait_for("complaint.published", subject=number)
    await asyncio.sleep(0.3)
    assert len(platform.tap.events("complaint.published", subject=number)) == 1


async def test_a_review_answers_the_state_the_case_is_in(platform):
    operator = {
        "Authorization": "Bearer " + (await platform.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
    }
    number, _ = await file(platform)
    early = await platform.post(f"/v1/ops/complaints/{number}/review", headers=operator)
    assert early.status_code == 409, early.text
    assert early.json()["code"] == "not_rejected" and early.json()["status_now"] == "submitted"
    assert early.headers["content-type"].startswith("application/problem+json")
    unknown = await platform.post("/v1/ops/complaints/GC-20000101-000321/review", headers=operator)
    assert unknown.status_code == 404 and unknown.json()["code"] == "complaint_not_found"

    await screened(platform, number, "rejected")
    reviewed = await platform.post(f"/v1/ops/complaints/{number}/review", headers=operator)
    assert reviewed.status_code == 200 and reviewed.json() == {"number": number, "reviewed": True}
    queue = (await platform.get("/v1/ops/queue", params={"kind": "rejected"}, headers=operator)).json()
    assert number not in [item["number"] for item in queue["items"]]


async def operator_headers(client) -> dict[str, str]:
    signed_in = await client.post("/v1/ops/auth/token", json=ADMIN)
    return {"Authorization": "Bearer " + signed_in.json()["access_token"]}


async def test_a_redirect_racing_the_company_answer_is_one_or_the_other(platform):
    operator = await operator_headers(platform)
    issued = await platform.app.state.intake.identities.issue_api_key(COMPANY, "test", "test")
    company = {"X-Api-Key": issued["api_key"]}
    for _ in range(3):
        number, guest = await file(platform)
        await forward(platform, number)
        redirected, answered = await asyncio.gather(
            platform.post(f"/v1/ops/complaints/{number}/redirect", headers=operator, json={"company_id": "c-right"}),
            platform.post(
                f"/v1/company/complaints/{number}/response",
                headers=company,
                json={"response_type": "explained", "text": "已向您说明扣费规则。"},
            ),
        )
        case = (await platform.get(f"/v1/complaints/{number}", headers=guest)).json()
        if redirected.status_code == 200:
            assert redirected.json() == {"number": number, "status": "accepted", "company_id": "c-right"}
            # Redirected first: the answer of a company the case no longer goes to is refused (or not even seen).
            assert answered.status_code in (404, 409), answered.text
            assert case["status"] == "accepted" and case["company"]["id"] == "c-right" and case["response"] is None
            await platform.tap.wait_for("complaint.redirected", subject=number)
        else:
            assert answered.status_code == 200, answered.text
            assert redirected.status_code == 409 and redirected.json()["status_now"] == "responded", redirected.text
            assert case["status"] == "responded" and case["company"]["id"] == COMPANY
            assert not platform.tap.events("complaint.redirected", subject=number)


async def test_a_redirect_names_a_company_of_the_directory_other_than_its_own(platform):
    operator = await operator_headers(platform)
    number, _ = await file(platform)
    await forward(platform, number)
    unknown = await platform.post(
        f"/v1/ops/complaints/{number}/redirect", headers=operator, json={"company_id": "c-nowhere"}
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "company_unknown", unknown.text
    same = await platform.post(f"/v1/ops/complaints/{number}/redirect", headers=operator, json={"company_id": COMPANY})
    assert same.status_code == 422 and same.json()["code"] == "same_company", same.text
    case = await platform.app.state.intake.cases.get(number)
    assert case["status"] == "forwarded" and [entry["action"] for entry in case["timeline"]][-1] == "forward"
