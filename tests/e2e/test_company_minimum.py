"""What a company receives is the minimum it needs, and what notification keeps of it is sealed and expires.

A complaint whose narrative carries an ID number, a bank card (also disguised), another person's phone and a street
address reaches the company's real webhook receiver and the company API with those masked, while the
complainant's name and phone stay. notification's delivery record and the complainant's messages, read straight
from the store, hold no plaintext of it, carry their expiry, and the APIs still answer the plaintext.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from devstack.platform import OPERATOR_TOKEN
from tests.e2e.test_lifecycle_journey import Journey

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NAME, OWN_PHONE = "赵六", "13811113333"
ID_NUMBER = "440308199001011234"
CARD = "6222021234567890128"
DISGUISED_CARD = "6222 0212，3456 7890，128"
OTHER_PHONE = "13922224444"
STREET = "建国路88号阳光小区3栋2单元501室"
DESCRIPTION = (
    f"我是{NAME}，电话{OWN_PHONE}。商家要我提供身份证{ID_NUMBER}和银行卡{CARD}（卡号 {DISGUISED_CARD}）才肯退款，"
    f"还让我联系他们的经理{OTHER_PHONE}，说退货寄到朝阳区{STREET}。"
)
RAW = (ID_NUMBER, CARD, "6222 0212", OTHER_PHONE, "建国路88号", "501室")


def form(company: str) -> dict:
    return {
        "complainant": {"name": NAME, "id_number": "11010519491231002X", "phone": OWN_PHONE, "email": None},
        "company": {"name": company},
        "category": "refund",
        "title": f"退款要求提供身份证{ID_NUMBER}",
        "description": DESCRIPTION,
        "occurred_on": "2026-11-01",
        "desired_outcome": f"全额退款，不要再打{OTHER_PHONE}",
        "evidence_ids": [],
    }


def assert_minimum(text: str) -> None:
    for raw in RAW:
        assert raw not in text, (raw, text)
    assert NAME in text and OWN_PHONE in text
    assert "***" in text


async def test_company_receives_the_minimum_and_notification_keeps_it_sealed(platform):
    journey = Journey(platform)
    company = await journey.company()
    filed = await platform.intake.post("/v1/complaints", json=form(company["name"]))
    assert filed.status_code == 201, filed.text
    number, access = filed.json()["number"], {"X-Access-Code": filed.json()["access_code"]}
    await journey.status_is(number, access, "forwarded")

    # The webhook, as the company's receiver got it.
    forwarded = (await journey.webhook(number, "complaint.forwarded"))["data"]
    assert_minimum(forwarded["description"])
    assert ID_NUMBER not in forwarded["title"] and OTHER_PHONE not in forwarded["desired_outcome"]
    assert "朝阳区" in forwarded["description"]  # the district stays: it is no one's address

    # The company API: the same texts, the complainant's contact in full.
    key = await journey.company_key(forwarded["company_id"])
    view = (await platform.intake.get(f"/v1/company/complaints/{number}", headers=key)).json()
    assert_minimum(view["description"])
    assert view["complainant"]["name"] == NAME and view["complainant"]["phone"] == "+86" + OWN_PHONE
    assert ID_NUMBER not in view["title"] and OTHER_PHONE not in view["desired_outcome"]
    listed = (await platform.intake.get("/v1/company/complaints", headers=key)).json()
    assert all(ID_NUMBER not in item["title"] for item in listed["items"])

    # A supplement the complainant sends passes the same scrubber on its way to the company.
    asked = await platform.intake.post(
        f"/v1/company/complaints/{number}/info-request",
        headers={**key, "Idempotency-Key": "minimum-q1"},
        json={"question": "请提供订单号和支付截图。"},
    )
    assert asked.status_code == 200, asked.text
    await journey.status_is(number, access, "info_requested")
    supplement = f"订单号 20261101123456，另一张卡 {DISGUISED_CARD}，请打{OWN_PHONE}找{NAME}。"
    sent = await platform.intake.post(
        f"/v1/complaints/{number}/supplement",
        headers={**access, "Idempotency-Key": "minimum-s1"},
        json={"text": supplement, "evidence_ids": []},
    )
    assert sent.status_code in (200, 201), sent.text
    supplemented = (await journey.webhook(number, "complaint.supplemented"))["data"]["text"]
    assert "6222 0212" not in supplemented and OWN_PHONE in supplemented and NAME in supplemented
    assert "20261101123456" in supplemented  # an order number is no one's
    view = (await platform.intake.get(f"/v1/company/complaints/{number}", headers=key)).json()
    assert "6222 0212" not in view["supplements"][0]["text"] and OWN_PHONE in view["supplements"][0]["text"]

    # notification's store, read straight from the database: sealed, expiring, nothing of the narrative in clear.
    db = platform.apps["notification"].state.runtime.db
    stored = await db["deliveries"].find({"number": number}).to_list()
    assert stored
    for record in stored:
        assert "payload" not in record and set(record["sealed_payload"]) == {"kid", "nonce", "ct"}
        assert record["body_expires_at"] - record["created_at"] == timedelta(days=180)
        assert NAME not in repr(record) and "赵" not in repr(record) and "退款" not in repr(record)
    messages = await db["messages"].find({"number": number}).to_list()
    assert messages
    for message in messages:
        assert "body_zh" not in message and set(message["sealed_text"]) == {"kid", "nonce", "ct"}
        assert message["expires_at"] - message["created_at"] == timedelta(days=365)
        assert number not in repr(message["sealed_text"])
    indexes = {
        name: spec
        for collection in ("deliveries", "messages")
        for name, spec in (await db[collection].index_information()).items()
    }
    assert {"body_expires_at_1", "expires_at_1"} <= set(indexes)

    # The operators' delivery log and the complainant's inbox still answer the plaintext.
    webhook_id = next(record["_id"] for record in stored if record["event_type"] == "complaint.forwarded")
    detail = await platform.notification.get(
        f"/v1/deliveries/{webhook_id}", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    assert detail.status_code == 200, detail.text
    assert detail.json()["payload"]["data"]["description"] == forwarded["description"]
    inbox = await platform.intake.get(f"/v1/complaints/{number}/messages", headers=access)
    assert inbox.status_code == 200, inbox.text
    assert inbox.json()["items"] and all(number in item["body_zh"] for item in inbox.json()["items"])
