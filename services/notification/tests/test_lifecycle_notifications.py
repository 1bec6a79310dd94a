"""The lifecycle end to end against the real things: the app on a real port, RabbitMQ, SecantusDB, company
webhook receivers that verify signatures, a real SMTP server (aiosmtpd) and a small HTTP app standing in
for intake's contact endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Header, Response

from devstack.eventtap import EventTap, event_tap
from devstack.receiver import WebhookReceiver
from devstack.servers import serve
from devstack.standins import free_port
from greenchannel.contracts import (
    CloudEvent,
    ComplainantContact,
    ComplaintAccepted,
    ComplaintAppealed,
    ComplaintForwarded,
    ComplaintRedirected,
    ComplaintRejected,
    ComplaintResponded,
    ComplaintSupplemented,
    ComplaintWithdrawn,
    EventData,
    SlaOverdue,
    SlaReminder,
)
from greenchannel.messaging import queue_names
from notification.config import Settings
from notification.domain.secrets import generate_secret
from notification.main import create_app

pytestmark = pytest.mark.integration

OPERATOR = {"Authorization": "Bearer test-operator-token"}
ADMIN = {"Authorization": "Bearer test-admin-token"}
INTERNAL = {"Authorization": "Bearer test-internal-token"}
WEBHOOK_SCHEDULE = [0, 0.4, 0.6, 1, 1, 1]
DISPATCH_SCHEDULE = [0, 0.3, 0.5, 0.5, 1, 1, 1, 1]
EMAIL = "li.si@example.cn"
PHONE = "13912345678"


# --- the stand-ins ---------------------------------------------------------------------------------


@dataclass
class MailCollector:
    """aiosmtpd handler: keeps every message it accepted (called from the server's own thread)."""

    received: list[tuple[list[str], email.message.EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook name
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def about(self, number: str) -> list[tuple[list[str], email.message.EmailMessage]]:
        return [(to, mail) for to, mail in self.received if number in mail.get_content()]


class SmtpServer:
    """A real SMTP server on a fixed port that a test can stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.collector = MailCollector()
        self._controller: Controller | None = None

    def start(self) -> None:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # it logs every SMTP command with the addresses
        # aiosmtpd's Controller cannot be restarted: a new one on the same port.
        self._controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class ContactDirectory:
    """intake's ``GET /internal/v1/complaints/{number}/contact``, with what the platform knows."""

    def __init__(self) -> None:
        self.contacts: dict[str, dict[str, Any]] = {}
        self.authorizations: list[str | None] = []

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/v1/complaints/{number}/contact")
        async def contact(number: str, authorization: Annotated[str | None, Header()] = None) -> Any:
            self.authorizations.append(authorization)
            if authorization != INTERNAL["Authorization"]:
                return Response(status_code=401)
            if number not in self.contacts:
                return Response(status_code=404)
            return self.contacts[number]

        return app


# --- the platform ---------------------------------------------------------------------------------


class Platform:
    def __init__(
        self,
        settings: Settings,
        app: FastAPI,
        client: httpx.AsyncClient,
        tap: EventTap,
        smtp: SmtpServer,
        directory: ContactDirectory,
    ) -> None:
        self.settings = settings
        self.app = app
        self.client = client
        self.tap = tap
        self.smtp = smtp
        self.directory = directory

    async def publish(self, data: EventData) -> CloudEvent:
        return await self.tap.publish(CloudEvent.wrap(data, source="/services/test", subject=data.number))

    async def applied(self, *events: CloudEvent) -> None:
        """Wait until the service has applied every event (its inbox holds their ids)."""
        lifecycle = self.app.state.lifecycle

        async def all_seen() -> bool:
            return all([await lifecycle.applied(event) for event in events])

        await wait_for(all_seen, message="events were not applied")

    async def dispatches(self, number: str, channel: str) -> list[dict]:
        return [d for d in await self.app.state.dispatches.of_number(number) if d["channel"] == channel]

    async def dispatch_in(self, number: str, channel: str, status: str, timeout: float = 10.0) -> dict:
        async def reached():
            found = await self.dispatches(number, channel)
            return found[0] if found and found[0]["status"] == status else None

        return await wait_for(reached, timeout, f"{channel} dispatch of {number} never became {status}")

    async def delivery_in(self, webhook_id: str, status: str) -> dict:
        async def reached():
            response = await self.client.get(f"/v1/deliveries/{webhook_id}", headers=OPERATOR)
            return response.json() if response.status_code == 200 and response.json()["status"] == status else None

        return await wait_for(reached, message=f"delivery {webhook_id} never became {status}")

    async def company_with_receiver(self, stack: contextlib.AsyncExitStack) -> tuple[str, WebhookReceiver]:
        company = unique("co")
        secret = generate_secret()
        receiver = WebhookReceiver(secret)
        base_url = await stack.enter_async_context(serve(receiver.app()))
        response = await self.client.put(
            f"/v1/companies/{company}/webhook-endpoint",
            headers=ADMIN,
            json={"url": f"{base_url}/webhooks/{company}", "secret": secret},
        )
        assert response.status_code == 201, response.text
        return company, receiver


@pytest.fixture(scope="module")
async def platform(mongo_url, broker_namespace, run_id):
    smtp = SmtpServer()
    smtp.start()
    directory = ContactDirectory()
    async with serve(directory.app()) as intake_url:
        settings = Settings(
            service_name="notification-lifecycle",
            mongo_url=mongo_url,
            mongo_db=f"t{run_id}_notification_lifecycle",
            **broker_namespace.settings_for("notification-lifecycle"),
            operator_token="test-operator-token",
            admin_token="test-admin-token",
            internal_token="test-internal-token",
            intake_url=intake_url,
            intake_timeout_s=2,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_from="投诉平台 <noreply@greenchannel.test>",
            smtp_timeout_s=2,
            dispatch_retry_schedule_s=DISPATCH_SCHEDULE,
            dispatch_poll_interval_s=0.2,
            dispatch_lease_s=6,
            outbox_poll_interval_s=0.1,
            consumer_retry_delay_ms=200,
            delivery_poll_interval_s=0.2,
            webhook_timeout_s=2,
            delivery_lease_s=5,
            log_json=False,
            webhook_allow_private_targets=True,
            greenchannel_env="development",
            webhook_retry_schedule_s=WEBHOOK_SCHEDULE,
        )
        app = create_app(settings)
        try:
            async with (
                event_tap(settings.amqp_url, settings.event_exchange, ["webhook.*"]) as tap,
                serve(app) as base_url,
                httpx.AsyncClient(base_url=base_url) as client,
            ):
                await tap.wait_for_consumer(queue_names(settings)[0])
                yield Platform(settings, app, client, tap, smtp, directory)
        finally:
            smtp.stop()


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


def accepted(number: str, company_id: str, company_name: str = "示例科技", **extra) -> ComplaintAccepted:
    return ComplaintAccepted(
        number=number,
        company_id=company_id,
        company_name=company_name,
        category="refund",
        title="会员自动续费未退款",
        description="取消自动续费后仍被扣款。",
        occurred_on=date(2026, 3, 2),
        desired_outcome="退款",
        complainant=ComplainantContact(name="张*", phone="138****5678"),
        accepted_at=now(),
        **extra,
    )


# --- company webhooks -----------------------------------------------------------------------------


async def test_lifecycle_events_reach_the_company_as_signed_webhooks_retried_with_one_id(platform):
    async with contextlib.AsyncExitStack() as stack:
        company, receiver = await platform.company_with_receiver(stack)
        number = unique("GC")
        due = date(2026, 3, 20)
        receiver.respond_with = 500
        expected = {
            "complaint.reforwarded": await platform.publish(
                ComplaintForwarded(
                    number=number,
                    company_id=company,
                    forwarded_at=now(),
                    round=2,
                    note="调解后重新转交",
                    deadline_working_days=5,
                )
            ),
            "complaint.supplemented": await platform.publish(
                ComplaintSupplemented(number=number, company_id=company, text="订单号 A123", supplemented_at=now())
            ),
            "complaint.appealed": await platform.publish(
                ComplaintAppealed(number=number, company_id=company, reason="答复未解决问题", appealed_at=now())
            ),
            "complaint.withdrawn": await platform.publish(
                ComplaintWithdrawn(number=number, company_id=company, withdrawn_at=now())
            ),
            "complaint.deadline_reminder": await platform.publish(
                SlaReminder(
                    number=number, company_id=company, kind="response", due=due, working_days_left=2, reminded_at=now()
                )
            ),
            "complaint.overdue": await platform.publish(
                SlaOverdue(number=number, company_id=company, kind="response", due=due, overdue_at=now())
            ),
        }
        silent = [
            await platform.publish(ComplaintForwarded(number=number, company_id=company, forwarded_at=now())),
            await platform.publish(
                SlaReminder(
                    number=number, company_id=company, kind="appeal", due=due, working_days_left=1, reminded_at=now()
                )
            ),
            await platform.publish(
                SlaOverdue(number=number, company_id=company, kind="appeal", due=due, overdue_at=now())
            ),
            await platform.publish(ComplaintWithdrawn(number=unique("GC"), withdrawn_at=now())),
        ]
        ids = {webhook_type: webhook_id_of(event) for webhook_type, event in expected.items()}

        async def each_failed_once():
            return {got.webhook_id for got in receiver.received} == set(ids.values())

        await wait_for(each_failed_once)
        receiver.respond_with = 204
        for webhook_type, event in expected.items():
            delivery = await platform.delivery_in(ids[webhook_type], "delivered")
            codes = [attempt["status_code"] for attempt in delivery["attempts"]]
            assert codes[0] == 500 and codes[-1] == 204, codes
            got = [d for d in receiver.received if d.webhook_id == ids[webhook_type]]
            assert len(got) == len(codes) >= 2  # retried with the same webhook-id
            body = got[-1].body
            assert got[-1].verified
            assert body["type"] == webhook_type
            assert body["data"] == event.data and body["timestamp"] == event.time.isoformat()
            delivered = await platform.tap.wait_for(
                "webhook.delivered", where=lambda e, webhook_id=ids[webhook_type]: e.data["webhook_id"] == webhook_id
            )
            assert delivered.event.data["event_type"] == webhook_type
            assert delivered.event.data["company_id"] == company

        await platform.applied(*silent)
        assert {got.body["type"] for got in receiver.received} == set(expected)
        listed = (await platform.client.get("/v1/deliveries", params={"number": number}, headers=OPERATOR)).json()
        assert sorted(item["event_type"] for item in listed["items"]) == sorted(expected)


async def test_a_redirect_tells_the_old_company_and_the_new_one_gets_the_complaint(platform):
    async with contextlib.AsyncExitStack() as stack:
        old_company, old_receiver = await platform.company_with_receiver(stack)
        new_company, new_receiver = await platform.company_with_receiver(stack)
        number = unique("GC")
        redirected = await platform.publish(
            ComplaintRedirected(
                number=number,
                from_company_id=old_company,
                to_company_id=new_company,
                note="应为关联公司",
                redirected_at=now(),
            )
        )
        reaccepted = await platform.publish(accepted(number, new_company, "新企业", redirected_from=old_company))

        await platform.delivery_in(webhook_id_of(redirected), "delivered")
        await platform.delivery_in(webhook_id_of(reaccepted), "delivered")
        assert [(got.body["type"], got.body["data"]["to_company_id"]) for got in old_receiver.received] == [
            ("complaint.redirected", new_company)
        ]
        assert [got.body["type"] for got in new_receiver.received] == ["complaint.forwarded"]
        assert new_receiver.received[0].body["data"]["redirected_from"] == old_company


# --- complainant messages -------------------------------------------------------------------------


async def test_a_response_reaches_the_inbox_the_mailbox_and_the_sms_log(platform, caplog):
    number = unique("GC")
    company = unique("co")
    platform.directory.contacts[number] = {"email": EMAIL, "phone": PHONE}
    first = await platform.publish(accepted(number, company, "示例科技"))
    await platform.applied(first)
    responded = await platform.publish(
        ComplaintResponded(
            number=number,
            company_id=company,
            response_type="monetary_relief",
            text="已退款 30 元至尾号 1234 的银行卡",
            timely=True,
            responded_at=now(),
        )
    )
    await platform.applied(responded)

    # The inbox, newest first.
    page = (await platform.client.get("/v1/messages", params={"number": number}, headers=INTERNAL)).json()
    assert [item["kind"] for item in page["items"]] == ["complaint.responded", "complaint.accepted"]
    assert page["next_cursor"] is None
    message = page["items"][0]
    assert message["number"] == number and message["read_at"] is None
    assert message["title_zh"] == "企业已答复您的投诉" and message["title_en"] == "The company has responded"
    assert "示例科技" in message["body_zh"] and "给予经济补偿" in message["body_zh"]
    assert "monetary relief" in message["body_en"]
    assert "1234" not in message["body_zh"]  # the company's answer itself stays in the case file

    # The e-mail, as the SMTP server received it: to the address intake gave, Chinese then English.
    email_dispatch = await platform.dispatch_in(number, "email", "sent")
    assert email_dispatch["message_id"] in {item["id"] for item in page["items"]}

    async def both_mails():
        return len(platform.smtp.collector.about(number)) == 2 or None

    await wait_for(both_mails)
    mails = {str(mail["Subject"]): (to, mail) for to, mail in platform.smtp.collector.about(number)}
    to, mail = mails["企业已答复您的投诉 | The company has responded"]
    assert to == [EMAIL] and mail["To"] == EMAIL
    assert "noreply@greenchannel.test" in mail["From"]
    text = mail.get_content()
    assert message["body_zh"] in text and message["body_en"] in text
    assert text.index(message["body_zh"]) < text.index(message["body_en"])
    assert EMAIL not in str(email_dispatch)  # the address is never stored

    # The SMS, recorded by the default provider with the phone masked.
    sms = await platform.dispatch_in(number, "sms", "sent")
    logged = await platform.app.state.runtime.db["sms_log"].find_one({"_id": sms["provider_ref"]})
    assert logged["phone_masked"] == "139****5678"
    assert logged["text"].startswith(message["body_zh"]) and message["body_en"] in logged["text"]
    assert await platform.dispatches(number, "sms") == [sms]  # acceptance makes no SMS

    assert set(platform.directory.authorizations) == {INTERNAL["Authorization"]}
    ours = "\n".join(record.getMessage() for record in caplog.records if record.name != "mail.log")
    assert "dispatch" in ours and EMAIL not in ours and PHONE not in ours  # the SMTP stand-in may log it, we never

    # Reading: marked once, the first reading time stays; another complainant's number does not reach it, and
    # without the caller's numbers nothing is marked.
    unowned = await platform.client.post(f"/v1/messages/{message['id']}/read", headers=INTERNAL)
    assert unowned.status_code == 422 and unowned.headers["content-type"].startswith("application/problem+json")
    listed = await platform.client.get("/v1/messages", params={"number": number}, headers=INTERNAL)
    assert listed.json()["unread"] == len(listed.json()["items"]) >= 1
    read = await platform.client.post(f"/v1/messages/{message['id']}/read", params={"number": number}, headers=INTERNAL)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    relisted = await platform.client.get("/v1/messages", params={"number": number}, headers=INTERNAL)
    assert relisted.json()["unread"] == listed.json()["unread"] - 1
    # Read on two devices at once: every answer holds the one first reading time.
    [other, *_] = [item for item in listed.json()["items"] if item["id"] != message["id"]]
    at_once = await asyncio.gather(
        *(
            platform.client.post(f"/v1/messages/{other['id']}/read", params={"number": number}, headers=INTERNAL)
            for _ in range(5)
        )
    )
    assert {answer.status_code for answer in at_once} == {200}
    assert len({answer.json()["read_at"] for answer in at_once}) == 1
    again = await platform.client.post(
        f"/v1/messages/{message['id']}/read", params={"number": number}, headers=INTERNAL
    )
    assert again.json()["read_at"] == read.json()["read_at"]
    foreign = await platform.client.post(
        f"/v1/messages/{message['id']}/read", params={"number": "GC-other"}, headers=INTERNAL
    )
    assert foreign.status_code == 404 and foreign.json()["code"] == "message_not_found"
    missing = await platform.client.post("/v1/messages/nothing/read", params={"number": number}, headers=INTERNAL)
    assert missing.status_code == 404


async def test_copies_of_one_event_handled_at_once_make_one_webhook_one_message_and_one_dispatch_per_channel(platform):
    """No inbox record guards these events: the documents keyed by the event do, also against copies that race."""
    number = unique("GC")
    async with contextlib.AsyncExitStack() as stack:
        company, _ = await platform.company_with_receiver(stack)
        platform.directory.contacts[number] = {"email": EMAIL, "phone": PHONE}
        lifecycle = platform.app.state.lifecycle
        first_data = accepted(number, company)
        responded_data = ComplaintResponded(
            number=number, company_id=company, response_type="explained", text="已说明", timely=True, responded_at=now()
        )
        for data in (first_data, responded_data):
            event = CloudEvent.wrap(data, source="/services/test", subject=number)
            await asyncio.gather(*(lifecycle(event, data) for _ in range(5)))
            assert await lifecycle.applied(event)
        await platform.dispatch_in(number, "sms", "sent")
        messages = (await platform.client.get("/v1/messages", params={"number": number}, headers=INTERNAL)).json()
        assert [item["kind"] for item in messages["items"]] == ["complaint.responded", "complaint.accepted"]
        dispatches = await platform.app.state.dispatches.of_number(number)
        assert sorted(d["channel"] for d in dispatches) == ["email", "email", "sms"]
        deliveries = await platform.client.get("/v1/deliveries", params={"number": number}, headers=OPERATOR)
        assert [item["event_type"] for item in deliveries.json()["items"]] == ["complaint.forwarded"]
        db = platform.app.state.runtime.db
        assert await db.inbox.count_documents({"subject": number}) == 0
        # A copy arriving after a handler died half-way (its message and e-mail never written) writes what is
        # missing and leaves the rest as it is.
        half_way_data = accepted(number, company)
        half_way = CloudEvent.wrap(half_way_data, source="/services/test", subject=number)
        await lifecycle(half_way, half_way_data)
        await db.messages.delete_many({"event_id": half_way.id})
        await db.dispatches.delete_many({"number": number, "status": "pending"})
        delivery_before = await db.deliveries.find_one({"event_id": half_way.id})
        await lifecycle(half_way, half_way_data)
        assert await db.messages.count_documents({"event_id": half_way.id}) == 1
        assert await db.deliveries.count_documents({"event_id": half_way.id}) == 1
        assert (await db.deliveries.find_one({"event_id": half_way.id}))["created_at"] == delivery_before["created_at"]


async def test_messages_page_newest_first_across_several_numbers(platform):
    numbers = [unique("GC"), unique("GC")]
    events = []
    for number in numbers:
        events.append(
            await platform.publish(ComplaintRejected(number=number, reason="company_unknown", rejected_at=now()))
        )
        await platform.applied(events[-1])
    events.append(await platform.publish(ComplaintWithdrawn(number=numbers[0], withdrawn_at=now())))
    await platform.applied(events[-1])

    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"number": numbers, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await platform.client.get("/v1/messages", params=params, headers=INTERNAL)).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [(item["number"], item["kind"]) for item in seen] == [
        (numbers[0], "complaint.withdrawn"),
        (numbers[1], "complaint.rejected"),
        (numbers[0], "complaint.rejected"),
    ]
    assert [item["created_at"] for item in seen] == sorted((item["created_at"] for item in seen), reverse=True)
    assert "无法确定被投诉企业" in seen[-1]["body_zh"]

    bad_cursor = await platform.client.get(
        "/v1/messages", params={"number": numbers, "cursor": "nonsense"}, headers=INTERNAL
    )
    assert bad_cursor.status_code == 422 and bad_cursor.json()["code"] == "invalid_cursor"
    no_number = await platform.client.get("/v1/messages", headers=INTERNAL)
    assert no_number.status_code == 422 and no_number.json()["code"] == "validation_failed"


async def test_no_email_address_and_no_contact_end_the_email_without_sending(platform):
    without_email, unknown = unique("GC"), unique("GC")
    platform.directory.contacts[without_email] = {"email": None, "phone": PHONE}
    for number in (without_email, unknown):
        await platform.publish(ComplaintRejected(number=number, reason="out_of_scope", rejected_at=now()))
    no_address = await platform.dispatch_in(without_email, "email", "no_address")
    no_contact = await platform.dispatch_in(unknown, "email", "no_contact")
    assert len(no_address["attempts"]) == 1 and len(no_contact["attempts"]) == 1
    assert platform.smtp.collector.about(without_email) == [] and platform.smtp.collector.about(unknown) == []


async def test_an_email_waits_for_the_smtp_server_and_is_sent_once(platform):
    number = unique("GC")
    platform.directory.contacts[number] = {"email": EMAIL, "phone": PHONE}
    platform.smtp.stop()
    try:
        await platform.publish(ComplaintWithdrawn(number=number, withdrawn_at=now()))

        async def failed_once():
            found = await platform.dispatches(number, "email")
            return found and found[0]["status"] == "pending" and found[0]["attempts"]

        attempts = await wait_for(failed_once)
        assert attempts[0]["error"].startswith("smtp:") and EMAIL not in attempts[0]["error"]
    finally:
        platform.smtp.start()
    sent = await platform.dispatch_in(number, "email", "sent")
    assert sent["attempts"][-1]["error"] is None and len(sent["attempts"]) >= 2
    await asyncio.sleep(0.6)
    mails = platform.smtp.collector.about(number)
    assert len(mails) == 1 and str(mails[0][1]["Subject"]) == "投诉已撤回 | Complaint withdrawn"


async def test_internal_endpoints_need_the_internal_token(platform):
    for headers in ({}, {"Authorization": "Bearer wrong"}, OPERATOR, {"Authorization": "test-internal-token"}):
        listing = await platform.client.get("/v1/messages", params={"number": "GC-1"}, headers=headers)
        reading = await platform.client.post("/v1/messages/abc/read", headers=headers)
        for response in (listing, reading):
            assert response.status_code == 401, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
    assert (await platform.client.get("/v1/messages", params={"number": "GC-1"}, headers=INTERNAL)).status_code == 200
