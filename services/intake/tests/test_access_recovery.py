"""A lost access code recovered with a one-time code sent to the filing phone, against the real things:
intake and notification on real ports, RabbitMQ between them, SecantusDB, and notification's SMS stand-in
(which records each SMS with the code blanked out). The code is read where only notification can read it:
unsealed from ``account.code_issued`` with the development transport key, as notification's sender does."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from devstack.eventtap import event_tap
from devstack.servers import serve
from devstack.standins import free_port
from devstack.waiting import until
from greenchannel.contracts import DEV_CODE_TRANSPORT_KEYS, CodeNotice, code_notice_field
from greenchannel.sealing import KeyRingCipher
from intake.config import Settings as IntakeSettings
from intake.domain.identity import id_check_character
from intake.main import create_app as intake_app
from notification.config import Settings as NotificationSettings
from notification.main import create_app as notification_app

pytestmark = pytest.mark.integration

MAX_ATTEMPTS = 3
FREE_FAILURES = 4


def form(phone: str) -> dict:
    first17 = f"11010519850315{uuid.uuid4().int % 1000:03d}"  # born 1985-03-15, a sequence of its own
    return {
        "complainant": {"name": "钱九", "id_number": first17 + id_check_character(first17), "phone": phone},
        "company": {"name": "迅联"},
        "category": "refund",
        "title": "退款被拒绝",
        "description": "七天无理由退款期内申请退款，客服拒绝。",
        "occurred_on": "2026-11-01",
        "desired_outcome": "全额退款",
    }


@pytest.fixture(scope="module")
async def stack(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("access-recovery")
    common = {
        "mongo_url": mongo_url,
        "outbox_poll_interval_s": 0.1,
        "internal_token": "test-internal-token",
        "operator_token": "test-operator-token",
        **namespace.broker_settings(),
    }
    intake_port = free_port()
    notification = notification_app(
        NotificationSettings(
            **common,
            mongo_db=f"t{run_id}_recovery_notification",
            intake_url=f"http://127.0.0.1:{intake_port}",
            dispatch_poll_interval_s=0.2,
        )
    )
    intake = intake_app(
        IntakeSettings(
            **common,
            mongo_db=f"t{run_id}_recovery_intake",
            evidence_url="http://127.0.0.1:9",
            routing_url="http://127.0.0.1:9",
            trusted_proxies=["127.0.0.1/32"],
            account_code_max_attempts=MAX_ATTEMPTS,
            guess_free_failures_per_pair=FREE_FAILURES,
        )
    )
    async with (
        event_tap(namespace.amqp_url, namespace.exchange, ["account.code_issued"]) as tap,
        serve(notification),
        serve(intake, port=intake_port) as intake_url,
        httpx.AsyncClient(base_url=intake_url, timeout=30) as client,
    ):
        client.tap, client.sms_log = tap, notification.state.runtime.db["sms_log"]
        yield client


def source() -> dict[str, str]:
    """A client address of the test's own, so the per-address limits of one test leave the others alone."""
    return {"X-Forwarded-For": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}


def new_phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


async def file(stack, phone: str) -> tuple[str, str]:
    filed = await stack.post("/v1/complaints", json=form(phone), headers=source())
    assert filed.status_code == 201, filed.text
    return filed.json()["number"], filed.json()["access_code"]


def sms_to(phone: str) -> dict:
    return {"phone_masked": "+86" + "*" * 7 + phone[-4:]}


def notices(stack) -> list[CodeNotice]:
    """The sealed notices of every access_recovery code issued so far, opened as notification opens them."""
    cipher = KeyRingCipher.from_settings(DEV_CODE_TRANSPORT_KEYS, "dev-1")
    return [
        CodeNotice.model_validate_json(cipher.decrypt(code_notice_field(data["issue_id"]), data["sealed"]))
        for data in (tapped.event.data for tapped in stack.tap.events("account.code_issued"))
        if data["purpose"] == "access_recovery"
    ]


async def code_sent(stack, phone: str, number: str) -> str:
    """The code of the SMS that reached ``phone`` (the stand-in logs it blanked; the sealed event has it)."""
    logged = await until(lambda: stack.sms_log.find_one(sms_to(phone)), what="the SMS")
    assert "找回查询码验证码是 ******" in logged["text"] and "access code recovery" in logged["text"]
    sent = [notice.code for notice in notices(stack) if notice.destination == "+86" + phone]
    assert sent, f"no access_recovery code for {number} was issued"
    return sent[-1]


def recovery(number: str) -> str:
    return f"/v1/complaints/{number}/access-code/recovery"


async def test_the_code_sent_to_the_filing_phone_gives_a_new_access_code_and_the_old_one_stops_working(stack):
    phone = new_phone()
    number, old_code = await file(stack, phone)
    asked = await stack.post(recovery(number), json={"phone": phone}, headers=source())
    assert asked.status_code == 202 and asked.json() == {"channel": "sms", "expires_in": 600}
    code = await code_sent(stack, phone, number)

    confirmed = await stack.post(f"{recovery(number)}/confirm", json={"phone": phone, "code": code}, headers=source())
    assert confirmed.status_code == 200, confirmed.text
    new_code = confirmed.json()["access_code"]
    assert confirmed.json()["number"] == number and new_code != old_code
    case = await stack.get(f"/v1/complaints/{number}", headers={"X-Access-Code": new_code})
    assert case.status_code == 200
    assert case.json()["timeline"][-1]["action"] == "access_code_reissued"  # the complainant sees it happened
    assert (await stack.get(f"/v1/complaints/{number}", headers={"X-Access-Code": old_code})).status_code == 404
    # The code worked once.
    again = await stack.post(f"{recovery(number)}/confirm", json={"phone": phone, "code": code}, headers=source())
    assert again.status_code == 400 and again.json()["code"] == "code_invalid"


async def test_a_wrong_phone_gets_the_same_answer_and_no_sms(stack):
    phone, stranger = new_phone(), new_phone()
    number, _ = await file(stack, phone)
    right = await stack.post(recovery(number), json={"phone": phone}, headers=source())
    wrong = await stack.post(recovery(number), json={"phone": stranger}, headers=source())
    nowhere = await stack.post(recovery("GC-20260101-999999"), json={"phone": phone}, headers=source())

    def shown(answer: httpx.Response) -> tuple:
        return answer.status_code, answer.json(), {k: v for k, v in answer.headers.items() if k != "date"}

    assert shown(right) == shown(wrong) == shown(nowhere)
    await until(lambda: stack.sms_log.find_one(sms_to(phone)), what="the SMS to the filing phone")
    await asyncio.sleep(1.0)  # the relay and the dispatcher had their time: nothing went to the stranger
    assert await stack.sms_log.count_documents(sms_to(stranger)) == 0
    assert "+86" + stranger not in [notice.destination for notice in notices(stack)]
    # The stranger's request voided nothing: the complainant's code still works.
    code = await code_sent(stack, phone, number)
    assert (
        await stack.post(f"{recovery(number)}/confirm", json={"phone": phone, "code": code}, headers=source())
    ).status_code == 200


async def test_guessing_the_one_time_code_is_limited(stack):
    phone = new_phone()
    number, _ = await file(stack, phone)
    assert (await stack.post(recovery(number), json={"phone": phone}, headers=source())).status_code == 202
    code = await code_sent(stack, phone, number)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    address = source()
    # Concurrent wrong guesses: each is counted before it is compared, so no more than MAX_ATTEMPTS are tried.
    answers = await asyncio.gather(
        *(
            stack.post(f"{recovery(number)}/confirm", json={"phone": phone, "code": wrong}, headers=address)
            for _ in range(MAX_ATTEMPTS + 1)
        )
    )
    assert all(answer.status_code in (400, 429) for answer in answers)
    # The code is void now: even the right one fails, so a guesser never gets past MAX_ATTEMPTS tries.
    late = await stack.post(f"{recovery(number)}/confirm", json={"phone": phone, "code": code}, headers=source())
    assert late.status_code == 400 and late.json()["code"] == "code_invalid"
    # And guessing from one address slows down like wrong access codes do (GuessGuard): 429 with a wait.
    throttled = [
        await stack.post(f"{recovery(number)}/confirm", json={"phone": phone, "code": "000000"}, headers=address)
        for _ in range(FREE_FAILURES)
    ]
    assert throttled[-1].status_code == 429 and int(throttled[-1].headers["Retry-After"]) >= 1
    assert throttled[-1].headers["content-type"].startswith("application/problem+json")


async def test_asking_is_rate_limited_per_complaint(stack):
    phone = new_phone()
    number, _ = await file(stack, phone)
    answers = [await stack.post(recovery(number), json={"phone": phone}, headers=source()) for _ in range(6)]
    assert [answer.status_code for answer in answers] == [202] * 5 + [429]
    bad = await stack.post(recovery(number), json={"phone": "12345"}, headers=source())
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
