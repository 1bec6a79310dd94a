"""Complainant accounts proven by a one-time code, against the real things: intake and notification on real
ports, RabbitMQ between them, SecantusDB, and a real SMTP server (aiosmtpd) the codes are read from."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devstack.accounts import CODE, code_in, mails_to, next_mail, register, request_code
from devstack.platform import smtp_server
from devstack.servers import serve
from devstack.standins import free_port
from devstack.waiting import until
from intake.config import Settings as IntakeSettings
from intake.main import create_app as intake_app
from notification.config import Settings as NotificationSettings
from notification.main import create_app as notification_app

pytestmark = pytest.mark.integration

REGISTER = "/v1/accounts/registrations"
RESET = "/v1/accounts/password-resets"
PASSWORD = "a-long-password-1"
PER_LOGIN = 12
PER_IP = 16


@pytest.fixture(scope="module")
async def stack(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("intake-accounts")
    common = {
        "mongo_url": mongo_url,
        "outbox_poll_interval_s": 0.1,
        "internal_token": "test-internal-token",
        "operator_token": "test-operator-token",
        **namespace.broker_settings(),
    }
    intake_port = free_port()
    with smtp_server() as (mailbox, smtp_port):
        notification = notification_app(
            NotificationSettings(
                **common,
                mongo_db=f"t{run_id}_accounts_notification",
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                intake_url=f"http://127.0.0.1:{intake_port}",
                dispatch_poll_interval_s=0.2,
            )
        )
        intake = intake_app(
            IntakeSettings(
                **common,
                mongo_db=f"t{run_id}_accounts_intake",
                evidence_url="http://127.0.0.1:9",
                trusted_proxies=["127.0.0.1/32"],
                account_codes_per_login_per_hour=PER_LOGIN,
                account_codes_per_ip_per_hour=PER_IP,
                sign_in_by_code=True,
            )
        )
        async with (
            serve(notification) as notification_url,
            serve(intake, port=intake_port) as intake_url,
            httpx.AsyncClient(base_url=intake_url, timeout=30) as client,
        ):
            client.app, client.notification_app, client.mailbox = intake, notification, mailbox
            client.notification_url = notification_url
            yield client


def new_login() -> str:
    return f"u{uuid.uuid4().hex[:10]}@example.cn"


def source() -> dict[str, str]:
    """A client address of the test's own, so the per-address limits of one test leave the others alone."""
    return {"X-Forwarded-For": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}


async def confirm(stack, login: str, code: str, password: str = PASSWORD, headers=None) -> httpx.Response:
    return await stack.post(
        f"{REGISTER}/confirm", json={"login": login, "code": code, "password": password}, headers=headers or source()
    )


def bearer(answer: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer['access_token']}"}


async def test_register_with_the_code_from_the_mail(stack):
    login = new_login()
    account = await register(stack, stack.mailbox, login, PASSWORD, name="王五", headers=source())
    assert set(account) >= {"account_id", "access_token", "expires_in"}
    assert (await stack.get("/v1/me/complaints", headers=bearer(account))).status_code == 200
    signed_in = await stack.post("/v1/auth/token", json={"login": login.upper(), "password": PASSWORD})
    assert signed_in.status_code == 200
    mail = mails_to(stack.mailbox, login)[-1]
    assert mail["Subject"].startswith("互联网信息服务投诉平台") and "registration code" in mail["Subject"]

    # The code is nowhere in clear: not in intake's store or outbox, not in notification's dispatch.
    code = code_in(mail)
    intake_db = stack.app.state.runtime.db
    kept = [str(document) for name in ("account_codes", "outbox") async for document in intake_db[name].find()]
    notification_db = stack.notification_app.state.runtime.db
    kept += [str(document) async for document in notification_db["dispatches"].find()]
    kept += [str(document) async for document in notification_db["inbox"].find()]
    assert not any(code in text or login in text for text in kept)
    sent = await notification_db["dispatches"].find_one({"status": "sent", "channel": "email"})
    assert sent is not None and "sealed" not in sent


async def test_the_answer_is_the_same_whether_or_not_the_login_has_an_account(stack):
    taken = new_login()
    await register(stack, stack.mailbox, taken, PASSWORD, headers=source())
    fresh = new_login()
    timings: dict[str, list[float]] = {taken: [], fresh: []}
    answers, mails = {}, {}
    for _ in range(PER_LOGIN - 2):  # one code went to the registration, one is left for the reset below
        for login in (taken, fresh):
            seen = len(mails_to(stack.mailbox, login))
            started = time.perf_counter()
            response = await stack.post(REGISTER, json={"login": login}, headers=source())
            timings[login].append(time.perf_counter() - started)
            answers[login] = (
                response.status_code,
                response.json(),
                {key: value for key, value in response.headers.items() if key != "date"},
            )
            # Its mail is out before the next request, so no sending in the background weighs on either.
            mails[login] = await next_mail(stack.mailbox, login, seen)
    assert answers[taken] == answers[fresh]
    assert answers[fresh][0] == 202
    # Only the mail tells: the one with an account is told to reset its password, and gets no code.
    assert code_in(mails[taken]) is None and "忘记密码" in mails[taken].get_content()
    assert code_in(mails[fresh]) is not None
    ratio = statistics.median(timings[taken]) / statistics.median(timings[fresh])
    print(
        f"registration request, median answer time with an account / without: {ratio:.2f} "
        f"({statistics.median(timings[taken]) * 1000:.0f} ms / {statistics.median(timings[fresh]) * 1000:.0f} ms)"
    )
    assert 1 / 3 < ratio < 3  # the same work in both branches; generous for a shared machine

    # A reset of a login without an account answers like one with an account.
    reset_unknown = await stack.post(RESET, json={"login": new_login()}, headers=source())
    reset_known = await stack.post(RESET, json={"login": taken}, headers=source())
    assert (
        (reset_unknown.status_code, reset_unknown.json())
        == (reset_known.status_code, reset_known.json())
        == (202, {"channel": "email", "expires_in": 600})
    )


async def test_a_code_is_single_use_and_bound_to_its_login(stack):
    login, other = new_login(), new_login()
    code = await request_code(stack, stack.mailbox, REGISTER, login, source())
    await request_code(stack, stack.mailbox, REGISTER, other, source())
    refused = await confirm(stack, other, code)  # someone else's code
    assert refused.status_code == 400 and refused.json()["code"] == "code_invalid"
    assert (await confirm(stack, login, code)).status_code == 201
    again = await confirm(stack, login, code, password="another-password-2")
    assert again.status_code == 400 and again.json()["code"] == "code_invalid"


async def test_wrong_codes_void_the_code_even_when_guessed_at_once(stack):
    login = new_login()
    code = await request_code(stack, stack.mailbox, REGISTER, login, source())
    wrong = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 21)]
    answers = await asyncio.gather(*(confirm(stack, login, guess) for guess in wrong))
    assert {answer.status_code for answer in answers} == {400}
    record = await stack.app.state.runtime.db["account_codes"].find_one(
        {"_id": {"$regex": "^registration:"}, "attempts": {"$gte": 5}}
    )
    assert record is not None and record["attempts"] == 5  # counted before comparing: never past the limit
    assert (await confirm(stack, login, code)).status_code == 400  # the right code comes too late


async def test_concurrent_confirmations_with_the_right_code_make_one_account(stack):
    login = new_login()
    code = await request_code(stack, stack.mailbox, REGISTER, login, source())
    answers = await asyncio.gather(*(confirm(stack, login, code, password=f"password-number-{n}") for n in range(5)))
    assert sorted(answer.status_code for answer in answers) == [201, 400, 400, 400, 400]


async def test_an_expired_code_is_refused(stack):
    login = new_login()
    code = await request_code(stack, stack.mailbox, REGISTER, login, source())
    intake = stack.app.state.intake
    # Ten minutes pass: the record's expiry is moved into the past.
    await stack.app.state.runtime.db["account_codes"].update_one(
        {"_id": f"registration:{intake.blind_index.digest(login)}"},
        {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
    )
    assert (await confirm(stack, login, code)).status_code == 400


async def test_asking_for_codes_is_limited_per_login_and_per_address(stack):
    login, address = new_login(), source()
    answers = [
        (await stack.post(REGISTER, json={"login": login}, headers=source())).status_code for _ in range(PER_LOGIN + 1)
    ]
    assert answers == [202] * PER_LOGIN + [429]
    answers = [
        (await stack.post(REGISTER, json={"login": new_login()}, headers=address)).status_code
        for _ in range(PER_IP + 1)
    ]
    assert answers == [202] * PER_IP + [429]
    limited = await stack.post(RESET, json={"login": new_login()}, headers=address)
    assert limited.status_code == 429 and limited.headers["content-type"] == "application/problem+json"


async def test_a_password_reset_ends_every_session(stack):
    login = new_login()
    account = await register(stack, stack.mailbox, login, PASSWORD, headers=source())
    second = (await stack.post("/v1/auth/token", json={"login": login, "password": PASSWORD})).json()
    code = await request_code(stack, stack.mailbox, RESET, login, source())
    reset = await stack.post(
        f"{RESET}/confirm", json={"login": login, "code": code, "password": "a-new-password-2"}, headers=source()
    )
    assert reset.status_code == 200, reset.text
    for old in (account, second):
        assert (await stack.get("/v1/me/complaints", headers=bearer(old))).status_code == 401
    assert (await stack.get("/v1/me/complaints", headers=bearer(reset.json()))).status_code == 200
    assert (await stack.post("/v1/auth/token", json={"login": login, "password": PASSWORD})).status_code == 401
    fresh = await stack.post("/v1/auth/token", json={"login": login, "password": "a-new-password-2"})
    assert (await stack.get("/v1/me/complaints", headers=bearer(fresh.json()))).status_code == 200
    # The reset code was used up with it.
    again = await stack.post(
        f"{RESET}/confirm", json={"login": login, "code": code, "password": "a-third-password"}, headers=source()
    )
    assert again.status_code == 400


async def test_signing_in_with_a_code_when_it_is_switched_on(stack):
    login = new_login()
    account = await register(stack, stack.mailbox, login, PASSWORD, headers=source())
    code = await request_code(stack, stack.mailbox, "/v1/auth/code", login, source())
    signed_in = await stack.post("/v1/auth/code/token", json={"login": login, "code": code}, headers=source())
    assert signed_in.status_code == 200 and signed_in.json()["account_id"] == account["account_id"]
    assert (await stack.get("/v1/me/complaints", headers=bearer(signed_in.json()))).status_code == 200
    used = await stack.post("/v1/auth/code/token", json={"login": login, "code": code}, headers=source())
    assert used.status_code == 400
    # A login without an account is told so by mail, and the answer is the same as for one with an account.
    stranger = new_login()
    seen = len(mails_to(stack.mailbox, stranger))
    asked = await stack.post("/v1/auth/code", json={"login": stranger}, headers=source())
    assert (asked.status_code, asked.json()) == (202, {"channel": "email", "expires_in": 600})
    assert code_in(await next_mail(stack.mailbox, stranger, seen)) is None

    settings = stack.app.state.intake.settings
    settings.sign_in_by_code = False  # the production default
    try:
        off = await stack.post("/v1/auth/code", json={"login": login}, headers=source())
        assert off.status_code == 404 and off.json()["code"] == "sign_in_by_code_off"
    finally:
        settings.sign_in_by_code = True


async def test_a_reset_for_a_login_without_an_account_sets_nothing(stack):
    login = new_login()
    seen = len(mails_to(stack.mailbox, login))
    assert (await stack.post(RESET, json={"login": login}, headers=source())).status_code == 202
    mail = await next_mail(stack.mailbox, login, seen)
    assert code_in(mail) is None and "no account" in mail.get_content()
    for guess in ("000000", "123456"):
        answer = await stack.post(
            f"{RESET}/confirm", json={"login": login, "code": guess, "password": PASSWORD}, headers=source()
        )
        assert answer.status_code == 400 and answer.json()["code"] == "code_invalid"


async def test_a_mobile_login_gets_its_code_by_sms_and_no_record_keeps_it(stack):
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    answer = await stack.post(REGISTER, json={"login": phone}, headers=source())
    assert answer.status_code == 202 and answer.json()["channel"] == "sms"
    sms_log = stack.notification_app.state.runtime.db["sms_log"]
    logged = await until(lambda: sms_log.find_one({"phone_masked": "+86" + "*" * 7 + phone[-4:]}), what="the SMS")
    # The stand-in provider records what it was given to send, with the code blanked out.
    assert "验证码是 ******" in logged["text"] and CODE.search(logged["text"]) is None


async def test_bad_input_is_a_problem_document(stack):
    for path, body in (
        (REGISTER, {"login": "not-a-login"}),
        (REGISTER, {"login": "a@example.cn", "extra": 1}),
        (f"{REGISTER}/confirm", {"login": "a@example.cn", "code": "123456", "password": "short"}),
        (f"{RESET}/confirm", {"login": "a@example.cn", "code": "x" * 40, "password": PASSWORD}),
    ):
        answer = await stack.post(path, json=body, headers=source())
        assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json", path
    odd = await confirm(stack, new_login(), "12a456")
    assert odd.status_code == 400 and odd.json()["code"] == "code_invalid"
    # The old one-step registration, which answered 409 for a login with an account, is gone.
    old = await stack.post("/v1/accounts", json={"login": new_login(), "password": PASSWORD})
    assert old.status_code in (404, 405)
