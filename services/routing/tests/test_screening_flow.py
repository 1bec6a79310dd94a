"""The routing service end to end against the real stand-ins: complaint.submitted in, complaint.screened out, and the HTTP API."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import aio_pika
import httpx
import pytest

from devstack.eventtap import EventTap, event_tap
from devstack.servers import serve
from greenchannel.contracts import CloudEvent, ComplaintSubmitted
from greenchannel.messaging import queue_names
from routing.main import create_app

pytestmark = pytest.mark.integration

# Thu 12 Feb 2026, 10:00 in Shanghai: ten working days later, across the Spring Festival, is Wed 4 Mar.
PINNED_NOW = datetime(2026, 2, 12, 2, 0, tzinfo=UTC)
DUE = date(2026, 3, 4)


@dataclass
class Harness:
    app: object
    http: httpx.AsyncClient
    tap: EventTap

    async def submit(self, number: str, *, event: CloudEvent | None = None, **fields) -> CloudEvent:
        event = event or CloudEvent.wrap(submitted(number, **fields), source="/services/intake", subject=number)
        return await self.tap.publish(event)

    def screened_for(self, number: str) -> list[CloudEvent]:
        return [tapped.event for tapped in self.tap.events("complaint.screened", subject=number)]

    async def next_screened(self, number: str, timeout: float = 15.0) -> CloudEvent:
        return (await self.tap.wait_for("complaint.screened", subject=number, timeout=timeout)).event


def submitted(number: str, **fields) -> ComplaintSubmitted:
    values = {
        "number": number,
        "category": "refund",
        "title": "会员自动续费未提醒",
        "description": "未经同意扣费 30 元。",
        "occurred_on": date(2026, 2, 1),
        "desired_outcome": "退款",
        "complainant_key": "k" * 64,
        "region_code": "11",
        "submitted_at": PINNED_NOW,
    }
    return ComplaintSubmitted(**{**values, **fields})


def new_number() -> str:
    return f"GC-{uuid.uuid4().hex[:12].upper()}"


@pytest.fixture(scope="module")
async def routing(routing_settings, broker_namespace, run_id):
    settings = routing_settings(f"t{run_id}_routing_flow", broker_namespace.settings_for("routing"))
    app = create_app(settings, clock=lambda: PINNED_NOW)
    # A queue of the test's own, as another service's would be, to read what routing publishes.
    async with (
        event_tap(settings.amqp_url, settings.event_exchange, ["complaint.screened"]) as tap,
        serve(app) as base_url,
        httpx.AsyncClient(
            base_url=base_url,
            timeout=10,
            headers={"Authorization": f"Bearer {settings.internal_token.get_secret_value()}"},
        ) as http,
    ):
        await tap.wait_for_consumer(queue_names(settings)[0])
        yield Harness(app=app, http=http, tap=tap)


async def test_accepts_a_complaint_addressed_by_company_id(routing):
    number = new_number()
    await routing.submit(number, company_id="c-haina", category="auto_renewal")
    event = await routing.next_screened(number)
    assert (event.type, event.source, event.subject) == ("complaint.screened", "/services/routing", number)
    assert event.data | {"screened_at": None} == {
        "number": number,
        "decision": "accepted",
        "reason": None,
        "detail": "",
        "company_id": "c-haina",
        "company_name": "海纳云计算股份有限公司",
        "category": "auto_renewal",
        "response_due": DUE.isoformat(),
        "duplicate_of": None,
        "screened_at": None,
    }
    assert datetime.fromisoformat(event.data["screened_at"]) == PINNED_NOW
    answer = await routing.http.get(f"/v1/decisions/{number}")
    assert answer.status_code == 200
    assert answer.json()["response_due"] == "2026-03-04" and answer.json()["company_id"] == "c-haina"


async def test_accepts_a_complaint_naming_an_alias_and_files_an_unknown_category_under_other(routing):
    number = new_number()
    await routing.submit(number, company_name="Ｂｌｕｅ　Ｗｈａｌｅ Video", category="lottery")
    event = await routing.next_screened(number)
    assert event.data["decision"] == "accepted"
    assert (event.data["company_id"], event.data["company_name"]) == ("c-lanjing", "蓝鲸视频科技有限公司")
    assert event.data["category"] == "other"


async def test_a_name_nobody_knows_goes_to_review_and_an_unknown_id_is_rejected(routing):
    by_name, by_id = new_number(), new_number()
    await routing.submit(by_name, company_name="某某网络科技")
    await routing.submit(by_id, company_id="c-nope", company_name="迅联")
    for number, decision, detail in ((by_name, "company_unresolved", "某某网络科技"), (by_id, "rejected", "c-nope")):
        event = await routing.next_screened(number)
        assert (event.data["decision"], event.data["reason"]) == (decision, "company_unknown")
        assert detail in event.data["detail"]
        assert event.data["company_id"] is None and event.data["response_due"] is None
    decisions = routing.app.state.runtime.db.decisions
    assert (await decisions.find_one({"_id": by_id}))["decision"] == "rejected"
    assert (await decisions.find_one({"_id": by_name}))["decision"] == "company_unresolved"


async def test_a_redelivered_event_and_a_resubmitted_number_make_one_decision_and_one_event(routing):
    number = new_number()
    first = await routing.submit(number, company_name="迅聊")
    await routing.submit(number, event=first)  # the same event id, delivered again
    event = await routing.next_screened(number)
    assert event.data["company_id"] == "c-xunlian"
    # The same complaint under a new event id, now naming another company: the stored decision stands.
    again = await routing.submit(number, company_name="蓝鲸")
    db = routing.app.state.runtime.db
    settings = routing.app.state.runtime.settings
    # The decision keyed by the number guards repeats (no inbox record): wait until routing took every copy.
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        for _ in range(200):
            queue = await channel.declare_queue(queue_names(settings)[0], passive=True)
            if queue.declaration_result.message_count == 0:
                break
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # time for the copy taken last to be handled, and for any second event to come through
    assert len(routing.screened_for(number)) == 1
    assert await db.decisions.count_documents({"_id": number}) == 1
    assert (await db.decisions.find_one({"_id": number}))["company_id"] == "c-xunlian"
    assert await db.inbox.count_documents({"_id": {"$in": [first.id, again.id]}}) == 0
    assert await db.outbox.count_documents({"event.subject": number}) == 1
    # Asked directly, the handler answers the stored decision again.
    replayed = await routing.app.state.screening.screen(again, ComplaintSubmitted.model_validate(again.data))
    assert (replayed.company_id, replayed.response_due) == ("c-xunlian", DUE)


async def test_a_payload_breaking_its_contract_is_dead_lettered(routing, amqp_url):
    broken = CloudEvent(type="complaint.submitted", source="/test", subject="GC-BROKEN", data={"number": "GC-BROKEN"})
    await routing.submit("GC-BROKEN", event=broken)
    settings = routing.app.state.settings
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        dlq = queue_names(settings)[2]
        for _ in range(200):
            message = await (await channel.declare_queue(dlq, durable=True, passive=True)).get(no_ack=True, fail=False)
            if message is not None and json.loads(message.body)["id"] == broken.id:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the broken event was not dead-lettered")
    assert await routing.app.state.runtime.db.decisions.count_documents({"_id": "GC-BROKEN"}) == 0


async def test_directory_search_and_lookup(routing):
    found = await routing.http.get("/v1/companies", params={"q": "ＸＵＮＬＩＡＮ", "limit": 5})
    assert found.status_code == 200
    assert [item["id"] for item in found.json()["items"]] == ["c-xunlian"]
    by_domain = await routing.http.get("/v1/companies", params={"q": "https://www.shengbo.fm/live"})
    assert [item["id"] for item in by_domain.json()["items"]] == ["c-shengbo"]
    everything = await routing.http.get("/v1/companies", params={"limit": 100})
    assert len(everything.json()["items"]) == 13
    assert (await routing.http.get("/v1/companies", params={"q": "无此公司"})).json() == {"items": []}

    one = await routing.http.get("/v1/companies/c-xunlian")
    assert one.status_code == 200
    assert one.json() == {
        "id": "c-xunlian",
        "name": "迅联科技有限公司",
        "name_en": "Xunlian Technology Co., Ltd.",
        "aliases": ["迅联", "迅联科技", "Xunlian"],
        "apps": ["迅聊", "迅联支付"],
        "domains": ["xunlian.com", "xunliao.cn"],
        "user_base_millions": 820.0,
    }

    categories = await routing.http.get("/v1/categories")
    assert {"code": "privacy", "zh": "个人信息保护", "en": "Personal information protection"} in categories.json()[
        "items"
    ]
    assert len(categories.json()["items"]) == 10


async def test_unknown_ids_and_bad_queries_answer_problems(routing):
    missing = await routing.http.get("/v1/companies/c-nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "company_not_found" and "c-nope" in missing.json()["detail"]
    assert (await routing.http.get("/v1/decisions/GC-NEVER")).json()["code"] == "decision_not_found"
    too_many = await routing.http.get("/v1/companies", params={"limit": 0})
    assert too_many.status_code == 422 and too_many.json()["code"] == "validation_failed"


async def test_a_second_start_keeps_the_directory(routing_settings, broker_namespace, run_id):
    settings = routing_settings(
        f"t{run_id}_routing_seed", broker_namespace.settings_for("routing-seed"), service_name="routing-seed"
    )
    first = create_app(settings)
    operator = {"Authorization": f"Bearer {settings.operator_token.get_secret_value()}"}
    async with serve(first) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        db = first.state.runtime.db
        assert await db.companies.count_documents({}) == 13
        created = (await db.companies.find_one({"_id": "c-xunlian"}))["created_at"]
        # Data added while it runs (as an operator might) must survive the next start.
        await db.companies.insert_one(
            {"_id": "c-extra", "name": "附加公司", "name_en": "Extra", "match_keys": ["附加公司"]}
        )
        corrected = {"name": "迅联科技有限公司", "name_en": "Xunlian Tech (corrected)", "aliases": ["迅联", "迅聊"]}
        assert (await http.put("/v1/companies/c-xunlian", json=corrected)).status_code == 401
        assert (await http.put("/v1/companies/Bad Id", json=corrected, headers=operator)).status_code == 422
        assert (await http.put("/v1/companies/c-xunlian", json=corrected, headers=operator)).status_code == 200
        added = await http.put(
            "/v1/companies/c-new-app",
            headers=operator,
            json={"name": "新应用科技", "name_en": "New App", "apps": ["新应用"]},
        )
        assert added.status_code == 201
        found = (await http.get("/v1/companies", params={"q": "新应用"})).json()["items"]
        assert [company["id"] for company in found] == ["c-new-app"]
    second = create_app(settings)
    async with serve(second) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        db = second.state.runtime.db
        assert await db.companies.count_documents({}) == 15
        assert (await db.companies.find_one({"_id": "c-xunlian"}))["created_at"] == created
        # The seed does not overwrite an operator's correction.
        assert (await http.get("/v1/companies/c-xunlian")).json()["name_en"] == "Xunlian Tech (corrected)"
        assert (await http.get("/v1/companies/c-extra")).json()["name"] == "附加公司"
