"""The 公示 pages in Debian's Chromium against the whole platform: complaints against one company (no other
module files against it) are answered through the company API, then found on the results page through its
filters and read on their detail page; the company's scorecard and the rankings show its figures, the
statistics page draws its charts with their tables, the home page its headline figures; the information
pages render; the feedback form checks, sends and thanks, and an operator reads the entry. Every new page
passes axe at phone and desktop widths, the results page in English too."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pytest

from devstack.waiting import until
from intake.domain.identity import CHECK_CHARACTERS, ID_WEIGHTS
from tests.web.support import EN, ZH, company_key, operator_headers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COMPANY_ID = "c-haina"
COMPANY_NAME = "海纳云计算股份有限公司"
DESCRIPTION = "云服务器到期前未提醒即自动续费一年，申请退款被拒绝。"
ANSWER = "已核实，续费款项将在3个工作日内原路退回。"


def id_number(first_17: str) -> str:
    """A valid GB 11643 ID number from its first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, ID_WEIGHTS, strict=True))
    return first_17 + CHECK_CHARACTERS[total % 11]


# Three people (different ID numbers) with the same complaint: a collective complaint (the platform of this
# folder makes one of three).
COMPLAINANTS = [
    ("钱八", id_number("11010519491231001"), "13811113333"),
    ("孙九", id_number("31010419850615002"), "13911114444"),
    ("周十", id_number("44030519900101003"), "13711115555"),
]


def complaint(complainant: tuple[str, str, str], company_name: str = COMPANY_NAME) -> dict:
    name, number, phone = complainant
    return {
        "complainant": {"name": name, "id_number": number, "phone": phone},
        "company": {"name": company_name},
        "category": "auto_renewal",
        "title": "云服务器自动续费未提醒",
        "description": DESCRIPTION,
        "occurred_on": "2026-11-02",
        "desired_outcome": "退还续费款项",
        "publication_consent": True,
        "evidence_ids": [],
    }


@dataclass
class Published:
    relieved: str  # answered with a refund, rated 5
    explained: str  # answered with an explanation
    unanswered: str  # forwarded, not answered: not public yet


async def _forwarded(platform, number: str, code: str) -> bool:
    case = (await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
    return case["status"] == "forwarded"


async def _public_in_cluster(platform, number: str, size: int = 1) -> bool:
    answer = await platform.intake.get(f"/v1/public/complaints/{number}")
    return answer.status_code == 200 and (answer.json()["cluster"] or {}).get("size", 0) >= size


@pytest.fixture(scope="module")
async def published(platform) -> Published:
    """Three complaints against the company: two answered (so published), one still waiting."""
    filed = []
    for complainant in COMPLAINANTS:
        answer = await platform.intake.post("/v1/complaints", json=complaint(complainant))
        assert answer.status_code == 201, answer.text
        filed.append((answer.json()["number"], answer.json()["access_code"]))
    for number, code in filed:
        await until(functools.partial(_forwarded, platform, number, code), timeout=60, what=f"{number} forwarded")
    company = await company_key(platform, COMPANY_ID)
    (relieved, relieved_code), (explained, _), (unanswered, _) = filed
    for number, kind, text in (
        (relieved, "monetary_relief", ANSWER),
        (explained, "explained", "续费规则已在服务协议中说明。"),
    ):
        answered = await platform.intake.post(
            f"/v1/company/complaints/{number}/response", headers=company, json={"response_type": kind, "text": text}
        )
        assert answered.status_code == 200, answered.text
    rated = await platform.intake.post(
        f"/v1/complaints/{relieved}/rating",
        headers={"X-Access-Code": relieved_code},
        json={"rating": 5, "comment": "退款很快"},
    )
    assert rated.status_code == 200, rated.text
    for number in (relieved, explained):
        await until(
            functools.partial(_public_in_cluster, platform, number, len(COMPLAINANTS)),
            timeout=60,
            what=f"{number} published in its cluster of three",
        )
    return Published(relieved, explained, unanswered)


async def test_results_page_finds_the_answered_complaint_and_its_detail(open_tab, check, platform, published):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/public/results")
    await check(tab, "public-results")

    # Filter by the company picked from the directory's suggestions, by keyboard, and by status.
    await page.fill("#f-company", "海纳")
    await page.wait_for_selector("#f-company-options [role=option] >> nth=0")
    await page.press("#f-company", "ArrowDown")
    await page.press("#f-company", "Enter")
    assert await page.input_value("#f-company-id") == COMPANY_ID
    await page.select_option("#f-status", "closed")
    await page.click("#results-filters button[type=submit]")
    await page.wait_for_url(re.compile(r"company_id=c-haina.*status=closed|status=closed.*company_id=c-haina"))
    entries = page.locator("[data-list=results] > li")
    await until(lambda: _numbers_are(entries, [published.relieved]), what="the closed result")
    asked = [url for method, url in tab.requests if "/v1/public/complaints?" in url][-1]
    assert "company_id=c-haina" in asked and "status=closed" in asked

    # Without the status filter: both answered complaints, never the one still waiting.
    await page.select_option("#f-status", "")
    await page.click("#results-filters button[type=submit]")
    await until(lambda: _numbers_are(entries, sorted([published.relieved, published.explained])), what="both results")
    shown = await entries.all_text_contents()
    assert not [text for text in shown if published.unanswered in text]
    await check(tab, "public-results-filtered")

    # The detail page: the public record with the text the complainant agreed to publish.
    await page.click(f"a[href='/public/results/{published.relieved}']")
    await page.wait_for_selector("[data-show=record]:not([hidden])")
    record = (await platform.intake.get(f"/v1/public/complaints/{published.relieved}")).json()
    assert record["response_type"] == "monetary_relief" and record["rating"] == 5 and record["answer"] == ANSWER
    assert await page.text_content("h1") == ZH["result.heading"].format(number=published.relieved)
    facts = await _figures(page, "[data-facts]")
    assert facts["company"] == COMPANY_NAME
    assert facts["status"] == ZH["status.closed"]
    assert facts["response_type"] == ZH["response_type.monetary_relief"]
    assert facts["rating"] == ZH["figures.rating"].format(value="5.0")
    assert facts["timely"] == (ZH["result.timely_yes"] if record["timely"] else ZH["result.timely_no"])
    assert await page.text_content("[data-bind=answer]") == ANSWER
    assert DESCRIPTION in record["narrative"]
    assert await page.text_content("[data-bind=narrative]") == record["narrative"]
    assert await page.is_hidden("[data-show=withheld]")
    # Its collective complaint: the group's size, and the list of the group.
    cluster = (await platform.intake.get(f"/v1/public/clusters/{record['cluster']['id']}")).json()
    assert cluster["size"] == 3 and cluster["collective"] and cluster["company_id"] == COMPANY_ID
    assert await page.text_content("[data-bind=cluster_heading]") == ZH["result.cluster"]
    assert await page.text_content("[data-bind=cluster_text]") == ZH["result.cluster_text"].format(
        size=cluster["size"], first=cluster["first_number"], opened=await _long_date(page, cluster["opened_on"])
    )
    await check(tab, "public-result")
    await page.click("[data-bind=cluster_link]")
    await page.wait_for_url(re.compile(r"cluster_id="))
    both = sorted([published.relieved, published.explained])
    await until(lambda: _numbers_are(entries, both), what="the group's results")
    assert await page.input_value("#f-cluster") == cluster["id"]
    badge = ZH["result.cluster_size"].format(size=cluster["size"])
    assert badge in await entries.first.text_content()

    # A number that is not public reads the same as one that does not exist.
    await tab.open(f"/public/results/{published.unanswered}")
    await page.wait_for_function(
        "(text) => document.querySelector('[data-result-status]').textContent === text", arg=ZH["result.not_found"]
    )
    assert await page.is_hidden("[data-show=record]")


async def test_more_adds_the_next_page_and_english_and_a_phone_work(open_tab, check, published):
    tab = await open_tab("phone")
    page = tab.page
    await tab.open(f"/public/results?company_id={COMPANY_ID}&limit=1")
    # The language switch, behind the menu on a phone, keeps the page's filters.
    await page.click(".menu-toggle")
    await page.click(f"text={ZH['nav.switch_language']}")
    await page.wait_for_url(re.compile(r"lang=en"))
    await page.wait_for_load_state("networkidle")
    assert f"company_id={COMPANY_ID}" in page.url
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.text_content("h1") == EN["results.heading"]
    entries = page.locator("[data-list=results] > li")
    await until(lambda: _count_is(entries, 1), what="the first page")
    assert await page.is_visible("[data-action=more]")
    await page.click("[data-action=more]")
    await until(lambda: _count_is(entries, 2), what="the second page")
    assert sorted(await entries.evaluate_all("(nodes) => nodes.map((node) => node.dataset.number)")) == sorted(
        [published.relieved, published.explained]
    )
    await page.wait_for_selector("[data-action=more]", state="hidden")
    # The newest first (published_on, then number, descending); the new entry took the focus.
    assert await page.evaluate("() => document.activeElement.closest('li').dataset.number") == (
        await entries.evaluate_all("(nodes) => nodes[1].dataset.number")
    )
    assert EN["response_type.monetary_relief"] in await page.text_content("[data-list=results]") or EN[
        "response_type.explained"
    ] in await page.text_content("[data-list=results]")
    await check(tab, "public-results-en")


async def test_company_scorecard_rankings_and_directory(open_tab, check, platform, published):
    card = (await platform.intake.get(f"/v1/public/companies/{COMPANY_ID}/scorecard")).json()
    # Two published complaints, both answered in time; one refund; one rating, 5; no appeal.
    assert card["volume"] == 2 and card["relief_rate"] == 0.5 and card["average_rating"] == 5
    assert card["appeal_rate"] == 0
    for viewport in ("desktop", "phone"):
        tab = await open_tab(viewport)
        page = tab.page
        await tab.open(f"/public/companies/{COMPANY_ID}")
        await page.wait_for_selector("[data-show=scorecard]:not([hidden])")
        assert await page.text_content("h1") == COMPANY_NAME
        figures = await _figures(page)
        assert figures["volume"] == "2"
        assert figures["relief_rate"] == "50%"
        assert figures["timely_rate"] == ("100%" if card["timely_rate"] == 1 else figures["timely_rate"])
        assert figures["average_rating"] == ZH["figures.rating"].format(value="5.0")
        assert figures["appeal_rate"] == "0%"
        assert figures["per_million_users"] == (
            ZH["figures.unknown"] if card["per_million_users"] is None else figures["per_million_users"]
        )
        await page.wait_for_selector("[data-show=recent]:not([hidden])")
        recent = await page.locator("[data-list=results] > li").evaluate_all(
            "(nodes) => nodes.map((n) => n.dataset.number)"
        )
        assert sorted(recent) == sorted([published.relieved, published.explained])
        await check(tab, "public-scorecard")

    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/public/rankings?order_by=volume")
    row = page.locator("tbody tr", has=page.locator(f"a[href='/public/companies/{COMPANY_ID}']"))
    await row.wait_for()
    assert await row.locator("[data-figure=volume]").text_content() == "2"
    assert await row.locator("[data-figure=relief_rate]").text_content() == "50%"
    await check(tab, "public-rankings")
    phone = await open_tab("phone")
    await phone.open("/public/rankings")
    await phone.page.wait_for_selector("[data-show=table]:not([hidden])")
    await check(phone, "public-rankings")  # the table scrolls in its own region, the page does not

    await tab.open("/public/companies")
    link = page.locator(f"[data-list=companies] a[href='/public/companies/{COMPANY_ID}']")
    await link.wait_for()
    await link.click()
    await page.wait_for_selector("[data-show=scorecard]:not([hidden])")


async def test_statistics_page_draws_charts_with_their_tables_and_home_shows_the_headline(
    open_tab, check, platform, published
):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/public/statistics")
    await page.wait_for_selector("[data-show=totals]:not([hidden])")
    for by in ("month", "category", "region"):
        answer = (await platform.intake.get("/v1/public/statistics", params={"by": by})).json()
        section = page.locator(f"[data-chart={by}]")
        assert await section.is_visible(), by
        bars = await section.locator("svg[role=img] rect.bar").evaluate_all(
            "(nodes) => nodes.map((n) => Number(n.dataset.value))"
        )
        assert sorted(bars) == sorted(row["received"] for row in answer["rows"]) and bars, by
        assert await section.locator("svg").get_attribute("aria-labelledby") == f"chart-{by}-heading"
        # The data table holds the same figures, one row per bar.
        assert await section.locator("tbody tr").count() == len(answer["rows"]), by
        await section.locator("summary").click()
        assert await section.locator("table").is_visible()
    category = (await platform.intake.get("/v1/public/statistics", params={"by": "category"})).json()
    renewal = next(row for row in category["rows"] if row["key"] == "auto_renewal")
    row = page.locator("[data-chart=category] tbody tr", has_text=renewal["label_zh"])
    cells = await row.locator("td").all_text_contents()
    assert cells[0] == str(renewal["received"]) and renewal["received"] >= 2
    totals = await _figures(page)
    assert totals["received"] == f"{category['totals']['received']:,}"
    await check(tab, "public-statistics")
    phone = await open_tab("phone")
    await phone.open("/public/statistics")
    await phone.page.wait_for_selector("[data-chart=region] svg")
    for by in ("month", "category", "region"):  # drawn at the phone's width
        drawing = phone.page.locator(f"[data-chart={by}] svg")
        assert await drawing.evaluate("(svg) => svg.getBoundingClientRect().width") <= 375
    await check(phone, "public-statistics")

    summary = (await platform.intake.get("/v1/public/statistics/summary")).json()
    await tab.open("/")
    await page.wait_for_selector("#headline-statistics [data-figures]:not([hidden])")
    figures = await _figures(page)
    assert figures["published"] == f"{summary['published']:,}" and summary["published"] >= 2
    assert await page.is_hidden("#headline-statistics [data-show=pending]")
    await check(tab, "home-figures")


async def test_information_pages_render_from_the_content(open_tab, check, platform):
    tab = await open_tab("phone")
    page = tab.page
    await tab.open("/public")
    listing = (await platform.intake.get("/v1/public/pages")).json()["items"]
    for item in listing:
        await page.click(f"main a[href='/public/pages/{item['slug']}']")
        await page.wait_for_url(re.compile(f"/public/pages/{item['slug']}$"))
        source = (await platform.intake.get(f"/v1/public/pages/{item['slug']}")).json()
        assert await page.text_content("h1") == source["title"]
        # The API's rendered HTML, as it is: its headings and paragraphs are the page's.
        assert await page.locator("article.prose > :not(h1)").count() >= 1
        first_heading = re.search(r"<h2>(.*?)</h2>", source["html"])
        if first_heading:
            assert await page.locator("article.prose h2").first.text_content() == first_heading.group(1)
        await check(tab, f"public-page-{item['slug']}")
        await tab.open("/public")
    missing = await page.goto(tab.base_url + "/public/pages/no-such-page")
    assert missing.status == 404 and await page.text_content("h1") == ZH["not_found.heading"]


async def test_feedback_form_checks_sends_and_thanks_and_an_operator_reads_it(open_tab, check, platform):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/public/feedback")
    await page.click("#feedback-form button[type=submit]")
    summary = page.locator("#feedback-form .error-summary")
    await summary.wait_for()
    assert await summary.locator("li").count() == 2  # the topic and the text
    assert await page.text_content("#f-topic-error") == ZH["error.topic_missing"]
    assert await page.text_content("#f-text-error") == ZH["error.missing.feedback.text"]
    await page.select_option("#f-topic", "process")
    await page.fill("#f-text", "太短")
    await page.fill("#f-phone", "12345")
    await page.click("#feedback-form button[type=submit]")
    await page.wait_for_selector("#f-phone-error:not([hidden])")
    too_short = ZH["error.string_too_short"].format(label=ZH["feedback.text"], min=10)
    assert await page.text_content("#f-text-error") == too_short
    assert await page.text_content("#f-phone-error") == ZH["error.phone_format"]
    assert await page.get_attribute("#f-text", "aria-invalid") == "true"
    await check(tab, "public-feedback-errors")
    assert not [url for method, url in tab.requests if method == "POST" and url.endswith("/v1/public/feedback")]

    text = "希望查询页面可以显示企业答复的预计时间，方便安排。"
    await page.fill("#f-text", text)
    await page.fill("#f-phone", "")
    await page.fill("#f-email", "qian@example.cn")
    await page.click("#feedback-form button[type=submit]")
    await page.wait_for_selector("[data-show=thanks]:not([hidden])")
    assert await page.evaluate("() => document.activeElement.id") == "thanks-heading"
    assert await page.is_hidden("#feedback-form")
    thanks = await page.text_content("[data-bind=thanks_text]")
    await check(tab, "public-feedback-thanks")

    listed = (await platform.intake.get("/v1/ops/feedback", headers=await operator_headers(platform))).json()
    entry = next(item for item in listed["items"] if item["text"] == text)
    assert entry["topic"] == "process" and entry["status"] == "new"
    # No 32-character id to copy down: the note says it arrived, nothing more.
    assert thanks == ZH["feedback.thanks_text"] and entry["id"] not in thanks
    assert "qian@example.cn" not in str(entry["contact"])  # masked in the list


async def _numbers_are(entries, numbers: list[str]) -> bool:
    shown = await entries.evaluate_all("(nodes) => nodes.map((node) => node.dataset.number)")
    return sorted(shown) == sorted(numbers)


async def _count_is(locator, count: int) -> bool:
    return await locator.count() == count


async def _long_date(page, day: str) -> str:
    return await page.evaluate("(day) => GC.formatDate(day)", day)


async def _figures(page, within: str = "[data-figures]:not([hidden])") -> dict[str, str]:
    """The figures (or facts) a page shows, by their data-figure name: the text of each one's <dd>."""
    return await page.locator(f"{within} [data-figure]").evaluate_all(
        "(nodes) => Object.fromEntries(nodes.map((node) => [node.dataset.figure,"
        " node.querySelector('dd').textContent]))"
    )


# Two people with the same complaint against a company no other test files against: similar complaints, fewer
# than a collective complaint takes.
PAIR_COMPANY_ID = "c-xinghe"
PAIR_COMPANY_NAME = "星河宽带通信有限公司"
PAIR = [
    ("郑一", id_number("11010819800202004"), "13611116666"),
    ("王二", id_number("31011519920303005"), "13511117777"),
]


async def test_two_similar_complaints_are_not_called_a_collective_complaint(open_tab, check, platform):
    filed = []
    for complainant in PAIR:
        answer = await platform.intake.post("/v1/complaints", json=complaint(complainant, PAIR_COMPANY_NAME))
        assert answer.status_code == 201, answer.text
        filed.append((answer.json()["number"], answer.json()["access_code"]))
    for number, code in filed:
        await until(functools.partial(_forwarded, platform, number, code), timeout=60, what=f"{number} forwarded")
    company = await company_key(platform, PAIR_COMPANY_ID)
    for number, _ in filed:
        answered = await platform.intake.post(
            f"/v1/company/complaints/{number}/response",
            headers=company,
            json={"response_type": "explained", "text": "续费规则已在服务协议中说明。"},
        )
        assert answered.status_code == 200, answered.text
    for number, _ in filed:
        await until(
            functools.partial(_public_in_cluster, platform, number, 2), timeout=60, what=f"{number} published in a pair"
        )
    record = (await platform.intake.get(f"/v1/public/complaints/{filed[0][0]}")).json()
    assert record["cluster"]["size"] == 2 and record["cluster"]["collective"] is False

    tab = await open_tab("desktop")
    page = tab.page
    await tab.open(f"/public/results?company_id={PAIR_COMPANY_ID}")
    entries = page.locator("[data-list=results] > li")
    await until(lambda: _count_is(entries, 2), what="the pair's results")
    listed = await page.text_content("[data-list=results]")
    assert ZH["result.similar_size"].format(size=2) in listed and "集体投诉" not in listed
    await tab.open(f"/public/results/{filed[0][0]}")
    await page.wait_for_selector("[data-show=cluster]:not([hidden])")
    assert await page.text_content("[data-bind=cluster_heading]") == ZH["result.similar"]
    assert "集体投诉" not in await page.text_content("main")
    await check(tab, "public-result-similar")


COMPANY_NAME_EN = "Haina Cloud Computing Co., Ltd."
TITLE = "云服务器自动续费未提醒"


async def test_results_are_compact_cards_with_title_and_status_and_the_filters_fold_on_a_phone(
    open_tab, check, published
):
    tab = await open_tab("phone")
    page = tab.page
    await tab.open(f"/public/results?company_id={COMPANY_ID}&status=closed")
    # Folded on a phone, saying how many filters are set; the first result is on the first screen.
    fold = page.locator("[data-filter-fields]")
    assert not await fold.evaluate("(node) => node.open")
    assert not await page.is_visible("#f-category")
    assert await page.text_content("[data-filter-count]") == ZH["results.filters_count"].format(count=2)
    entries = page.locator("[data-list=results] > li")
    await until(lambda: _numbers_are(entries, [published.relieved]), what="the closed result")
    card = entries.first
    box = await card.bounding_box()
    assert box["y"] + 40 < 812, f"the first result starts at {box['y']}px"
    # What it is about (the public title) and where it stands, then its number and company.
    assert await card.locator("h3").text_content() == TITLE
    assert await card.locator(".badge").first.text_content() == ZH["status.closed"]
    meta = await card.locator(".result-status .meta").text_content()
    assert published.relieved in meta and COMPANY_NAME in meta
    # Twenty such entries take far less than the 6,500 px they took: at most 180 px each with the gap.
    step = await entries.evaluate_all("(nodes) => nodes.map((node) => node.getBoundingClientRect().height)")
    assert max(step) + 8 <= 180, step
    await check(tab, "public-results-folded")
    toggle = page.locator("[data-filter-fields] > summary")
    await toggle.focus()
    await page.keyboard.press("Enter")
    assert await fold.evaluate("(node) => node.open") and await page.is_visible("#f-category")
    await check(tab, "public-results-unfolded")

    desktop = await open_tab("desktop")
    await desktop.open("/public/results")
    assert await desktop.page.locator("[data-filter-fields]").evaluate("(node) => node.open")
    assert await desktop.page.text_content("[data-filter-count]") == ""


async def test_english_pages_name_companies_in_english(open_tab, check, platform, published):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open(f"/public/results?company_id={COMPANY_ID}&lang=en")
    entries = page.locator("[data-list=results] > li")
    await until(lambda: _count_is(entries, 2), what="both results")
    listed = await page.text_content("[data-list=results]")
    assert COMPANY_NAME_EN in listed and COMPANY_NAME not in listed
    await check(tab, "public-results-english-names")

    await tab.open(f"/public/results/{published.relieved}?lang=en")
    await page.wait_for_selector("[data-show=record]:not([hidden])")
    assert (await _figures(page, "[data-facts]"))["company"] == COMPANY_NAME_EN

    await tab.open(f"/public/companies/{COMPANY_ID}?lang=en")
    await page.wait_for_selector("[data-show=scorecard]:not([hidden])")
    assert await page.text_content("h1") == COMPANY_NAME_EN

    await tab.open("/public/rankings?order_by=volume&lang=en")
    link = page.locator(f"tbody a[href='/public/companies/{COMPANY_ID}']")
    await link.wait_for()
    assert await link.text_content() == COMPANY_NAME_EN
    # The API says it too, and null where the directory has no English name.
    card = (await platform.intake.get(f"/v1/public/companies/{COMPANY_ID}/scorecard")).json()
    assert card["company_name_en"] == COMPANY_NAME_EN and card["company_name"] == COMPANY_NAME


async def test_figures_say_what_they_count_and_small_rates_are_not_rounded_to_zero(
    open_tab, check, platform, published
):
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/public/statistics")
    await page.wait_for_selector("[data-show=totals]:not([hidden])")
    answer = (await platform.intake.get("/v1/public/statistics")).json()
    # The month fields show the range the totals are for (the API's default when none was asked for).
    assert (await page.input_value("#f-from"), await page.input_value("#f-to")) == (answer["from"], answer["to"])
    heading = await page.text_content("[data-bind=totals_heading]")
    assert heading == ZH["statistics.totals"].format(**{"from": answer["from"], "to": answer["to"]})
    assert await page.text_content("[data-figure=received] dt") == ZH["statistics.received"] == "已公示投诉"
    assert await page.is_visible(f"text={ZH['statistics.note']}")

    # One complaint among many millions of users is a small figure, not 0.
    shown = await page.evaluate(
        "(unknown) => [GC.Public.perMillion(0.00125), GC.Public.perMillion(0), "
        "GC.Public.perMillion(0.25), GC.Public.perMillion(12.345), GC.Public.perMillion(null)]"
    )
    assert shown == ["0.0013", "0", "0.25", "12.35", ZH["figures.unknown"]]
    card = (await platform.intake.get(f"/v1/public/companies/{COMPANY_ID}/scorecard")).json()
    assert 0 < card["per_million_users"] < 0.1
    await tab.open(f"/public/companies/{COMPANY_ID}")
    await page.wait_for_selector("[data-show=scorecard]:not([hidden])")
    figures = await _figures(page)
    assert float(figures["per_million_users"]) == float(f"{card['per_million_users']:.2g}") > 0
    assert await page.text_content("[data-figure=volume] dt") == ZH["scorecard.volume"]
    await check(tab, "public-scorecard-small-rate")
