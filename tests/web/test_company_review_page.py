"""A company the directory does not know, in Debian's Chromium against the whole platform: the complainant
files it through the form, the follow page says "待审核" in the colour of
waiting, not of success; an operator rejects it and the page says so in red, with the reason and a
"重新投诉" button that opens the filing form filled in with what the complaint said (never the identity, and
nothing in the URL)."""

from __future__ import annotations

import pytest

from devstack.waiting import until
from tests.web.support import ZH, operator_headers
from tests.web.test_web_client import fill_complaint

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UNKNOWN_COMPANY = "名录里没有的某某教育咨询公司"
TITLE = "课程退款被拒绝（待审核）"


async def badge(page) -> tuple[str, str, str]:
    return await page.eval_on_selector(
        "[data-bind=status]",
        "(node) => [node.textContent, node.dataset.status, getComputedStyle(node).backgroundColor]",
    )


async def test_an_unknown_company_waits_for_review_and_a_rejection_offers_to_file_again(open_tab, check, platform):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/file")
    await fill_complaint(page, company=UNKNOWN_COMPANY, pick_suggestion=False, title=TITLE)
    await page.click("#complaint-form button[type=submit]")
    await page.wait_for_selector("[data-receipt]:not([hidden])")
    number = (await page.text_content("[data-number]")).strip()
    access_code = (await page.text_content("[data-access-code]")).strip()
    guest = {"X-Access-Code": access_code}

    async def status_is(status: str) -> bool:
        return (await platform.intake.get(f"/v1/complaints/{number}", headers=guest)).json()["status"] == status

    await until(lambda: status_is("under_review"), timeout=60, what="the review")
    await tab.open("/follow")
    await page.fill("#f-number", number)
    await page.fill("#f-access-code", access_code)
    await page.click("#lookup-form button[type=submit]")
    await page.wait_for_selector("#case:not([hidden])")
    text, status, colour = await badge(page)
    assert (text, status) == (ZH["status.under_review"], "under_review")
    assert colour != "rgb(8, 81, 44)"  # not the brand green (--brand-dark) of every other status
    assert ZH["timeline.refer_for_review"] in await page.text_content("[data-list=timeline]")
    assert not await page.locator("[data-refile]").is_visible()
    await check(tab, "follow-under-review")

    rejected = await platform.intake.post(
        f"/v1/ops/complaints/{number}/reject",
        headers=await operator_headers(platform),
        json={"reason": "company_unknown", "detail": "无法确定被投诉企业"},
    )
    assert rejected.status_code == 200, rejected.text
    await page.reload()  # the tab remembers the access code: the case opens again by itself
    await page.wait_for_selector("[data-bind=status][data-status=rejected]")
    text, _, colour = await badge(page)
    assert text == ZH["status.rejected"]
    assert colour == "rgb(179, 38, 30)"  # the danger red of app.css, not the brand's success colour
    assert await page.text_content("[data-bind=rejection]") == ZH["rejection.company_unknown"]
    refile = page.locator("[data-refile] button")
    assert await refile.is_visible() and await refile.text_content() == ZH["follow.refile"]
    await check(tab, "follow-rejected")

    await refile.click()
    await page.wait_for_url("**/file")
    assert page.url.endswith("/file")  # nothing of the complaint in the address
    assert await page.locator("[data-refiled]").is_visible()
    assert await page.input_value("#f-company") == UNKNOWN_COMPANY
    assert await page.input_value("#f-title") == TITLE
    assert await page.input_value("#f-category") == "refund"
    assert await page.input_value("#f-occurred-on") == "2026-11-01"
    assert await page.input_value("#f-desired-outcome") == "全额退还课程费用"
    # The identity is typed again: it was never kept for the page.
    assert await page.input_value("#f-id-number") == "" and await page.input_value("#f-name") == ""
    assert await page.evaluate("() => sessionStorage.getItem('gc.refile')") is None
    await check(tab, "file-again")
    # Filled in once: opening the form again starts empty.
    await tab.open("/file")
    assert await page.input_value("#f-title") == ""
