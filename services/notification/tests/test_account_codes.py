"""``account.code_issued`` against the real things: the service on a real port, RabbitMQ, SecantusDB and a real
SMTP server (aiosmtpd). The events are sealed here as intake seals them, with the development key ring."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from devstack.accounts import code_in, mails_to, next_mail
from devstack.eventtap import event_tap
from devstack.platform import smtp_server
from devstack.servers import serve
from devstack.waiting import until
from greenchannel.contracts import (
    DEV_CODE_TRANSPORT_KEYS,
    AccountCodeIssued,
    CloudEvent,
    CodeNotice,
    code_notice_field,
)
from greenchannel.messaging import queue_names
from greenchannel.sealing import KeyRingCipher
from notification.config import Settings
from notification.main import create_app

pytestmark = pytest.mark.integration

TRANSPORT = KeyRingCipher.from_settings(DEV_CODE_TRANSPORT_KEYS, "dev-1")
STRANGER = KeyRingCipher({"dev-1": b"k" * 32}, "dev-1")  # a key notification does not hold


@pytest.fixture(scope="module")
async def service(mongo_url, broker_namespace, run_id):
    with smtp_server() as (mailbox, smtp_port):
        settings = Settings(
            service_name="notification-codes",
            mongo_url=mongo_url,
            mongo_db=f"t{run_id}_notification_codes",
            **broker_namespace.settings_for("notification-codes"),
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            dispatch_poll_interval_s=0.2,
            outbox_poll_interval_s=0.1,
            log_json=False,
        )
        app = create_app(settings)
        async with event_tap(settings.amqp_url, settings.event_exchange, []) as tap, serve(app):
            await tap.wait_for_consumer(queue_names(settings)[0])
            app.tap, app.mailbox = tap, mailbox
            yield app


async def issue(
    service,
    login: str,
    *,
    code: str | None = "482913",
    notice: str = "code",
    expires_in_s: float = 600,
    cipher: KeyRingCipher = TRANSPORT,
) -> str:
    issue_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    sealed = cipher.encrypt(
        code_notice_field(issue_id), CodeNotice(destination=login, notice=notice, code=code).model_dump_json()
    )
    data = AccountCodeIssued(
        issue_id=issue_id,
        purpose="registration",
        channel="email",
        sealed=sealed,
        expires_at=now + timedelta(seconds=expires_in_s),
        issued_at=now,
    )
    await service.tap.publish(CloudEvent.wrap(data, source="/services/test", subject=issue_id))
    return issue_id


async def dispatch_of(service, issue_id: str, status: str) -> dict:
    dispatches = service.state.dispatches.collection

    async def ended() -> dict | None:
        return await dispatches.find_one({"issue_id": issue_id, "status": status})

    return await until(ended, timeout=30, what=f"the dispatch of {issue_id} to become {status}")


async def test_the_code_is_mailed_and_its_sealed_notice_forgotten(service):
    login = f"{uuid.uuid4().hex[:8]}@example.cn"
    issue_id = await issue(service, login)
    mail = await next_mail(service.mailbox, login, 0)
    assert code_in(mail) == "482913" and "10 分钟内有效" in mail.get_content()
    sent = await dispatch_of(service, issue_id, "sent")
    assert "sealed" not in sent and login not in str(sent) and "482913" not in str(sent)


async def test_an_expired_code_or_a_notice_sealed_with_another_key_is_not_sent(service):
    expired, forged = f"{uuid.uuid4().hex[:8]}@example.cn", f"{uuid.uuid4().hex[:8]}@example.cn"
    late = await issue(service, expired, expires_in_s=-1)
    foreign = await issue(service, forged, cipher=STRANGER)
    await dispatch_of(service, late, "expired")
    failed = await dispatch_of(service, foreign, "failed")
    assert len(failed["attempts"]) == 1 and "does not open" in failed["last_error"]
    witness = f"{uuid.uuid4().hex[:8]}@example.cn"  # sent after them: when it arrives, theirs would have too
    await issue(service, witness)
    await next_mail(service.mailbox, witness, 0)
    assert mails_to(service.mailbox, expired) == mails_to(service.mailbox, forged) == []
