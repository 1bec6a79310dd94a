"""忘记查询码？ on the follow page, in Debian's Chromium against the whole platform: the complainant gives the
complaint number and the filing phone, receives a code by SMS (notification's stand-in logs it with the code
blanked; the test reads the code from the sealed event, as notification does), and gets a new access code,
shown once, that opens the complaint; the old code no longer does."""

from __future__ import annotations

import pytest

from devstack.eventtap import event_tap
from devstack.waiting import until
from greenchannel.contracts import DEV_CODE_TRANSPORT_KEYS, CodeNotice, code_notice_field
from greenchannel.sealing import KeyRingCipher
from tests.web.support import ZH
from tests.web.test_web_client import ID_NUMBER

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = "13911117777"


async def test_a_lost_access_code_is_recovered_with_a_code_sent_to_the_filing_phone(open_tab, check, platform):
    settings = platform.apps["intake"].state.runtime.settings
    async with event_tap(settings.amqp_url, settings.event_exchange, ["account.code_issued"]) as tap:
        filed = await platform.intake.post(
            "/v1/complaints",
            json={
                "complainant": {"name": "周十", "id_number": ID_NUMBER, "phone": PHONE},
                "company": {"name": "迅联"},
                "category": "billing",
                "title": "会员重复扣费",
                "description": "同一个月被扣了两次会员费，客服不处理。",
                "occurred_on": "2026-10-20",
                "desired_outcome": "退还多扣的费用",
            },
        )
        assert filed.status_code == 201, filed.text
        number, old_code = filed.json()["number"], filed.json()["access_code"]

        tab = await open_tab("phone")
        page = tab.page
        await tab.open("/follow")
        await page.click("#recover > summary")
        await page.fill("#r-number", number)
        await page.fill("#r-phone", "139 1111 7777")
        await check(tab, "follow-recover")
        await page.click("#recover-request button[type=submit]")
        await page.wait_for_selector("#recover-confirm:not([hidden])")
        assert "验证码已发送到该手机" in await page.text_content("#recover-request .form-status")

        sms_log = platform.apps["notification"].state.runtime.db["sms_log"]
        await until(lambda: sms_log.find_one({"phone_masked": "+86*******7777"}), what="the SMS")
        issued = await tap.wait_for("account.code_issued", where=lambda e: e.data["purpose"] == "access_recovery")
        cipher = KeyRingCipher.from_settings(DEV_CODE_TRANSPORT_KEYS, "dev-1")
        code = CodeNotice.model_validate_json(
            cipher.decrypt(code_notice_field(issued.event.data["issue_id"]), issued.event.data["sealed"])
        ).code
        assert code is not None

    # A wrong code first: the page says so, in the form.
    await page.fill("#r-code", f"{(int(code) + 1) % 10**6:06d}")
    await page.click("#recover-confirm button[type=submit]")
    await page.wait_for_selector("#recover-confirm .error-summary:not([hidden])")
    assert ZH["problem.code_invalid"] in await page.text_content("#recover-confirm .error-summary")
    await page.fill("#r-code", code)
    await page.click("#recover-confirm button[type=submit]")
    await page.wait_for_selector("#recover-done:not([hidden])")
    new_code = (await page.text_content("[data-new-access-code]")).strip()
    assert len(new_code) == 10 and new_code != old_code
    await check(tab, "follow-recovered")

    # The new code is in the lookup form: the complaint opens with it; the old code is refused.
    await page.click("#lookup-form button[type=submit]")
    await page.wait_for_selector("#case:not([hidden])")
    assert ZH["timeline.access_code_reissued"] in await page.text_content("[data-list=timeline]")
    assert not await page.locator("#recover").is_visible()
    old = await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": old_code})
    assert old.status_code == 404
