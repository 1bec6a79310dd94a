"""Publication, the public results, statistics, scorecards, rankings, open data and the regulator view, over
HTTP against the real stand-ins.

Two intakes: one driven by events the way routing and notification publish them (publication timing,
consent, clusters, idempotency), and one holding a seeded case file small enough that every expected
figure can be counted by hand (the statistics), built by the ``rebuild_statistics`` command.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta, timezone

import httpx
import pytest

from devstack.accounts import create_account
from devstack.eventtap import event_tap
from devstack.invariants import until
from devstack.servers import serve
from greenchannel.contracts import (
    CloudEvent,
    ClusterJoined,
    ComplaintScreened,
    SlaClockStopped,
    SlaPublicationDue,
    WebhookDelivered,
)
from intake.config import Settings
from intake.domain.principals import Role
from intake.domain.publication import public_record
from intake.domain.statistics import CHINA
from intake.main import create_app
from intake.rebuild_statistics import rebuild

pytestmark = pytest.mark.integration

FORM = {
    "complainant": {"name": "孙八", "id_number": "440105194912310026", "phone": "13512345678"},
    "company": {"name": "迅联"},
    "category": "refund",
    "title": "课程退款被拒绝",
    "description": "我是孙八，手机13512345678，购买的课程无法使用，申请退款被客服拒绝。",
    "occurred_on": "2026-09-01",
    "desired_outcome": "全额退款",
}
ADMIN = {"login": "admin", "password": "development-only-admin-password"}
OPERATOR_TEXTS = ['{"$ne": null}', '{"$gt": ""}', "$where", ".*"]


def intake_settings(mongo_url, namespace, run_id, name):
    # These tests count the figures by hand, a few complaints each: public figures without disclosure control
    # (every count at least 1 published) and as they change (no daily snapshot). test_statistics_disclosure_api
    # covers both.
    return Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_{name}",
        outbox_poll_interval_s=0.1,
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        rate_limits_enabled=False,
        public_statistics_min_count=1,
        public_statistics_refresh=timedelta(0),
        **namespace.settings_for("intake"),
    )


@pytest.fixture(scope="module")
async def live(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("intake-publication")
    app = create_app(intake_settings(mongo_url, namespace, run_id, "intake_publication"))
    async with (
        event_tap(namespace.amqp_url, namespace.exchange, ["complaint.*"]) as tap,
        serve(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as client,
    ):
        await tap.wait_for_consumer(f"{namespace.queue_prefix}.intake")
        client.app, client.tap = app, tap
        yield client


async def file_and_forward(client, company_id: str = "c-pub", consent: bool = True) -> tuple[str, dict]:
    filed = (await client.post("/v1/complaints", json={**FORM, "publication_consent": consent})).json()
    number = filed["number"]
    now = datetime.now(UTC)
    await client.tap.publish(
        CloudEvent.wrap(
            ComplaintScreened(
                number=number,
                decision="accepted",
                company_id=company_id,
                company_name="发布测试公司",
                category="refund",
                response_due=datetime.now(CHINA).date() + timedelta(days=14),
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
                company_id=company_id,
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
    return number, {"X-Access-Code": filed["access_code"]}


async def company_key(client, company_id: str) -> dict[str, str]:
    issued = await client.app.state.intake.identities.issue_api_key(company_id, "test", "test")
    return {"X-Api-Key": issued["api_key"]}


async def publication_due(client, number: str) -> CloudEvent:
    now = datetime.now(UTC)
    return await client.tap.publish(
        CloudEvent.wrap(
            SlaPublicationDue(
                number=number, company_id="c-pub", forwarded_at=now, due=datetime.now(CHINA).date(), raised_at=now
            ),
            source="/t",
            subject=number,
        )
    )


async def test_the_answer_publishes_with_the_narrative_scrubbed(live):
    number, guest = await file_and_forward(live)
    assert (await live.get(f"/v1/public/complaints/{number}")).json()["code"] == "complaint_not_found"
    answer = await live.post(
        f"/v1/company/complaints/{number}/response",
        headers=await company_key(live, "c-pub"),
        json={"response_type": "monetary_relief", "text": "已致电孙八女士13512345678，同意全额退款。"},
    )
    assert answer.status_code == 200, answer.text
    published = await live.tap.wait_for("complaint.published", subject=number)
    assert published.event.data["trigger"] == "responded" and published.event.data["narrative_public"] is True
    shown = await live.get(f"/v1/public/complaints/{number}")
    assert shown.status_code == 200
    body = shown.json()
    assert (body["status"], body["response_type"], body["timely"], body["narrative_public"]) == (
        "responded",
        "monetary_relief",
        True,
        True,
    )
    assert body["narrative"].startswith("课程退款被拒绝") and "退款被客服拒绝" in body["narrative"]
    assert "同意全额退款" in body["answer"]
    raw = json.dumps(body, ensure_ascii=False)
    assert "13512345678" not in raw and "孙八" not in raw and body.get("region") != "44" and "region" not in body
    assert body["category_name_zh"] == "refund"  # routing is away here: the label falls back to the code

    # Later changes update the record: a rating closes the case.
    assert (await live.post(f"/v1/complaints/{number}/rating", json={"rating": 4}, headers=guest)).status_code == 200
    after = (await live.get(f"/v1/public/complaints/{number}")).json()
    assert (after["status"], after["rating"]) == ("closed", 4)
    assert len(live.tap.events("complaint.published", subject=number)) == 1


async def test_without_consent_the_record_has_no_text(live):
    number, _ = await file_and_forward(live, consent=False)
    await live.post(
        f"/v1/company/complaints/{number}/response",
        headers=await company_key(live, "c-pub"),
        json={"response_type": "explained", "text": "已说明退款规则。"},
    )
    await live.tap.wait_for("complaint.published", subject=number)
    body = (await live.get(f"/v1/public/complaints/{number}")).json()
    assert body["narrative"] is None and body["answer"] is None and body["narrative_public"] is False


async def test_publication_due_publishes_an_unanswered_case_once(live):
    number, _ = await file_and_forward(live)
    await publication_due(live, number)
    published = await live.tap.wait_for("complaint.published", subject=number)
    assert published.event.data["trigger"] == "publication_due"
    body = (await live.get(f"/v1/public/complaints/{number}")).json()
    assert (body["status"], body["responded_on"], body["timely"], body["response_type"]) == (
        "forwarded",
        None,
        None,
        None,
    )
    # A second notice (another event) and the answer later publish nothing new but update the record.
    await publication_due(live, number)
    await live.post(
        f"/v1/company/complaints/{number}/response",
        headers=await company_key(live, "c-pub"),
        json={"response_type": "declined", "text": "不予退款。"},
    )
    await live.tap.wait_for("complaint.responded", subject=number)
    await until_public(live, number, lambda body: body["status"] == "responded")
    assert len(live.tap.events("complaint.published", subject=number)) == 1


async def until_public(client, number, check, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        response = await client.get(f"/v1/public/complaints/{number}")
        if response.status_code == 200 and check(response.json()):
            return response.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number} did not become public as expected")


async def test_rejected_and_unforwarded_cases_are_never_public(live):
    filed = (await live.post("/v1/complaints", json=FORM)).json()
    number = filed["number"]
    await live.tap.publish(
        CloudEvent.wrap(
            ComplaintScreened(number=number, decision="rejected", reason="duplicate", screened_at=datetime.now(UTC)),
            source="/t",
            subject=number,
        )
    )
    await live.tap.wait_for("complaint.rejected", subject=number)
    due = await publication_due(live, number)
    await wait_handled(live, due.id)
    assert (await live.get(f"/v1/public/complaints/{number}")).status_code == 404
    assert not live.tap.events("complaint.published", subject=number)


async def wait_handled(client, event_id: str, timeout=10.0) -> None:
    inbox = client.app.state.runtime.db["inbox"]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await inbox.find_one({"_id": event_id}):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"event {event_id} was not handled")


async def test_clusters_and_handling_time_reach_the_public_record(live):
    first, _ = await file_and_forward(live, company_id="c-cluster")
    second, _ = await file_and_forward(live, company_id="c-cluster")
    cluster_id = f"CL-{first}"
    now = datetime.now(UTC)
    for number, size in ((first, 2), (second, 2)):
        event = await live.tap.publish(
            CloudEvent.wrap(
                ClusterJoined(cluster_id=cluster_id, number=number, company_id="c-cluster", size=size, joined_at=now),
                source="/t",
                subject=number,
            )
        )
        await wait_handled(live, event.id)
    assert (await live.get(f"/v1/public/clusters/{cluster_id}")).status_code == 404  # no member public yet
    for number in (first, second):
        await publication_due(live, number)
        await live.tap.wait_for("complaint.published", subject=number)
    listed = (await live.get("/v1/public/complaints", params={"cluster_id": cluster_id})).json()["items"]
    assert {item["number"] for item in listed} == {first, second}
    # Two similar complaints are no collective complaint until routing says the cluster is large enough.
    assert all(item["cluster"] == {"id": cluster_id, "size": 2, "collective": False} for item in listed)
    cluster = (await live.get(f"/v1/public/clusters/{cluster_id}")).json()
    assert cluster == {
        "id": cluster_id,
        "company_id": "c-cluster",
        "company_name": "发布测试公司",
        "size": 2,
        "collective": False,
        "first_number": first,
        "opened_on": now.astimezone(timezone(timedelta(hours=8))).date().isoformat(),
    }
    grown = await live.tap.publish(
        CloudEvent.wrap(
            ClusterJoined(
                cluster_id=cluster_id, number=second, company_id="c-cluster", size=5, collective=True, joined_at=now
            ),
            source="/t",
            subject=second,
        )
    )
    await wait_handled(live, grown.id)
    late = await live.tap.publish(
        CloudEvent.wrap(
            ClusterJoined(  # an older join arriving late changes nothing
                cluster_id=cluster_id, number=first, company_id="c-cluster", size=2, joined_at=now
            ),
            source="/t",
            subject=first,
        )
    )
    await wait_handled(live, late.id)
    listed = (await live.get("/v1/public/complaints", params={"cluster_id": cluster_id})).json()["items"]
    assert all(item["cluster"] == {"id": cluster_id, "size": 5, "collective": True} for item in listed)
    assert (await live.get(f"/v1/public/clusters/{cluster_id}")).json()["collective"] is True

    # The answer's working days (routing's clock) reach the statistics' histogram.
    answer = await live.post(
        f"/v1/company/complaints/{first}/response",
        headers=await company_key(live, "c-cluster"),
        json={"response_type": "explained", "text": "已说明退款规则。"},
    )
    assert answer.status_code == 200, answer.text
    await live.tap.wait_for("complaint.responded", subject=first)
    stopped = await live.tap.publish(
        CloudEvent.wrap(
            SlaClockStopped(
                number=first,
                company_id="c-cluster",
                kind="response",
                reason="responded",
                due=datetime.now(CHINA).date(),
                working_days_used=3,
                stopped_at=now,
            ),
            source="/t",
            subject=first,
        )
    )
    await wait_handled(live, stopped.id)
    month = datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m")

    async def settled() -> bool:
        # What the fold job does every few seconds; a fold the job has under way commits on its own time.
        await live.app.state.public_data.statistics.fold_all()
        card = (await live.get("/v1/public/statistics", params={"from": month, "to": month, "by": "company"})).json()
        [row] = [row for row in card["rows"] if row["key"] == "c-cluster"]
        return (row["received"], row["answered"], row["median_handling_days"]) == (2, 1, 3)

    await until(settled, 10, "the answer's working days in the company's statistics")


async def test_live_rollups_equal_a_rebuild_from_the_case_file(live):
    """Whatever the events above did, the counters kept as they arrived are what the case file adds up to."""
    db = live.app.state.runtime.db
    names = (
        "statistics_by_category",
        "statistics_by_company",
        "statistics_by_company_year",
        "statistics_by_region",
        "statistics_by_publication_day",
        "public_records",
    )

    async def snapshot():
        result = {}
        for name in names:
            documents = await db[name].find({}).to_list()
            result[name] = {
                doc["_id"]: without_zeros({k: v for k, v in doc.items() if k != "company_name"}) for doc in documents
            }
            result[name] = {key: value for key, value in result[name].items() if any_count(value)}
        return result

    await live.app.state.public_data.statistics.fold_all()
    assert await db["statistics_pending"].count_documents({}) == 0
    before = await snapshot()
    assert before["public_records"]
    await rebuild(db, live.app.state.intake.cipher)
    assert await snapshot() == before


def without_zeros(document):
    if isinstance(document, dict):
        return {key: without_zeros(value) for key, value in document.items() if value != 0 and value != {}}
    return document


def any_count(document) -> bool:
    return "number" in document or any(
        isinstance(value, int) and not isinstance(value, bool) and value for value in document.values()
    )


async def test_operator_text_in_filters_is_refused(live):
    for text in OPERATOR_TEXTS:
        for parameter in ("company_id", "category", "status", "from", "to", "cluster_id", "limit"):
            response = await live.get("/v1/public/complaints", params={parameter: text})
            assert response.status_code == 422 and response.json()["code"], (parameter, text)
        for path, parameter in (
            ("/v1/public/statistics", "from"),
            ("/v1/public/statistics", "by"),
            ("/v1/public/rankings", "order_by"),
            ("/v1/public/rankings", "period"),
        ):
            assert (await live.get(path, params={parameter: text})).status_code == 422
        impossible_day = base64.urlsafe_b64encode(b"2026-13-45|GC-20261010-000001").decode()
        for cursor in (text, "e30", "JG5l", impossible_day):
            assert (await live.get("/v1/public/complaints", params={"cursor": cursor})).json()[
                "code"
            ] == "invalid_cursor"
    assert (await live.get("/v1/public/complaints/%7B%22%24ne%22%3A%20null%7D")).status_code == 404
    assert (await live.get("/v1/public/companies/%24where/scorecard")).status_code == 422


# --- the seeded case file ---------------------------------------------------------------------------------

OCT = datetime(2026, 10, 10, 4, 0, tzinfo=UTC)
SEP = datetime(2026, 9, 10, 4, 0, tzinfo=UTC)
NOW = datetime.now(UTC)
RECENT, OLD = NOW - timedelta(days=5), NOW - timedelta(days=60)


def seeded_case(
    number,
    company,
    category,
    province,
    *,
    filed=OCT,
    status="forwarded",
    published=None,
    answer=None,
    timely=True,
    handling=None,
    rating=None,
    appealed=False,
    rejected=None,
):
    case = {
        "_id": number,
        "number": number,
        "status": status,
        "submitted_at": filed,
        "category": category,
        "company_id": company,
        "company_name": {"c-a": "甲公司", "c-b": "乙公司"}.get(company),
        "region_code": province,
        "publication_consent": False,
        "title": "标题",
        "description": "描述",
        "round": 1,
        "timeline": [],
    }
    if published:
        case["published_at"] = published
    if answer:
        case["response"] = {"type": answer, "text": "答复", "at": filed + timedelta(days=3), "timely": timely}
        case["responses"] = [case["response"]]
    if handling is not None:
        case["handling_days"] = handling
    if rating:
        case["rating"] = {"rating": rating}
    if appealed:
        case["appeal"] = {"reason": "不满意"}
    if rejected:
        case["rejection"] = {"reason": rejected}
    return case


# Eight complaints; the comments give what each counts for. Published in October: A1, A2, A3, B1.
SEED = [
    seeded_case(
        "GC-20261010-000001",
        "c-a",
        "refund",
        "11",
        status="closed",
        published=RECENT,
        answer="explained",
        handling=2,
        rating=5,
    ),
    seeded_case(
        "GC-20261010-000002",
        "c-a",
        "refund",
        "31",
        status="appealed",
        published=RECENT,
        answer="monetary_relief",
        timely=False,
        handling=4,
        rating=3,
        appealed=True,
    ),
    seeded_case("GC-20261010-000003", "c-a", "billing", "11", published=OLD),  # unanswered, published when due
    seeded_case("GC-20261010-000004", "c-a", "billing", "11"),  # unanswered, not due yet: regulator only
    seeded_case(
        "GC-20261010-000005",
        "c-b",
        "refund",
        "31",
        status="closed",
        published=OLD,
        answer="non_monetary_relief",
        handling=6,
        rating=4,
    ),
    seeded_case("GC-20261010-000006", None, "refund", "11", status="rejected", rejected="duplicate"),
    seeded_case("GC-20261010-000007", None, "billing", "31", status="rejected", rejected="company_unknown"),
    seeded_case(
        "GC-20260910-000001",
        "c-b",
        "refund",
        "11",
        filed=SEP,
        status="responded",
        published=OLD,
        answer="declined",
        handling=10,
    ),
    seeded_case("GC-20261010-000008", "c-b", "refund", "11", status="submitted"),  # not screened: counts nowhere
]


@pytest.fixture(scope="module")
async def seeded(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("intake-statistics")
    settings = intake_settings(mongo_url, namespace, run_id, "intake_statistics")
    app = create_app(settings)
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        db = app.state.runtime.db
        await db["complaints"].insert_many([dict(case) for case in SEED])
        counts = await rebuild(db, app.state.intake.cipher)
        assert counts["complaints"] == len(SEED) and counts["public_records"] == 5
        client.app = app
        yield client


def figures(received, accepted, answered, timely, relief, satisfaction, appeal, median, rejected=0, reasons=None):
    return {
        "received": received,
        "accepted": accepted,
        "rejected": rejected,
        "rejected_by_reason": reasons or {},
        "answered": answered,
        "timely_rate": timely,
        "relief_rate": relief,
        "satisfaction": satisfaction,
        "appeal_rate": appeal,
        "median_handling_days": median,
    }


def public_figures(*args, **kwargs):
    """Figures as the public statistics show them: with what disclosure control suppressed (nothing, here)."""
    return {**figures(*args, **kwargs), "suppressed": False, "suppressed_fields": []}


OCTOBER_PUBLIC = public_figures(4, 4, 3, 2 / 3, 2 / 3, 4.0, 1 / 3, 4)  # A1, A2, A3, B1; handling 2, 4, 6


async def test_public_statistics_by_month(seeded):
    body = (await seeded.get("/v1/public/statistics", params={"from": "2026-09", "to": "2026-10"})).json()
    assert (body["from"], body["to"], body["by"]) == ("2026-09", "2026-10", "month")
    september, october = body["rows"]
    assert september == {
        "key": "2026-09",
        "label_zh": "2026年9月",
        "label_en": "2026-09",
        **public_figures(1, 1, 1, 1.0, 0.0, None, 0.0, 10),
    }
    assert october == {"key": "2026-10", "label_zh": "2026年10月", "label_en": "2026-10", **OCTOBER_PUBLIC}
    # handling 2, 4, 6, 10: the median is the mean of 4 and 6.
    assert body["totals"] == public_figures(5, 5, 4, 0.75, 0.5, 4.0, 0.25, 5)


async def test_public_statistics_by_region_category_and_company(seeded):
    october = {"from": "2026-10", "to": "2026-10"}
    regions = (await seeded.get("/v1/public/statistics", params={**october, "by": "region"})).json()
    assert [(row["key"], row["label_zh"], row["label_en"]) for row in regions["rows"]] == [
        ("11", "北京市", "Beijing"),
        ("31", "上海市", "Shanghai"),
    ]
    beijing, shanghai = regions["rows"]
    assert (beijing["received"], beijing["answered"], beijing["timely_rate"], beijing["median_handling_days"]) == (
        2,
        1,
        1.0,
        2,
    )
    assert (shanghai["received"], shanghai["answered"], shanghai["timely_rate"], shanghai["median_handling_days"]) == (
        2,
        2,
        0.5,
        5,
    )
    assert regions["totals"] == OCTOBER_PUBLIC
    categories = (await seeded.get("/v1/public/statistics", params={**october, "by": "category"})).json()
    assert {row["key"]: row["received"] for row in categories["rows"]} == {"billing": 1, "refund": 3}
    companies = (await seeded.get("/v1/public/statistics", params={**october, "by": "company"})).json()
    assert {row["key"]: (row["received"], row["label_zh"]) for row in companies["rows"]} == {
        "c-a": (3, "甲公司"),
        "c-b": (1, "乙公司"),
    }
    assert companies["totals"] == OCTOBER_PUBLIC


async def test_summary_counts_published_cases(seeded):
    assert (await seeded.get("/v1/public/statistics/summary")).json() == {
        "published": 5,
        "answered_rate": 0.8,
        "timely_rate": 0.75,
        "satisfaction": 4.0,
        "companies": 2,
        "last_30_days_published": 2,
        "suppressed": False,
        "suppressed_fields": [],
    }


async def test_scorecards_and_rankings(seeded):
    card = (await seeded.get("/v1/public/companies/c-a/scorecard", params={"period": "2026-10"})).json()
    assert card == {
        "company_id": "c-a",
        "company_name": "甲公司",
        "company_name_en": None,
        "period": "2026-10",
        "volume": 3,
        "timely_rate": 0.5,
        "relief_rate": 0.5,
        "average_rating": 4.0,
        "appeal_rate": 0.5,
        "user_base": None,
        "per_million_users": None,
        "suppressed": False,
        "suppressed_fields": [],
        "min_count": 1,
    }
    yearly = (await seeded.get("/v1/public/companies/c-b/scorecard", params={"period": "2026"})).json()
    assert (
        yearly["volume"],
        yearly["timely_rate"],
        yearly["relief_rate"],
        yearly["average_rating"],
        yearly["appeal_rate"],
    ) == (2, 1.0, 0.5, 4.0, 0.0)
    missing = await seeded.get("/v1/public/companies/c-none/scorecard")
    assert missing.status_code == 404 and missing.json()["code"] == "company_not_found"
    by_volume = (await seeded.get("/v1/public/rankings", params={"period": "2026", "order_by": "volume"})).json()
    assert [(item["rank"], item["company_id"], item["volume"]) for item in by_volume["items"]] == [
        (1, "c-b", 2),
        (2, "c-a", 3),
    ]
    by_timely = (
        await seeded.get("/v1/public/rankings", params={"period": "2026", "order_by": "timely_rate", "limit": 1})
    ).json()
    assert [(item["company_id"], item["timely_rate"]) for item in by_timely["items"]] == [("c-b", 1.0)]


async def test_the_public_list_filters_and_pages_stably_under_inserts(seeded):
    listed = (await seeded.get("/v1/public/complaints", params={"limit": 100})).json()
    numbers = [item["number"] for item in listed["items"]]
    # Newest publication first (A1 and A2 five days ago, then the rest), then number descending.
    assert numbers == [
        "GC-20261010-000002",
        "GC-20261010-000001",
        "GC-20261010-000005",
        "GC-20261010-000003",
        "GC-20260910-000001",
    ]
    assert all("region" not in item and "region_code" not in item for item in listed["items"])
    first = (await seeded.get("/v1/public/complaints", params={"limit": 2})).json()
    assert [item["number"] for item in first["items"]] == numbers[:2] and first["next_cursor"]
    # Published meanwhile: one today (ahead of the cursor) and one on A3's day with a higher number.
    records = seeded.app.state.public_data.records
    for number, moment in (("GC-20261011-000001", NOW), ("GC-20261011-000002", OLD)):
        await records.save(public_record(seeded_case(number, "c-a", "refund", "11", published=moment), None), None)
    rest, cursor = [], first["next_cursor"]
    while cursor:
        page = (await seeded.get("/v1/public/complaints", params={"limit": 2, "cursor": cursor})).json()
        rest += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert [number for number in rest if number in numbers] == numbers[2:] and len(set(rest)) == len(rest)
    assert "GC-20261011-000001" not in rest
    await records.records.delete_many({"_id": {"$in": ["GC-20261011-000001", "GC-20261011-000002"]}})

    async def found(**params):
        return [item["number"] for item in (await seeded.get("/v1/public/complaints", params=params)).json()["items"]]

    assert await found(company_id="c-a") == ["GC-20261010-000002", "GC-20261010-000001", "GC-20261010-000003"]
    assert await found(company_id="c-a", category="billing") == ["GC-20261010-000003"]
    paged, cursor = [], None
    while True:
        page = (
            await seeded.get(
                "/v1/public/complaints",
                params={"company_id": "c-a", "limit": 1, **({"cursor": cursor} if cursor else {})},
            )
        ).json()
        paged += [item["number"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert paged == await found(company_id="c-a")
    assert await found(status="forwarded") == ["GC-20261010-000003"]
    # The period is the publication's (the list's own order), whatever the filing date.
    old = {"from": (OLD - timedelta(days=1)).date().isoformat(), "to": (OLD + timedelta(days=1)).date().isoformat()}
    assert await found(**old) == ["GC-20261010-000005", "GC-20261010-000003", "GC-20260910-000001"]
    assert await found(company_id="c-b", **old) == ["GC-20261010-000005", "GC-20260910-000001"]
    assert await found(**{"from": (RECENT - timedelta(days=1)).date().isoformat()}) == [
        "GC-20261010-000002",
        "GC-20261010-000001",
    ]
    assert await found(to=(OLD - timedelta(days=2)).date().isoformat()) == []
    assert await found(company_id="c-b", status="closed") == ["GC-20261010-000005"]
    for unpublished in ("GC-20261010-000004", "GC-20261010-000006", "GC-20261010-000008", "GC-20990101-000001"):
        response = await seeded.get(f"/v1/public/complaints/{unpublished}")
        assert response.status_code == 404 and response.json()["code"] == "complaint_not_found"


async def test_open_data_parses_and_matches_the_schema(seeded):
    schema = (await seeded.get("/v1/public/open-data/schema")).json()
    assert schema["id"] == "complaints/1"
    fields = {field["name"]: field for field in schema["fields"]}
    as_csv = await seeded.get(
        "/v1/public/open-data/complaints.csv", params={"to": (OLD + timedelta(days=1)).date().isoformat()}
    )
    assert as_csv.headers["X-Open-Data-Schema"] == "complaints/1" and as_csv.headers["content-type"].startswith(
        "text/csv"
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert list(rows[0]) == list(fields) and len(rows) == 3
    lines = (await seeded.get("/v1/public/open-data/complaints.jsonl")).text.splitlines()
    assert len(lines) == 5
    python_types = {"string": str, "date": str, "boolean": bool, "integer": int}
    for line in lines:
        record = json.loads(line)
        assert list(record) == list(fields)
        for name, value in record.items():
            if value is None:
                assert fields[name]["nullable"], name
            else:
                assert type(value) is python_types[fields[name]["type"]], (name, value)
                if fields[name]["type"] == "date":
                    date.fromisoformat(value)
    # Published in the period asked for, oldest publication first: the recent two are not in it.
    assert [row["number"] for row in rows] == ["GC-20260910-000001", "GC-20261010-000003", "GC-20261010-000005"]
    assert {json.loads(line)["number"] for line in lines} - {row["number"] for row in rows} == {
        "GC-20261010-000001",
        "GC-20261010-000002",
    }
    assert {row["timely"] for row in rows} == {"true", ""}


async def test_open_data_comes_in_bounded_pages_linked_to_the_next(seeded):
    everything = [
        json.loads(line)["number"]
        for line in (await seeded.get("/v1/public/open-data/complaints.jsonl")).text.splitlines()
    ]
    assert "Link" not in (await seeded.get("/v1/public/open-data/complaints.jsonl")).headers  # all in one page
    pages, url = [], "/v1/public/open-data/complaints.csv?limit=2"
    while url:
        page = await seeded.get(url)
        assert page.status_code == 200 and page.headers["X-Open-Data-Schema"] == "complaints/1"
        rows = list(csv.DictReader(io.StringIO(page.text)))
        assert 1 <= len(rows) <= 2
        pages.append([row["number"] for row in rows])
        link = page.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        assert not link or (link.endswith('>; rel="next"') and "limit=2" in link)
    # Every record once, in the same order as one big read: no gap, no repeat at the page edges.
    assert [number for page in pages for number in page] == everything and len(pages) == 3
    bounded = await seeded.get(
        "/v1/public/open-data/complaints.jsonl", params={"limit": 1, "to": (OLD + timedelta(days=1)).date().isoformat()}
    )
    assert len(bounded.text.splitlines()) == 1 and "to=" in bounded.headers["Link"]
    for query, code in (({"limit": 5001}, "validation_failed"), ({"cursor": "bm90IGEga2V5"}, "invalid_cursor")):
        refused = await seeded.get("/v1/public/open-data/complaints.csv", params=query)
        assert refused.status_code in (400, 422) and refused.json()["code"] == code
        assert refused.headers["content-type"].startswith("application/problem+json")


async def test_the_regulator_view_counts_every_case_and_needs_the_role(seeded):
    october = {"from": "2026-10", "to": "2026-10"}
    assert (await seeded.get("/v1/regulator/statistics", params=october)).status_code == 401
    identities = seeded.app.state.intake.identities
    await identities.create_operator("reader", "a-long-password-1", {Role.REGULATOR})
    await identities.create_operator("clerk", "a-long-password-1", set())
    await create_account(seeded.app, "someone@example.cn", "a-long-password-1")

    async def bearer(path, login):
        token = (await seeded.post(path, json={"login": login, "password": "a-long-password-1"})).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    complainant = await bearer("/v1/auth/token", "someone@example.cn")
    company = {"X-Api-Key": (await identities.issue_api_key("c-a", "t", "t"))["api_key"]}
    clerk = await bearer("/v1/ops/auth/token", "clerk")
    for refused in (complainant, company, clerk):
        response = await seeded.get("/v1/regulator/statistics", params=october, headers=refused)
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
        assert (await seeded.get("/v1/regulator/companies/c-a/scorecard", headers=refused)).status_code == 403
    reader = await bearer("/v1/ops/auth/token", "reader")
    body = (await seeded.get("/v1/regulator/statistics", params=october, headers=reader)).json()
    # All of October: A1-A5 and B1 accepted or not, the two rejections; the unscreened one counts nowhere.
    assert body["totals"] == figures(
        7, 5, 3, 2 / 3, 2 / 3, 4.0, 1 / 3, 4, rejected=2, reasons={"company_unknown": 1, "duplicate": 1}
    )
    card = (
        await seeded.get("/v1/regulator/companies/c-a/scorecard", params={"period": "2026-10"}, headers=reader)
    ).json()
    assert card["volume"] == 4
    as_csv = await seeded.get(
        "/v1/regulator/statistics", params={**october, "by": "region", "format": "csv"}, headers=reader
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(row["key"], row["received"], row["rejected"]) for row in rows] == [
        ("11", "4", "1"),
        ("31", "3", "1"),
        ("total", "7", "2"),
    ]
    assert json.loads(rows[-1]["rejected_by_reason"]) == {"company_unknown": 1, "duplicate": 1}


async def test_open_data_csv_cells_never_start_a_formula(live):
    formulas = {
        "title": '=HYPERLINK("http://example.com/x","点击查看")',
        "description": "@SUM(1+1) 课程无法使用，申请退款",
    }
    filed = (await live.post("/v1/complaints", json={**FORM, **formulas, "publication_consent": True})).json()
    number = filed["number"]
    now = datetime.now(UTC)
    await live.tap.publish(
        CloudEvent.wrap(
            ComplaintScreened(
                number=number,
                decision="accepted",
                company_id="c-csv",
                company_name="+公司",
                category="refund",
                response_due=datetime.now(CHINA).date() + timedelta(days=14),
                screened_at=now,
            ),
            source="/t",
            subject=number,
        )
    )
    await live.tap.wait_for("complaint.accepted", subject=number)
    await live.tap.publish(
        CloudEvent.wrap(
            WebhookDelivered(
                webhook_id=f"msg_{number}",
                number=number,
                company_id="c-csv",
                event_type="complaint.forwarded",
                attempts=1,
                status_code=204,
                delivered_at=now,
            ),
            source="/t",
            subject=number,
        )
    )
    await live.tap.wait_for("complaint.forwarded", subject=number)
    answer = await live.post(
        f"/v1/company/complaints/{number}/response",
        headers=await company_key(live, "c-csv"),
        json={"response_type": "explained", "text": "-2+3 已处理"},
    )
    assert answer.status_code == 200, answer.text
    await live.tap.wait_for("complaint.published", subject=number)
    exported = await live.get("/v1/public/open-data/complaints.csv")
    row = next(row for row in csv.DictReader(io.StringIO(exported.text)) if row["number"] == number)
    assert row["narrative"].startswith("'=HYPERLINK(") and row["answer"] == "'-2+3 已处理"
    assert row["company_name"] == "'+公司"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
    # The JSON Lines export carries the text as written: only a spreadsheet reads a cell as a formula.
    lines = (await live.get("/v1/public/open-data/complaints.jsonl")).text.splitlines()
    record = next(json.loads(line) for line in lines if json.loads(line)["number"] == number)
    assert record["narrative"].startswith("=HYPERLINK(")
