"""The whole lifecycle over HTTP on real components: register, file with evidence, forwarded webhook,
the company asks for information, the complainant supplements, the company answers, the complainant
appeals, an operator re-forwards, the company answers again, the complainant rates and the case
closes; then withdrawal, auto-close after the quiet period, and a reminder followed by overdue."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PIL import Image

from devstack.accounts import register
from devstack.platform import INTERNAL_TOKEN, OPERATOR_TOKEN, register_endpoints

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADMIN = {"login": "admin", "password": "development-only-admin-password"}


def form(company: str, evidence_ids: list[str] | None = None, email: str | None = "wu@example.cn") -> dict:
    return {
        "complainant": {"name": "吴七", "id_number": "11010519491231002X", "phone": "13811112222", "email": email},
        "company": {"name": company},
        "category": "refund",
        "title": "课程退款被拒绝",
        "description": "七天无理由退款期内申请退款，客服以已观看为由拒绝。",
        "occurred_on": "2026-11-01",
        "desired_outcome": "全额退款",
        "evidence_ids": evidence_ids or [],
    }


async def until(check, timeout=30.0, what="condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Journey:
    def __init__(self, platform) -> None:
        self.platform = platform
        self.intake: httpx.AsyncClient = platform.intake

    async def status_is(self, number: str, headers: dict, status: str) -> dict:
        async def check():
            case = (await self.intake.get(f"/v1/complaints/{number}", headers=headers)).json()
            return case if case.get("status") == status else None

        return await until(check, what=f"{number} to be {status}")

    async def webhook(self, number: str, webhook_type: str) -> dict:
        async def check():
            found = [
                d
                for d in self.platform.receiver.received
                if d.body.get("type") == webhook_type and d.body.get("data", {}).get("number") == number
            ]
            return found[0] if found else None

        delivery = await until(check, what=f"webhook {webhook_type} for {number}")
        assert delivery.verified
        return delivery.body

    async def operator(self) -> dict:
        token = (await self.intake.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    async def company_key(self, company_id: str) -> dict:
        issued = await self.intake.post(
            f"/v1/ops/companies/{company_id}/api-keys", json={"label": "e2e"}, headers=await self.operator()
        )
        assert issued.status_code == 201, issued.text
        return {"X-Api-Key": issued.json()["api_key"]}

    async def company(self) -> dict:
        listing = (await self.platform.routing.get("/v1/companies", params={"q": "迅联"})).json()
        return listing["items"][0]

    async def file_and_forward(self, headers: dict | None = None, **kwargs) -> tuple[str, dict]:
        company = await self.company()
        filed = await self.intake.post("/v1/complaints", json=form(company["name"], **kwargs), headers=headers or {})
        assert filed.status_code == 201, filed.text
        number = filed.json()["number"]
        access = headers or {"X-Access-Code": filed.json()["access_code"]}
        await self.status_is(number, access, "forwarded")
        return number, access

    async def watchdog(self, now: datetime) -> list[dict]:
        self.platform.apps["routing"].state.clock = lambda: now
        response = await self.platform.routing.post(
            "/v1/watchdog/run", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        )
        assert response.status_code == 200, response.text
        return response.json()["published"]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 160, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_the_full_journey(platform):
    journey = Journey(platform)
    intake = platform.intake
    await register(intake, platform.mailbox, "wu@example.cn", "correct-horse-1")
    token = (await intake.post("/v1/auth/token", json={"login": "wu@example.cn", "password": "correct-horse-1"})).json()
    me = {"Authorization": f"Bearer {token['access_token']}"}

    image = png()
    receipt = (await intake.post("/v1/evidence", files={"file": ("订单截图.png", image, "image/png")})).json()
    number, _ = await journey.file_and_forward(me, evidence_ids=[receipt["evidence_id"]])
    forwarded = await journey.webhook(number, "complaint.forwarded")
    company_id = forwarded["data"]["company_id"]
    company = await journey.company_key(company_id)

    # The company finds it, reads it in full with its evidence, and downloads the file.
    listed = (await intake.get("/v1/company/complaints", headers=company)).json()
    assert number in [item["number"] for item in listed["items"]]
    view = (await intake.get(f"/v1/company/complaints/{number}", headers=company)).json()
    assert view["complainant"]["phone"] == "+8613811112222" and view["evidence"][0]["sha256"] == receipt["sha256"]
    link = (await intake.get(f"/v1/complaints/{number}/evidence/{receipt['evidence_id']}/link", headers=company)).json()
    async with httpx.AsyncClient() as outside:
        assert (await outside.get(link["url"])).content == image

    # It asks for more information: the clock pauses; the complainant supplements: it resumes.
    asked = await intake.post(
        f"/v1/company/complaints/{number}/info-request",
        headers={**company, "Idempotency-Key": "q1"},
        json={"question": "请提供订单号和支付截图。"},
    )
    assert asked.json()["status"] == "info_requested"
    case = await journey.status_is(number, me, "info_requested")
    assert case["allowed_actions"] == ["supplement", "withdraw"]
    supplied = await intake.post(
        f"/v1/complaints/{number}/supplement", headers=me, json={"text": "订单号 DD20261101001，支付截图见附件。"}
    )
    assert supplied.json()["status"] == "forwarded"
    assert (await journey.webhook(number, "complaint.supplemented"))["data"]["text"].startswith("订单号")

    # The answer, the appeal, the operator's mediation, the second answer, the rating.
    answered = await intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=company,
        json={"response_type": "explained", "text": "课程已观看超过30%，按规则不予退款。"},
    )
    assert answered.json() == {"number": number, "status": "responded", "timely": True}
    appealed = await intake.post(
        f"/v1/complaints/{number}/appeal", headers=me, json={"reason": "规则未在购买前告知，属于格式条款。"}
    )
    assert appealed.json()["status"] == "appealed"
    await journey.webhook(number, "complaint.appealed")
    operator = await journey.operator()
    queue = (await intake.get("/v1/ops/queue", params={"kind": "appeals"}, headers=operator)).json()
    assert number in [item["number"] for item in queue["items"]]
    reforwarded = await intake.post(
        f"/v1/ops/complaints/{number}/reforward",
        headers=operator,
        json={"note": "请核实购买页面是否提示退款规则。", "deadline_working_days": 5},
    )
    assert reforwarded.json()["status"] == "forwarded"
    assert (await journey.webhook(number, "complaint.reforwarded"))["data"]["round"] == 2
    second = await intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=company,
        json={"response_type": "monetary_relief", "text": "经核实，已全额退款。"},
    )
    assert second.json()["status"] == "responded"
    rated = await intake.post(f"/v1/complaints/{number}/rating", headers=me, json={"rating": 5, "comment": "满意"})
    assert rated.json()["status"] == "closed"

    case = (await intake.get(f"/v1/complaints/{number}", headers=me)).json()
    transitions = [entry["action"] for entry in case["timeline"] if not entry["action"].startswith("deadline")]
    assert transitions == [
        "submit",
        "accept",
        "forward",
        "request_info",
        "supplement",
        "respond",
        "appeal",
        "reforward",
        "respond",
        "rate",
    ]
    assert case["rating"]["rating"] == 5 and case["closure"]["outcome"] == "rated" and case["allowed_actions"] == []
    assert all(entry["trace_id"] for entry in case["timeline"])

    # The complainant's messages: one for each step that concerns them, in Chinese and English.
    async def messages():
        items = (await intake.get("/v1/me/messages", headers=me, params={"limit": 50})).json()["items"]
        kinds = {item["kind"] for item in items}
        return items if {"complaint.info_requested", "complaint.responded", "complaint.closed"} <= kinds else None

    items = await until(messages, what="complainant messages")
    assert all(item["title_zh"] and item["title_en"] for item in items)

    # And the same by e-mail, since an address was given (a real SMTP server received them).
    async def mails():
        mine = [mail for mail in platform.mailbox if mail["To"] == "wu@example.cn" and number in mail.get_content()]
        return mine if len(mine) >= 3 else None

    received = await until(mails, what="e-mails to the complainant")
    assert "13811112222" not in "".join(mail.get_content() for mail in received)


async def test_admin_corrects_the_directory_and_redirects_a_complaint(platform):
    journey = Journey(platform)
    operator = await journey.operator()
    added = await platform.intake.put(
        "/v1/ops/companies/c-right-one",
        headers=operator,
        json={"name": "正确科技有限公司", "name_en": "Right One", "aliases": ["正确科技"]},
    )
    assert added.status_code == 201, added.text
    refused = await platform.intake.put("/v1/ops/companies/c-right-one", headers=operator, json={"name": ""})
    assert refused.status_code == 422
    # A new company gets its webhook endpoint from an operator too; until then deliveries wait for it.
    await register_endpoints(platform.routing, platform.notification, platform.receiver_url)
    number, guest = await journey.file_and_forward()
    wrong_company = (await journey.webhook(number, "complaint.forwarded"))["data"]["company_id"]
    redirected = await platform.intake.post(
        f"/v1/ops/complaints/{number}/redirect",
        headers=operator,
        json={"company_id": "c-right-one", "note": "应为正确科技的产品"},
    )
    assert redirected.json()["company_id"] == "c-right-one"
    assert (await journey.webhook(number, "complaint.redirected"))["data"]["from_company_id"] == wrong_company

    async def forwarded_to_new_company():
        found = [
            d
            for d in platform.receiver.received
            if d.body.get("type") == "complaint.forwarded"
            and d.body["data"]["number"] == number
            and d.body["data"]["company_id"] == "c-right-one"
        ]
        return found or None

    await until(forwarded_to_new_company, what="forwarding to the right company")
    case = await journey.status_is(number, guest, "forwarded")
    assert case["company"]["id"] == "c-right-one"


async def test_withdrawal_tells_the_company(platform):
    journey = Journey(platform)
    number, guest = await journey.file_and_forward()
    withdrawn = await platform.intake.post(
        f"/v1/complaints/{number}/withdrawal", headers=guest, json={"reason": "已自行解决"}
    )
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await journey.webhook(number, "complaint.withdrawn"))["data"]["reason"] == "已自行解决"
    again = await platform.intake.post(f"/v1/complaints/{number}/withdrawal", headers=guest, json={})
    assert again.status_code == 409 and again.json()["status_now"] == "withdrawn"


async def test_quiet_answered_case_closes_by_itself(platform):
    journey = Journey(platform)
    number, guest = await journey.file_and_forward()
    company = await journey.company_key((await journey.company())["id"])
    await platform.intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=company,
        json={"response_type": "non_monetary_relief", "text": "已为您恢复账号。"},
    )
    await journey.status_is(number, guest, "responded")

    async def quiet_clock():
        clocks = await platform.routing.get(
            f"/v1/clocks/{number}", headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
        )
        return clocks.status_code == 200 and any(clock.get("quiet_period") for clock in clocks.json()["clocks"])

    await until(quiet_clock, what="the quiet period to start")
    published = await journey.watchdog(datetime.now(UTC) + timedelta(days=16))
    assert "sla.quiet_period_elapsed" in [event["type"] for event in published if event["subject"] == number]
    case = await journey.status_is(number, guest, "closed")
    assert case["closure"]["outcome"] == "auto_closed"


async def test_reminder_then_overdue(platform):
    journey = Journey(platform)
    number, guest = await journey.file_and_forward()

    async def deadline_known():
        case = (await platform.intake.get(f"/v1/complaints/{number}", headers=guest)).json()
        return case if any(entry["action"] == "deadline_started" for entry in case["timeline"]) else None

    case = await until(deadline_known, what="the response deadline")
    due = datetime.fromisoformat(case["response_due"]).replace(tzinfo=UTC)
    reminded = await journey.watchdog(due - timedelta(days=1))
    assert "sla.reminder" in [event["type"] for event in reminded if event["subject"] == number]
    await journey.webhook(number, "complaint.deadline_reminder")
    late = await journey.watchdog(due + timedelta(days=2))
    assert "sla.overdue" in [event["type"] for event in late if event["subject"] == number]
    await journey.webhook(number, "complaint.overdue")

    async def flagged():
        current = (await platform.intake.get(f"/v1/complaints/{number}", headers=guest)).json()
        return current if current["overdue"] else None

    current = await until(flagged, what="the overdue flag")
    assert current["status"] == "forwarded"  # overdue is a flag, not a state
    operator = await journey.operator()
    queue = (await platform.intake.get("/v1/ops/queue", params={"kind": "overdue"}, headers=operator)).json()
    assert number in [item["number"] for item in queue["items"]]
    again = await journey.watchdog(due + timedelta(days=3))
    assert [event for event in again if event["subject"] == number] == []  # raised once


async def test_operator_manages_deliveries_through_the_gateway(platform):
    journey = Journey(platform)
    number, _ = await journey.file_and_forward()
    forwarded = await journey.webhook(number, "complaint.forwarded")
    company_id = forwarded["data"]["company_id"]
    operator = await journey.operator()
    intake = platform.intake

    listed = (await intake.get("/v1/ops/deliveries", params={"number": number}, headers=operator)).json()
    delivery = next(item for item in listed["items"] if item["event_type"] == "complaint.forwarded")
    assert delivery["status"] == "delivered" and delivery["attempts"][0]["status_code"] == 204
    assert (
        await intake.get("/v1/ops/deliveries", params={"number": number}, headers={"X-Api-Key": "gck_x_y"})
    ).status_code == 401

    before = len([d for d in platform.receiver.received if d.webhook_id == delivery["webhook_id"]])
    again = await intake.post(f"/v1/ops/deliveries/{delivery['webhook_id']}/redeliver", headers=operator)
    assert again.status_code == 200, again.text

    async def redelivered():
        same = [d for d in platform.receiver.received if d.webhook_id == delivery["webhook_id"]]
        return len(same) > before

    await until(redelivered, what="the redelivery with the same webhook-id")
    endpoint = (await intake.get(f"/v1/ops/companies/{company_id}/webhook-endpoint", headers=operator)).json()
    assert endpoint["url"].endswith(f"/webhooks/{company_id}")
    assert (
        await intake.post(f"/v1/ops/companies/{company_id}/webhook-endpoint/remove", headers=operator)
    ).status_code == 404
    alerts = await intake.get("/v1/ops/alerts", headers=operator)
    assert alerts.status_code == 200 and "items" in alerts.json()
