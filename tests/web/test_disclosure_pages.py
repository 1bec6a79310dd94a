"""Figures withheld by disclosure control, as the public pages draw them: "<5" and a note saying why, on the
statistics page, a company's scorecard and the rankings. The platform of this folder publishes every figure
(``min_count`` 1, so its other pages can show small ones): these pages are served by an intake of their own with
the defaults (cells below 5 suppressed, a daily snapshot), its store seeded with published complaints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devstack.servers import serve
from intake.config import Settings
from intake.main import create_app
from intake.rebuild_statistics import rebuild
from tests.web.conftest import Tab, new_tab
from tests.web.support import ZH

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FILED = datetime(2026, 10, 10, 4, 0, tzinfo=UTC)
MONTH = "2026-10"


def case(number: int, company: str, category: str, province: str) -> dict:
    return {
        "_id": f"GC-20261010-{number:06d}",
        "number": f"GC-20261010-{number:06d}",
        "status": "closed",
        "submitted_at": FILED,
        "category": category,
        "company_id": company,
        "company_name": company,
        "region_code": province,
        "publication_consent": False,
        "title": "标题",
        "description": "描述",
        "round": 1,
        "timeline": [],
        "published_at": datetime.now(UTC) - timedelta(days=3),
        "response": {"type": "explained", "text": "答复", "at": FILED + timedelta(days=2), "timely": True},
        "handling_days": 2,
        "rating": {"rating": 4},
    }


# Twelve refund complaints against c-a from Beijing, six against c-b from Shanghai, and one billing complaint
# against c-c from Guangdong: its company, category and province each count one.
SEED = (
    [case(n, "c-a", "refund", "11") for n in range(1, 13)]
    + [case(n, "c-b", "refund", "31") for n in range(13, 19)]
    + [case(19, "c-c", "billing", "44")]
)


@pytest.fixture(scope="module")
async def disclosing(mongo_url, broker_namespace, run_id):
    """The base URL of an intake with the platform's disclosure defaults, over the seed."""
    namespace = broker_namespace.isolated("web-disclosure")
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_web_disclosure",
        outbox_poll_interval_s=0.1,
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        rate_limits_enabled=False,
        **namespace.settings_for("intake"),
    )
    assert settings.public_statistics_min_count == 5
    app = create_app(settings)
    async with serve(app) as base_url:
        db = app.state.runtime.db
        await db["complaints"].insert_many([dict(seeded) for seeded in SEED])
        await rebuild(db, app.state.intake.cipher)
        # The service took today's snapshot when it started, before the seed: take it again over the seed.
        await db["statistics_public_snapshot_marks"].delete_many({})
        assert await app.state.public_data.public_statistics.refresh_if_due() is True
        yield str(base_url)


@pytest.fixture
async def open_disclosing(browser, axe_source, disclosing):
    contexts: list = []

    async def open(viewport: str = "desktop") -> Tab:
        return await new_tab(browser, axe_source, disclosing, viewport, contexts)

    yield open
    for context in contexts:
        await context.close()


def note() -> str:
    return ZH["figures.suppressed_note"].format(k=5)


async def figures(page) -> dict[str, str]:
    return await page.locator("[data-figures]:not([hidden]) [data-figure]").evaluate_all(
        "(nodes) => Object.fromEntries(nodes.map((node) => [node.dataset.figure, node.querySelector('dd').textContent]))"
    )


async def test_a_suppressed_figure_shows_as_less_than_five(open_disclosing, check):
    tab = await open_disclosing("desktop")
    page = tab.page
    await tab.open(f"/public/statistics?from={MONTH}&to={MONTH}")
    await page.wait_for_selector("[data-chart=region]:not([hidden]) tbody tr", state="attached")
    for by in ("category", "region"):  # the data tables, folded under their charts
        await page.locator(f"[data-chart={by}] summary").click()
    # Guangdong's one complaint is withheld, and Shanghai's six with it (the total minus the others would be
    # Guangdong's); Beijing's twelve are shown.
    beijing = await page.locator("[data-chart=region] tbody tr", has_text="北京市").locator("td").first.text_content()
    assert beijing == "12"
    for by, label, small in (("region", "广东省", True), ("region", "上海市", False), ("category", "billing", True)):
        cells = await page.locator(f"[data-chart={by}] tbody tr", has_text=label).locator("td").all_text_contents()
        assert cells[0] == "<5", (by, label, cells)
        if small:
            assert cells[2:] == ["<5", "<5", "<5"], (by, label, cells)  # the rates over one complaint
    # The charts draw a withheld count as no bar, labelled "<5" too, never as 0.
    labels = await page.locator("[data-chart=region] svg text.value").all_text_contents()
    assert sorted(labels) == ["12", "<5", "<5"], labels
    assert (await figures(page))["received"] == "19"
    assert await page.text_content("[data-show=totals] [data-bind=suppressed_note]") == note()
    await check(tab, "public-statistics-suppressed")

    for viewport in ("desktop", "phone"):
        tab = await open_disclosing(viewport)
        page = tab.page
        await tab.open(f"/public/companies/c-c?period={MONTH}")
        await page.wait_for_selector("[data-show=scorecard]:not([hidden])")
        shown = await figures(page)
        assert shown == {
            "volume": "<5",
            "timely_rate": "<5",
            "relief_rate": "<5",
            "average_rating": "<5",
            "appeal_rate": "<5",
            "per_million_users": ZH["figures.unknown"],  # the directory does not know its user base
        }
        assert await page.is_visible("[data-bind=suppressed_note]")
        assert await page.text_content("[data-bind=suppressed_note]") == note()
        await check(tab, "public-scorecard-suppressed")

    # A company with enough complaints shows its figures, and no note.
    await tab.open(f"/public/companies/c-a?period={MONTH}")
    await tab.page.wait_for_selector("[data-show=scorecard]:not([hidden])")
    assert (await figures(tab.page))["volume"] == "12"
    assert await tab.page.is_hidden("[data-bind=suppressed_note]")

    tab = await open_disclosing("desktop")
    page = tab.page
    await tab.open(f"/public/rankings?period={MONTH}&order_by=volume")
    await page.wait_for_selector("[data-show=table]:not([hidden])")
    volumes = await page.locator("tbody tr").evaluate_all(
        "(rows) => rows.map((row) => [row.querySelector('a').textContent,"
        " row.querySelector('[data-figure=volume]').textContent])"
    )
    # c-b's volume would give c-c's away (the statistics' total minus the others): both withheld, ranked last.
    assert volumes == [["c-a", "12"], ["c-b", "<5"], ["c-c", "<5"]]
    assert await page.text_content("[data-bind=suppressed_note]") == note()
    await check(tab, "public-rankings-suppressed")
