"""Messages (站内信) and evidence errors in Debian's Chromium against the whole platform: messages shown are
marked read, by their owner only, and the menu counts the unread ones; what a guest is told names the number
and access code, not an account; a program renamed .jpg is refused as not being a JPG, its row red with no
full progress bar, and filing with it still listed is refused until it is removed (without the page jumping).

The complaints of this module go to companies no other module of the folder files against (c-anju, c-suda)."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from devstack.accounts import register
from devstack.waiting import until
from intake.domain.identity import CHECK_CHARACTERS, ID_WEIGHTS
from tests.web.support import ZH, company_key

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct-horse-battery"
# A Windows program's first bytes (the "MZ" header): what a browser sends as image/jpeg when it is named .jpg.
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(2000)


def id_number(first_17: str) -> str:
    """A valid GB 11643 ID number from its first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, ID_WEIGHTS, strict=True))
    return first_17 + CHECK_CHARACTERS[total % 11]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (20, 160, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def complaint(company_id: str, id_number: str, phone: str) -> dict:
    return {
        "complainant": {"name": "郑十一", "id_number": id_number, "phone": phone},
        "company": {"id": company_id},
        "category": "refund",
        "title": "退款迟迟未到账",
        "description": "订单取消后承诺七日内退款，至今未到账，客服不再回复。",
        "occurred_on": "2026-11-03",
        "desired_outcome": "退还货款",
        "publication_consent": False,
        "evidence_ids": [],
    }


async def _messages(platform, path: str, headers: dict[str, str], count: int) -> dict | None:
    answer = await platform.intake.get(path, headers=headers)
    return answer.json() if answer.status_code == 200 and len(answer.json()["items"]) >= count else None


async def _unread(platform, path: str, headers: dict[str, str]) -> int:
    return (await platform.intake.get(path, headers=headers)).json()["unread"]


async def test_messages_shown_are_marked_read_by_their_owner_only_and_the_menu_counts_them(open_tab, check, platform):
    owner = await register(platform.intake, platform.mailbox, "zheng@example.cn", PASSWORD, name="郑十一")
    mine = {"Authorization": f"Bearer {owner['access_token']}"}
    filed = await platform.intake.post(
        "/v1/complaints", headers=mine, json=complaint("c-anju", id_number("11010519700101101"), "13811116666")
    )
    assert filed.status_code == 201, filed.text
    # Accepted, then forwarded: two messages, both unread.
    listed = await until(lambda: _messages(platform, "/v1/me/messages", mine, 2), timeout=60, what="two messages")
    assert listed["unread"] == len(listed["items"]) >= 2
    unread = listed["unread"]

    # Someone else cannot mark them: the same 404 as for a message that does not exist.
    other = await register(platform.intake, platform.mailbox, "feng@example.cn", PASSWORD)
    theirs = {"Authorization": f"Bearer {other['access_token']}"}
    for message in listed["items"]:
        refused = await platform.intake.post(f"/v1/me/messages/{message['id']}/read", headers=theirs)
        assert refused.status_code == 404 and refused.json()["code"] == "message_not_found", refused.text
    assert await _unread(platform, "/v1/me/messages", mine) == unread

    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/account/login")
    await page.fill("#f-login", "zheng@example.cn")
    await page.fill("#f-password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/account$"))
    # The menu's count, with its meaning in words for a screen reader.
    badge = page.locator("#site-nav a[href='/account'] [data-unread]")
    await badge.wait_for()
    assert await badge.locator("[aria-hidden=true]").text_content() == str(unread)
    assert await badge.locator(".visually-hidden").text_content() == ZH["messages.unread_count"].format(count=unread)
    await check(tab, "menu-unread")

    # Opening the list marks what it shows read; the badges say which ones were new; the menu's count goes.
    await tab.open("/account/messages")
    await page.wait_for_selector("[data-list=messages] li")
    assert await page.locator("[data-list=messages] li.unread").count() == unread
    await badge.wait_for(state="detached")
    assert await _unread(platform, "/v1/me/messages", mine) == 0
    await check(tab, "messages-read")
    await tab.open("/account/messages")
    await page.wait_for_selector("[data-list=messages] li")
    assert await page.locator("[data-list=messages] li.unread").count() == 0
    assert await badge.count() == 0


async def test_a_guest_is_told_to_follow_with_number_and_code_and_the_follow_page_marks_messages_read(
    open_tab, check, platform
):
    guest = {"X-Access-Code": ""}
    filed = await platform.intake.post(
        "/v1/complaints", json=complaint("c-suda", id_number("31010419850615102"), "13911117777")
    )
    assert filed.status_code == 201, filed.text
    number, code = filed.json()["number"], filed.json()["access_code"]
    guest["X-Access-Code"] = code
    path = f"/v1/complaints/{number}/messages"
    await until(lambda: _messages(platform, path, guest, 2), timeout=60, what="accepted and forwarded")
    answered = await platform.intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=await company_key(platform, "c-suda"),
        json={"response_type": "monetary_relief", "text": "已安排退款。"},
    )
    assert answered.status_code == 200, answered.text
    listed = await until(lambda: _messages(platform, path, guest, 3), timeout=60, what="the answer's message")
    [responded] = [item for item in listed["items"] if item["kind"] == "complaint.responded"]
    # A guest has no account to sign in to: the message sends them to the follow page with number and code.
    assert "请登录平台" not in responded["body_zh"] and "查询码" in responded["body_zh"]
    assert "Please sign in" not in responded["body_en"] and "access code" in responded["body_en"]

    # Another complaint's access code does not reach this complaint's messages.
    stranger = await platform.intake.post(
        "/v1/complaints", json=complaint("c-suda", id_number("44030519900101103"), "13711118888")
    )
    assert stranger.status_code == 201, stranger.text
    crossed = await platform.intake.post(
        f"/v1/complaints/{stranger.json()['number']}/messages/{responded['id']}/read",
        headers={"X-Access-Code": stranger.json()["access_code"]},
    )
    assert crossed.status_code == 404, crossed.text
    assert await _unread(platform, path, guest) == len(listed["items"])

    tab = await open_tab("phone")
    page = tab.page
    await tab.open("/follow")
    await page.fill("#f-number", number)
    await page.fill("#f-access-code", code)
    await page.click("#lookup-form button[type=submit]")
    await page.wait_for_selector("[data-list=messages] li")
    assert await page.locator("[data-list=messages] li.unread").count() == len(listed["items"])
    await until(lambda: _zero(platform, path, guest), timeout=15, what="the messages marked read")
    await check(tab, "follow-messages-read")


async def _zero(platform, path: str, headers: dict[str, str]) -> bool:
    return await _unread(platform, path, headers) == 0


async def fill_complaint(page) -> None:
    await page.fill("#f-company", "速达物流")
    await page.select_option("#f-category", "refund")
    await page.fill("#f-title", "快递丢件不赔付")
    await page.fill("#f-description", "寄出的包裹丢失，快递公司拒绝按保价金额赔付，客服多次推诿。")
    await page.fill("#f-occurred-on", "2026-11-04")
    await page.fill("#f-desired-outcome", "按保价金额赔付")
    await page.fill("#f-name", "王十二")
    await page.fill("#f-id-number", id_number("32010219880808104"))
    await page.fill("#f-phone", "13611119999")


async def test_a_program_named_jpg_is_refused_as_not_an_image_and_filing_waits_for_its_removal(
    open_tab, check, platform
):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/file")
    await fill_complaint(page)
    await page.set_input_files(
        "#f-evidence",
        [
            {"name": "照片.jpg", "mimeType": "image/jpeg", "buffer": PROGRAM},
            {"name": "运单.png", "mimeType": "image/png", "buffer": png()},
        ],
    )
    rows = page.locator(".file-item")
    await until(
        lambda: rows.evaluate_all("(nodes) => nodes.map((n) => n.dataset.state).sort().join() === 'failed,uploaded'"),
        what="one failed, one uploaded",
    )
    failed = page.locator(".file-item[data-state=failed]")
    # Said for what it is, not "type not supported" (JPG is accepted): its content is not a JPG.
    assert await failed.locator(".file-state").text_content() == ZH["evidence.not_really"].format(
        name="照片.jpg", type="JPG"
    )
    # Red, with no progress bar left full and green behind it.
    assert await failed.locator("progress").count() == 0
    colours = await failed.evaluate(
        "(node) => { const style = getComputedStyle(node); return [style.borderTopColor, style.backgroundColor]; }"
    )
    assert colours == ["rgb(179, 38, 30)", "rgb(253, 240, 240)"], colours
    assert await page.locator(".file-item[data-state=uploaded] progress").evaluate("(bar) => bar.value") == 100

    # Filing now would leave the file out without a word: refused, with the file named at the evidence field.
    await page.click("#complaint-form button[type=submit]")
    error = page.locator("#f-evidence-error")
    await error.wait_for()
    assert await error.text_content() == ZH["evidence.failed_listed"].format(names="照片.jpg")
    assert not [url for method, url in tab.requests if method == "POST" and url.endswith("/v1/complaints")]
    await check(tab, "file-evidence-failed")

    # 移除 is a button: removing the file leaves the page where it was.
    remove = failed.locator("button")
    assert await remove.evaluate("(node) => node.tagName === 'BUTTON' && !node.hasAttribute('href')")
    await remove.scroll_into_view_if_needed()
    await page.evaluate("() => window.scrollBy(0, 200)")
    before = await page.evaluate("() => window.scrollY")
    await remove.click()
    await failed.wait_for(state="detached")
    assert await page.evaluate("() => window.scrollY") == before
    assert "#" not in page.url

    await page.click("#complaint-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/file/receipt\?number=GC-"))
    await page.wait_for_selector("[data-evidence]:not([hidden])")
    assert await page.locator("[data-evidence] tbody tr").count() == 1


async def _forwarded(platform, number: str, code: str) -> bool:
    case = (await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
    return case["status"] == "forwarded"


async def test_a_supplement_is_not_sent_while_a_failed_file_is_listed(open_tab, check, platform):
    filed = await platform.intake.post(
        "/v1/complaints", json=complaint("c-suda", id_number("51010719750505106"), "13511112222")
    )
    assert filed.status_code == 201, filed.text
    number, code = filed.json()["number"], filed.json()["access_code"]
    await until(lambda: _forwarded(platform, number, code), timeout=60, what="forwarding")
    asked = await platform.intake.post(
        f"/v1/company/complaints/{number}/info-request",
        headers=await company_key(platform, "c-suda"),
        json={"question": "请提供订单号。"},
    )
    assert asked.status_code == 200, asked.text

    tab = await open_tab("phone")
    page = tab.page
    await tab.open("/follow")
    await page.fill("#f-number", number)
    await page.fill("#f-access-code", code)
    await page.click("#lookup-form button[type=submit]")
    await page.wait_for_selector("[data-action-panel=supplement]:not([hidden])")
    await page.fill("#f-supplement-text", "订单号见截图。")
    await page.set_input_files(
        "#f-supplement-evidence", [{"name": "截图.jpg", "mimeType": "image/jpeg", "buffer": PROGRAM}]
    )
    await page.wait_for_selector("[data-action-form=supplement] .file-item[data-state=failed]")
    await page.click("[data-action-form=supplement] button[type=submit]")
    error = page.locator("#f-supplement-evidence-error")
    await error.wait_for()
    assert await error.text_content() == ZH["evidence.failed_listed"].format(names="截图.jpg")
    assert not [url for method, url in tab.requests if method == "POST" and url.endswith("/supplement")]
    await check(tab, "follow-supplement-failed-file")
