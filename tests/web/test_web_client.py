"""The public web client in Debian's Chromium against the whole platform: a guest files with two evidence
files, reads the receipt, follows the case while the company answers through its API, and rates it; an unsatisfied rating still
offers the appeal, which goes through; a
person registers on a phone with the code mailed to it, files, and finds the complaint under my complaints;
a forgotten password is reset with a code; an invalid form shows its messages and files nothing; a refused
or oversized file is refused before any upload; the English switch is remembered; every page passes axe at
phone and desktop widths."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from devstack.accounts import code_in, mails_to, next_mail, register
from devstack.waiting import until
from tests.web.support import EN, ZH, company_key

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ID_NUMBER = "11010519491231002X"
ID_NUMBER_WRONG_CHECK_DIGIT = "110105194912310021"
PAGES = (
    "/",
    "/file",
    "/follow",
    "/account/login",
    "/account/register",
    "/account/reset",
    "/public",
    "/public/companies",
)


def png(width: int = 60, height: int = 40) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 160, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


async def case_status(platform, number: str, access_code: str) -> dict:
    return (await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": access_code})).json()


async def fill_complaint(page, *, company: str, pick_suggestion: bool, title: str, id_number: str = ID_NUMBER) -> None:
    await page.fill("#f-company", company)
    if pick_suggestion:
        await page.wait_for_selector("#f-company-options [role=option] >> nth=0")
        await page.press("#f-company", "ArrowDown")
        await page.press("#f-company", "Enter")
    await page.select_option("#f-category", "refund")
    await page.fill("#f-title", title)
    await page.fill("#f-description", "七天无理由退款期内申请退款，客服以课程已观看为由拒绝，多次沟通无果。")
    await page.fill("#f-occurred-on", "2026-11-01")
    await page.fill("#f-desired-outcome", "全额退还课程费用")
    await page.fill("#f-name", "吴七")
    await page.fill("#f-id-number", id_number)
    await page.fill("#f-phone", "13811112222")
    await page.fill("#f-email", "wu@example.cn")


async def submitted_filings(tab) -> list[str]:
    return [url for method, url in tab.requests if method == "POST" and url.endswith("/v1/complaints")]


async def test_every_page_passes_axe_at_phone_and_desktop_widths(open_tab, check):
    for viewport in ("desktop", "phone"):
        tab = await open_tab(viewport)
        for path in PAGES:
            await tab.open(path)
            assert await tab.page.get_attribute("html", "lang") == "zh-CN"
            await check(tab, "page-" + (path.strip("/").replace("/", "-") or "home"))
        if viewport == "phone":
            # The menu folds behind a button on a phone; it opens by keyboard.
            toggle = tab.page.locator(".menu-toggle")
            assert await toggle.is_visible() and not await tab.page.locator("#site-nav").is_visible()
            await toggle.focus()
            await tab.page.keyboard.press("Enter")
            assert await toggle.get_attribute("aria-expanded") == "true"
            assert await tab.page.locator("#site-nav").is_visible()
            await check(tab, "menu-open")


async def test_a_mistyped_address_opens_the_not_found_page(open_tab, check):
    tabs = {}
    for viewport in ("desktop", "phone"):
        tab = tabs[viewport] = await open_tab(viewport)
        answer = await tab.page.goto(tab.base_url + "/flie")
        assert answer.status == 404 and answer.headers["content-type"].startswith("text/html")
        assert await tab.page.text_content("h1") == ZH["not_found.heading"]
        links = await tab.page.locator("main a").evaluate_all(
            "(nodes) => nodes.map((node) => node.getAttribute('href'))"
        )
        assert {"/", "/file", "/follow"} <= set(links)
        await check(tab, "not-found")
    tab = tabs["phone"]
    await tab.page.click("main a[href='/file']")
    await tab.page.wait_for_url(re.compile(r"/file$"))
    assert await tab.page.text_content("h1") == ZH["file.heading"]


async def test_the_receipt_fits_a_phone_and_keeps_the_whole_hash(open_tab, check):
    tab = await open_tab("phone")
    page = tab.page
    await tab.open("/follow")  # the tab's storage of this origin, as filing leaves it
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    receipt = {
        "number": "GC-20261201-000042",
        "access_code": "ABCDEFGH23",
        "filed_at": "2026-12-01T02:00:00Z",
        "company": "迅联科技有限公司",
        "evidence": [{"evidence_id": "e1", "filename": "订单截图.png", "size": 156, "sha256": digest}],
    }
    await page.evaluate(
        "(receipt) => sessionStorage.setItem('gc.receipt.' + receipt.number, JSON.stringify(receipt))", receipt
    )
    await tab.open(f"/file/receipt?number={receipt['number']}")
    await page.wait_for_selector("[data-evidence]:not([hidden])")
    lines = (
        "(node) => { const range = document.createRange(); range.selectNodeContents(node); "
        "return new Set(Array.from(range.getClientRects(), (rect) => Math.round(rect.top))).size; }"
    )
    size = page.locator(".receipt td.size")
    assert await size.text_content() == "156 B" and await size.evaluate(lines) == 1, "156 B on one line"
    code = page.locator(".receipt code.hash")
    assert await code.text_content() == digest and await code.get_attribute("title") == digest
    assert await code.evaluate("(node) => node.offsetHeight < 2 * parseFloat(getComputedStyle(node).lineHeight)"), (
        "the hash on one line"
    )
    assert await page.get_attribute(".receipt [data-copy]", "data-copy") == digest
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 375
    await check(tab, "receipt-phone")


async def test_guest_files_with_two_evidence_files_follows_the_answer_and_rates(open_tab, check, platform):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/file")
    await fill_complaint(page, company="迅联", pick_suggestion=True, title="课程退款被拒绝（网页）")
    assert "迅联科技有限公司" in await page.text_content("#f-company-chosen")
    await page.set_input_files(
        "#f-evidence",
        [
            {"name": "订单截图.png", "mimeType": "image/png", "buffer": png()},
            {"name": "聊天记录.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ],
    )
    items = page.locator(".file-item")
    await until(
        lambda: items.evaluate_all(
            "(nodes) => nodes.length === 2 && nodes.every((n) => n.dataset.state === 'uploaded')"
        ),
        what="both uploads",
    )
    assert await page.locator(".file-item progress").evaluate_all("(bars) => bars.map((bar) => bar.value)") == [
        100,
        100,
    ]
    await page.check("#f-consent")
    await check(tab, "file-filled")
    await page.click("#complaint-form button[type=submit]")

    # The receipt: number and access code, the two files' SHA-256.
    await page.wait_for_url(re.compile(r"/file/receipt\?number=GC-"))
    number = (await page.text_content("[data-number]")).strip()
    access_code = (await page.text_content("[data-access-code]")).strip()
    assert re.fullmatch(r"GC-\d{8}-\d{6}", number) and re.fullmatch(r"[2-9A-HJKMNP-Z]{10}", access_code)
    await check(tab, "receipt")
    # Printed: the number and code without navigation or buttons.
    await page.emulate_media(media="print")
    assert not await page.is_visible(".site-header") and not await page.is_visible("[data-action=print]")
    assert await page.is_visible("[data-access-code]")
    # ...and whose receipt it is: the platform's name and address.
    printed = page.locator(".receipt .print-only")
    assert await printed.is_visible()
    assert await printed.text_content() == f"{ZH['site.name']} · {tab.base_url}"
    await tab.screenshot("receipt-print")
    await page.emulate_media(media="screen")
    case = await case_status(platform, number, access_code)
    assert case["title"] == "课程退款被拒绝（网页）" and case["publication_consent"] is True
    assert case["company"]["requested"] == {"id": "c-xunlian", "name": None}
    hashes = await page.locator("[data-evidence] code.hash").all_text_contents()
    assert sorted(hashes) == sorted(item["sha256"] for item in case["evidence"]) and len(hashes) == 2
    async with page.expect_download() as saved:
        await page.click("[data-action=save]")
    receipt_text = (await (await saved.value).path()).read_text(encoding="utf-8")
    assert number in receipt_text and access_code in receipt_text

    # Following: the tab keeps the code, so the number alone opens the complaint.
    await page.click("[data-follow-link]")
    await page.wait_for_selector("#case:not([hidden])")
    assert (await page.text_content("[data-bind=number]")).strip() == number
    await until(lambda: _status_is(platform, number, access_code, "forwarded"), timeout=60, what="forwarding")
    await page.click("[data-action=refresh]")
    await page.wait_for_function(
        "(text) => document.querySelector('[data-bind=status]').textContent === text", arg=ZH["status.forwarded"]
    )
    # The badge says the status; the note beside it does not say it again.
    assert ZH["status.forwarded"] not in await page.text_content("[data-case-status]")
    assert await page.is_visible("[data-action-panel=withdraw]") and not await page.is_visible(
        "[data-action-panel=rate]"
    )

    company = await company_key(platform, "c-xunlian")
    answered = await platform.intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=company,
        json={"response_type": "monetary_relief", "text": "已核实，将在3个工作日内全额退款。"},
    )
    assert answered.status_code == 200, answered.text
    await page.click("[data-action=refresh]")
    await page.wait_for_selector("[data-action-panel=rate]:not([hidden])")
    assert await page.text_content("[data-bind=response_text]") == "已核实，将在3个工作日内全额退款。"
    assert await page.text_content("[data-bind=response_type]") == ZH["response_type.monetary_relief"]
    await check(tab, "follow-answered")

    # Rating by keyboard: the radio group and the submit button.
    await page.focus("#f-rating-5")
    await page.keyboard.press("Space")
    await page.fill("#f-rating-comment", "处理及时")
    await page.click("[data-action-form=rate] button[type=submit]")
    await page.wait_for_function(
        "(text) => document.querySelector('[data-case-status]').textContent === text", arg=ZH["follow.done.rate"]
    )
    assert await page.text_content("[data-bind=status]") == ZH["status.closed"]
    await check(tab, "follow-closed")
    closed = await case_status(platform, number, access_code)
    assert (
        closed["status"] == "closed" and closed["rating"]["rating"] == 5 and closed["rating"]["comment"] == "处理及时"
    )

    # The access code travelled in headers only: never in an address, and kept only in this tab's sessionStorage.
    assert not [url for _, url in tab.requests if access_code in url]
    kept = await page.evaluate(
        "() => JSON.stringify({...sessionStorage}) + '|' + JSON.stringify({...localStorage}) + '|' + document.cookie"
    )
    session_part, local_part, cookies = kept.split("|", 2)
    assert access_code in session_part and access_code not in local_part and access_code not in cookies


async def test_an_unsatisfied_rating_still_offers_the_appeal(open_tab, check, platform):
    filed = await platform.intake.post(
        "/v1/complaints",
        json={
            "complainant": {"name": "吴七", "id_number": ID_NUMBER, "phone": "13811112222", "email": "wu@example.cn"},
            "company": {"name": "迅联"},
            "category": "refund",
            "title": "直播课内容与宣传不符",
            "description": "购买的直播课实际为录播，与宣传页面不符，申请退款时客服称已开课不能退。",
            "occurred_on": "2026-11-01",
            "desired_outcome": "全额退还课程费用",
        },
    )
    assert filed.status_code == 201, filed.text
    number, access_code = filed.json()["number"], filed.json()["access_code"]
    await until(lambda: _status_is(platform, number, access_code, "forwarded"), timeout=60, what="forwarding")
    company = await company_key(platform, "c-xunlian")
    answered = await platform.intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=company,
        json={"response_type": "declined", "text": "课程已观看超过30%，不予退款。"},
    )
    assert answered.status_code == 200, answered.text

    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/follow")
    await page.fill("#f-number", number)
    await page.fill("#f-access-code", access_code)
    await page.click("#lookup-form button[type=submit]")
    await page.wait_for_selector("#case:not([hidden])")
    # Rating and appeal side by side, each said in one line, both open.
    for panel in ("rate", "appeal"):
        assert await page.is_visible(f"[data-action-panel={panel}][open] form"), panel
    assert (await page.text_content("[data-show=rate_or_appeal]")).strip() == ZH["follow.rate_or_appeal"]
    await check(tab, "follow-rate-or-appeal")

    await page.check("#f-rating-2")
    await page.fill("#f-rating-comment", "未退款")
    await page.click("[data-action-form=rate] button[type=submit]")
    await page.wait_for_function(
        "(text) => document.querySelector('[data-case-status]').textContent === text",
        arg=ZH["follow.done.rate_appeal_open"],
    )
    assert await page.text_content("[data-bind=status]") == ZH["status.responded"]
    assert not await page.is_visible("[data-action-panel=rate]") and await page.is_visible("[data-action-panel=appeal]")
    assert (await page.text_content("[data-bind=rating]")).startswith(ZH["rating.2"])
    await check(tab, "follow-rated-unsatisfied")

    await page.fill("#f-appeal-reason", "规则未在购买前告知，属于格式条款。")
    await page.click("[data-action-form=appeal] button[type=submit]")
    await page.wait_for_function(
        "(text) => document.querySelector('[data-case-status]').textContent === text", arg=ZH["follow.done.appeal"]
    )
    assert await page.text_content("[data-bind=status]") == ZH["status.appealed"]
    case = await case_status(platform, number, access_code)
    assert (
        case["status"] == "appealed" and case["rating"]["rating"] == 2 and case["appeal"]["reason"].startswith("规则")
    )


async def _status_is(platform, number, access_code, status) -> bool:
    return (await case_status(platform, number, access_code))["status"] == status


async def _status_with(platform, number, headers, status) -> bool:
    return (await platform.intake.get(f"/v1/complaints/{number}", headers=headers)).json()["status"] == status


async def test_invalid_form_shows_what_to_fix_and_files_nothing(open_tab, check, platform):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/file")
    before = await platform.apps["intake"].state.intake.cases.complaints.count_documents({})

    await page.click("#complaint-form button[type=submit]")
    summary = page.locator("#complaint-form .error-summary")
    await summary.wait_for()
    assert await summary.evaluate("(node) => node === document.activeElement")
    assert await summary.locator("li").count() == 9  # company, category, title, what, when, outcome, name, ID, phone
    assert await page.get_attribute("#f-title", "aria-invalid") == "true"
    assert "f-title-error" in await page.get_attribute("#f-title", "aria-describedby")
    assert await page.text_content("#f-title-error") == ZH["error.missing.file.complaint_title"]

    # A wrong check digit is refused without naming the right one (that would let a slip elsewhere through).
    await fill_complaint(page, company="迅联", pick_suggestion=False, title="短", id_number=ID_NUMBER_WRONG_CHECK_DIGIT)
    await page.fill("#f-phone", "12345")
    await page.click("#complaint-form button[type=submit]")
    await page.wait_for_selector("#f-id-number-error:not([hidden])")
    neutral = await page.text_content("#f-id-number-error")
    assert neutral == ZH["error.id_number_check_digit"] and "X" not in neutral
    assert await page.text_content("#f-phone-error") == ZH["error.phone_format"]
    assert await page.text_content("#f-title-error") == ZH["error.string_too_short"].format(
        label=ZH["file.complaint_title"], min=4
    )
    await check(tab, "file-errors")
    assert await submitted_filings(tab) == []

    # Editing the field takes its message away at once, not at the next submit; the others stay.
    await page.locator("#f-id-number").press_sequentially("1")
    assert await page.is_hidden("#f-id-number-error")
    assert await page.get_attribute("#f-id-number", "aria-invalid") is None
    assert await page.locator("#complaint-form .error-summary a[href='#f-id-number']").count() == 0
    assert await page.is_visible("#f-phone-error")

    # What only the server checks comes back as a problem document, shown at its field.
    await page.fill("#f-id-number", ID_NUMBER)
    await page.fill("#f-phone", "13811112222")
    await page.fill("#f-title", "课程退款被拒绝")
    await page.fill("#f-name", "吴七7")
    await page.click("#complaint-form button[type=submit]")
    await page.wait_for_selector("#f-name-error:not([hidden])")
    assert await page.text_content("#f-name-error") == ZH["error.name_character"]
    assert len(await submitted_filings(tab)) == 1
    assert await platform.apps["intake"].state.intake.cases.complaints.count_documents({}) == before


async def test_refused_type_and_oversized_file_are_refused_before_upload(open_tab, platform):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/file")
    limits = (await platform.intake.get("/v1/evidence/limits")).json()
    image_limit = limits["max_bytes"]["image"]
    await page.wait_for_selector("[data-limits-text]:not(:empty)")
    await page.set_input_files(
        "#f-evidence",
        [
            {"name": "setup.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ" + bytes(200)},
            {"name": "huge.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + bytes(image_limit)},
        ],
    )
    refused = page.locator(".file-item[data-state=refused] .file-state")
    await until(lambda: _count_is(refused, 2), what="both refusals")
    texts = await refused.all_text_contents()
    assert texts[0] == ZH["error.unsupported_media_type"].format(name="setup.exe")
    assert texts[1].startswith("huge.png") and "10" in texts[1]
    assert not [url for method, url in tab.requests if method == "POST" and "/v1/evidence" in url]


async def _count_is(locator, count: int) -> bool:
    return await locator.count() == count


async def test_registered_person_files_on_a_phone_and_finds_it_under_my_complaints(open_tab, check, platform):
    tab = await open_tab("phone")
    page = tab.page
    await tab.open("/account/register")
    seen = len(mails_to(platform.mailbox, "zhao@example.cn"))
    await page.fill("#f-login", "zhao@example.cn")
    await page.click("#register-form button[type=submit]")
    await page.wait_for_selector("#register-confirm-form:not([hidden])")
    assert "zhao@example.cn" in await page.text_content("#register-form .form-status")
    code = code_in(await next_mail(platform.mailbox, "zhao@example.cn", seen))
    assert code is not None
    await check(tab, "register-code-sent")
    await page.fill("#f-code", code)
    await page.fill("#f-password", "short")
    await page.click("#register-confirm-form button[type=submit]")
    await page.wait_for_selector("#f-password-error:not([hidden])")
    await page.fill("#f-code", f"{(int(code) + 1) % 1_000_000:06d}")
    await page.fill("#f-password", "correct-horse-battery")
    await page.fill("#f-name", "赵六")
    await page.click("#register-confirm-form button[type=submit]")
    await page.wait_for_selector("#f-code-error:not([hidden])")  # a wrong code is marked on its field
    await page.fill("#f-code", code)
    await page.click("#register-confirm-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/account$"))
    await page.wait_for_selector("[data-show=empty]:not([hidden])")
    await check(tab, "account-empty")

    await tab.open("/file")
    assert await page.is_visible("p[data-when=signed-in]")
    await fill_complaint(page, company="迅联科技", pick_suggestion=False, title="会员自动续费未提醒")
    await check(tab, "file-signed-in")
    await page.click("#complaint-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/file/receipt\?number=GC-"))
    number = (await page.text_content("[data-number]")).strip()
    await check(tab, "receipt")

    await tab.open("/account")
    card = page.locator("[data-list=complaints] li", has_text=number)
    await card.wait_for()
    assert "会员自动续费未提醒" in await card.text_content()
    await check(tab, "account")
    mine = await platform.intake.post(
        "/v1/auth/token", json={"login": "zhao@example.cn", "password": "correct-horse-battery"}
    )
    listed = await platform.intake.get(
        "/v1/me/complaints", headers={"Authorization": f"Bearer {mine.json()['access_token']}"}
    )
    assert [item["number"] for item in listed.json()["items"]] == [number]

    # Signed in, the complaint opens from the list without an access code; the company asks a question,
    # the person answers it, then withdraws the complaint.
    await card.locator("a").click()
    await page.wait_for_selector("#case:not([hidden])")
    await check(tab, "follow")
    me = {"Authorization": f"Bearer {mine.json()['access_token']}"}
    await until(lambda: _status_with(platform, number, me, "forwarded"), timeout=60, what="forwarding")
    company = await company_key(platform, "c-xunlian")
    asked = await platform.intake.post(
        f"/v1/company/complaints/{number}/info-request", headers=company, json={"question": "请提供扣费记录截图。"}
    )
    assert asked.status_code == 200, asked.text
    await page.click("[data-action=refresh]")
    await page.wait_for_selector("[data-action-panel=supplement]:not([hidden])")
    assert "请提供扣费记录截图。" in await page.text_content("[data-list=questions]")
    await check(tab, "follow-question")
    await page.fill("#f-supplement-text", "扣费记录见附件。")
    await page.set_input_files(
        "#f-supplement-evidence", [{"name": "扣费记录.png", "mimeType": "image/png", "buffer": png()}]
    )
    await page.click("[data-action-form=supplement] button[type=submit]")
    await page.wait_for_function(
        "(text) => document.querySelector('[data-case-status]').textContent === text", arg=ZH["follow.done.supplement"]
    )
    supplemented = (await platform.intake.get(f"/v1/complaints/{number}", headers=me)).json()
    assert supplemented["status"] == "forwarded" and supplemented["supplements"][0]["text"] == "扣费记录见附件。"
    assert len(supplemented["evidence"]) == 1

    await page.click("[data-action-panel=withdraw] summary")
    await page.click("[data-action-form=withdraw] button[type=submit]")
    await page.wait_for_selector("#f-withdraw-confirm-error:not([hidden])")  # the confirmation box first
    await page.check("#f-withdraw-confirm")
    await page.click("[data-action-form=withdraw] button[type=submit]")
    await page.wait_for_function(
        "(text) => document.querySelector('[data-bind=status]').textContent === text", arg=ZH["status.withdrawn"]
    )
    assert (await platform.intake.get(f"/v1/complaints/{number}", headers=me)).json()["status"] == "withdrawn"
    await tab.open("/account/messages")
    await page.wait_for_selector("[data-list-status]:not(:empty)")
    await check(tab, "messages")


async def test_a_forgotten_password_is_reset_with_a_code(open_tab, check, platform):
    login = "qian@example.cn"
    await register(platform.intake, platform.mailbox, login, "the-old-password-1")
    tab = await open_tab("phone")
    page = tab.page
    await tab.open("/account/login")
    await page.click("a[href='/account/reset']")
    await page.wait_for_url(re.compile(r"/account/reset$"))
    seen = len(mails_to(platform.mailbox, login))
    await page.fill("#f-login", login)
    await page.click("#reset-form button[type=submit]")
    await page.wait_for_selector("#reset-confirm-form:not([hidden])")
    code = code_in(await next_mail(platform.mailbox, login, seen))
    await page.fill("#f-code", code)
    await page.fill("#f-password", "the-new-password-2")
    await check(tab, "reset")
    await page.click("#reset-confirm-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/account$"))
    await page.wait_for_selector("[data-show=empty]:not([hidden])")
    old = await platform.intake.post("/v1/auth/token", json={"login": login, "password": "the-old-password-1"})
    new = await platform.intake.post("/v1/auth/token", json={"login": login, "password": "the-new-password-2"})
    assert (old.status_code, new.status_code) == (401, 200)


async def test_english_switch_is_remembered(open_tab, check):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/")
    assert await page.text_content("h1") == ZH["home.heading"]
    await page.click(f"text={ZH['nav.switch_language']}")
    await page.wait_for_load_state("networkidle")
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.text_content("h1") == EN["home.heading"]
    await tab.open("/file")  # remembered in a cookie, without ?lang=
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.text_content("h1") == EN["file.heading"]
    await page.click("#complaint-form button[type=submit]")
    await page.wait_for_selector("#f-title-error:not([hidden])")
    # Each field says what it needs in plain English, not "Enter" glued to its label.
    shown = {
        field: await page.text_content(f"#f-{field}-error")
        for field in (
            "company",
            "category",
            "title",
            "description",
            "occurred-on",
            "desired-outcome",
            "name",
            "id-number",
            "phone",
        )
    }
    assert shown == {
        "company": EN["error.missing.file.company"],
        "category": EN["error.missing.file.category"],
        "title": EN["error.missing.file.complaint_title"],
        "description": EN["error.missing.file.description"],
        "occurred-on": EN["error.missing.file.occurred_on"],
        "desired-outcome": EN["error.missing.file.desired_outcome"],
        "name": EN["error.missing.file.name"],
        "id-number": EN["error.missing.file.id_number"],
        "phone": EN["error.missing.file.phone"],
    }
    assert shown["description"] == "Describe what happened." and shown["category"] == "Choose a category."
    assert not [text for text in shown.values() if text.startswith("Enter " + "Category") or "Enter What" in text]
    await check(tab, "file-en")
    config = json.loads(await page.text_content("#gc-config"))
    assert config["lang"] == "en"
    await page.click(f"text={EN['nav.switch_language']}")
    await page.wait_for_load_state("networkidle")
    assert await page.get_attribute("html", "lang") == "zh-CN"
