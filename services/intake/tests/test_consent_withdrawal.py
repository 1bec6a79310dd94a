"""Withdrawing the consent to publication, over HTTP against the real stand-ins: the narrative and the company's
answer leave the public record at once (detail, list, a revalidation of what was cached, the open data), the
facts that are not personal stay; only the complainant (its guest or its account) may withdraw, anyone else gets
the 404 of a complaint that does not exist; the withdrawal is final, idempotent and on the timeline, in any state,
also racing the company's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devstack.accounts import create_account
from devstack.eventtap import event_tap
from devstack.servers import serve
from greenchannel.contracts import CloudEvent, ComplaintScreened, WebhookDelivered
from intake.adapters.identities import LoginTaken
from intake.config import Settings
from intake.main import create_app

pytestmark = pytest.mark.integration

COMPANY = "c-consent"
TITLE = "年卡停业不退款"
DESCRIPTION = "健身房突然停业，剩余十个月年卡费用不予退还，我是周九，电话13600001111。"
ANSWER = "已联系周九先生，按剩余月份退款。"
FORM = {
    "complainant": {"name": "周九", "id_number": "440105194912310026", "phone": "13600001111"},
    "company": {"name": "撤回测试健身"},
    "category": "refund",
    "title": TITLE,
    "description": DESCRIPTION,
    "occurred_on": "2026-09-01",
    "desired_outcome": "退还剩余费用",
    "publication_consent": True,
}
WITHDRAWAL = "/v1/complaints/{}/publication-consent/withdrawal"
# What the text of the complaint leaves behind in any public answer while it is published.
TEXT_MARKS = (TITLE, "剩余十个月年卡", "按剩余月份退款")


@pytest.fixture(scope="module")
async def live(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("intake-consent")
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_consent",
        outbox_poll_interval_s=0.1,
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        rate_limits_enabled=False,
        **namespace.settings_for("intake"),
    )
    app = create_app(settings)
    async with (
        event_tap(namespace.amqp_url, namespace.exchange, ["complaint.*"]) as tap,
        serve(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as client,
    ):
        await tap.wait_for_consumer(f"{namespace.queue_prefix}.intake")
        client.app, client.tap = app, tap
        yield client


async def file_and_forward(client, *, consent: bool = True, headers: dict | None = None) -> tuple[str, dict]:
    """A complaint forwarded to the company, as routing and notification would have it; and its guest access."""
    filed = await client.post("/v1/complaints", json={**FORM, "publication_consent": consent}, headers=headers)
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]
    now = datetime.now(UTC)
    await client.tap.publish(
        CloudEvent.wrap(
            ComplaintScreened(
                number=number,
                decision="accepted",
                company_id=COMPANY,
                company_name="撤回测试健身",
                category="refund",
                response_due=now.date() + timedelta(days=14),
                screened_at=now,
            ),
            source="/t",
            subject=number,
        )
    )
    await client.tap.wait_for("complaint.accepted", subject=number)
    await client.tap.publish(
        CloudEvent.wrap(
            WebhookDelivered(
                webhook_id=f"msg_{number}",
                number=number,
                company_id=COMPANY,
                event_type="complaint.forwarded",
                attempts=1,
                status_code=204,
                delivered_at=now,
            ),
            source="/t",
            subject=number,
        )
    )
    await client.tap.wait_for("complaint.forwarded", subject=number)
    return number, {"X-Access-Code": filed.json()["access_code"]}


async def company(client) -> dict[str, str]:
    issued = await client.app.state.intake.identities.issue_api_key(COMPANY, "test", "test")
    return {"X-Api-Key": issued["api_key"]}


async def answer(client, number: str) -> None:
    answered = await client.post(
        f"/v1/company/complaints/{number}/response",
        headers=await company(client),
        json={"response_type": "monetary_relief", "text": ANSWER},
    )
    assert answered.status_code == 200, answered.text


async def account(client, login: str) -> dict[str, str]:
    with contextlib.suppress(LoginTaken):
        await create_account(client.app, login, "a-long-password-1")
    token = await client.post("/v1/auth/token", json={"login": login, "password": "a-long-password-1"})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def listed(body: dict, number: str) -> dict:
    [item] = [item for item in body["items"] if item["number"] == number]
    return item


def texts_in(answer: str) -> list[str]:
    return [mark for mark in TEXT_MARKS if mark in answer]


async def exported(client, path: str) -> str:
    response = await client.get(f"/v1/public/open-data/{path}")
    assert response.status_code == 200, response.text
    return response.text


def open_data_row(jsonl: str, number: str) -> dict:
    [row] = [json.loads(line) for line in jsonl.splitlines() if json.loads(line)["number"] == number]
    return row


async def test_the_text_leaves_the_public_record_at_once_and_the_facts_stay(live):
    number, guest = await file_and_forward(live)
    await answer(live, number)
    await live.tap.wait_for("complaint.published", subject=number)

    detail_url, list_url = f"/v1/public/complaints/{number}", f"/v1/public/complaints?company_id={COMPANY}"
    before = await live.get(detail_url)
    assert before.status_code == 200, before.text
    shown = before.json()
    assert shown["narrative"].startswith(TITLE) and ANSWER[-6:] in shown["answer"] and shown["narrative_public"]
    first_list = await live.get(list_url)
    assert listed(first_list.json(), number)["headline"] == TITLE
    assert texts_in(await exported(live, "complaints.jsonl"))
    # What a cache keeps of them: the validators a client revalidates with, answered 304 while they hold.
    etag, list_etag = before.headers["ETag"], first_list.headers["ETag"]
    assert (await live.get(detail_url, headers={"If-None-Match": etag})).status_code == 304
    assert (await live.get(list_url, headers={"If-None-Match": list_etag})).status_code == 304

    withdrawn = await live.post(WITHDRAWAL.format(number), headers={**guest, "Idempotency-Key": f"consent-{number}"})
    assert withdrawn.status_code == 200, withdrawn.text
    body = withdrawn.json()
    assert (body["number"], body["publication_consent"]) == (number, False) and body["withdrawn_at"]

    # A revalidation with what was cached before is answered with the record as it is now, never a 304.
    revalidated = await live.get(detail_url, headers={"If-None-Match": etag})
    assert revalidated.status_code == 200 and revalidated.headers["ETag"] != etag
    now_shown = revalidated.json()
    assert texts_in(revalidated.text) == [], revalidated.text
    assert (now_shown["narrative"], now_shown["answer"], now_shown["headline"], now_shown["narrative_public"]) == (
        None,
        None,
        None,
        False,
    )
    # The facts that are not personal stay published, as for a complaint filed without consent.
    kept = ("number", "company_id", "company_name", "category", "filed_on", "forwarded_on", "responded_on")
    kept += ("published_on", "status", "response_type", "timely", "rating", "appeal_outcome", "cluster")
    assert {name: now_shown[name] for name in kept} == {name: shown[name] for name in kept}
    list_now = await live.get(list_url, headers={"If-None-Match": list_etag})
    assert list_now.status_code == 200 and texts_in(list_now.text) == [], list_now.text
    assert listed(list_now.json(), number)["headline"] is None
    assert listed(list_now.json(), number)["status"] == "responded"

    # The open data read next holds the record without its text, in both formats.
    jsonl = await exported(live, "complaints.jsonl")
    row = open_data_row(jsonl, number)
    assert (row["narrative"], row["answer"], row["narrative_public"], row["category"]) == (None, None, False, "refund")
    assert texts_in(jsonl) == []
    rows = csv.DictReader(io.StringIO(await exported(live, "complaints.csv")))
    [csv_row] = [line for line in rows if line["number"] == number]
    assert (csv_row["narrative"], csv_row["answer"], csv_row["narrative_public"]) == ("", "", "false")

    # The complainant's own view keeps the text; the timeline says what happened, once.
    case = (await live.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert case["publication_consent"] is False and case["description"] == DESCRIPTION
    assert [entry["action"] for entry in case["timeline"]].count("withdraw_publication_consent") == 1
    assert case["status"] == "responded" and case["timeline"][-1]["status"] == "responded"

    # Idempotent: the same key answers the same; asking again without a key changes nothing either.
    replay = await live.post(WITHDRAWAL.format(number), headers={**guest, "Idempotency-Key": f"consent-{number}"})
    assert (replay.status_code, replay.json()) == (200, body)
    again = await live.post(WITHDRAWAL.format(number), headers=guest)
    assert (again.status_code, again.json()) == (200, body)
    case = (await live.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert [entry["action"] for entry in case["timeline"]].count("withdraw_publication_consent") == 1

    # Final: later changes of the case keep the text out (a rating closes it and rewrites the record).
    rated = await live.post(f"/v1/complaints/{number}/rating", headers=guest, json={"rating": 4})
    assert rated.status_code == 200, rated.text
    closed = await live.get(detail_url)
    assert (closed.json()["status"], closed.json()["rating"]) == ("closed", 4) and texts_in(closed.text) == []


async def test_withdrawn_before_publication_the_text_is_never_public(live):
    owner = await account(live, "consent-owner@example.cn")
    number, _ = await file_and_forward(live, headers=owner)
    withdrawn = await live.post(WITHDRAWAL.format(number), headers=owner)
    assert withdrawn.status_code == 200, withdrawn.text
    assert (await live.get(f"/v1/public/complaints/{number}")).status_code == 404  # not published yet
    await answer(live, number)
    published = await live.tap.wait_for("complaint.published", subject=number)
    assert published.event.data["narrative_public"] is False
    shown = await live.get(f"/v1/public/complaints/{number}")
    assert shown.status_code == 200 and shown.json()["narrative"] is None and texts_in(shown.text) == []
    assert shown.json()["response_type"] == "monetary_relief"


async def test_in_any_state_and_without_consent_given(live):
    # A withdrawn complaint (a final state) still takes the withdrawal of the consent.
    number, guest = await file_and_forward(live)
    assert (await live.post(f"/v1/complaints/{number}/withdrawal", headers=guest, json={})).status_code == 200
    withdrawn = await live.post(WITHDRAWAL.format(number), headers=guest)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"], withdrawn.text
    case = (await live.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert (case["status"], case["timeline"][-1]["action"]) == ("withdrawn", "withdraw_publication_consent")

    # Consent never given: nothing to withdraw, the same answer, no timeline entry.
    number, guest = await file_and_forward(live, consent=False)
    never = await live.post(WITHDRAWAL.format(number), headers=guest)
    assert (never.status_code, never.json()) == (
        200,
        {"number": number, "publication_consent": False, "withdrawn_at": None},
    )
    case = (await live.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert "withdraw_publication_consent" not in [entry["action"] for entry in case["timeline"]]


async def test_anyone_but_the_complainant_gets_the_hidden_404_and_changes_nothing(live):
    number, _ = await file_and_forward(live)
    await answer(live, number)
    await live.tap.wait_for("complaint.published", subject=number)
    _, other_guest = await file_and_forward(live)
    stranger = await account(live, "consent-stranger@example.cn")
    for headers in (other_guest, {"X-Access-Code": "2345678923"}, stranger, await company(live), {}):
        refused = await live.post(WITHDRAWAL.format(number), headers=headers)
        assert refused.status_code == 404, (headers, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "complaint_not_found"
    unknown = await live.post(WITHDRAWAL.format("GC-20000101-000321"), headers=other_guest)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "complaint_not_found")
    case = await live.app.state.intake.cases.get(number)
    assert case["publication_consent"] is True and "publication_consent_withdrawn_at" not in case
    shown = await live.get(f"/v1/public/complaints/{number}")
    assert shown.json()["narrative_public"] is True and texts_in(shown.text)


async def test_a_withdrawal_racing_the_answer_and_its_twins_leaves_no_text_and_one_entry(live):
    number, guest = await file_and_forward(live)
    answered, *withdrawals = await asyncio.gather(
        live.post(
            f"/v1/company/complaints/{number}/response",
            headers=await company(live),
            json={"response_type": "monetary_relief", "text": ANSWER},
        ),
        *(live.post(WITHDRAWAL.format(number), headers=guest) for _ in range(3)),
    )
    assert answered.status_code == 200, answered.text
    assert [withdrawal.status_code for withdrawal in withdrawals] == [200] * 3, [w.text for w in withdrawals]
    assert len({withdrawal.json()["withdrawn_at"] for withdrawal in withdrawals}) == 1
    await live.tap.wait_for("complaint.published", subject=number)
    shown = await live.get(f"/v1/public/complaints/{number}")
    assert shown.status_code == 200 and shown.json()["narrative"] is None and texts_in(shown.text) == []
    case = (await live.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert [entry["action"] for entry in case["timeline"]].count("withdraw_publication_consent") == 1
