"""My personal data (我的个人信息) in Debian's Chromium against the whole platform: a signed-in complainant sees their
account and every complaint with its identity in full, Chinese first, and can download the same as JSON; asking for
erasure while a complaint is open is refused with the reason named per complaint, and once it is withdrawn the
request is taken with the date it will be carried out. A guest downloads their complaint's data and asks for its erasure
on the follow page, once it is over, with the box ticked.

The complaints of this module go to a company no other module of the folder files against (c-jinli)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from devstack.accounts import register
from tests.web.support import EN, ZH

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct-horse-battery"
NAME, ID_NUMBER, PHONE = "冯十二", "11010519491231002X", "13655550012"
DESCRIPTION = "充值后余额没有到账，客服让我等待，已经一个月了。"


async def test_my_data_shows_everything_offers_a_copy_and_refuses_erasure_while_open(open_tab, check, platform):
    owner = await register(platform.intake, platform.mailbox, "feng12@example.cn", PASSWORD, name=NAME)
    mine = {"Authorization": f"Bearer {owner['access_token']}"}
    filed = await platform.intake.post(
        "/v1/complaints",
        headers=mine,
        json={
            "complainant": {"name": NAME, "id_number": ID_NUMBER, "phone": PHONE},
            "company": {"id": "c-jinli"},
            "category": "refund",
            "title": "充值未到账",
            "description": DESCRIPTION,
            "occurred_on": "2026-11-03",
            "desired_outcome": "补发余额",
            "publication_consent": False,
            "evidence_ids": [],
        },
    )
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]

    tab = await open_tab("phone")
    page = tab.page
    await tab.open("/account/login")
    await page.fill("#f-login", "feng12@example.cn")
    await page.fill("#f-password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/account$"))
    await page.click(f"a[href='/account/data']:has-text('{ZH['account.my_data']}')")
    await page.wait_for_url(re.compile(r"/account/data$"))
    await page.wait_for_selector("[data-complaints] article")

    # Chinese first: the headings and labels of the catalog; the identity in full, the text as written.
    assert await page.locator("h1").text_content() == ZH["data.heading"]
    shown = await page.locator("main").inner_text()
    for value in (NAME, ID_NUMBER, PHONE, DESCRIPTION, number, "feng12@example.cn", ZH["file.id_number"]):
        assert value in shown, value
    await check(tab, "my-data")

    # The copy is the API's answer, made in the browser.
    download = page.locator("[data-action='download']")
    async with page.expect_download() as downloading:
        await download.click()
    saved = Path(await (await downloading.value).path())
    copy = json.loads(await asyncio.to_thread(saved.read_text, encoding="utf-8"))
    assert copy["account"]["name"] == NAME
    assert [c["complainant"]["id_number"] for c in copy["complaints"] if c["number"] == number] == [ID_NUMBER]

    # Erasure while the complaint is open: refused, the complaint and the reason named.
    await page.click("#erasure-form button[type=submit]")
    summary = page.locator("#erasure-form .error-summary")
    await summary.wait_for()
    refused = await summary.inner_text()
    assert number in refused and ZH["erasure.reason.complaint_open"] in refused
    await check(tab, "my-data-refused")

    withdrawn = await platform.intake.post(
        f"/v1/complaints/{number}/withdrawal", headers=mine, json={"reason": "已解决"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await page.click("#erasure-form button[type=submit]")
    status = page.locator("#erasure-form .form-status")
    await status.filter(has_text=ZH["data.erasure_asked"].split("{")[0]).wait_for()
    data = (await platform.intake.get("/v1/accounts/me/data", headers=mine)).json()
    assert data["account"]["erasure_due_at"] and data["complaints"][0]["erasure_due_at"]

    # English second, on request.
    await tab.open("/account/data?lang=en")
    await page.wait_for_selector("[data-complaints] article")
    assert await page.locator("h1").text_content() == EN["data.heading"]
    await check(tab, "my-data-en")


async def test_a_guest_asks_for_their_ended_complaints_erasure_on_the_follow_page(open_tab, check, platform):
    filed = await platform.intake.post(
        "/v1/complaints",
        json={
            "complainant": {"name": NAME, "id_number": ID_NUMBER, "phone": PHONE},
            "company": {"id": "c-jinli"},
            "category": "refund",
            "title": "充值未到账",
            "description": DESCRIPTION,
            "occurred_on": "2026-11-03",
            "desired_outcome": "补发余额",
            "publication_consent": False,
            "evidence_ids": [],
        },
    )
    assert filed.status_code == 201, filed.text
    number, code = filed.json()["number"], filed.json()["access_code"]
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/follow")
    await page.fill("#f-number", number)
    await page.fill("#f-access-code", code)
    await page.click("#lookup-form button[type=submit]")
    await page.wait_for_selector("[data-case-status]")
    # Open: nothing to ask yet.
    assert await page.locator("[data-erasure]").is_hidden()

    withdrawn = await platform.intake.post(
        f"/v1/complaints/{number}/withdrawal", headers={"X-Access-Code": code}, json={"reason": "已解决"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await page.click("[data-action='refresh']")
    await page.locator("[data-erasure]").wait_for(state="visible")
    # The guest's copy of the complaint's data, saved from the page.
    async with page.expect_download() as downloading:
        await page.click("[data-action='my-data']")
    saved = Path(await (await downloading.value).path())
    copy = json.loads(await asyncio.to_thread(saved.read_text, encoding="utf-8"))
    assert (copy["number"], copy["complainant"]["id_number"], copy["description"]) == (number, ID_NUMBER, DESCRIPTION)
    await page.click("[data-erasure] summary")
    await page.click("[data-erasure-form] button[type=submit]")
    assert ZH["error.erasure_unconfirmed"] in await page.locator("[data-erasure-form] .error-summary").inner_text()
    await page.check("#f-erasure-confirm")
    await page.click("[data-erasure-form] button[type=submit]")
    await (
        page.locator("[data-erasure-form] .form-status")
        .filter(has_text=ZH["data.erasure_asked"].split("{")[0])
        .wait_for()
    )
    await check(tab, "follow-erasure-asked")
    case = await platform.apps["intake"].state.intake.cases.get(number)
    assert case["erasure_due_at"] is not None and case.get("erased_at") is None
