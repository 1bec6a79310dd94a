"""Retention and erasure in intake, over HTTP and on the real store and broker: a complaint's personal data is erased
a retention period after it ended or a hold after its complainant asked, never while it is open or under a legal
hold (refused with a problem document that says why); the case file keeps codes and dates only, intake's outbox and
dead letters lose every entry about it, the audit log records who asked, who held and what the platform erased, and
``complaint.erased`` tells the other services. Two replicas' retention jobs erase a complaint once. A complainant
downloads what the platform holds about them, and erases their account with their complaints.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest

from devstack.accounts import create_account
from devstack.eventtap import event_tap
from devstack.servers import serve
from greenchannel.contracts import CloudEvent, ComplaintScreened, ComplaintSubmitted
from intake.adapters.case_store import CaseErased, StateChanged
from intake.adapters.identities import LoginTaken
from intake.config import Settings
from intake.core.retention import Retention
from intake.domain.lifecycle import Action
from intake.domain.retention import ErasureReason, ErasureRefused, Refusal, check_erasable, erased_case
from intake.main import create_app

pytestmark = pytest.mark.integration

NAME, ID_NUMBER, PHONE, EMAIL = "孙十一", "11010519491231002X", "13912340011", "sun11@example.org"
DESCRIPTION = "会员自动续费扣款后无法取消，客服说只能找孙十一本人到店办理。"
SUPPLEMENT = "补充：扣款记录截图已上传，订单尾号七七八八。"
FORM = {
    "complainant": {"name": NAME, "id_number": ID_NUMBER, "phone": PHONE, "email": EMAIL},
    "company": {"name": "留存测试"},
    "category": "refund",
    "title": "自动续费无法取消",
    "description": DESCRIPTION,
    "occurred_on": "2026-09-01",
    "desired_outcome": "退还续费款项",
}
ADMIN = {"login": "admin", "password": "development-only-admin-password"}
HOLD_REASON = "公安机关调取证据，暂停删除"
LIFT_REASON = "司法程序已经结束，解除保全"
PERSONAL = (NAME, ID_NUMBER, PHONE, EMAIL, DESCRIPTION, "自动续费无法取消", "退还续费款项")
HOLD_DAYS = 7
RETENTION_DAYS = 30


@pytest.fixture(scope="module")
async def live(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("intake-retention")
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_retention",
        outbox_poll_interval_s=0.1,
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        rate_limits_enabled=False,
        retention_days=RETENTION_DAYS,
        erasure_hold_days=HOLD_DAYS,
        **namespace.settings_for("intake"),
    )
    app = create_app(settings)
    async with (
        event_tap(namespace.amqp_url, namespace.exchange, ["complaint.*"]) as tap,
        serve(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as client,
    ):
        await tap.wait_for_consumer(f"{namespace.queue_prefix}.intake")
        client.app, client.tap, client.namespace = app, tap, namespace
        yield client


def retention_of(client) -> Retention:
    return client.app.state.retention


async def file(client, headers: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    filed = await client.post("/v1/complaints", json=FORM, headers=headers)
    assert filed.status_code == 201, filed.text
    return filed.json()["number"], {"X-Access-Code": filed.json()["access_code"]}


async def withdraw(client, number: str, headers: dict[str, str]) -> None:
    withdrawn = await client.post(f"/v1/complaints/{number}/withdrawal", json={"reason": "已自行解决"}, headers=headers)
    assert withdrawn.status_code == 200, withdrawn.text


async def operator(client) -> dict[str, str]:
    signed_in = await client.post("/v1/ops/auth/token", json=ADMIN)
    return {"Authorization": "Bearer " + signed_in.json()["access_token"]}


async def account(client, login: str) -> dict[str, str]:
    with contextlib.suppress(LoginTaken):
        await create_account(client.app, login, "a-long-password-1", name=NAME)
    token = await client.post("/v1/auth/token", json={"login": login, "password": "a-long-password-1"})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def db(client):
    return client.app.state.runtime.db


async def audit_of(client, number: str) -> list[dict[str, Any]]:
    answer = await client.get("/v1/ops/audit", params={"complaint": number}, headers=await operator(client))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def personal_in(document: Any) -> list[str]:
    text = json.dumps(document, ensure_ascii=False, default=str)
    return [value for value in PERSONAL if value in text]


# --- the rule, pure -----------------------------------------------------------------------------------


def test_the_erased_case_keeps_codes_and_dates_and_no_word_anyone_wrote():
    at = datetime(2026, 10, 1, tzinfo=UTC)
    case = {
        "_id": "GC-20261001-000001",
        "number": "GC-20261001-000001",
        "status": "closed",
        "account_id": "a1",
        "access_code_hash": "h",
        "complainant": {"name": "sealed", "phone": "sealed"},
        "complainant_masked": {"name": "孙*"},
        "complainant_key": "k",
        "phone_key": "p",
        "region_code": "11",
        "company_id": "c1",
        "company_name": "公司",
        "category": "refund",
        "title": "标题",
        "description": DESCRIPTION,
        "desired_outcome": "退款",
        "occurred_on": "2026-09-01",
        "publication_consent": True,
        "evidence": [{"evidence_id": "e1", "filename": "孙十一身份证.jpg"}],
        "supplements": [{"text": SUPPLEMENT, "at": at}],
        "info_requests": [{"question": "请提供订单号", "at": at}],
        "response": {"type": "monetary_relief", "text": "已退款给孙十一", "at": at, "timely": True},
        "responses": [{"type": "monetary_relief", "text": "已退款给孙十一", "at": at, "timely": True}],
        "appeal": {"reason": "金额不对", "at": at},
        "closure": {"outcome": "rated", "at": at, "note": "孙十一满意"},
        "rating": 5,
        "submitted_at": at,
        "published_at": at,
        "round": 1,
        "timeline": [{"at": at, "actor": "guest", "action": "supplement", "status": "forwarded", "detail": SUPPLEMENT}],
    }
    erased = erased_case(case, ErasureReason.RETENTION, at)
    assert personal_in(erased) == []
    assert "孙" not in json.dumps(erased, ensure_ascii=False, default=str)
    for gone in ("account_id", "access_code_hash", "complainant", "complainant_key", "phone_key", "evidence"):
        assert gone not in erased
    assert {key: erased[key] for key in ("status", "company_id", "category", "region_code", "rating", "round")} == {
        "status": "closed",
        "company_id": "c1",
        "category": "refund",
        "region_code": "11",
        "rating": 5,
        "round": 1,
    }
    assert erased["response"] == {"type": "monetary_relief", "at": at, "timely": True}
    assert erased["closure"] == {"outcome": "rated", "at": at}
    assert erased["timeline"] == [{"at": at, "actor": "guest", "action": "supplement", "status": "forwarded"}]
    assert (erased["evidence_count"], erased["erasure_reason"], erased["erased_at"]) == (1, "retention", at)


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"status": "forwarded"}, Refusal.OPEN),
        ({"status": "closed", "legal_hold": {"reason": "x"}}, Refusal.LEGAL_HOLD),
        ({"status": "closed", "erased_at": datetime.now(UTC)}, Refusal.ERASED),
    ],
)
def test_an_open_held_or_erased_case_is_refused(changes, refusal):
    with pytest.raises(ErasureRefused) as refused:
        check_erasable({"_id": "n", **changes})
    assert refused.value.refusal is refusal
    check_erasable({"_id": "n", "status": "withdrawn"})


# --- over HTTP and the store ---------------------------------------------------------------------------


async def test_an_open_complaint_is_refused_with_the_reason_and_nothing_changes(live):
    number, guest = await file(live)
    before = await live.app.state.intake.cases.get(number)

    refused = await live.post(f"/v1/complaints/{number}/erasure", headers=guest)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (refused.json()["code"], refused.json()["reason"]) == ("erasure_refused", "complaint_open")
    assert await live.app.state.intake.cases.get(number) == before
    # Nobody else learns the complaint exists.
    stranger = await live.post(f"/v1/complaints/{number}/erasure", headers={"X-Access-Code": "ABCDEFGHJK"})
    assert stranger.status_code == 404


async def test_a_request_is_carried_out_after_the_hold_and_a_legal_hold_stops_it(live):
    number, guest = await file(live)
    await withdraw(live, number, guest)
    staff = await operator(live)

    held = await live.post(f"/v1/ops/complaints/{number}/legal-hold", headers=staff, json={"reason": HOLD_REASON})
    assert held.status_code == 200, held.text
    assert held.json()["legal_hold"]["reason"] == HOLD_REASON
    refused = await live.post(f"/v1/complaints/{number}/erasure", headers=guest)
    assert (refused.status_code, refused.json()["reason"]) == (409, "legal_hold")
    # A hold needs a reason; the complainant cannot set one.
    assert (await live.post(f"/v1/ops/complaints/{number}/legal-hold", headers=staff, json={})).status_code == 422
    assert (
        await live.post(f"/v1/ops/complaints/{number}/legal-hold", headers=guest, json={"reason": HOLD_REASON})
    ).status_code == 401

    lifted = await live.post(
        f"/v1/ops/complaints/{number}/legal-hold/lift", headers=staff, json={"reason": LIFT_REASON}
    )
    assert lifted.status_code == 200 and lifted.json()["legal_hold"] is None
    asked_at = datetime.now(UTC)
    asked = await live.post(f"/v1/complaints/{number}/erasure", headers=guest)
    assert asked.status_code == 202, asked.text
    due = datetime.fromisoformat(asked.json()["erasure_due_at"])
    assert timedelta(days=HOLD_DAYS) <= due - asked_at < timedelta(days=HOLD_DAYS, minutes=1)

    # Before the hold passed nothing is erased; after it, the complaint is.
    assert (await retention_of(live).run_once(due - timedelta(seconds=1))).erased == 0
    assert (await live.get(f"/v1/complaints/{number}", headers=guest)).status_code == 200
    # Held again meanwhile: the due request waits for the hold too.
    await live.post(f"/v1/ops/complaints/{number}/legal-hold", headers=staff, json={"reason": HOLD_REASON})
    await retention_of(live).run_once(due + timedelta(seconds=1))
    assert (await live.app.state.intake.cases.get(number)).get("erased_at") is None
    await live.post(f"/v1/ops/complaints/{number}/legal-hold/lift", headers=staff, json={"reason": LIFT_REASON})

    await retention_of(live).run_once(due + timedelta(seconds=1))

    case = await live.app.state.intake.cases.get(number)
    assert case["erasure_reason"] == "request" and personal_in(case) == []
    erased = await live.tap.wait_for("complaint.erased", subject=number)
    assert erased.event.data["reason"] == "request" and personal_in(erased.event.data) == []
    # The access code opens nothing any more, and asking again says why.
    assert (await live.get(f"/v1/complaints/{number}", headers=guest)).status_code == 404
    operators_view = await live.post(
        f"/v1/ops/complaints/{number}/legal-hold", headers=staff, json={"reason": HOLD_REASON}
    )
    assert (operators_view.status_code, operators_view.json()["code"]) == (410, "complaint_erased")
    ops_read = await live.get(f"/v1/ops/complaints/{number}", headers=staff)
    assert (ops_read.status_code, ops_read.json()["code"]) == (410, "complaint_erased")
    internal_token = {"Authorization": f"Bearer {live.app.state.intake.settings.internal_token.get_secret_value()}"}
    async with httpx.AsyncClient(base_url=live.app.state.internal_url, timeout=10) as internal:
        contact = await internal.get(f"/internal/v1/complaints/{number}/contact", headers=internal_token)
    assert contact.status_code == 404, contact.text
    # Intake's outbox keeps no event about it but complaint.erased.
    kept = await db(live)["outbox"].find({"event.subject": number}).to_list()
    assert [entry["routing_key"] for entry in kept] == ["complaint.erased"]
    # Who asked, who held and lifted, and what the platform did, in order.
    entries = [(entry["action"], entry["operator_id"]) for entry in reversed(await audit_of(live, number))]
    assert [field for field, _ in entries] == [
        "legal_hold_set",
        "legal_hold_lifted",
        "erasure_request",
        "legal_hold_set",
        "legal_hold_lifted",
        "erasure",
    ]
    assert entries[2][1] == "guest" and entries[-1][1] == "system"


async def test_the_retention_period_erases_ended_complaints_and_leaves_open_ones(live):
    ended, guest = await file(live)
    await withdraw(live, ended, guest)
    still_open, _ = await file(live)
    later = datetime.now(UTC) + timedelta(days=RETENTION_DAYS, minutes=1)

    assert (await retention_of(live).run_once(later - timedelta(days=1))).erased >= 0
    assert (await live.app.state.intake.cases.get(ended)).get("erased_at") is None
    await retention_of(live).run_once(later)

    case = await live.app.state.intake.cases.get(ended)
    assert case["erasure_reason"] == "retention" and case["status"] == "withdrawn" and personal_in(case) == []
    assert personal_in(await live.app.state.intake.cases.get(still_open)) != []
    assert (await live.tap.wait_for("complaint.erased", subject=ended)).event.data["reason"] == "retention"


async def test_the_complaints_dead_letters_go_with_it_and_others_stay(live):
    number, guest = await file(live)
    other, _ = await file(live)
    namespace = live.namespace
    # A message the consumer could not handle, about each complaint, waiting in intake's dead-letter queue.
    connection = await aio_pika.connect_robust(namespace.amqp_url)
    async with connection:
        channel = await connection.channel()
        for subject in (number, other):
            event = CloudEvent.wrap(
                ComplaintSubmitted(
                    number=subject,
                    category="refund",
                    title="自动续费无法取消",
                    description=DESCRIPTION,
                    occurred_on="2026-09-01",
                    desired_outcome="退还续费款项",
                    complainant_key="k",
                    region_code="11",
                    submitted_at=datetime.now(UTC),
                ),
                source="/t",
                subject=subject,
            )
            await channel.default_exchange.publish(
                aio_pika.Message(event.model_dump_json().encode(), message_id=event.id, type=event.type),
                routing_key=f"{namespace.queue_prefix}.intake.dlq",
            )
    await withdraw(live, number, guest)
    letters = live.app.state.dead_letters

    await retention_of(live).erase(number, ErasureReason.REQUEST)

    remaining = await letters.list("intake", None, 100)
    subjects = [letter["event"]["subject"] for letter in remaining]
    assert number not in subjects and other in subjects


async def test_a_complainant_downloads_their_data_and_erases_their_account(live):
    headers = await account(live, "sun11@example.org")
    first, _ = await file(live, headers)
    second, second_guest = await file(live, headers)

    data = await live.get("/v1/accounts/me/data", headers=headers)
    assert data.status_code == 200, data.text
    body = data.json()
    assert body["account"]["login"] == "sun11@example.org" and body["account"]["name"] == NAME
    mine = {complaint["number"]: complaint for complaint in body["complaints"]}
    assert {first, second} <= set(mine)
    identity = mine[first]["complainant"]
    assert (identity["name"], identity["id_number"], identity["email"]) == (NAME, ID_NUMBER, EMAIL)
    assert identity["phone"].endswith(PHONE)
    assert mine[first]["description"] == DESCRIPTION and "access_code_hash" not in mine[first]
    one = await live.get(f"/v1/complaints/{second}/data", headers=second_guest)
    assert one.status_code == 200 and one.json()["complainant"]["id_number"] == ID_NUMBER

    refused = await live.post("/v1/accounts/me/erasure", headers=headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["reason"] == "complaints_not_erasable"
    assert set(refused.json()["complaints"]) >= {first, second}
    for number in (first, second):
        await withdraw(live, number, headers)
    asked = await live.post("/v1/accounts/me/erasure", headers=headers)
    assert asked.status_code == 202, asked.text
    assert {first, second} <= set(asked.json()["complaints"])
    due = datetime.fromisoformat(asked.json()["erasure_due_at"])

    report = await retention_of(live).run_once(due + timedelta(seconds=1))

    assert report.accounts_deleted == 1
    for number in (first, second):
        case = await live.app.state.intake.cases.get(number)
        assert case["erased_at"] is not None and personal_in(case) == [] and "account_id" not in case
    # The account is gone: its token opens nothing and its login signs in no more.
    assert (await live.get("/v1/accounts/me/data", headers=headers)).status_code == 401
    signed = await live.post("/v1/auth/token", json={"login": "sun11@example.org", "password": "a-long-password-1"})
    assert signed.status_code == 401


async def test_two_replicas_retention_jobs_erase_each_complaint_once(live):
    numbers = []
    for _ in range(6):
        number, guest = await file(live)
        await withdraw(live, number, guest)
        numbers.append(number)
    later = datetime.now(UTC) + timedelta(days=RETENTION_DAYS, minutes=5)
    intake = live.app.state
    replicas = [
        Retention(
            intake.runtime,
            intake.intake.cases,
            intake.intake.transactions,
            intake.retention.audit,
            intake.dead_letters,
            intake.intake.identities,
            intake.intake.cipher,
            intake.intake.limits,
            intake.retention.policy,
        )
        for _ in range(2)
    ]

    reports = await asyncio.gather(*(replica.run_once(later) for replica in replicas))

    assert sum(report.erased for report in reports) >= len(numbers)
    for number in numbers:
        erasures = [entry for entry in await audit_of(live, number) if entry["action"] == "erasure"]
        assert len(erasures) == 1, number
        events = await db(live)["outbox"].count_documents({"event.subject": number, "routing_key": "complaint.erased"})
        assert events == 1, number


async def test_an_erased_case_takes_no_step_any_more(live):
    number, _ = await file(live)
    now = datetime.now(UTC)
    await live.tap.publish(
        CloudEvent.wrap(
            ComplaintScreened(
                number=number, decision="rejected", reason="out_of_scope", detail="不属于受理范围", screened_at=now
            ),
            source="/t",
            subject=number,
        )
    )
    await live.tap.wait_for("complaint.rejected", subject=number)
    await retention_of(live).erase(number, ErasureReason.RETENTION)
    cases, transactions = live.app.state.intake.cases, live.app.state.intake.transactions

    # An operator's override of the rejection would build complaint.accepted from a narrative that is gone.
    with pytest.raises(CaseErased):
        await transactions.run(
            lambda session: cases.transition(
                number, Action.OVERRIDE_ACCEPT, actor="operator:o1", session=session, fields={"category": "refund"}
            )
        )
    assert (await cases.get(number))["status"] == "rejected"
    overridden = await live.post(
        f"/v1/ops/complaints/{number}/accept",
        headers=await operator(live),
        json={"company_id": "c-any", "category": "refund"},
    )
    assert overridden.status_code in (410, 503), overridden.text  # routing is away here; never a 500


async def test_a_legal_hold_racing_the_erasure_is_one_or_the_other(live):
    staff = await operator(live)
    outcomes = set()
    for _ in range(4):
        number, guest = await file(live)
        await withdraw(live, number, guest)
        held, erased = await asyncio.gather(
            live.post(f"/v1/ops/complaints/{number}/legal-hold", headers=staff, json={"reason": HOLD_REASON}),
            retention_of(live).erase(number, ErasureReason.RETENTION),
            return_exceptions=True,
        )
        case = await live.app.state.intake.cases.get(number)
        if case.get("erased_at") is not None:
            # Erased first: the hold is refused, and nothing of the complaint is held or personal.
            assert isinstance(held, httpx.Response) and held.status_code == 409, held
            problem = held.json()
            assert problem["code"] in ("complaint_erased", "state_changed") or problem.get("reason") == "already_erased"
            assert "legal_hold" not in case and personal_in(case) == []
            outcomes.add("erased")
        else:
            # Held first: the erasure was refused and the case is whole.
            assert isinstance(erased, ErasureRefused | StateChanged) and held.status_code == 200, (held, erased)
            assert case["legal_hold"]["reason"] == HOLD_REASON and personal_in(case) != []
            outcomes.add("held")
    assert outcomes
