"""The operator console (运营后台) in Debian's Chromium against the whole platform: a new admin signs in, enrols
the second factor (the secret shown once, confirmed with a code), signs out and in again with a code; the
dashboard counts the appeal waiting, which opens; the phone is revealed with a reason; the appeal goes back to
the company with a note and a deadline; the audit log shows both. A poison message's dead letter is replayed,
a company endpoint whose deliveries fail is disabled. On a tablet a regulator sees every complaint's statistics
and gets "not found" for a complaint. Every page passes axe."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import aio_pika
import pyotp
import pytest

from devstack.waiting import until
from intake.domain.identity import CHECK_CHARACTERS, ID_WEIGHTS
from intake.web.console import ConsoleTranslator
from tests.web.support import company_key, operator_headers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ZH = ConsoleTranslator("zh-CN").messages  # the public catalog with the console's own over it
PASSWORD = "console-password-1"
CHIEF = "console-chief"
REGULATOR = "console-regulator"
APPEAL_COMPANY = ("c-qingtu", "青途出行科技有限公司")
FAILING_COMPANY = ("c-jinli", "锦鲤金融信息服务有限公司")
PHONE = "13822226666"
REASON = "申诉调解需要电话联系投诉人核实情况"
NOTE = "请企业核实退款进度并与投诉人联系"


def id_number(first_17: str) -> str:
    """A valid GB 11643 ID number from its first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, ID_WEIGHTS, strict=True))
    return first_17 + CHECK_CHARACTERS[total % 11]


def complaint(company_name: str, id_number: str, phone: str) -> dict:
    return {
        "complainant": {"name": "吴十一", "id_number": id_number, "phone": phone},
        "company": {"name": company_name},
        "category": "refund",
        "title": "行程取消后未退款",
        "description": "取消的行程扣费后一直没有退回，客服不回应。",
        "occurred_on": "2026-11-03",
        "desired_outcome": "退还费用",
        "evidence_ids": [],
    }


async def _status(platform, number: str, code: str, status: str) -> bool:
    case = (await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
    return case["status"] == status


async def file(platform, company_name: str, id_number: str, phone: str) -> tuple[str, str]:
    filed = await platform.intake.post("/v1/complaints", json=complaint(company_name, id_number, phone))
    assert filed.status_code == 201, filed.text
    return filed.json()["number"], filed.json()["access_code"]


@pytest.fixture(scope="module")
async def appealed(platform) -> str:
    """A complaint against the company, answered and appealed: the appeals queue holds it."""
    number, code = await file(platform, APPEAL_COMPANY[1], id_number("11010519800101001"), PHONE)
    await until(functools.partial(_status, platform, number, code, "forwarded"), timeout=60, what="forwarded")
    answered = await platform.intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=await company_key(platform, APPEAL_COMPANY[0]),
        json={"response_type": "declined", "text": "订单已按规则扣费，不予退款。"},
    )
    assert answered.status_code == 200, answered.text
    appeal = await platform.intake.post(
        f"/v1/complaints/{number}/appeal", headers={"X-Access-Code": code}, json={"reason": "企业答复不合理，要求调解"}
    )
    assert appeal.status_code == 200, appeal.text
    return number


@pytest.fixture(scope="module")
async def staff(platform) -> None:
    for login, roles in ((CHIEF, ["admin", "operator"]), (REGULATOR, ["regulator"])):
        created = await platform.intake.post(
            "/v1/ops/operators",
            headers=await operator_headers(platform),
            json={"login": login, "password": PASSWORD, "roles": roles},
        )
        assert created.status_code == 201, created.text


async def poison_intake(platform) -> None:
    """An unparseable message on intake's queue: straight to its dead-letter queue."""
    settings = platform.apps["intake"].state.intake.settings
    connection = await aio_pika.connect_robust(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(settings.event_exchange)
        await exchange.publish(aio_pika.Message(b"\x00{not json"), routing_key="complaint.screened")


async def failing_endpoint(platform) -> None:
    """The company's endpoint answers nothing; a complaint against it makes a delivery that keeps failing."""
    admin = await operator_headers(platform)
    put = await platform.intake.put(
        f"/v1/ops/companies/{FAILING_COMPANY[0]}/webhook-endpoint",
        headers=admin,
        json={"url": "http://127.0.0.1:9/closed", "secret": "whsec_" + "A" * 32},
    )
    assert put.status_code == 200, put.text
    await file(platform, FAILING_COMPANY[1], id_number("31010419850615011"), "13933337777")

    async def failed_once() -> bool:
        listed = await platform.intake.get(
            "/v1/ops/deliveries", headers=admin, params={"company_id": FAILING_COMPANY[0]}
        )
        return any(item["attempt_count"] >= 1 and item["last_error"] for item in listed.json()["items"])

    await until(failed_once, timeout=60, what="a failed delivery")


def next_code(secret: str, used: str) -> str:
    """A right code other than ``used`` (the next step's when needed: accepted within the drift allowed)."""
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC)
    return next(code for code in (totp.at(now), totp.at(now + timedelta(seconds=30))) if code != used)


async def sign_in(page, login: str, code: str | None = None) -> None:
    await page.fill("#f-login", login)
    await page.fill("#f-password", PASSWORD)
    if code:
        await page.fill("#f-code", code)
    await page.click("#ops-login-form button[type=submit]")


async def test_an_admin_enrols_mediates_an_appeal_replays_a_dead_letter_and_disables_an_endpoint(
    open_tab, check, platform, staff, appealed
):
    await poison_intake(platform)
    await failing_endpoint(platform)
    tab = await open_tab("desktop")
    page = tab.page

    # Sign-in: an admin without a second factor enrols one first.
    await tab.open("/ops/")
    await page.wait_for_url("**/ops/login?next=*")
    await check(tab, "ops-login")
    await sign_in(page, CHIEF)
    await page.wait_for_selector("#enrol:not([hidden])")
    secret = (await page.text_content("[data-bind=secret]")).strip()
    assert f"secret={secret}" in await page.text_content("[data-bind=provisioning_uri]")
    await check(tab, "ops-enrol")
    enrolled_with = pyotp.TOTP(secret).now()
    await page.fill("#f-enrol-code", enrolled_with)
    await page.click("#ops-enrol-form button[type=submit]")
    await page.wait_for_selector("[data-board]:not([hidden])")

    # Signed out, the admin signs in with a code; without one the form asks for it.
    await page.click("[data-action=ops-sign-out]")
    await page.wait_for_url("**/ops/login")
    await sign_in(page, CHIEF)
    await page.wait_for_selector("#f-code-error:not([hidden])")
    assert await page.text_content("#f-code-error") == ZH["ops.problem.second_factor_required"]
    await page.fill("#f-code", next_code(secret, enrolled_with))
    await page.click("#ops-login-form button[type=submit]")
    await page.wait_for_selector("[data-board]:not([hidden])")
    assert await page.text_content("[data-bind=who]") == ZH["ops.signed_in_as"].format(login=CHIEF)
    assert int(await page.text_content("[data-count=appeals]")) >= 1
    assert int(await page.text_content("[data-letters=intake]")) >= 1
    await check(tab, "ops-dashboard")

    # The appeals queue, then the complaint.
    await page.click("[data-count-link=appeals]")
    await page.wait_for_selector(f"[data-queue] a:text('{appealed}')")
    await check(tab, "ops-queue")
    await page.click(f"[data-queue] a:text('{appealed}')")
    await page.wait_for_selector("#case:not([hidden])")
    assert await page.get_attribute("[data-bind=status]", "data-status") == "appealed"
    masked = await page.text_content("[data-identity-field=phone]")
    assert masked != PHONE and masked.endswith(PHONE[-4:])
    assert await page.locator("[data-action-panel=reforward]").is_visible()
    assert not await page.locator("[data-action-panel=reject]").is_visible()
    assert await page.locator("[data-list=timeline] a[data-trace]").count() >= 1
    await check(tab, "ops-complaint")

    await page.select_option("#f-reveal-field", "phone")
    await page.fill("#f-reveal-reason", REASON)
    await page.click("#reveal-form button[type=submit]")
    await page.wait_for_selector("[data-identity-field=phone].revealed")
    assert await page.text_content("[data-identity-field=phone]") == "+86" + PHONE  # stored in E.164

    await page.click("[data-action-panel=reforward] summary")
    await page.fill("#f-reforward-note", NOTE)
    await page.fill("#f-reforward-days", "5")
    await page.click("form[data-action=reforward] button[type=submit]")
    await page.wait_for_selector("[data-bind=status][data-status=forwarded]")
    assert await page.text_content("[data-bind=round]") == "2"  # the company's second round
    await check(tab, "ops-complaint-reforwarded")

    # The audit log shows both, with the reason and the note.
    await tab.open(f"/ops/audit?complaint={appealed}")
    await page.wait_for_selector("[data-audit]:not([hidden]) tr[data-entry=reforward]")
    rows = page.locator("[data-audit] tbody tr")
    assert [await rows.nth(i).get_attribute("data-entry") for i in range(await rows.count())] == ["reforward", "reveal"]
    assert NOTE in await rows.nth(0).text_content() and REASON in await rows.nth(1).text_content()
    assert "complaint=" + appealed in await page.get_attribute("[data-csv]", "href")
    await check(tab, "ops-audit")

    # The poison message's dead letter, replayed (it fails again and waits once more: same reason).
    await tab.open("/ops/dead-letters?service=intake")
    await page.wait_for_selector("[data-letter]")
    letter = await page.get_attribute("[data-letter] >> nth=0", "data-letter")
    await page.click(f"[data-letter='{letter}'] button:text('{ZH['ops.dead_letters.inspect']}')")
    await check(tab, "ops-dead-letters")
    await page.click(f"[data-letter='{letter}'] button:text('{ZH['ops.dead_letters.replay']}')")
    await page.wait_for_selector(f"[data-status]:text('{ZH['ops.dead_letters.replayed_one']}')")
    replayed = (
        await platform.intake.get(f"/v1/ops/dead-letters/{letter}", headers=await operator_headers(platform))
    ).json()
    assert replayed["status"] == "replayed"

    # The failing endpoint, with its failed delivery, disabled with a reason.
    await tab.open(f"/ops/webhooks?company={FAILING_COMPANY[0]}")
    await page.wait_for_selector("[data-endpoint]:not([hidden]) [data-delivery]")
    assert await page.text_content("[data-bind=state]") == ZH["ops.webhooks.state_enabled"]
    await page.fill("#f-disable-reason", "接口持续无响应，已通知企业")
    await page.click("#disable-form button[type=submit]")
    await page.wait_for_selector(f"[data-bind=state]:text('{ZH['ops.webhooks.state_disabled']}')")
    await check(tab, "ops-webhooks")

    # Staff: the new admin's second factor is listed as set up; the feedback inbox opens.
    await tab.open("/ops/staff")
    await page.wait_for_selector(f"[data-operator='{CHIEF}']")
    assert ZH["ops.staff.enrolled"] in await page.text_content(f"[data-operator='{CHIEF}']")
    await check(tab, "ops-staff")
    await tab.open("/ops/feedback")
    await page.wait_for_selector("[data-status]:not(:empty), [data-feedback-entry]")
    await check(tab, "ops-feedback")

    entries = (
        await platform.intake.get("/v1/ops/audit", headers=await operator_headers(platform), params={"operator": CHIEF})
    ).json()["items"]
    assert [entry["action"] for entry in entries][:3] == [
        "webhook_endpoint_disable",
        "dead_letter_replay",
        "reforward",
    ]

    # The directory: a company's API key issued (shown once) and revoked.
    await tab.open("/ops/directory")
    await page.fill("#f-directory-q", "锦鲤")
    await page.click("#directory-form button[type=submit]")
    await page.click(f"[data-company='{FAILING_COMPANY[0]}'] button")
    await page.wait_for_selector("[data-keys]:not([hidden])")
    await page.fill("#f-key-label", "console")
    await page.click("#key-form button[type=submit]")
    await page.wait_for_selector("[data-new-key]:not([hidden])")
    issued = (await page.text_content("[data-bind=api_key]")).strip()
    assert issued.startswith("gck_")
    await check(tab, "ops-directory")
    await page.click(f"[data-key-list] button:text('{ZH['ops.directory.revoke']}')")
    await page.wait_for_selector(f"[data-key-list] .badge:text('{ZH['ops.directory.revoked']}')")
    refused = await platform.intake.get("/v1/company/complaints", headers={"X-Api-Key": issued})
    assert refused.status_code == 401


async def test_a_regulator_sees_every_complaints_statistics_and_no_complaint(
    open_tab, check, platform, staff, appealed
):
    tab = await open_tab("tablet")
    page = tab.page
    await tab.open("/ops/login")
    await sign_in(page, REGULATOR)
    await page.wait_for_url("**/ops/regulator")
    await page.wait_for_selector("[data-show=totals]:not([hidden])")
    received = await page.text_content("[data-figure=received] dd")
    assert int(received.replace(",", "")) >= 1
    assert await page.locator("[data-chart=month]:not([hidden]) svg").count() == 1
    # The navigation offers the regulator view only.
    assert await page.locator("[data-role]:visible").count() == 1
    assert await page.locator("[data-role=regulator]").is_visible()
    await check(tab, "ops-regulator")
    csv = await page.evaluate("async () => (await fetch('/v1/regulator/statistics?by=month&format=csv')).status")
    assert csv == 200

    await tab.open(f"/ops/complaints/{appealed}")
    await page.wait_for_selector(f"[data-status]:text('{ZH['ops.complaint.not_found']}')")
    assert await page.locator("#case").is_hidden()
    status = await page.evaluate(f"async () => (await fetch('/v1/ops/complaints/{appealed}')).status")
    assert status == 404
    await check(tab, "ops-regulator-no-complaint")
