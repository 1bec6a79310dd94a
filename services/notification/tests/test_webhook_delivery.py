"""The notification service end to end against the real things: the app on a real port, RabbitMQ,
SecantusDB, and a company's webhook receiver on its own port that verifies Standard Webhooks signatures."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import uuid
from datetime import UTC, date, datetime

import aio_pika
import httpx
import pytest
from prometheus_client import REGISTRY
from standardwebhooks.webhooks import Webhook

from devstack.eventtap import EventTap, event_tap
from devstack.receiver import WebhookReceiver
from devstack.servers import serve
from greenchannel.contracts import CloudEvent, ComplainantContact, ComplaintAccepted, ComplaintErased, EvidenceRef
from greenchannel.messaging import queue_names
from notification.config import Settings
from notification.domain.secrets import generate_secret
from notification.main import create_app

pytestmark = pytest.mark.integration

OPERATOR = {"Authorization": "Bearer test-operator-token"}
ADMIN = {"Authorization": "Bearer test-admin-token"}  # opens the operator endpoints too, and alone sets endpoints
SCHEDULE = [0, 0.4, 0.4, 0.4]


def make_settings(mongo_url, broker_namespace, run_id, name, **overrides) -> Settings:
    return Settings(
        service_name=name,
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_{name.replace('-', '_')}",
        **broker_namespace.settings_for(name),
        outbox_poll_interval_s=0.1,
        consumer_retry_delay_ms=200,
        delivery_poll_interval_s=0.2,
        webhook_timeout_s=2,
        delivery_lease_s=5,
        log_json=False,
        # The receivers here are plain http, which production refuses (see the test of it).
        **{
            "greenchannel_env": "development",
            "operator_token": "test-operator-token",
            "admin_token": "test-admin-token",
            **overrides,
        },
    )


async def wait_for(predicate, timeout: float = 10.0, message: str = "condition not met in time"):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.03)


def accepted_event(company_id: str, number: str) -> CloudEvent:
    data = ComplaintAccepted(
        number=number,
        company_id=company_id,
        company_name="示例科技",
        category="refund",
        title="会员自动续费未退款",
        description="取消自动续费后仍被扣款。",
        occurred_on=date(2026, 3, 2),
        desired_outcome="退款",
        complainant=ComplainantContact(name="张*", phone="138****5678"),
        evidence=[
            EvidenceRef(evidence_id="ev-1", filename="receipt.png", media_type="image/png", size=1234, sha256="ab" * 32)
        ],
        response_due=date(2026, 3, 16),
        accepted_at=datetime.now(UTC),
    )
    return CloudEvent.wrap(data, source="/services/intake", subject=number)


@pytest.fixture(scope="module")
async def platform(mongo_url, broker_namespace, run_id):
    """The notification service, a publisher onto the exchange and the webhook.* event log."""
    settings = make_settings(
        mongo_url,
        broker_namespace,
        run_id,
        "notification",
        webhook_allow_private_targets=True,
        webhook_retry_schedule_s=SCHEDULE,
    )
    app = create_app(settings)
    async with (
        event_tap(settings.amqp_url, settings.event_exchange, ["webhook.*"]) as tap,
        serve(app) as base_url,
        httpx.AsyncClient(base_url=base_url, headers=ADMIN) as client,
    ):
        await tap.wait_for_consumer(queue_names(settings)[0])
        yield Platform(settings, app, client, tap)


class Platform:
    def __init__(self, settings, app, client, tap: EventTap) -> None:
        self.settings = settings
        self.app = app
        self.client: httpx.AsyncClient = client
        self.tap = tap
        self.publish = tap.publish

    def events_of(self, event_type: str, webhook_id: str) -> list[CloudEvent]:
        """The webhook.* events the service published about one delivery."""
        found = self.tap.events(event_type, where=lambda event: event.data.get("webhook_id") == webhook_id)
        return [tapped.event for tapped in found]

    async def delivery(self, webhook_id: str) -> dict | None:
        response = await self.client.get(f"/v1/deliveries/{webhook_id}")
        return response.json() if response.status_code == 200 else None

    async def delivery_in(self, webhook_id: str, status: str, timeout: float = 10.0) -> dict:
        async def reached():
            found = await self.delivery(webhook_id)
            return found if found and found["status"] == status else None

        return await wait_for(reached, timeout, f"delivery {webhook_id} never became {status}")

    async def event(self, event_type: str, webhook_id: str) -> CloudEvent:
        async def arrived():
            return self.events_of(event_type, webhook_id)

        found = await wait_for(arrived, message=f"no {event_type} for {webhook_id}")
        return found[0]


@pytest.fixture
async def receivers():
    """Start company webhook receivers on real ports; they stop with the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(secret: str) -> tuple[WebhookReceiver, str]:
            receiver = WebhookReceiver(secret)
            base_url = await stack.enter_async_context(serve(receiver.app()))
            return receiver, base_url

        yield start


def key_ring(key_id: str) -> str:
    return json.dumps({key_id: base64.b64encode(os.urandom(32)).decode()})


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def webhook_id_of(event: CloudEvent) -> str:
    return "msg_" + event.id.replace("-", "")


async def test_signed_webhook_is_retried_with_the_same_id_and_delivered_once(platform, receivers):
    company = unique("co")
    receiver, base_url = await receivers(generate_secret())
    created = await platform.client.put(
        f"/v1/companies/{company}/webhook-endpoint", json={"url": f"{base_url}/webhooks/{company}"}
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["secret_masked"] is False
    receiver.secret = endpoint["secret"]  # the company keeps the secret it was shown once
    shown = (await platform.client.get(f"/v1/companies/{company}/webhook-endpoint")).json()
    assert shown["secret_masked"] is True and shown["secret"] != endpoint["secret"]
    assert endpoint["secret"][len("whsec_") : -4] not in shown["secret"]

    receiver.respond_with = 500
    event = accepted_event(company, unique("GC"))
    await platform.publish(event)

    async def failed_twice():
        return len(receiver.received) >= 2

    await wait_for(failed_twice)
    receiver.respond_with = 204
    delivery = await platform.delivery_in(webhook_id_of(event), "delivered")

    assert len(receiver.received) == 3
    assert {got.webhook_id for got in receiver.received} == {webhook_id_of(event)}
    assert all(got.verified for got in receiver.received)
    body = receiver.received[-1].body
    assert body["type"] == "complaint.forwarded"
    assert body["data"]["number"] == event.subject and body["data"]["company_id"] == company
    assert body["data"]["complainant"] == {"name": "张*", "phone": "138****5678"}
    assert body["data"]["evidence"][0]["evidence_id"] == "ev-1"
    assert "url" not in json.dumps(body["data"]).lower()
    assert receiver.received[-1].headers["content-type"] == "application/json"

    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 204]
    assert all(a["duration_ms"] >= 0 and a["error"] is None for a in delivery["attempts"])
    assert delivery["attempt_count"] == 3 and delivery["next_attempt_at"] is None
    assert delivery["payload"] == body

    delivered = await platform.event("webhook.delivered", webhook_id_of(event))
    assert delivered.subject == event.subject
    assert delivered.data["attempts"] == 3 and delivered.data["status_code"] == 204
    assert delivered.data["event_type"] == "complaint.forwarded"
    await asyncio.sleep(0.5)
    assert len(platform.events_of("webhook.delivered", webhook_id_of(event))) == 1
    assert len(receiver.received) == 3


async def test_410_gone_disables_the_endpoint_and_fails_the_delivery(platform, receivers):
    company = unique("co")
    secret = generate_secret()
    receiver, base_url = await receivers(secret)
    receiver.respond_with = 410
    response = await platform.client.put(
        f"/v1/companies/{company}/webhook-endpoint", json={"url": f"{base_url}/webhooks/{company}", "secret": secret}
    )
    assert response.status_code == 201
    event = accepted_event(company, unique("GC"))
    await platform.publish(event)

    delivery = await platform.delivery_in(webhook_id_of(event), "failed")
    assert [a["status_code"] for a in delivery["attempts"]] == [410]
    endpoint = (await platform.client.get(f"/v1/companies/{company}/webhook-endpoint")).json()
    assert endpoint["status"] == "disabled" and endpoint["disabled_reason"] == "gone"
    failed = await platform.event("webhook.failed", webhook_id_of(event))
    assert failed.data["attempts"] == 1 and "410" in failed.data["last_error"]

    # Later complaints wait for a new endpoint instead of calling the gone one.
    later = accepted_event(company, unique("GC"))
    await platform.publish(later)
    parked = await platform.delivery_in(webhook_id_of(later), "no_endpoint")
    assert parked["attempts"] == [] and len(receiver.received) == 1


async def test_exhausted_schedule_fails_the_delivery_and_publishes_webhook_failed(platform, receivers):
    company = unique("co")
    secret = generate_secret()
    receiver, base_url = await receivers(secret)
    receiver.respond_with = 503
    await platform.client.put(
        f"/v1/companies/{company}/webhook-endpoint", json={"url": f"{base_url}/webhooks/{company}", "secret": secret}
    )
    event = accepted_event(company, unique("GC"))
    await platform.publish(event)

    delivery = await platform.delivery_in(webhook_id_of(event), "failed")
    assert [a["status_code"] for a in delivery["attempts"]] == [503] * len(SCHEDULE)
    assert delivery["last_error"] == "HTTP 503"
    failed = await platform.event("webhook.failed", webhook_id_of(event))
    assert failed.data["attempts"] == len(SCHEDULE) and failed.data["number"] == event.subject
    assert platform.events_of("webhook.delivered", webhook_id_of(event)) == []
    assert len(receiver.received) == len(SCHEDULE)
    assert {got.webhook_id for got in receiver.received} == {webhook_id_of(event)}

    # The dead letter is visible to operators.
    listed = await platform.client.get("/v1/deliveries", params={"company_id": company, "status": "failed"})
    assert [item["webhook_id"] for item in listed.json()["items"]] == [webhook_id_of(event)]
    # The endpoint stays enabled: only 410 disables it.
    endpoint = (await platform.client.get(f"/v1/companies/{company}/webhook-endpoint")).json()
    assert endpoint["status"] == "enabled"


async def test_delivery_waits_for_an_endpoint_and_goes_out_once_one_is_registered(platform, receivers):
    company = unique("co")
    event = accepted_event(company, unique("GC"))
    await platform.publish(event)
    parked = await platform.delivery_in(webhook_id_of(event), "no_endpoint")
    assert parked["attempts"] == []

    secret = generate_secret()
    receiver, base_url = await receivers(secret)
    response = await platform.client.put(
        f"/v1/companies/{company}/webhook-endpoint", json={"url": f"{base_url}/webhooks/{company}", "secret": secret}
    )
    assert response.status_code == 201
    assert response.json()["secret"] == secret

    delivery = await platform.delivery_in(webhook_id_of(event), "delivered")
    assert [a["status_code"] for a in delivery["attempts"]] == [204]
    assert len(receiver.received) == 1 and receiver.received[0].verified
    assert receiver.received[0].body["data"]["number"] == event.subject
    await platform.event("webhook.delivered", webhook_id_of(event))


async def test_a_redelivered_event_makes_one_delivery(platform, receivers):
    company = unique("co")
    secret = generate_secret()
    receiver, base_url = await receivers(secret)
    await platform.client.put(
        f"/v1/companies/{company}/webhook-endpoint", json={"url": f"{base_url}/webhooks/{company}", "secret": secret}
    )
    event = accepted_event(company, unique("GC"))
    await platform.publish(event)
    await platform.publish(event)
    await platform.delivery_in(webhook_id_of(event), "delivered")

    async def queue_drained() -> bool:
        connection = await aio_pika.connect(platform.settings.amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(queue_names(platform.settings)[0], passive=True)
            return queue.declaration_result.message_count == 0

    await wait_for(queue_drained)
    await asyncio.sleep(0.5)
    listed = await platform.client.get("/v1/deliveries", params={"number": event.subject})
    assert len(listed.json()["items"]) == 1
    assert len(receiver.received) == 1
    assert len(platform.events_of("webhook.delivered", webhook_id_of(event))) == 1


async def test_operator_endpoints_need_the_token_and_reject_bad_input(platform):
    company = unique("co")
    path = f"/v1/companies/{company}/webhook-endpoint"
    async with httpx.AsyncClient(base_url=str(platform.client.base_url)) as anonymous:
        # The operator's token does not set an endpoint: only the admin's does.
        assert (await anonymous.put(path, json={"url": "https://example.com/h"}, headers=OPERATOR)).status_code == 401
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-operator-token"}):
            calls = [
                anonymous.put(path, json={"url": "https://example.com/h"}, headers=headers),
                anonymous.get(path, headers=headers),
                anonymous.delete(path, headers=headers),
                anonymous.get("/v1/deliveries", headers=headers),
                anonymous.get("/v1/deliveries/msg_x", headers=headers),
            ]
            for response in await asyncio.gather(*calls):
                assert response.status_code == 401, response.text
                assert response.headers["content-type"].startswith("application/problem+json")
                assert response.json()["code"] == "unauthorized"
    assert (await platform.client.get(path)).status_code == 404

    bad_url = await platform.client.put(path, json={"url": "ftp://example.com/h"})
    assert bad_url.status_code == 422 and bad_url.json()["code"] == "invalid_webhook_url"
    bad_secret = await platform.client.put(path, json={"url": "http://127.0.0.1:9/h", "secret": "whsec_short"})
    assert bad_secret.status_code == 422 and bad_secret.json()["code"] == "invalid_webhook_secret"
    unknown = await platform.client.put(path, json={"url": "http://no-such-host.invalid/h"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "webhook_target_unresolvable"
    assert (await platform.client.get(path)).status_code == 404  # nothing half-written

    first = await platform.client.put(path, json={"url": "http://127.0.0.1:9/h"})
    assert first.status_code == 201
    changed = await platform.client.put(path, json={"url": "http://127.0.0.1:9/other"})
    assert changed.status_code == 200 and changed.json()["secret_masked"] is True
    assert changed.json()["secret"][-4:] == first.json()["secret"][-4:]  # the secret is kept on a change
    assert (await platform.client.delete(path)).status_code == 204
    assert (await platform.client.get(path)).json()["status"] == "disabled"
    assert (await platform.client.get("/v1/deliveries/msg_nothing")).json()["code"] == "delivery_not_found"
    bad_status = await platform.client.get("/v1/deliveries", params={"status": "lost"})
    assert bad_status.status_code == 422


async def test_private_targets_are_refused_at_registration_and_at_delivery(
    mongo_url, broker_namespace, run_id, platform, receivers
):
    settings = make_settings(
        mongo_url,
        broker_namespace,
        run_id,
        "notification-strict",
        webhook_allow_private_targets=False,
        webhook_retry_schedule_s=[0, 0.2],
    )
    app = create_app(settings)
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, headers=ADMIN) as client:
        company = unique("co")
        for url in ("http://127.0.0.1:8080/h", "http://localhost/h", "http://[::1]/h", "http://169.254.169.254/latest"):
            refused = await client.put(f"/v1/companies/{company}/webhook-endpoint", json={"url": url})
            assert refused.status_code == 422, url
            assert refused.json()["code"] == "webhook_target_forbidden"
        assert (await client.get(f"/v1/companies/{company}/webhook-endpoint")).status_code == 404

        # An endpoint whose host now points inside (DNS changed after registration) is refused at delivery.
        secret = generate_secret()
        receiver, receiver_url = await receivers(secret)
        now = datetime.now(UTC)
        await app.state.endpoints.collection.insert_one(
            {
                "_id": company,
                "url": f"{receiver_url}/webhooks/{company}",
                "secret": secret,
                "status": "enabled",
                "disabled_reason": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        await platform.tap.wait_for_consumer(queue_names(settings)[0])
        refused_before = REGISTRY.get_sample_value("greenchannel_webhook_deliveries_total", {"outcome": "forbidden"})
        event = accepted_event(company, unique("GC"))
        await platform.publish(event)

        async def failed():
            response = await client.get(f"/v1/deliveries/{webhook_id_of(event)}")
            return response.json() if response.status_code == 200 and response.json()["status"] == "failed" else None

        delivery = await wait_for(failed)
        assert len(delivery["attempts"]) == 2
        assert all(
            a["error"].startswith("webhook_target_forbidden") and a["status_code"] is None for a in delivery["attempts"]
        )
        assert receiver.received == []
        # Each refused attempt is counted as such (not as a retry or a failure).
        refused_after = REGISTRY.get_sample_value("greenchannel_webhook_deliveries_total", {"outcome": "forbidden"})
        assert refused_after - refused_before == 2


async def test_plain_http_targets_are_refused_in_production_at_registration_and_at_delivery(
    mongo_url, broker_namespace, run_id, platform, receivers
):
    # Production, with secrets of its own (it refuses the published ones). Loopback is allowed so that only the
    # scheme decides.
    admin_token = secrets.token_urlsafe(32)
    settings = make_settings(
        mongo_url,
        broker_namespace,
        run_id,
        "notification-production",
        greenchannel_env="production",
        webhook_allow_private_targets=True,
        webhook_retry_schedule_s=[0, 0.2],
        operator_token=secrets.token_urlsafe(32),
        admin_token=admin_token,
        internal_token=secrets.token_urlsafe(32),
        webhook_secret_keys=key_ring("k1"),
        webhook_secret_active_key_id="k1",
        code_transport_keys=key_ring("k1"),
        code_transport_active_key_id="k1",
    )
    assert not settings.is_development
    app = create_app(settings)
    async with (
        serve(app) as base_url,
        httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {admin_token}"}) as client,
    ):
        company = unique("co")
        path = f"/v1/companies/{company}/webhook-endpoint"
        for url in ("http://127.0.0.1:8080/h", "HTTP://127.0.0.1/h", "http://[::1]:443/h"):
            refused = await client.put(path, json={"url": url})
            assert refused.status_code == 422, url
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "webhook_url_not_https"
        assert (await client.get(path)).status_code == 404  # nothing written
        accepted = await client.put(path, json={"url": "https://127.0.0.1:9/h"})
        assert accepted.status_code == 201, accepted.text

        # An http endpoint stored before https was required: nothing is sent; it is disabled with one alert
        # and the deliveries wait for an https URL.
        other = unique("co")
        receiver, receiver_url = await receivers(generate_secret())
        now = datetime.now(UTC)
        await app.state.endpoints.collection.insert_one(
            {
                "_id": other,
                "url": f"{receiver_url}/webhooks/{other}",
                "secret": generate_secret(),
                "status": "enabled",
                "disabled_reason": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        await platform.tap.wait_for_consumer(queue_names(settings)[0])
        events = [accepted_event(other, unique("GC")) for _ in range(2)]
        for event in events:
            await platform.publish(event)

        async def parked(event):
            response = await client.get(f"/v1/deliveries/{webhook_id_of(event)}")
            return response.status_code == 200 and response.json()["status"] == "no_endpoint"

        for event in events:
            await wait_for(lambda event=event: parked(event))
        endpoint = (await client.get(f"/v1/companies/{other}/webhook-endpoint")).json()
        assert endpoint["status"] == "disabled" and endpoint["disabled_reason"] == "not_https"
        alerts = (await client.get("/v1/alerts", params={"company_id": other})).json()["items"]
        assert [alert["kind"] for alert in alerts] == ["endpoint_not_https"]
        assert receiver.received == []

        # Enabling it again is refused while its URL is plain http; registering an https URL releases the
        # deliveries: they are attempted (here at a closed port), not lost.
        enabling = await client.post(f"/v1/companies/{other}/webhook-endpoint/enable")
        assert (enabling.status_code, enabling.json()["code"]) == (422, "webhook_url_not_https")
        assert (await client.get(f"/v1/companies/{other}/webhook-endpoint")).json()["status"] == "disabled"
        assert (
            await client.put(f"/v1/companies/{other}/webhook-endpoint", json={"url": "https://127.0.0.1:9/h"})
        ).status_code == 200

        async def attempted(event):
            response = await client.get(f"/v1/deliveries/{webhook_id_of(event)}")
            return response.json()["attempts"] if response.status_code == 200 else None

        for event in events:
            attempts = await wait_for(lambda event=event: attempted(event))
            assert attempts[0]["url"] == "https://127.0.0.1:9/h" and attempts[0]["status_code"] is None
        assert receiver.received == []


async def test_a_test_webhook_is_signed_logged_and_concerns_no_complaint(platform, receivers):
    company = unique("co")
    receiver, base_url = await receivers(generate_secret())
    path = f"/v1/companies/{company}/webhook-endpoint"
    assert (await platform.client.post(f"{path}/test")).json()["code"] == "endpoint_not_found"
    registered = await platform.client.put(path, json={"url": f"{base_url}/webhooks/{company}"})
    receiver.secret = secret = registered.json()["secret"]

    key = {"Idempotency-Key": unique("test")}
    sent = await platform.client.post(f"{path}/test", headers=key)
    assert sent.status_code == 201, sent.text
    webhook_id = sent.json()["webhook_id"]
    assert sent.json()["event_type"] == "webhook.test" and sent.json()["number"] is None
    delivery = await platform.delivery_in(webhook_id, "delivered")
    assert [a["status_code"] for a in delivery["attempts"]] == [204]

    # What the company received verifies with the Standard Webhooks library and names no complaint or person.
    got = receiver.received[-1]
    assert got.webhook_id == webhook_id
    assert Webhook(secret).verify(got.raw, got.headers) == got.body == delivery["payload"]
    assert got.body["type"] == "webhook.test" and got.body["data"]["company_id"] == company
    assert set(got.body["data"]) == {"company_id", "note"}

    # The same key again answers the same delivery and sends nothing more; another request makes another test.
    again = await platform.client.post(f"{path}/test", headers=key)
    assert again.status_code == 201 and again.json()["webhook_id"] == webhook_id
    assert again.json()["status"] == "delivered"
    other = await platform.client.post(f"{path}/test")
    assert other.json()["webhook_id"] != webhook_id
    await platform.delivery_in(other.json()["webhook_id"], "delivered")
    assert [got.webhook_id for got in receiver.received] == [webhook_id, other.json()["webhook_id"]]
    listed = (await platform.client.get("/v1/deliveries", params={"company_id": company})).json()["items"]
    assert {item["webhook_id"] for item in listed} == {webhook_id, other.json()["webhook_id"]}

    # A redelivery sends it again, with the same id.
    redelivered = await platform.client.post(f"/v1/deliveries/{webhook_id}/redeliver")
    assert redelivered.status_code == 200, redelivered.text
    await wait_for(lambda: _async(len(receiver.received) == 3))
    assert receiver.received[-1].webhook_id == webhook_id and receiver.received[-1].verified

    # A complaint of the company is erased meanwhile: its delivery goes, the tests stay.
    event = accepted_event(company, unique("GC"))
    await platform.publish(event)
    await platform.delivery_in(webhook_id_of(event), "delivered")
    erased = ComplaintErased(number=event.subject, reason="request", erased_at=datetime.now(UTC))
    await platform.publish(CloudEvent.wrap(erased, source="/services/intake", subject=event.subject))
    await wait_for(lambda: _gone(platform, webhook_id_of(event)))
    assert (await platform.delivery(webhook_id))["status"] == "delivered"

    # Nothing about a complaint was published for the tests: no webhook.delivered moves a case on.
    await asyncio.sleep(0.5)
    assert len(platform.events_of("webhook.delivered", webhook_id_of(event))) == 1
    for test_id in (webhook_id, other.json()["webhook_id"]):
        assert platform.events_of("webhook.delivered", test_id) == []


async def test_a_failing_test_webhook_is_retried_and_fails_without_a_dead_letter(platform, receivers):
    company = unique("co")
    secret = generate_secret()
    receiver, base_url = await receivers(secret)
    receiver.respond_with = 500
    path = f"/v1/companies/{company}/webhook-endpoint"
    await platform.client.put(path, json={"url": f"{base_url}/webhooks/{company}", "secret": secret})

    sent = await platform.client.post(f"{path}/test")
    webhook_id = sent.json()["webhook_id"]
    delivery = await platform.delivery_in(webhook_id, "failed")
    assert [a["status_code"] for a in delivery["attempts"]] == [500] * len(SCHEDULE)
    assert delivery["last_error"] == "HTTP 500" and all(got.verified for got in receiver.received)
    await asyncio.sleep(0.5)
    assert platform.events_of("webhook.failed", webhook_id) == []
    alerts = (await platform.client.get("/v1/alerts", params={"company_id": company})).json()["items"]
    assert [alert["kind"] for alert in alerts if alert["webhook_id"] == webhook_id] in ([], ["endpoint_failing"])

    # A disabled endpoint takes no test; nor does a key that is no Idempotency-Key.
    await platform.client.post(f"{path}/disable", json={"reason": "maintenance"})
    refused = await platform.client.post(f"{path}/test")
    assert refused.status_code == 409 and refused.json()["code"] == "endpoint_disabled"
    assert refused.headers["content-type"].startswith("application/problem+json")
    await platform.client.post(f"{path}/enable")
    bad_key = await platform.client.post(f"{path}/test", headers={"Idempotency-Key": "x" * 201})
    assert bad_key.status_code == 400 and bad_key.json()["code"] == "invalid_idempotency_key"
    receiver.respond_with = 204
    async with httpx.AsyncClient(base_url=str(platform.client.base_url)) as anonymous:
        assert (await anonymous.post(f"{path}/test")).status_code == 401
        by_operator = await anonymous.post(f"{path}/test", headers=OPERATOR)
    assert by_operator.status_code == 201
    await platform.delivery_in(by_operator.json()["webhook_id"], "delivered")
    assert len(receiver.received) == len(SCHEDULE) + 1


async def _async(value):
    return value


async def _gone(platform: Platform, webhook_id: str) -> bool:
    return await platform.delivery(webhook_id) is None
