"""The company portal (企业端) in Debian's Chromium against the whole platform: an operator admin invites a company's
first administrator, who opens the mailed link on a phone, sets a password and lands in the inbox with the complaint
forwarded to the company, opens it, asks for more information, which the complainant supplements through the
public client, answers and sees the complainant's rating; invites a handler from the colleagues page, who accepts on a desktop, sees the complaints
and no colleagues page; the administrator disables the handler (whose next page is the sign-in), requires two-step
verification (which ends their own session), and signs in again setting it up with an authenticator's code. On the
way the administrator issues an API key, registers the webhook endpoint at a test receiver, finds the complaint's
webhooks in the delivery log, rotates the secret and redelivers one, whose two signatures both verify. Another
company's administrator finds no trace of the complaint.

The complaint of this module goes to a company no other module of the folder files against (c-shiguang)."""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest
from standardwebhooks.webhooks import Webhook

from devstack.accounts import next_mail
from devstack.platform import WEBHOOK_SECRET
from tests.e2e.test_lifecycle_journey import Journey, form, until
from tests.web.support import EN, ZH, operator_headers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COMPANY = "c-shiguang"
PASSWORD = "a-portal-password-1"
LINK = re.compile(r"(/company/invitation#\S+)")


async def invitation_path(platform, email: str) -> str:
    mail = await next_mail(platform.mailbox, email, 0)
    found = LINK.search(mail.get_content())
    assert found is not None, mail.get_content()
    return found.group(1)


async def test_invitation_first_sign_in_colleagues_and_two_step_verification(open_tab, check, platform):
    company = (await platform.routing.get(f"/v1/companies/{COMPANY}")).json()
    filed = await platform.intake.post("/v1/complaints", json=form(company["name"]))
    assert filed.status_code == 201, filed.text
    number, access_code = filed.json()["number"], filed.json()["access_code"]
    await Journey(platform).status_is(number, {"X-Access-Code": access_code}, "forwarded")

    # The operator admin invites the company's administrator; the link arrives by e-mail.
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@shiguang.example.cn"
    invited = await platform.intake.post(
        f"/v1/ops/companies/{COMPANY}/staff-invitations",
        json={"email": admin_email},
        headers=await operator_headers(platform),
    )
    assert invited.status_code == 201, invited.text
    phone = await open_tab("phone")
    page = phone.page
    await phone.open(await invitation_path(platform, admin_email))
    await page.wait_for_selector("[data-invitation]:not([hidden])")
    assert await page.text_content("[data-invitation-company]") == company["name"]
    assert "#" not in page.url  # the token left the address bar once read
    await check(phone, "company-invitation")
    await page.fill("#p-name", "王经理")
    await page.fill("#p-new-password", PASSWORD)
    await page.click("#portal-accept button[type=submit]")

    # First sign-in: the inbox, with the complaint forwarded to the company and its deadline.
    await page.wait_for_url(re.compile(r"/company/$"))
    row = page.locator("[data-inbox] tbody tr", has_text=number)
    await row.wait_for()
    assert ZH[f"status.{'forwarded'}"] in await row.text_content()
    assert "王经理" in await page.text_content("[data-who]")
    assert re.search(ZH["portal.inbox.days_left"].replace("{count}", r"\d+"), await row.text_content())
    assert await page.get_attribute("[data-scorecard] a", "href") == f"/public/companies/{COMPANY}"
    # The company's own figures, unpublished complaints counted, beside the link to its public scorecard.
    await page.locator("[data-figures]:not([hidden])").wait_for()
    assert re.fullmatch(r"\d+", (await page.text_content("[data-figure=volume]")) or "")
    await check(phone, "company-inbox")
    # A filter the complaint does not match empties the list; its number finds it, and the export follows the filter.
    await page.check("#i-appealed")
    await page.click("#inbox-filters button[type=submit]")
    await page.locator("[data-inbox-status]", has_text=ZH["portal.inbox.empty"]).wait_for()
    await page.uncheck("#i-appealed")
    await page.fill("#i-number", number)
    await page.click("#inbox-filters button[type=submit]")
    await page.wait_for_url(re.compile(r"\?number="))
    await row.wait_for()
    assert number in (await page.get_attribute("[data-export]", "href"))

    # The complaint: ask for more information; the complainant supplements through the public client.
    await page.click(f"a[href='/company/complaints/{number}']")
    await page.wait_for_selector("[data-case]:not([hidden])")
    await page.wait_for_selector("#case-ask:visible")
    await check(phone, "company-complaint")
    await page.fill("#c-question", "请提供订单号和支付截图。")
    await page.click("#case-ask button[type=submit]")
    await page.locator("[data-case-status]", has_text=ZH["portal.case.asked_done"]).wait_for()
    # The case is read again after the question: its state (awaiting the complainant) no longer offers asking.
    await page.locator("#case-ask").wait_for(state="hidden")
    await page.click("[data-assign-me]")
    await page.locator("[data-case-assignee]", has_text="王经理").wait_for()
    await page.fill("#c-note", "已电话联系用户，等待截图。")
    await page.click("#case-note button[type=submit]")
    await page.locator("[data-case-notes]", has_text="已电话联系用户").wait_for()

    complainant = await open_tab("phone")
    follow = complainant.page
    await complainant.open("/follow")
    await follow.fill("#f-number", number)
    await follow.fill("#f-access-code", access_code)
    await follow.click("#lookup-form button[type=submit]")
    await follow.wait_for_selector("[data-action-panel=supplement]:not([hidden])")
    assert "已电话联系用户" not in await follow.content()  # internal notes stay the company's
    await follow.fill("#f-supplement-text", "订单号 20261101-8848，截图已补充。")
    await follow.click("[data-action-form=supplement] button[type=submit]")
    await follow.wait_for_selector("[data-list=supplements] > li")

    # The company sees the supplement and answers; the complainant rates; the company sees the rating.
    await phone.open(f"/company/complaints/{number}")
    await page.locator("[data-case-exchanges]", has_text="订单号 20261101-8848").wait_for()
    await page.select_option("#c-type", "monetary_relief")
    await page.fill("#c-text", "已核实订单，课程费用将在 3 个工作日内全额退回原支付账户。")
    await page.click("#case-answer button[type=submit]")
    await page.locator("[data-case-status]", has_text=ZH["portal.case.answered_done"]).wait_for()
    await complainant.open("/follow")
    await follow.fill("#f-number", number)
    await follow.fill("#f-access-code", access_code)
    await follow.click("#lookup-form button[type=submit]")
    await follow.wait_for_selector("[data-action-panel=rate]:not([hidden])")
    await follow.check("#f-rating-5")
    await follow.click("[data-action-form=rate] button[type=submit]")
    await follow.wait_for_selector("[data-action-panel=rate][hidden]", state="attached")
    await phone.open(f"/company/complaints/{number}")
    await page.locator("[data-case-rating-text]", has_text="5").wait_for()
    await check(phone, "company-complaint-rated")

    # Colleagues: invite a handler with the form.
    await phone.open("/company/staff")
    await page.wait_for_selector("[data-staff]:not([hidden])")
    handler_email = f"handler-{uuid.uuid4().hex[:8]}@shiguang.example.cn"
    await page.fill("#p-invite-email", handler_email)
    await page.select_option("#p-invite-role", "handler")
    await page.click("#portal-invite button[type=submit]")
    await page.wait_for_selector(f"[data-invitations] li:has-text('{handler_email}')")
    await check(phone, "company-staff")

    # The handler accepts on a desktop, in English: complaints, and no colleagues page.
    desktop = await open_tab("desktop")
    other = desktop.page
    link = await invitation_path(platform, handler_email)
    await desktop.open(link.replace("/company/invitation#", "/company/invitation?lang=en#"))
    await other.wait_for_selector("[data-invitation]:not([hidden])")
    assert await other.text_content("[data-invitation-role]") == EN["portal.role.handler"]
    await other.fill("#p-name", "李处理")
    await other.fill("#p-new-password", PASSWORD)
    await other.click("#portal-accept button[type=submit]")
    await other.wait_for_url(re.compile(r"/company/$"))
    await other.locator("[data-inbox] tbody tr", has_text=number).wait_for()
    assert await other.locator("a[href='/company/staff']").count() == 0
    await desktop.open("/company/staff")
    await other.locator("[data-staff-status]", has_text=EN["portal.staff.administrators_only"]).wait_for()
    assert await other.is_hidden("[data-staff]")
    # Nor keys: the integration page says so and lists none.
    await desktop.open("/company/integration")
    await other.locator("[data-keys-status]", has_text=EN["portal.keys.administrators_only"]).wait_for()
    assert await other.is_hidden("[data-keys]")

    # The administrator issues an API key: shown once, listed by its label.
    await phone.open("/company/integration")
    await page.wait_for_selector("[data-keys]:not([hidden])")
    await page.fill("#k-label", "客服系统")
    await page.click("#key-issue button[type=submit]")
    await page.wait_for_selector("[data-new-key]:not([hidden])")
    assert (await page.text_content("[data-new-key-value]")).startswith("gck_")
    await page.locator("[data-keys-table] tbody tr", has_text="客服系统").wait_for()

    # The webhook endpoint at the test receiver; its delivery log holds the complaint's webhooks. Rotating the secret
    # shows the new one once, and a redelivery then carries both signatures, each of which verifies.
    await page.wait_for_selector("[data-webhook]:not([hidden])")
    await page.fill("#w-url", f"{platform.receiver_url}/webhooks/{COMPANY}")
    await page.click("#webhook-set button[type=submit]")
    await page.locator("[data-keys-status]", has_text=ZH["portal.webhook.saved"]).wait_for()
    delivery = page.locator("[data-deliveries] tbody tr", has_text=number).first
    await delivery.wait_for()
    webhook_id = await delivery.get_attribute("data-webhook-id")
    await page.click("[data-webhook-rotate]")
    await page.wait_for_selector("[data-new-secret]:not([hidden])")
    new_secret = (await page.text_content("[data-new-secret-value]")).strip()
    assert new_secret.startswith("whsec_") and new_secret != WEBHOOK_SECRET
    seen = len([item for item in platform.receiver.received if item.webhook_id == webhook_id])
    await delivery.get_by_role("button").click()

    async def redelivered():
        found = [item for item in platform.receiver.received if item.webhook_id == webhook_id]
        return found[-1] if len(found) > seen else None

    received = await until(redelivered, what="the redelivery")
    for secret in (WEBHOOK_SECRET, new_secret):
        assert Webhook(secret).verify(received.raw, received.headers)["data"]["number"] == number
    await check(phone, "company-integration")

    # The company's profile: a new alias is sent for the platform's approval.
    await phone.open("/company/profile")
    await page.wait_for_selector("[data-profile]:not([hidden])")
    await page.fill("#p-aliases", (await page.input_value("#p-aliases")) + "\n食光外卖")
    await page.click("#profile-change button[type=submit]")
    await page.locator("[data-profile-history]", has_text=ZH["portal.profile.status.pending"]).wait_for()
    await check(phone, "company-profile")

    # The administrator disables the handler: the handler's next page sends them to the sign-in.
    await phone.open("/company/staff")
    handler_row = page.locator("[data-staff-table] tbody tr", has_text=handler_email)
    await handler_row.get_by_role("button", name=re.compile(ZH["portal.staff.disable"])).click()
    await handler_row.get_by_text(ZH["portal.staff.disabled"]).wait_for()
    await desktop.open("/company/")
    await other.wait_for_url(re.compile(r"/company/login\?"))

    # Two-step verification required: the administrator's own session ends; the next sign-in sets it up.
    await phone.open("/company/staff")
    await page.wait_for_selector("[data-staff]:not([hidden])")
    await page.check("#p-totp-required")
    await page.click("#portal-security button[type=submit]")
    await page.wait_for_url(re.compile(r"/company/login\?"))
    await page.fill("#p-email", admin_email)
    await page.fill("#p-password", PASSWORD)
    await page.click("#portal-login button[type=submit]")
    await page.wait_for_selector("[data-enrolment]:not([hidden])")
    secret = (await page.text_content("[data-totp-secret]")).strip()
    await check(phone, "company-login-totp")
    await page.fill("#p-totp", pyotp.TOTP(secret).now())
    await page.click("#portal-login button[type=submit]")
    await page.wait_for_url(re.compile(r"/company/staff$"))
    await page.wait_for_selector("[data-staff]:not([hidden])")
    assert await page.is_checked("#p-totp-required")

    # Another company's administrator, signed in at the portal, finds no such complaint: not in the inbox, and its
    # page says it does not exist, as for a number never filed.
    stranger_email = f"admin-{uuid.uuid4().hex[:8]}@haina.example.cn"
    invited = await platform.intake.post(
        "/v1/ops/companies/c-haina/staff-invitations",
        json={"email": stranger_email},
        headers=await operator_headers(platform),
    )
    assert invited.status_code == 201, invited.text
    token = (await invitation_path(platform, stranger_email)).split("#", 1)[1]
    accepted = await platform.intake.post(
        "/v1/company/invitation/accept", json={"token": token, "name": "赵经理", "password": PASSWORD}
    )
    assert accepted.status_code in (200, 201), accepted.text
    stranger = await open_tab("desktop")
    await stranger.open("/company/login")
    await stranger.page.fill("#p-email", stranger_email)
    await stranger.page.fill("#p-password", PASSWORD)
    await stranger.page.click("#portal-login button[type=submit]")
    await stranger.page.wait_for_url(re.compile(r"/company/$"))
    await stranger.page.locator("[data-inbox-status]").wait_for()
    assert await stranger.page.locator("[data-inbox] tbody tr", has_text=number).count() == 0
    await stranger.open(f"/company/complaints/{number}")
    await stranger.page.locator("[data-case-status]", has_text=ZH["portal.case.not_found"]).wait_for()
    assert await stranger.page.is_hidden("[data-case]")
