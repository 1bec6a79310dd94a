"""Operator tooling against the real things (the app on a real port, RabbitMQ through the event tap, SecantusDB,
company webhook receivers on their own ports): redelivery with the same webhook-id, disabling and enabling an
endpoint, secret rotation with an overlap window, operator alerts and the Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from cryptography.exceptions import InvalidTag
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from devstack.eventtap import EventTap, event_tap
from devstack.receiver import WebhookReceiver
from devstack.servers import serve
from greenchannel.contracts import (
    AccessGuessingDetected,
    CloudEvent,
    ComplainantContact,
    ComplaintAccepted,
    EventData,
    SlaOverdue,
)
from greenchannel.messaging import queue_names
from notification.config import Settings
from notification.domain.secrets import generate_secret
from notification.main import create_app

pytestmark = pytest.mark.integration

OPERATOR = {"Authorization": "Bearer test-operator-token"}
ADMIN = {"Authorization": "Bearer test-admin-token"}  # opens the operator endpoints too, and alone manages secrets
SCHEDULE = [0, 0.3, 0.3, 0.3]
FAILURE_THRESHOLD = 3


@pytest.fixture(scope="module")
async def platform(mongo_url, broker_namespace, run_id):
    settings = Settings(
        service_name="notification-operator",
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_notification_operator",
        **broker_namespace.settings_for("notification-operator"),
        operator_token="test-operator-token",
        admin_token="test-admin-token",
        outbox_poll_interval_s=0.1,
        consumer_retry_delay_ms=200,
        delivery_poll_interval_s=0.2,
        webhook_timeout_s=2,
        delivery_lease_s=5,
        log_json=False,
        webhook_allow_private_targets=True,
        greenchannel_env="development",  # the receivers are plain http
        webhook_retry_schedule_s=SCHEDULE,
        alert_failure_threshold=FAILURE_THRESHOLD,
        metrics_refresh_interval_s=0.2,
    )
    app = create_app(settings)
    async with (
        event_tap(settings.amqp_url, settings.event_exchange, ["webhook.*"]) as tap,
        serve(app) as base_url,
        httpx.AsyncClient(base_url=base_url, headers=ADMIN) as client,
        contextlib.AsyncExitStack() as receivers,
    ):
        await tap.wait_for_consumer(queue_names(settings)[0])
        yield Platform(app, client, tap, receivers)


class Platform:
    def __init__(self, app, client: httpx.AsyncClient, tap: EventTap, receivers: contextlib.AsyncExitStack) -> None:
        self.app = app
        self.client = client
        self.tap = tap
        self._receivers = receivers

    async def publish(self, data: EventData) -> CloudEvent:
        return await self.tap.publish(CloudEvent.wrap(data, source="/services/test", subject=data.number))

    async def company(self, secret: str | None = None) -> tuple[str, WebhookReceiver, dict]:
        """A company whose endpoint is a receiver on its own port; answers the endpoint as created."""
        company = unique("co")
        receiver = WebhookReceiver(secret or generate_secret())
        base_url = await self._receivers.enter_async_context(serve(receiver.app()))
        created = await self.client.put(
            f"/v1/companies/{company}/webhook-endpoint",
            json={"url": f"{base_url}/webhooks/{company}", "secret": receiver.secret},
        )
        assert created.status_code == 201, created.text
        return company, receiver, created.json()

    async def delivery(self, webhook_id: str) -> dict | None:
        """The delivery, or ``None`` while the service has not consumed its event yet."""
        response = await self.client.get(f"/v1/deliveries/{webhook_id}")
        assert response.status_code in (200, 404), response.text
        return response.json() if response.status_code == 200 else None

    async def delivery_in(self, webhook_id: str, status: str, timeout: float = 10.0) -> dict:
        async def reached():
            found = await self.delivery(webhook_id)
            return found if found and found["status"] == status else None

        return await wait_for(reached, timeout, f"delivery {webhook_id} never became {status}")

    def published(self, event_type: str, webhook_id: str) -> list[CloudEvent]:
        found = self.tap.events(event_type, where=lambda event: event.data.get("webhook_id") == webhook_id)
        return [tapped.event for tapped in found]

    async def alerts(self, **params) -> list[dict]:
        response = await self.client.get("/v1/alerts", params=params)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def metrics(self) -> dict[tuple[str, tuple], float]:
        # Scraped without a token, on the internal listener.
        async with httpx.AsyncClient(base_url=self.app.state.internal_url) as anonymous:
            response = await anonymous.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }


async def wait_for(predicate, timeout: float = 10.0, message: str = "condition not met in time"):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.03)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def webhook_id_of(event: CloudEvent) -> str:
    return "msg_" + event.id.replace("-", "")


def now() -> datetime:
    return datetime.now(UTC)


def accepted(company_id: str) -> ComplaintAccepted:
    return ComplaintAccepted(
        number=unique("GC"),
        company_id=company_id,
        company_name="示例科技",
        category="refund",
        title="会员自动续费未退款",
        description="取消自动续费后仍被扣款。",
        occurred_on=date(2026, 3, 2),
        desired_outcome="退款",
        complainant=ComplainantContact(name="张*", phone="138****5678"),
        response_due=date(2026, 3, 16),
        accepted_at=now(),
    )


def codes(delivery: dict) -> list[int | None]:
    return [attempt["status_code"] for attempt in delivery["attempts"]]


# --- redelivery -----------------------------------------------------------------------------------


async def test_redelivery_sends_the_same_webhook_id_again_and_keeps_the_attempts(platform):
    company, receiver, _ = await platform.company()
    event = await platform.publish(accepted(company))
    webhook_id = webhook_id_of(event)
    await platform.delivery_in(webhook_id, "delivered")

    redelivered = await platform.client.post(f"/v1/deliveries/{webhook_id}/redeliver")
    assert redelivered.status_code == 200, redelivered.text
    answer = redelivered.json()
    assert answer["webhook_id"] == webhook_id and answer["status"] == "pending"
    assert answer["attempt_count"] == 1 and answer["redeliveries"] == 1 and answer["next_attempt_at"] is not None
    assert answer["payload"]["data"]["number"] == event.subject

    delivery = await platform.delivery_in(webhook_id, "delivered")
    assert codes(delivery) == [204, 204] and delivery["redeliveries"] == 1
    assert [got.webhook_id for got in receiver.received] == [webhook_id, webhook_id]
    assert all(got.verified for got in receiver.received)
    assert receiver.received[0].raw == receiver.received[1].raw  # the same webhook, signed anew
    # Each round ends with its own webhook.delivered (intake ignores a repeated forwarding).
    await wait_for(lambda: _async(len(platform.published("webhook.delivered", webhook_id)) == 2))

    missing = await platform.client.post("/v1/deliveries/msg_nothing/redeliver")
    assert missing.status_code == 404 and missing.json()["code"] == "delivery_not_found"


async def test_a_delivery_not_finished_cannot_be_redelivered(platform):
    company, receiver, _ = await platform.company()
    event = await platform.publish(accepted(company))
    webhook_id = webhook_id_of(event)
    await platform.delivery_in(webhook_id, "delivered")
    disabled = await platform.client.post(
        f"/v1/companies/{company}/webhook-endpoint/disable", json={"reason": "maintenance"}
    )
    assert disabled.status_code == 200
    assert (await platform.client.post(f"/v1/deliveries/{webhook_id}/redeliver")).status_code == 200

    again = await platform.client.post(f"/v1/deliveries/{webhook_id}/redeliver")
    assert again.status_code == 409, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["code"] == "delivery_pending" and again.json()["delivery_status"] in ("pending", "no_endpoint")
    parked = await platform.delivery_in(webhook_id, "no_endpoint")  # the endpoint is disabled: it waits
    assert codes(parked) == [204]
    parked_again = await platform.client.post(f"/v1/deliveries/{webhook_id}/redeliver")
    assert parked_again.status_code == 409 and parked_again.json()["delivery_status"] == "no_endpoint"

    assert (await platform.client.post(f"/v1/companies/{company}/webhook-endpoint/enable")).status_code == 200
    delivery = await platform.delivery_in(webhook_id, "delivered")
    assert codes(delivery) == [204, 204]
    assert [got.webhook_id for got in receiver.received] == [webhook_id, webhook_id]


async def test_a_failed_delivery_redelivered_runs_the_schedule_again(platform):
    company, receiver, _ = await platform.company()
    receiver.respond_with = 503
    event = await platform.publish(accepted(company))
    webhook_id = webhook_id_of(event)
    failed = await platform.delivery_in(webhook_id, "failed")
    assert codes(failed) == [503] * len(SCHEDULE)

    assert (await platform.client.post(f"/v1/deliveries/{webhook_id}/redeliver")).status_code == 200

    # The new round fails once more and is retried (the first round's attempts do not count against it).
    async def failed_again():
        return len(receiver.received) == len(SCHEDULE) + 1

    await wait_for(failed_again)
    receiver.respond_with = 204
    delivery = await platform.delivery_in(webhook_id, "delivered")
    assert codes(delivery) == [503] * (len(SCHEDULE) + 1) + [204]
    assert {got.webhook_id for got in receiver.received} == {webhook_id}
    delivered = await platform.tap.wait_for("webhook.delivered", where=lambda e: e.data["webhook_id"] == webhook_id)
    assert delivered.event.data["attempts"] == len(SCHEDULE) + 2
    assert len(platform.published("webhook.failed", webhook_id)) == 1


# --- disable and enable ---------------------------------------------------------------------------


async def test_disabling_parks_new_deliveries_and_enabling_releases_them(platform):
    company, receiver, _ = await platform.company()
    path = f"/v1/companies/{company}/webhook-endpoint"
    disabled = await platform.client.post(f"{path}/disable", json={"reason": "company asked for a pause"})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["status"] == "disabled"
    assert disabled.json()["disabled_reason"] == "company asked for a pause"
    assert disabled.json()["disabled_at"] is not None and disabled.json()["secret_masked"] is True

    events = [await platform.publish(accepted(company)) for _ in range(2)]
    for event in events:
        parked = await platform.delivery_in(webhook_id_of(event), "no_endpoint")
        assert parked["attempts"] == []
    await asyncio.sleep(0.5)
    assert receiver.received == []

    enabled = await platform.client.post(f"{path}/enable")
    assert enabled.status_code == 200
    assert enabled.json()["status"] == "enabled" and enabled.json()["disabled_reason"] is None
    for event in events:
        delivery = await platform.delivery_in(webhook_id_of(event), "delivered")
        assert codes(delivery) == [204]
    assert sorted(got.webhook_id for got in receiver.received) == sorted(webhook_id_of(e) for e in events)
    assert (await platform.client.get(path)).json()["status"] == "enabled"


async def test_disable_and_enable_answer_problems_for_bad_calls(platform):
    unknown = f"/v1/companies/{unique('co')}/webhook-endpoint"
    for call in (
        platform.client.post(f"{unknown}/disable", json={"reason": "x"}),
        platform.client.post(f"{unknown}/enable"),
        platform.client.post(f"{unknown}/rotate-secret", json={}),
    ):
        response = await call
        assert response.status_code == 404 and response.json()["code"] == "endpoint_not_found"
    company, _, _ = await platform.company()
    path = f"/v1/companies/{company}/webhook-endpoint"
    for body in ({}, {"reason": ""}, {"reason": "x" * 301}, {"reason": "ok", "extra": 1}):
        response = await platform.client.post(f"{path}/disable", json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_failed"
    assert (await platform.client.get(path)).json()["status"] == "enabled"  # nothing half-written
    async with httpx.AsyncClient(base_url=str(platform.client.base_url)) as anonymous:
        for response in await asyncio.gather(
            anonymous.post(f"{path}/disable", json={"reason": "x"}),
            anonymous.post(f"{path}/enable"),
            anonymous.post(f"{path}/rotate-secret"),
            anonymous.post("/v1/deliveries/msg_x/redeliver"),
            anonymous.get("/v1/alerts"),
            anonymous.post("/v1/alerts/abc/ack"),
        ):
            assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    assert (await platform.client.get(path)).json()["status"] == "enabled"


# --- secret rotation ------------------------------------------------------------------------------


async def test_the_operator_token_keeps_deliveries_flowing_but_only_the_admin_token_sets_endpoints_and_secrets(
    platform,
):
    """Whoever holds the operator's token could forge a company's webhooks with a secret they rotated or chose."""
    company, _, created = await platform.company()
    path = f"/v1/companies/{company}/webhook-endpoint"
    async with httpx.AsyncClient(base_url=str(platform.client.base_url), headers=OPERATOR) as operator:
        for response in await asyncio.gather(
            operator.post(f"{path}/rotate-secret", json={"overlap_s": 0}),
            operator.put(path, json={"url": "http://127.0.0.1:9/forged", "secret": generate_secret()}),
            operator.put(f"/v1/companies/{unique('co')}/webhook-endpoint", json={"url": "http://127.0.0.1:9/new"}),
        ):
            assert (response.status_code, response.json()["code"]) == (401, "unauthorized"), response.text
        shown = (await operator.get(path)).json()
        assert shown["url"] == created["url"] and shown["secret_masked"] is True
        assert shown["secret"].endswith(created["secret"][-4:]) and created["secret"] not in shown["secret"]
        assert shown["previous_secret"] is None  # nothing was rotated
        assert (await operator.post(f"{path}/disable", json={"reason": "paused"})).status_code == 200
        assert (await operator.post(f"{path}/enable")).status_code == 200
        assert (await operator.get("/v1/deliveries")).status_code == 200
    rotated = await platform.client.post(f"{path}/rotate-secret", json={"overlap_s": 0})
    assert rotated.status_code == 200 and rotated.json()["secret"] != created["secret"]


def verifies(secret: str, got) -> bool:
    try:
        Webhook(secret).verify(got.raw, got.headers)
    except WebhookVerificationError:
        return False
    return True


async def test_rotation_signs_with_both_secrets_during_the_overlap_then_with_the_new_one(platform):
    company, receiver, created = await platform.company()
    old_secret = created["secret"]
    path = f"/v1/companies/{company}/webhook-endpoint"
    overlap_s = 1.5
    rotated = await platform.client.post(f"{path}/rotate-secret", json={"overlap_s": overlap_s})
    assert rotated.status_code == 200, rotated.text
    endpoint = rotated.json()
    new_secret = endpoint["secret"]
    assert endpoint["secret_masked"] is False and new_secret.startswith("whsec_") and new_secret != old_secret
    assert endpoint["previous_secret"].endswith(old_secret[-4:]) and old_secret not in endpoint["previous_secret"]
    window_ends = datetime.fromisoformat(endpoint["previous_expires_at"])
    assert timedelta(seconds=1) < window_ends - now() <= timedelta(seconds=overlap_s)
    shown = (await platform.client.get(path)).json()
    assert shown["secret_masked"] is True and new_secret not in shown["secret"]
    assert shown["secret"].endswith(new_secret[-4:])

    # During the overlap: the company still verifies with the old secret, and could with the new one.
    during = await platform.publish(accepted(company))
    await platform.delivery_in(webhook_id_of(during), "delivered")
    got = receiver.received[-1]
    assert got.verified and len(got.headers["webhook-signature"].split(" ")) == 2
    assert verifies(old_secret, got) and verifies(new_secret, got)
    assert not verifies(generate_secret(), got)

    # After the window: only the new secret signs; a receiver still on the old one refuses (401), then switches.
    await asyncio.sleep(max(0.0, (window_ends - now()).total_seconds()) + 0.1)
    assert (await platform.client.get(path)).json()["previous_secret"] is None
    after = await platform.publish(accepted(company))

    async def refused_once():
        return any(d.webhook_id == webhook_id_of(after) for d in receiver.received)

    await wait_for(refused_once)
    got = next(d for d in receiver.received if d.webhook_id == webhook_id_of(after))
    assert not got.verified and len(got.headers["webhook-signature"].split(" ")) == 1
    assert verifies(new_secret, got) and not verifies(old_secret, got)
    receiver.secret = new_secret
    delivery = await platform.delivery_in(webhook_id_of(after), "delivered")
    assert codes(delivery)[0] == 401 and codes(delivery)[-1] == 204


async def test_rotation_defaults_to_a_day_and_zero_ends_the_previous_secret_at_once(platform):
    company, receiver, created = await platform.company()
    path = f"/v1/companies/{company}/webhook-endpoint"
    default = (await platform.client.post(f"{path}/rotate-secret")).json()
    window = datetime.fromisoformat(default["previous_expires_at"]) - now()
    assert timedelta(hours=23, minutes=59) < window <= timedelta(days=1)
    assert default["previous_secret"].endswith(created["secret"][-4:])

    immediate = await platform.client.post(f"{path}/rotate-secret", json={"overlap_s": 0})
    assert immediate.status_code == 200
    assert immediate.json()["previous_secret"] is None and immediate.json()["previous_expires_at"] is None
    receiver.secret = immediate.json()["secret"]
    event = await platform.publish(accepted(company))
    await platform.delivery_in(webhook_id_of(event), "delivered")
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 1
    assert not verifies(default["secret"], receiver.received[-1])

    for body in ({"overlap_s": -1}, {"overlap_s": 31 * 86400}, {"overlap_s": "soon"}, {"other": 1}):
        refused = await platform.client.post(f"{path}/rotate-secret", json=body)
        assert refused.status_code == 422, body
    current = (await platform.client.get(path)).json()
    assert current["secret"].endswith(immediate.json()["secret"][-4:])  # a refused rotation changed nothing


async def test_signing_secrets_are_sealed_at_rest_and_an_endpoint_stored_in_the_clear_still_signs(platform):
    company, _, created = await platform.company()
    path = f"/v1/companies/{company}/webhook-endpoint"
    rotated = (await platform.client.post(f"{path}/rotate-secret", json={"overlap_s": 600})).json()
    collection = platform.app.state.endpoints.collection
    stored = await collection.find_one({"_id": company})
    raw = json.dumps(stored, default=str)
    for secret in (created["secret"], rotated["secret"]):
        assert secret not in raw and secret.removeprefix("whsec_") not in raw
    assert set(stored["secret"]) == {"kid", "nonce", "ct"} and set(stored["previous_secret"]) == {"kid", "nonce", "ct"}

    # Sealed under the field's name: a sealed secret moved into another field does not open.
    cipher = platform.app.state.endpoints.cipher
    assert cipher.decrypt("webhook-secret", stored["secret"]) == rotated["secret"]
    with pytest.raises(InvalidTag):
        cipher.decrypt("another-field", stored["secret"])

    # An endpoint written before secrets were sealed holds its secret as text: it still signs and rotates.
    legacy, legacy_receiver, _ = await platform.company()
    await collection.update_one({"_id": legacy}, {"$set": {"secret": legacy_receiver.secret}})
    event = await platform.publish(accepted(legacy))
    await platform.delivery_in(webhook_id_of(event), "delivered")
    assert legacy_receiver.received[-1].verified
    again = await platform.client.post(f"/v1/companies/{legacy}/webhook-endpoint/rotate-secret", json={"overlap_s": 0})
    assert again.status_code == 200, again.text
    assert isinstance((await collection.find_one({"_id": legacy}))["secret"], dict)


async def test_delivery_payloads_and_messages_are_sealed_expire_and_plaintext_records_of_before_are_read(platform):
    company, receiver, _ = await platform.company()
    event = await platform.publish(accepted(company))
    webhook_id = webhook_id_of(event)
    await platform.delivery_in(webhook_id, "delivered")
    number = event.data["number"]
    deliveries = platform.app.state.deliveries
    stored = await deliveries.collection.find_one({"_id": webhook_id})
    assert "payload" not in stored and "会员自动续费" not in json.dumps(stored, default=str, ensure_ascii=False)
    assert stored["body_expires_at"] - stored["created_at"] == timedelta(days=180)
    # Sealed under its field's name: moved into another field, it does not open.
    with pytest.raises(InvalidTag):
        deliveries.cipher.decrypt("another-field", stored["sealed_payload"])
    assert receiver.received[-1].body["data"]["title"] == "会员自动续费未退款"  # the company got it in clear
    messages = platform.app.state.messages.collection
    message = await wait_for(lambda: messages.find_one({"number": number}), message="no message")
    assert "body_zh" not in message and number not in json.dumps(message["sealed_text"])
    assert message["expires_at"] - message["created_at"] == timedelta(days=365)

    # A delivery written before payloads were sealed: listed, shown and redelivered from its plaintext payload.
    legacy = {**stored, "_id": unique("msg_legacy"), "number": unique("GC")}
    del legacy["sealed_payload"], legacy["body_expires_at"]
    legacy["payload"] = {"type": "complaint.forwarded", "timestamp": now().isoformat(), "data": {"title": "旧记录"}}
    await deliveries.collection.insert_one(legacy)
    shown = await platform.delivery(legacy["_id"])
    assert shown is not None and shown["payload"]["data"]["title"] == "旧记录"
    redelivered = await platform.client.post(f"/v1/deliveries/{legacy['_id']}/redeliver")
    assert redelivered.status_code == 200, redelivered.text
    await wait_for(
        lambda: asyncio.sleep(0, result=any(r.body["data"].get("title") == "旧记录" for r in receiver.received)),
        message="the plaintext delivery was not sent again",
    )
    # A message written before texts were sealed: listed as it is, next to a sealed one.
    old = {**message, "_id": unique("m"), "created_at": message["created_at"] - timedelta(seconds=1)}
    del old["sealed_text"], old["expires_at"]
    old.update(title_zh="旧消息", title_en="Old", body_zh="旧正文", body_en="Old body")
    await messages.insert_one(old)
    internal = {"Authorization": f"Bearer {platform.app.state.settings.internal_token.get_secret_value()}"}
    listed = await platform.client.get("/v1/messages", params={"number": number}, headers=internal)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [item["title_zh"] for item in items][1] == "旧消息" and number in items[0]["body_zh"]


# --- alerts ---------------------------------------------------------------------------------------


async def test_a_410_raises_one_endpoint_gone_alert(platform):
    company, receiver, _ = await platform.company()
    receiver.respond_with = 410
    event = await platform.publish(accepted(company))
    await platform.delivery_in(webhook_id_of(event), "failed")
    later = await platform.publish(accepted(company))
    await platform.delivery_in(webhook_id_of(later), "no_endpoint")

    alerts = await platform.alerts(company_id=company)
    assert [(a["kind"], a["webhook_id"], a["number"]) for a in alerts] == [
        ("endpoint_gone", webhook_id_of(event), event.subject)
    ]
    assert alerts[0]["acked_at"] is None and "410" in alerts[0]["detail"]


async def test_a_failing_endpoint_alerts_once_per_streak_and_an_exhausted_delivery_once(platform):
    company, receiver, _ = await platform.company()
    receiver.respond_with = 503
    first = await platform.publish(accepted(company))
    await platform.delivery_in(webhook_id_of(first), "failed")
    second = await platform.publish(accepted(company))  # the streak goes on: no second endpoint_failing
    await platform.delivery_in(webhook_id_of(second), "failed")

    alerts = await platform.alerts(company_id=company)
    failing = [a for a in alerts if a["kind"] == "endpoint_failing"]
    assert len(failing) == 1 and failing[0]["detail"].startswith(f"{FAILURE_THRESHOLD} consecutive failed attempts")
    assert failing[0]["webhook_id"] == webhook_id_of(first)
    exhausted = sorted((a["webhook_id"], a["number"]) for a in alerts if a["kind"] == "delivery_failed")
    assert exhausted == sorted([(webhook_id_of(first), first.subject), (webhook_id_of(second), second.subject)])
    assert len(alerts) == 3

    # A success ends the streak; the next streak raises its own alert.
    receiver.respond_with = 204
    await platform.delivery_in(webhook_id_of(await platform.publish(accepted(company))), "delivered")
    receiver.respond_with = 500
    third = await platform.publish(accepted(company))
    await platform.delivery_in(webhook_id_of(third), "failed")
    failing = await platform.alerts(company_id=company, kind="endpoint_failing")
    assert [a["webhook_id"] for a in failing] == [webhook_id_of(third), webhook_id_of(first)]  # newest first
    assert "HTTP 500" in failing[0]["detail"]
    assert len(await platform.alerts(company_id=company, kind="delivery_failed")) == 3


async def test_an_overdue_response_raises_one_case_overdue_alert(platform):
    company = unique("co")
    number = unique("GC")
    due = date(2026, 3, 16)
    overdue = SlaOverdue(number=number, company_id=company, kind="response", due=due, overdue_at=now())
    first = await platform.publish(overdue)
    second = await platform.publish(overdue)  # a second event about the same deadline
    await platform.tap.publish(first)  # the first one redelivered
    appeal = await platform.publish(
        SlaOverdue(number=number, company_id=company, kind="appeal", due=due, overdue_at=now())
    )
    lifecycle = platform.app.state.lifecycle

    async def all_applied():
        return all([await lifecycle.applied(event) for event in (first, second, appeal)])

    await wait_for(all_applied)
    await asyncio.sleep(0.3)
    alerts = await platform.alerts(company_id=company)
    assert [(a["kind"], a["number"], a["company_id"]) for a in alerts] == [("case_overdue", number, company)]
    assert "2026-03-16" in alerts[0]["detail"] and alerts[0]["webhook_id"] is None


async def test_guessing_detected_by_intake_raises_one_access_guessing_alert(platform):
    number = unique("GC")
    window = now().replace(minute=0, second=0, microsecond=0)
    detected = AccessGuessingDetected(
        secret="access_code",
        target=number,
        number=number,
        distinct_sources=10,
        failures=37,
        window_started_at=window,
        detected_at=now(),
    )
    first = await platform.publish(detected)
    again = await platform.publish(detected)  # another replica saw the same hour's threshold too
    lifecycle = platform.app.state.lifecycle

    async def both_applied():
        return await lifecycle.applied(first) and await lifecycle.applied(again)

    await wait_for(both_applied)
    alerts = [a for a in await platform.alerts(kind="access_guessing") if a["number"] == number]
    assert len(alerts) == 1 and alerts[0]["company_id"] is None
    assert "10 distinct addresses" in alerts[0]["detail"] and number in alerts[0]["detail"]


async def test_alerts_are_listed_by_kind_and_time_acknowledged_once_and_name_no_person(platform):
    since = now()
    company, receiver, _ = await platform.company()
    receiver.respond_with = 410
    event = await platform.publish(accepted(company))
    await platform.delivery_in(webhook_id_of(event), "failed")
    overdue_number = unique("GC")
    overdue = await platform.publish(
        SlaOverdue(number=overdue_number, company_id=company, kind="response", due=date(2026, 3, 16), overdue_at=now())
    )

    async def both_raised():
        return len(await platform.alerts(since=since.isoformat(), company_id=company)) == 2

    await wait_for(both_raised)
    recent = await platform.alerts(since=since.isoformat())
    assert {a["kind"] for a in recent} >= {"endpoint_gone", "case_overdue"}
    assert all(datetime.fromisoformat(a["created_at"]) >= since - timedelta(milliseconds=1) for a in recent)
    assert await platform.alerts(since=(now() + timedelta(minutes=1)).isoformat()) == []
    gone = await platform.alerts(kind="endpoint_gone", company_id=company)
    assert [a["webhook_id"] for a in gone] == [webhook_id_of(event)]
    assert [a["number"] for a in await platform.alerts(kind="case_overdue", company_id=company)] == [overdue.subject]
    assert "张" not in json.dumps(recent, ensure_ascii=False) and "138" not in json.dumps(recent)

    acked = await platform.client.post(f"/v1/alerts/{gone[0]['id']}/ack")
    assert acked.status_code == 200 and acked.json()["acked_at"] is not None
    again = await platform.client.post(f"/v1/alerts/{gone[0]['id']}/ack")
    assert again.json()["acked_at"] == acked.json()["acked_at"]  # the first acknowledgement is kept
    open_ones = await platform.alerts(company_id=company, acknowledged="false")
    assert [a["kind"] for a in open_ones] == ["case_overdue"]
    assert [a["id"] for a in await platform.alerts(company_id=company, acknowledged="true")] == [gone[0]["id"]]

    missing = await platform.client.post(f"/v1/alerts/{uuid.uuid4().hex}/ack")
    assert missing.status_code == 404 and missing.json()["code"] == "alert_not_found"
    for params in ({"kind": "lost"}, {"since": "yesterday"}, {"since": "2026-03-10T08:00:00"}, {"limit": 0}):
        response = await platform.client.get("/v1/alerts", params=params)
        assert response.status_code == 422, params
    assert (await platform.client.post("/v1/alerts/bad id!/ack")).status_code == 422


# --- metrics --------------------------------------------------------------------------------------


def _count(metrics: dict, outcome: str) -> float:
    return metrics[("greenchannel_webhook_deliveries_total", (("outcome", outcome),))]


async def test_metrics_count_attempts_by_outcome(platform):
    before = await platform.metrics()
    assert {
        outcome for (name, labels) in before if name == "greenchannel_webhook_deliveries_total" for _, outcome in labels
    } == {"delivered", "retry", "failed", "gone", "forbidden", "not_https"}
    company, receiver, _ = await platform.company()
    delivered = await platform.publish(accepted(company))
    await platform.delivery_in(webhook_id_of(delivered), "delivered")
    receiver.respond_with = 500
    failed = await platform.publish(accepted(company))
    await platform.delivery_in(webhook_id_of(failed), "failed")

    after = await platform.metrics()
    assert _count(after, "delivered") - _count(before, "delivered") == 1
    assert _count(after, "retry") - _count(before, "retry") == len(SCHEDULE) - 1
    assert _count(after, "failed") - _count(before, "failed") == 1
    assert _count(after, "gone") == _count(before, "gone")
    attempts = ("greenchannel_webhook_delivery_seconds_count", ())
    assert after[attempts] - before[attempts] == 1 + len(SCHEDULE)
    seconds = ("greenchannel_webhook_delivery_seconds_sum", ())
    assert after[seconds] > before[seconds]
    await pending_gauge(platform, lambda pending: pending == 0)


async def test_the_pending_gauge_counts_deliveries_waiting_for_an_attempt(platform):
    company, receiver, _ = await platform.company()
    receiver.respond_with = 503
    event = await platform.publish(accepted(company))

    async def retrying():
        delivery = await platform.delivery(webhook_id_of(event))
        return delivery is not None and delivery["status"] == "pending" and delivery["attempt_count"] >= 1

    await wait_for(retrying)
    await pending_gauge(platform, lambda pending: pending >= 1)
    await platform.delivery_in(webhook_id_of(event), "failed")
    await pending_gauge(platform, lambda pending: pending == 0)


async def pending_gauge(platform, wanted) -> None:
    """Wait until a scrape shows a pending count ``wanted`` accepts: the gauge follows the store at the runtime's
    next refresh, not at the scrape."""

    async def shows():
        return wanted((await platform.metrics())[("greenchannel_webhook_deliveries_pending", ())])

    await wait_for(shows, message="the pending gauge never showed the expected count")


async def _async(value):
    return value


async def test_a_growing_dead_letter_queue_alerts_at_the_threshold_and_again_when_it_doubles(platform):
    import aio_pika

    runtime = platform.app.state.runtime
    queue = f"{runtime.settings.queue_prefix}.routing.dlq"
    watch = platform.app.state.dead_letter_watch
    watch.threshold = 2
    connection = await aio_pika.connect(runtime.settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True, arguments={"x-queue-type": "classic"})

        async def dead_letter(count: int) -> None:
            for _ in range(count):
                await channel.default_exchange.publish(aio_pika.Message(b"{}"), routing_key=queue)

        await dead_letter(1)
        assert await watch.check_once() == []  # below the threshold
        await dead_letter(1)
        assert await watch.check_once() == [queue]
        assert await watch.check_once() == []  # the same depth alerts once
        await dead_letter(2)
        assert await watch.check_once() == [queue]  # doubled since the last alert
        alerts = (await platform.client.get("/v1/alerts", params={"kind": "dead_letters_growing"})).json()["items"]
        assert [alert["detail"].split()[0] for alert in alerts] == ["4", "2"]
        await declared.purge()
        assert await watch.check_once() == []
        await channel.queue_delete(queue)
