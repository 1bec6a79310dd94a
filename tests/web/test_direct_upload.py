"""Large evidence files from Debian's Chromium straight to object storage (nanio), against the whole platform: a
50 MiB video is declared to the gateway as a multipart upload, its parts PUT to their presigned URLs, several at once,
with the progress bar rising to 100 %, completed and filed with the complaint, its SHA-256 on the receipt, none of its bytes
through the gateway; a part whose connection drops is sent again by itself, and one that keeps failing is offered to
resume (继续上传), which sends only the parts storage does not hold and completes it; on the follow page a large file
is added to a filed complaint the same way (its own route).

The complaints of this module go to a company no other module of the folder files against (c-lanjing)."""

from __future__ import annotations

import hashlib
import os
import re
import struct
from collections import Counter
from pathlib import Path

import pytest

from devstack.platform import INTERNAL_TOKEN
from devstack.waiting import until
from evidence.domain.uploads import MULTIPART_PART_BYTES
from intake.domain.identity import CHECK_CHARACTERS, ID_WEIGHTS
from intake.web.pages import DIRECT_UPLOAD_ABOVE_BYTES, UPLOAD_PARTS_AT_ONCE
from tests.web.support import ZH

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MIB = 1024 * 1024

# Every value the progress bars take, recorded as the page sets them (a <progress>'s value reflects to its attribute).
RECORD_PROGRESS = """() => {
  window.seenProgress = [];
  new MutationObserver((changes) => changes.forEach((change) => window.seenProgress.push(Number(change.target.value))))
    .observe(document.body, { subtree: true, attributes: true, attributeFilter: ["value"] });
}"""


# The most PUT requests on their way at the same moment, counted where the page sends them.
COUNT_PUTS_AT_ONCE = """() => {
  window.putsAtOnce = 0;
  window.mostPutsAtOnce = 0;
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, ...rest) {
    this.isPut = method === "PUT";
    return open.call(this, method, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...rest) {
    if (this.isPut) {
      window.putsAtOnce += 1;
      window.mostPutsAtOnce = Math.max(window.mostPutsAtOnce, window.putsAtOnce);
      // The end as the first event says it (before "load", whose handlers may already send the next part).
      this.addEventListener("readystatechange", () => { if (this.readyState === 4) { window.putsAtOnce -= 1; } });
    }
    return send.apply(this, rest);
  };
}"""


def id_number(first_17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first_17, ID_WEIGHTS, strict=True))
    return first_17 + CHECK_CHARACTERS[total % 11]


def video(path: Path, size: int) -> str:
    """A ``size``-byte MP4 (an ``ftyp`` box, then one ``mdat`` box of random filler to the end); its SHA-256."""
    brands = b"isom" + b"\x00\x00\x02\x00" + b"isomiso2mp41"
    content = struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands + struct.pack(">I", 0) + b"mdat"
    content += os.urandom(size - len(content))
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest()


async def fill_complaint(page, title: str, id_first_17: str) -> None:
    await page.fill("#f-company", "蓝鲸视频")
    await page.wait_for_selector("#f-company-options [role=option] >> nth=0")
    await page.press("#f-company", "ArrowDown")
    await page.press("#f-company", "Enter")
    await page.select_option("#f-category", "refund")
    await page.fill("#f-title", title)
    await page.fill("#f-description", "会员自动续费后申请退款被拒，客服称已观看视频不予退款，录屏为证。")
    await page.fill("#f-occurred-on", "2026-11-05")
    await page.fill("#f-desired-outcome", "退还自动续费的会员费")
    await page.fill("#f-name", "冯十三")
    await page.fill("#f-id-number", id_number(id_first_17))
    await page.fill("#f-phone", "13711113333")


def storage_puts(tab, s3_endpoint: str) -> list[str]:
    storage = f"http://{s3_endpoint}/"
    return [url for method, url in tab.requests if method == "PUT" and url.startswith(storage)]


def part_numbers(urls: list[str]) -> list[int]:
    return [int(re.search(r"[?&]partNumber=(\d+)", url).group(1)) for url in urls]  # type: ignore[union-attr]


def parts_of(size: int) -> int:
    return -(-size // MULTIPART_PART_BYTES)


async def uploaded(page) -> bool:
    return await page.locator(".file-item").evaluate_all(
        "(nodes) => nodes.length === 1 && nodes[0].dataset.state === 'uploaded'"
    )


async def test_a_50_mib_video_goes_straight_to_storage_with_its_progress_and_is_filed(
    open_tab, check, platform, s3_endpoint, tmp_path
):
    path = tmp_path / "录屏.mp4"
    digest = video(path, 50 * MIB)
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/file")
    await fill_complaint(page, "自动续费不退款（大文件直传）", "44030519900101123")
    await page.evaluate(RECORD_PROGRESS)
    await page.evaluate(COUNT_PUTS_AT_ONCE)
    await page.set_input_files("#f-evidence", str(path))
    await until(lambda: uploaded(page), timeout=180, what="the video uploaded")

    # Declared, its parts PUT to storage (each once, several at a time), completed: the bytes never went through the
    # gateway.
    assert sorted(part_numbers(storage_puts(tab, s3_endpoint))) == list(range(1, parts_of(50 * MIB) + 1))
    assert await page.evaluate("() => window.mostPutsAtOnce") == min(UPLOAD_PARTS_AT_ONCE, parts_of(50 * MIB))
    posts = [url for method, url in tab.requests if method == "POST"]
    assert [url for url in posts if url.endswith("/v1/uploads")], posts
    assert [url for url in posts if re.search(r"/v1/uploads/[0-9a-f]{32}/complete$", url)], posts
    assert not [url for url in posts if url.endswith("/v1/evidence")], posts
    seen = await page.evaluate("() => window.seenProgress")
    assert seen and max(seen) == 100 and seen == sorted(seen), seen
    assert await page.locator(".file-item progress").evaluate("(bar) => bar.value") == 100
    await check(tab, "file-direct-upload")

    await page.click("#complaint-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/file/receipt\?number=GC-"))
    await page.wait_for_selector("[data-evidence]:not([hidden])")
    assert await page.locator("[data-evidence] code.hash").all_text_contents() == [digest]
    number = page.url.rsplit("=", 1)[1]
    await check(tab, "receipt-direct-upload")
    stored = await platform.evidence.get(
        f"/v1/complaints/{number}/evidence", headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    )
    assert stored.status_code == 200, stored.text
    assert [(item["sha256"], item["size"]) for item in stored.json()["items"]] == [(digest, 50 * MIB)]


async def test_a_dropped_put_is_sent_again_and_one_that_keeps_failing_is_resumed(
    open_tab, check, platform, s3_endpoint, tmp_path
):
    path = tmp_path / "通话录像.mp4"
    digest = video(path, DIRECT_UPLOAD_ABOVE_BYTES + MIB)
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/file")
    await fill_complaint(page, "自动续费不退款（断点续传）", "44030519900101124")

    # The first part's connection is reset: the uploader sends it again by itself, after a pause.
    drops = {"left": 1}

    async def drop(route):
        if route.request.method == "PUT" and drops["left"]:
            drops["left"] -= 1
            await route.abort("connectionreset")
        else:
            await route.continue_()

    storage = f"http://{s3_endpoint}/**"
    await page.route(storage, drop)
    await page.set_input_files("#f-evidence", str(path))
    await until(lambda: uploaded(page), timeout=120, what="the upload retried")
    assert drops["left"] == 0
    # Both parts at once; the one whose connection was reset went again.
    assert sorted(part_numbers(storage_puts(tab, s3_endpoint))) in ([1, 1, 2], [1, 2, 2])
    await page.click("#complaint-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/file/receipt\?number=GC-"))
    await page.wait_for_selector("[data-evidence]:not([hidden])")
    assert await page.locator("[data-evidence] code.hash").all_text_contents() == [digest]

    # Every PUT fails: after its retries the file is marked failed with 继续上传, and filing waits for it.
    await tab.open("/file")
    await fill_complaint(page, "自动续费不退款（继续上传）", "44030519900101125")
    drops["left"] = 100
    before = len(storage_puts(tab, s3_endpoint))
    await page.set_input_files("#f-evidence", str(path))
    failed = page.locator(".file-item[data-state=failed]")
    await failed.wait_for(timeout=60_000)
    # Each part's first try and three retries (both parts on their way at once).
    assert sorted(part_numbers(storage_puts(tab, s3_endpoint)[before:])) == [1] * 4 + [2] * 4
    assert await failed.locator(".file-state").text_content() == ZH["problem.network"]
    resume = failed.locator("button[data-resume]")
    assert (await resume.text_content()).startswith(ZH["evidence.resume"])
    await check(tab, "file-direct-upload-resume")
    await page.click("#complaint-form button[type=submit]")
    error = page.locator("#f-evidence-error")
    await error.wait_for()
    assert await error.text_content() == ZH["evidence.failed_listed"].format(names=path.name)

    # The connection is back: resuming sends the parts with the same ticket (no second declaration) and completes.
    drops["left"] = 0
    declarations = [url for method, url in tab.requests if method == "POST" and url.endswith("/v1/uploads")]
    await resume.click()
    await until(lambda: uploaded(page), timeout=120, what="the resumed upload")
    assert [url for method, url in tab.requests if method == "POST" and url.endswith("/v1/uploads")] == declarations
    await page.click("#complaint-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/file/receipt\?number=GC-"))
    await page.wait_for_selector("[data-evidence]:not([hidden])")
    assert await page.locator("[data-evidence] code.hash").all_text_contents() == [digest]
    assert not tab.errors, tab.errors


async def test_a_large_file_added_to_a_filed_complaint_goes_straight_to_storage(
    open_tab, check, platform, s3_endpoint, tmp_path
):
    filed = await platform.intake.post(
        "/v1/complaints",
        json={
            "complainant": {"name": "冯十三", "id_number": id_number("44030519900101126"), "phone": "13711114444"},
            "company": {"id": "c-lanjing"},
            "category": "refund",
            "title": "自动续费不退款（补充录屏）",
            "description": "会员自动续费后申请退款被拒，客服称已观看视频不予退款。",
            "occurred_on": "2026-11-05",
            "desired_outcome": "退还自动续费的会员费",
            "evidence_ids": [],
        },
    )
    assert filed.status_code == 201, filed.text
    number, access_code = filed.json()["number"], filed.json()["access_code"]

    async def forwarded() -> bool:
        case = await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": access_code})
        return case.json()["status"] == "forwarded"

    await until(forwarded, timeout=60, what="forwarding")
    path = tmp_path / "补充录屏.mp4"
    digest = video(path, DIRECT_UPLOAD_ABOVE_BYTES + MIB)
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/follow")
    await page.fill("#f-number", number)
    await page.fill("#f-access-code", access_code)
    await page.click("#lookup-form button[type=submit]")
    await page.wait_for_selector("#case:not([hidden])")
    await page.click("[data-action-panel=evidence] summary")
    await page.set_input_files("#f-added-evidence", str(path))
    await page.wait_for_function(
        "(text) => document.querySelector('[data-case-status]').textContent === text",
        arg=ZH["follow.evidence_added"].format(name=path.name),
        timeout=120_000,
    )
    assert sorted(part_numbers(storage_puts(tab, s3_endpoint))) == [1, 2]
    posts = [url for method, url in tab.requests if method == "POST"]
    assert [url for url in posts if url.endswith(f"/v1/complaints/{number}/uploads")], posts
    assert not [url for url in posts if url.endswith(f"/v1/complaints/{number}/evidence")], posts
    assert await page.locator("[data-list=evidence] .file-name").all_text_contents() == [path.name]
    case = (await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": access_code})).json()
    assert [(item["filename"], item["sha256"]) for item in case["evidence"]] == [(path.name, digest)]
    await check(tab, "follow-direct-upload")


async def test_a_50_mib_upload_cut_off_part_way_resumes_with_the_missing_parts_only(
    open_tab, check, platform, s3_endpoint, tmp_path
):
    path = tmp_path / "长录屏.mp4"
    digest = video(path, 50 * MIB)
    count = parts_of(50 * MIB)
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/file")
    await fill_complaint(page, "自动续费不退款（分片续传）", "44030519900101127")

    # The connection goes after three part requests: every later one is aborted, the retries too.
    passed = {"left": 3}

    async def cut_off(route):
        if route.request.method != "PUT":
            await route.continue_()
        elif passed["left"]:
            passed["left"] -= 1
            await route.continue_()
        else:
            await route.abort("connectionreset")

    await page.route(f"http://{s3_endpoint}/**", cut_off)
    await page.set_input_files("#f-evidence", str(path))
    failed = page.locator(".file-item[data-state=failed]")
    await failed.wait_for(timeout=120_000)
    first_attempt = part_numbers(storage_puts(tab, s3_endpoint))
    tries = Counter(first_attempt)
    # Three parts went through at their first try (parts of full size: the first ones start first); every other part
    # that started was tried four times (its try and three retries). Each sender ends on a part that keeps failing, so
    # the parts started, in order, are those three and one for each sender; no other starts once a part failed for good.
    arrived = sorted(number for number, tried in tries.items() if tried == 1)
    assert len(arrived) == 3 and all(tried in (1, 4) for tried in tries.values()), first_attempt
    assert sorted(tries) == list(range(1, min(count, 3 + UPLOAD_PARTS_AT_ONCE) + 1)), first_attempt
    bar = await page.locator(".file-item progress").evaluate("(bar) => bar.value")
    assert bar == round(3 * MULTIPART_PART_BYTES / (50 * MIB) * 100), bar  # what storage holds

    # Back online: the resume asks storage which parts it holds and sends only the others, then completes.
    passed["left"] = count
    await failed.locator("button[data-resume]").click()
    await until(lambda: uploaded(page), timeout=180, what="the resumed upload")
    resumed = storage_puts(tab, s3_endpoint)[len(first_attempt) :]
    assert sorted(part_numbers(resumed)) == [number for number in range(1, count + 1) if number not in arrived]
    gets = [
        url for method, url in tab.requests if method == "GET" and re.search(r"/v1/uploads/[0-9a-f]{32}/parts$", url)
    ]
    assert len(gets) == 1, gets
    assert await page.locator(".file-item progress").evaluate("(bar) => bar.value") == 100

    await page.click("#complaint-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/file/receipt\?number=GC-"))
    await page.wait_for_selector("[data-evidence]:not([hidden])")
    assert await page.locator("[data-evidence] code.hash").all_text_contents() == [digest]
    number = page.url.rsplit("=", 1)[1]
    stored = await platform.evidence.get(
        f"/v1/complaints/{number}/evidence", headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    )
    assert [(item["sha256"], item["size"]) for item in stored.json()["items"]] == [(digest, 50 * MIB)]
    assert not tab.errors, tab.errors
