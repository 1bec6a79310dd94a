"""Disclosure control on the public scorecards and rankings over HTTP, with the platform's defaults (cells below 5
suppressed, figures refreshed daily): a company with one published complaint shows no figure, the company that
would give it away (the statistics' total minus the others) is hidden with it, the scorecards, the rankings and
the statistics by company hide the same cells, and reading a scorecard before and after one new publication, and
after the next day's snapshot, learns nothing. Regulators see the exact, current figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devstack.servers import serve
from intake.config import Settings
from intake.domain.principals import Role
from intake.main import create_app
from intake.rebuild_statistics import rebuild

pytestmark = pytest.mark.integration

FILED = datetime(2026, 10, 10, 4, 0, tzinfo=UTC)
PUBLISHED = datetime.now(UTC) - timedelta(days=3)
PERIODS = ("2026-10", "2026")
RATES = ("timely_rate", "relief_rate", "average_rating", "appeal_rate")


def case(number: int, company: str) -> dict:
    return {
        "_id": f"GC-20261010-{number:06d}",
        "number": f"GC-20261010-{number:06d}",
        "status": "closed",
        "submitted_at": FILED,
        "category": "refund",
        "company_id": company,
        "company_name": company,
        "region_code": "11",
        "publication_consent": False,
        "title": "标题",
        "description": "描述",
        "round": 1,
        "timeline": [],
        "published_at": PUBLISHED,
        "response": {"type": "monetary_relief", "text": "答复", "at": FILED + timedelta(days=2), "timely": True},
        "handling_days": 2,
        "rating": {"rating": 4},
    }


# Twelve complaints against c-a, six against c-b, and one against c-c: the company whose one complainant a
# scorecard would single out.
SEED = [case(n, "c-a") for n in range(1, 13)] + [case(n, "c-b") for n in range(13, 19)] + [case(19, "c-c")]
NEW = case(20, "c-c")  # a second complaint against c-c, published after the snapshot


@pytest.fixture(scope="module")
async def platform(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("intake-scorecard-disclosure")
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_scorecard_disclosure",
        outbox_poll_interval_s=0.1,
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        rate_limits_enabled=False,
        **namespace.settings_for("intake"),
    )
    assert (settings.public_statistics_min_count, settings.public_statistics_refresh) == (5, timedelta(days=1))
    app = create_app(settings)
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        db = app.state.runtime.db
        await db["complaints"].insert_many([dict(seeded) for seeded in SEED])
        await rebuild(db, app.state.intake.cipher)
        # The service took today's snapshot when it started, before the seed: take it again over the seed.
        await db["statistics_public_snapshot_marks"].delete_many({})
        assert await app.state.public_data.public_statistics.refresh_if_due() is True
        client.app = app
        yield client


async def get(client, path: str, headers: dict | None = None, **params) -> dict:
    answer = await client.get(path, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def scorecards_and_rankings(client) -> list[dict]:
    """Every public figure about a company: each one's scorecard and the rankings by each figure, per period."""
    reads = [
        *(
            (f"/v1/public/companies/{company}/scorecard", {"period": period})
            for company in ("c-a", "c-b", "c-c")
            for period in PERIODS
        ),
        *(
            ("/v1/public/rankings", {"period": period, "order_by": order_by})
            for order_by in ("volume", "timely_rate", "average_rating")
            for period in PERIODS
        ),
    ]
    return [await get(client, path, **params) for path, params in reads]


async def test_a_small_company_shows_no_figure_and_its_complement_is_hidden_with_it(platform):
    for period in PERIODS:
        lone = await get(platform, "/v1/public/companies/c-c/scorecard", period=period)
        assert lone["min_count"] == 5 and lone["suppressed"] is True
        assert lone["volume"] is None and all(lone[rate] is None for rate in RATES)
        assert {"volume", *RATES} <= set(lone["suppressed_fields"])
        large = await get(platform, "/v1/public/companies/c-a/scorecard", period=period)
        assert (large["volume"], large["timely_rate"], large["relief_rate"], large["average_rating"]) == (12, 1, 1, 4)
        assert large["suppressed"] is False and large["suppressed_fields"] == []

        # The statistics publish the total over every company: with c-c's volume alone hidden, the total minus
        # the others would be c-c's. c-b's volume is hidden as well, in the scorecards, rankings and statistics.
        # The statistics by company of the same months (a year is its twelve).
        months = {"from": f"{period}-01", "to": f"{period}-12"} if len(period) == 4 else {"from": period, "to": period}
        statistics = await get(platform, "/v1/public/statistics", by="company", **months)
        accepted = {row["key"]: row["accepted"] for row in statistics["rows"]}
        assert statistics["totals"]["accepted"] == 19 and accepted == {"c-a": 12, "c-b": None, "c-c": None}
        ranked = await get(platform, "/v1/public/rankings", period=period, order_by="volume")
        assert {item["company_id"]: item["volume"] for item in ranked["items"]} == accepted
        for item in ranked["items"]:
            card = await get(platform, f"/v1/public/companies/{item['company_id']}/scorecard", period=period)
            assert {name: card[name] for name in ("volume", *RATES, "suppressed_fields")} == {
                name: item[name] for name in ("volume", *RATES, "suppressed_fields")
            }
        # A hidden figure ranks last, as one the company does not have: its place says nothing of its value.
        assert [item["company_id"] for item in ranked["items"]] == ["c-a", "c-b", "c-c"]
        assert ranked["min_count"] == 5


async def test_the_differencing_attack_on_a_scorecard_learns_nothing_and_regulators_see_the_change(platform):
    await platform.app.state.intake.identities.create_operator("auditor", "a-long-password-1", {Role.REGULATOR})
    token = (
        await platform.post("/v1/ops/auth/token", json={"login": "auditor", "password": "a-long-password-1"})
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    exact = await get(platform, "/v1/regulator/companies/c-c/scorecard", period="2026-10", headers=headers)
    before = await scorecards_and_rankings(platform)

    db = platform.app.state.runtime.db
    await db["complaints"].insert_one(dict(NEW))
    await rebuild(db, platform.app.state.intake.cipher)

    # Read again after one new publication: the same figures, so their difference shows nothing.
    assert await scorecards_and_rankings(platform) == before
    # Regulators read the exact figures at once.
    assert exact["volume"] == 1 and exact["timely_rate"] == 1 and "suppressed" not in exact
    now = await get(platform, "/v1/regulator/companies/c-c/scorecard", period="2026-10", headers=headers)
    assert now["volume"] == 2

    # The next day's snapshot has the new complaint; c-c still counts fewer than 5, so every scorecard and ranking
    # is as it was: the reader still cannot tell which company it was against.
    assert (
        await platform.app.state.public_data.public_statistics.refresh_if_due(datetime.now(UTC) + timedelta(days=1))
        is True
    )
    assert await scorecards_and_rankings(platform) == before
    statistics = await get(platform, "/v1/public/statistics", by="company", **{"from": "2026-10", "to": "2026-10"})
    assert statistics["totals"]["accepted"] == 20

    # Three more make five: the snapshot of the day after shows c-c's figures.
    await db["complaints"].insert_many([case(number, "c-c") for number in (21, 22, 23)])
    await rebuild(db, platform.app.state.intake.cipher)
    assert (
        await platform.app.state.public_data.public_statistics.refresh_if_due(datetime.now(UTC) + timedelta(days=2))
        is True
    )
    for period in PERIODS:
        card = await get(platform, "/v1/public/companies/c-c/scorecard", period=period)
        assert (card["volume"], card["timely_rate"], card["suppressed"]) == (5, 1, False)
        ranked = await get(platform, "/v1/public/rankings", period=period, order_by="volume")
        assert {item["company_id"]: item["volume"] for item in ranked["items"]} == {"c-a": 12, "c-b": 6, "c-c": 5}
