"""The follow page (查询) in Debian's Chromium against the whole platform: it shows the whole case as filed
(category by its label, description, desired outcome, the evidence with download links), each supplement
with its text and files, and takes one more evidence file after forwarding; the complainant withdraws the
consent to publishing the complaint's text, confirmed first, and the text leaves the public record at once; a
rate-limited form says how long to wait, counting down with its submit button disabled until the wait is over,
instead of listing errors to fix."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest

from devstack.waiting import until
from tests.web.support import ZH, company_key
from tests.web.test_public_pages import id_number
from tests.web.test_web_client import ID_NUMBER, PDF, png

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DESCRIPTION = "网购的电饭煲收到时内胆有划痕，商家只同意补偿五元优惠券。"
OUTCOME = "退货退款并承担运费"


async def upload(platform, path: str, name: str, media_type: str, body: bytes, headers: dict | None = None) -> dict:
    sent = await platform.intake.post(
        path,
        content=body,
        headers={
            "Content-Type": media_type,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            **(headers or {}),
        },
    )
    assert sent.status_code == 201, sent.text
    return sent.json()


async def test_follow_shows_the_filing_a_supplement_and_evidence_added_after_forwarding(open_tab, check, platform):
    receipt = await upload(platform, "/v1/evidence", "收货照片.png", "image/png", png())
    filed = await platform.intake.post(
        "/v1/complaints",
        json={
            "complainant": {"name": "孙八", "id_number": ID_NUMBER, "phone": "13811113333"},
            "company": {"name": "迅联"},
            "category": "billing",
            "title": "电饭煲内胆划痕",
            "description": DESCRIPTION,
            "occurred_on": "2026-10-20",
            "desired_outcome": OUTCOME,
            "evidence_ids": [receipt["evidence_id"]],
        },
    )
    assert filed.status_code == 201, filed.text
    number, access_code = filed.json()["number"], filed.json()["access_code"]
    guest = {"X-Access-Code": access_code}

    async def status_is(status: str) -> bool:
        return (await platform.intake.get(f"/v1/complaints/{number}", headers=guest)).json()["status"] == status

    await until(lambda: status_is("forwarded"), timeout=60, what="forwarding")
    company = await company_key(platform, "c-xunlian")
    asked = await platform.intake.post(
        f"/v1/company/complaints/{number}/info-request", headers=company, json={"question": "请提供订单号。"}
    )
    assert asked.status_code == 200, asked.text
    invoice = await upload(platform, "/v1/evidence", "发票.pdf", "application/pdf", PDF)
    supplemented = await platform.intake.post(
        f"/v1/complaints/{number}/supplement",
        headers=guest,
        json={"text": "订单号见发票。", "evidence_ids": [invoice["evidence_id"]]},
    )
    assert supplemented.status_code == 200, supplemented.text

    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/file")
    category_label = (await page.text_content("#f-category option[value=billing]")).strip()
    await tab.open("/follow")
    await page.fill("#f-number", number)
    await page.fill("#f-access-code", access_code)
    await page.click("#lookup-form button[type=submit]")
    await page.wait_for_selector("#case:not([hidden])")

    # What was filed: the category by its label (not its code), the text, the files, the supplement.
    assert await page.text_content("[data-bind=category]") == category_label != "billing"
    assert await page.text_content("[data-bind=description]") == DESCRIPTION
    assert await page.text_content("[data-bind=desired_outcome]") == OUTCOME
    assert re.search(r"2026", await page.text_content("[data-bind=occurred_on]"))
    files = page.locator("[data-list=evidence] .file-name")
    assert await files.all_text_contents() == ["收货照片.png", "发票.pdf"]
    supplement = page.locator("[data-list=supplements] > li")
    assert await supplement.count() == 1
    assert "订单号见发票。" in await supplement.text_content()
    assert await supplement.locator(".file-name").all_text_contents() == ["发票.pdf"]
    assert await page.locator("#filed-heading").is_visible() and await page.locator("#supplements-heading").is_visible()

    # A download link for one file, through the API, that serves that file.
    await page.click(f"[data-list=evidence] [data-download='{receipt['evidence_id']}']")
    link = page.locator(f"[data-list=evidence] [data-evidence-id='{receipt['evidence_id']}'] a.download")
    await link.wait_for()
    async with httpx.AsyncClient() as client:
        downloaded = await client.get(await link.get_attribute("href"))
    assert downloaded.status_code == 200 and downloaded.content == png()
    # The link is the API's, given only with this complaint's access: a wrong code gets the same 404 as no case.
    stranger = await platform.intake.get(
        f"/v1/complaints/{number}/evidence/{receipt['evidence_id']}/link", headers={"X-Access-Code": "2345678923"}
    )
    assert stranger.status_code == 404, stranger.text
    await check(tab, "follow-case-details")

    # Forwarded (after the supplement), the case still takes evidence: chosen, uploaded, listed at once.
    assert await status_is("forwarded")
    panel = page.locator("[data-action-panel=evidence]")
    assert await panel.is_visible()
    await page.click("[data-action-panel=evidence] summary")
    await page.set_input_files(
        "#f-added-evidence", [{"name": "划痕特写.png", "mimeType": "image/png", "buffer": png(80, 60)}]
    )
    await page.wait_for_function(
        "(text) => document.querySelector('[data-case-status]').textContent === text",
        arg=ZH["follow.evidence_added"].format(name="划痕特写.png"),
    )
    assert await files.all_text_contents() == ["收货照片.png", "发票.pdf", "划痕特写.png"]
    # On the complaint now, so no longer in the upload list, where "remove" would promise what it cannot do.
    assert await page.locator("[data-action-panel=evidence] .file-item").count() == 0
    case = (await platform.intake.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert [item["filename"] for item in case["evidence"]] == ["收货照片.png", "发票.pdf", "划痕特写.png"]
    await check(tab, "follow-evidence-added")

    # Withdrawn, the case takes no more evidence and the page stops offering it.
    withdrawn = await platform.intake.post(f"/v1/complaints/{number}/withdrawal", headers=guest, json={})
    assert withdrawn.status_code == 200, withdrawn.text
    await page.click("[data-action=refresh]")
    await page.wait_for_function(
        "(text) => document.querySelector('[data-bind=status]').textContent === text", arg=ZH["status.withdrawn"]
    )
    assert await panel.is_hidden()
    assert await files.count() == 3


async def test_a_rate_limited_form_says_how_long_to_wait_and_counts_down(open_tab, check, platform):
    login = "wait-a-while@example.cn"
    resets = "/v1/accounts/password-resets"
    while (answer := await platform.intake.post(resets, json={"login": login})).status_code != 429:
        assert answer.status_code in (200, 202), answer.text
    retry_after = int(answer.headers["Retry-After"])
    assert answer.json()["retry_after_s"] == retry_after

    tab = await open_tab("phone")
    page = tab.page
    # The browser's own clock, so the test can move it past the wait instead of sleeping through it.
    await page.clock.install()
    await tab.open("/account/reset")
    await page.fill("#f-login", login)
    await page.click("#reset-form button[type=submit]")
    notice = page.locator("#reset-form [data-rate-limit]")
    await notice.wait_for()
    text = await notice.text_content()
    seconds = re.search(r"\d+", text)
    assert seconds is not None, text
    shown = int(seconds.group())
    assert text == ZH["problem.rate_limited_wait"].format(seconds=shown)
    assert 0 < shown <= retry_after
    # A wait, not something to fix: no error summary, no field marked, the button disabled while it lasts.
    assert await page.locator("#reset-form .error-summary").is_hidden()
    assert await page.locator("#f-login[aria-invalid]").count() == 0
    assert await page.locator("#reset-form button[type=submit]").is_disabled()
    await check(tab, "rate-limited")
    # It counts down.
    await page.wait_for_function(
        "(before) => Number(document.querySelector('#reset-form [data-rate-limit]').textContent.match(/\\d+/)[0]) < before",
        arg=shown,
    )
    assert await page.locator("#reset-form button[type=submit]").is_disabled()
    assert await page.locator("#reset-confirm-form").is_hidden()
    # Once the wait is over the notice says so and the button works again.
    await page.clock.run_for(retry_after * 1000)
    await page.wait_for_function(
        "(text) => document.querySelector('#reset-form [data-rate-limit]').textContent === text",
        arg=ZH["problem.rate_limited_over"],
    )
    assert await page.locator("#reset-form button[type=submit]").is_enabled()


CONSENT_COMPANY = "c-yixue"  # no other module of this folder files against it
CONSENT_TITLE = "网课停更不退费"
CONSENT_ANSWER = "已核实课程停更，按未上课时退费。"


async def test_the_complainant_withdraws_the_consent_to_publication_on_the_follow_page(open_tab, check, platform):
    filed = await platform.intake.post(
        "/v1/complaints",
        json={
            "complainant": {"name": "吴十", "id_number": id_number("32010219800808104"), "phone": "13611114444"},
            "company": {"id": CONSENT_COMPANY},
            "category": "refund",
            "title": CONSENT_TITLE,
            "description": "购买的网课只更新了三节就停更，客服拒绝退还剩余课时费。",
            "occurred_on": "2026-10-12",
            "desired_outcome": "退还剩余课时费",
            "publication_consent": True,
        },
    )
    assert filed.status_code == 201, filed.text
    number, access_code = filed.json()["number"], filed.json()["access_code"]
    guest = {"X-Access-Code": access_code}

    async def forwarded() -> bool:
        return (await platform.intake.get(f"/v1/complaints/{number}", headers=guest)).json()["status"] == "forwarded"

    await until(forwarded, timeout=60, what="forwarding")
    answered = await platform.intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=await company_key(platform, CONSENT_COMPANY),
        json={"response_type": "monetary_relief", "text": CONSENT_ANSWER},
    )
    assert answered.status_code == 200, answered.text

    async def published() -> dict | None:
        shown = await platform.intake.get(f"/v1/public/complaints/{number}")
        return shown.json() if shown.status_code == 200 else None

    async def public_text() -> dict:
        record = await published()
        assert record is not None, "the public record is gone"
        return record

    record = await until(published, timeout=30, what="publication")
    assert record["narrative"].startswith(CONSENT_TITLE) and record["answer"] == CONSENT_ANSWER

    tab = await open_tab("phone")
    page = tab.page
    await tab.open("/follow")
    await page.fill("#f-number", number)
    await page.fill("#f-access-code", access_code)
    await page.click("#lookup-form button[type=submit]")
    await page.wait_for_selector("#case:not([hidden])")
    assert await page.text_content("[data-bind=publication]") == ZH["follow.publication_consented"]
    panel = page.locator("[data-consent-panel]")
    assert await panel.is_visible()

    # Final, so it needs the box ticked: sent without it, the form says so and nothing is withdrawn.
    await page.click("[data-consent-panel] summary")
    await page.click("[data-consent-form] button[type=submit]")
    assert await page.text_content("#f-consent-withdraw-confirm-error") == ZH["error.consent_withdrawal_unconfirmed"]
    assert (await public_text())["narrative"] is not None
    await check(tab, "follow-consent-confirm")

    await page.check("#f-consent-withdraw-confirm")
    await page.click("[data-consent-form] button[type=submit]")
    await page.wait_for_function(
        "(text) => document.querySelector('[data-case-status]').textContent === text",
        arg=ZH["follow.done.consent_withdrawn"],
    )
    assert await panel.is_hidden()
    assert (await page.text_content("[data-bind=publication]")).startswith("您已于")
    timeline = await page.locator("[data-list=timeline] .what").all_text_contents()
    assert timeline[0] == ZH["timeline.withdraw_publication_consent"]
    assert await page.text_content("[data-bind=status]") == ZH["status.responded"]  # the complaint goes on
    await check(tab, "follow-consent-withdrawn")

    # The public record lost the text at once, and its page shows the outcome without it.
    record = await public_text()
    assert (record["narrative"], record["answer"], record["headline"], record["narrative_public"]) == (
        None,
        None,
        None,
        False,
    )
    assert (record["company_id"], record["response_type"]) == (CONSENT_COMPANY, "monetary_relief")
    public = await open_tab("phone")
    await public.open(f"/public/results/{number}")
    await public.page.wait_for_selector("[data-show=record]:not([hidden])")
    assert await public.page.is_visible("[data-show=withheld]")
    body = await public.page.text_content("main")
    assert CONSENT_TITLE not in body and CONSENT_ANSWER not in body
