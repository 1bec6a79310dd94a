"""The console's dashboard against a real intake over SecantusDB and RabbitMQ, its cases moved by the events routing
and notification would publish (screened, delivered, overdue, joined a collective cluster) and a poison message:
each work queue counts what its list lists, today's breaches and open collective complaints included, the dead
letter waiting in the broker is counted, and the alerts say "unknown" while notification does not answer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import aio_pika
import httpx
import pytest

from devstack.servers import serve
from devstack.waiting import until
from greenchannel.contracts import (
    FORWARDING_WEBHOOK_TYPE,
    CloudEvent,
    ClusterJoined,
    ComplaintScreened,
    EventData,
    SlaOverdue,
    WebhookDelivered,
)
from intake.config import Settings
from intake.main import create_app

pytestmark = pytest.mark.integration

ADMIN = {"login": "admin", "password": "development-only-admin-password"}
FORM = {
    "complainant": {"name": "赵六", "id_number": "11010519491231002X", "phone": "13512345678"},
    "company": {"name": "迅联"},
    "category": "refund",
    "title": "退款申请被拒绝",
    "description": "购买的课程无法使用，申请退款被客服拒绝。",
    "occurred_on": "2026-09-01",
    "desired_outcome": "全额退款",
}


@pytest.fixture(scope="module")
async def intake(mongo_url, broker_namespace, run_id):
    # Routing and notification are unreachable: the test publishes their events itself.
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_dashboard",
        evidence_url="http://127.0.0.1:9",
        notification_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        admin_token="test-admin-token",
        outbox_poll_interval_s=0.2,
        log_json=False,
        **broker_namespace.isolated("intake-dashboard").settings_for("intake"),
    )
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        connection = await aio_pika.connect_robust(settings.amqp_url)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(settings.event_exchange)
            client.exchange = exchange  # type: ignore[attr-defined]
            yield client


async def publish(intake, data: EventData, number: str) -> None:
    event = CloudEvent.wrap(data, source="/tests/dashboard", subject=number)
    await intake.exchange.publish(
        aio_pika.Message(event.model_dump_json().encode(), message_id=event.id, type=event.type),
        routing_key=event.type,
    )


async def case_status(intake, headers, number: str) -> str:
    return (await intake.get(f"/v1/ops/complaints/{number}", headers=headers)).json()["status"]


async def forwarded(intake, headers, number: str) -> None:
    now = datetime.now(UTC)
    screened = ComplaintScreened(
        number=number, decision="accepted", company_id="c-xunlian", company_name="迅联", category="refund",
        response_due=date(2026, 12, 31), screened_at=now,
    )  # fmt: skip
    await publish(intake, screened, number)
    await until(lambda: _is(intake, headers, number, "accepted"), timeout=30, what="accepted")
    delivered = WebhookDelivered(
        webhook_id=f"msg_{number}", number=number, company_id="c-xunlian", event_type=FORWARDING_WEBHOOK_TYPE,
        attempts=1, status_code=200, delivered_at=now,
    )  # fmt: skip
    await publish(intake, delivered, number)
    await until(lambda: _is(intake, headers, number, "forwarded"), timeout=30, what="forwarded")


async def _is(intake, headers, number: str, status: str) -> bool:
    return await case_status(intake, headers, number) == status


async def test_the_dashboard_counts_what_each_queue_lists(intake):
    admin = {"Authorization": "Bearer " + (await intake.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]}
    numbers = [(await intake.post("/v1/complaints", json=FORM)).json()["number"] for _ in range(4)]
    unscreened, overdue, collective, plain = numbers
    for number in (overdue, collective, plain):
        await forwarded(intake, admin, number)
    now = datetime.now(UTC)
    await publish(
        intake,
        SlaOverdue(number=overdue, company_id="c-xunlian", kind="response", due=date(2026, 12, 1), overdue_at=now),
        overdue,
    )
    joined = ClusterJoined(
        cluster_id="cl-dashboard", number=collective, company_id="c-xunlian", size=5, collective=True, joined_at=now
    )
    await publish(intake, joined, collective)
    await intake.exchange.publish(aio_pika.Message(b"\x00{not json"), routing_key="complaint.screened")

    async def figures() -> dict:
        answer = await intake.get("/v1/ops/dashboard", headers=admin)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def settled() -> bool:
        found = await figures()
        return (
            found["queues"]["breached_today"] == 1
            and found["queues"]["collective"] == 1
            and found["dead_letters"]["intake"] == 1
        )

    await until(settled, timeout=30, what="the overdue flag, the cluster and the dead letter")
    found = await figures()
    assert found["queues"] == {
        "appeals": 0,
        "overdue": 1,
        "rejected": 0,
        "unscreened": 1,
        "company_review": 0,
        "collective": 1,
        "breached_today": 1,
    }
    assert found["dead_letters"] == {"intake": 1, "routing": 0, "notification": 0, "evidence": 0}
    assert (found["open_alerts"], found["failing_endpoints"]) == (None, None)  # notification does not answer
    for kind, expected in (("unscreened", unscreened), ("overdue", overdue), ("collective", collective)):
        listed = (await intake.get("/v1/ops/queue", headers=admin, params={"kind": kind})).json()["items"]
        assert [item["number"] for item in listed] == [expected], kind
    listed = (await intake.get("/v1/ops/queue", headers=admin, params={"kind": "breached_today"})).json()["items"]
    assert [item["number"] for item in listed] == [overdue]
    view = (await intake.get(f"/v1/ops/complaints/{collective}", headers=admin)).json()
    assert view["cluster_id"] == "cl-dashboard"
    assert view["operator_actions"] == ["redirect"]  # forwarded: only a redirect is the operator's
    assert (await intake.get(f"/v1/ops/complaints/{unscreened}", headers=admin)).json()["operator_actions"] == [
        "accept",
        "reject",
    ]
