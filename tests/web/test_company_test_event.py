"""The company portal's "发送测试事件 / Send a test event" in Debian's Chromium against the whole platform: a company's
administrator, signed in through the mailed invitation, sends a test event to the endpoint registered for the
company (the test receiver); the result line says what the endpoint answered, the delivery log lists the test with
no complaint number, and the receiver got it signed with the company's secret.

It names a company no other module of the folder files against or sends webhooks to (c-shengbo)."""

from __future__ import annotations

import re
import uuid

import pytest
from standardwebhooks.webhooks import Webhook

from devstack.accounts import next_mail
from devstack.platform import WEBHOOK_SECRET
from tests.e2e.test_lifecycle_journey import until
from tests.web.support import ZH, operator_headers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COMPANY = "c-shengbo"
LINK = re.compile(r"(/company/invitation#\S+)")


def pattern(key: str) -> re.Pattern[str]:
    """The catalog's text of ``key`` with each placeholder a group matching what fills it, written so that the
    browser's regular expressions read it too (no named groups, no escaped spaces)."""
    literals = re.split(r"\{\w+\}", ZH[key])
    return re.compile(r"(\S+?)".join(re.escape(part).replace("\\ ", " ") for part in literals))


async def test_an_administrator_sends_a_test_event_and_finds_it_in_the_delivery_log(open_tab, check, platform):
    email = f"admin-{uuid.uuid4().hex[:8]}@shengbo.example.cn"
    invited = await platform.intake.post(
        f"/v1/ops/companies/{COMPANY}/staff-invitations",
        json={"email": email},
        headers=await operator_headers(platform),
    )
    assert invited.status_code == 201, invited.text
    found = LINK.search((await next_mail(platform.mailbox, email, 0)).get_content())
    assert found is not None
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open(found.group(1))
    await page.wait_for_selector("[data-invitation]:not([hidden])")
    await page.fill("#p-name", "赵管理")
    await page.fill("#p-new-password", "a-portal-password-2")
    await page.click("#portal-accept button[type=submit]")
    await page.wait_for_url(re.compile(r"/company/$"))

    await tab.open("/company/integration")
    await page.wait_for_selector("[data-webhook-test]:not([hidden])")
    assert (await page.text_content("[data-webhook-test-send]")).strip() == ZH["portal.webhook.test"]
    await page.click("[data-webhook-test-send]")
    result = page.locator("[data-webhook-test-result]")
    delivered = pattern("portal.webhook.test_delivered")
    await result.filter(has_text=delivered).wait_for()
    said = delivered.search(await result.text_content())
    assert said is not None and said.group(2) == "204"
    webhook_id = said.group(1)

    # The delivery log lists it: the test's type, no complaint, delivered after one attempt.
    row = page.locator(f"[data-deliveries] tbody tr[data-webhook-id='{webhook_id}']")
    await row.filter(has_text=ZH["portal.deliveries.status.delivered"]).wait_for()
    cells = [text.strip() for text in await row.locator("td").all_text_contents()]
    assert cells[:4] == ["webhook.test", "—", ZH["portal.deliveries.status.delivered"], "1"]

    async def received():
        return next((item for item in platform.receiver.received if item.webhook_id == webhook_id), None)

    got = await until(received, what="the test event at the receiver")
    body = Webhook(WEBHOOK_SECRET).verify(got.raw, got.headers)
    assert body["type"] == "webhook.test" and body["data"]["company_id"] == COMPANY
    await check(tab, "company-integration-test-event")
