"""Disclosure control on the public statistics over HTTP, with the platform's defaults (cells below 5 suppressed,
figures refreshed daily): the differencing attack (every public figure read before and after one new
publication) learns nothing, small cells and their complements are null, and regulators see exact, current
figures."""

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
MONTH = {"from": "2026-10", "to": "2026-10"}


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
        "published_at": PUBLISHED,
        "response": {"type": "explained", "text": "答复", "at": FILED + timedelta(days=2), "timely": True},
        "handling_days": 2,
        "rating": {"rating": 4},
    }


# Twelve refund complaints against c-a from Beijing, six against c-b from Shanghai, and one lone billing
# complaint against c-b from Guangdong: the cell anyone could single out.
SEED = (
    [case(n, "c-a", "refund", "11") for n in range(1, 13)]
    + [case(n, "c-b", "refund", "31") for n in range(13, 19)]
    + [case(19, "c-b", "billing", "44")]
)
NEW = case(20, "c-b", "billing", "44")  # a second complaint in the lone cell, published after the snapshot
PUBLIC_READS = [("/v1/public/statistics", {**MONTH, "by": by}) for by in ("month", "category", "company", "region")] + [
    ("/v1/public/statistics/summary", {}),
    ("/v1/public/rankings", {"period": "2026-10", "order_by": "volume"}),
    ("/v1/public/companies/c-b/scorecard", {"period": "2026-10"}),
]


@pytest.fixture(scope="module")
async def platform(mongo_url, broker_namespace, run_id):
    namespace = broker_namespace.isolated("intake-disclosure")
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_disclosure",
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


async def public_figures(client) -> list[dict]:
    answers = [await client.get(path, params=params) for path, params in PUBLIC_READS]
    assert all(answer.status_code == 200 for answer in answers), [answer.text for answer in answers]
    return [answer.json() for answer in answers]


async def regulator(client) -> dict[str, str]:
    await client.app.state.intake.identities.create_operator("auditor", "a-long-password-1", {Role.REGULATOR})
    token = (await client.post("/v1/ops/auth/token", json={"login": "auditor", "password": "a-long-password-1"})).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


async def test_small_cells_and_their_complements_are_published_suppressed(platform):
    body = (await platform.get("/v1/public/statistics", params={**MONTH, "by": "category"})).json()
    rows = {row["key"]: row for row in body["rows"]}
    assert body["min_count"] == 5
    billing = rows["billing"]
    assert billing["received"] is None and billing["suppressed"] is True and "received" in billing["suppressed_fields"]
    assert billing["timely_rate"] is None and billing["satisfaction"] is None
    # The totals minus refund would give billing away: one of them is hidden too.
    assert body["totals"]["received"] is None or rows["refund"]["received"] is None
    regions = (await platform.get("/v1/public/statistics", params={**MONTH, "by": "region"})).json()
    by_region = {row["key"]: row for row in regions["rows"]}
    assert by_region["11"]["received"] == 12 and by_region["44"]["received"] is None
    assert sum(row["received"] is None for row in [*regions["rows"], regions["totals"]]) >= 2


async def test_the_differencing_attack_learns_nothing_and_regulators_see_the_change(platform):
    headers = await regulator(platform)
    before_public = await public_figures(platform)
    before_exact = (
        await platform.get("/v1/regulator/statistics", params={**MONTH, "by": "region"}, headers=headers)
    ).json()

    db = platform.app.state.runtime.db
    await db["complaints"].insert_one(dict(NEW))
    await rebuild(db, platform.app.state.intake.cipher)

    # Every public figure, read again after the publication: the same, so their difference shows nothing.
    assert await public_figures(platform) == before_public
    after_exact = (
        await platform.get("/v1/regulator/statistics", params={**MONTH, "by": "region"}, headers=headers)
    ).json()
    exact = {row["key"]: row["received"] for row in after_exact["rows"]}
    assert exact["44"] == 2 and after_exact["totals"]["received"] == before_exact["totals"]["received"] + 1

    # The next period's snapshot has it; the cell is still below 5, so still suppressed.
    snapshot = platform.app.state.public_data.public_statistics
    assert await snapshot.refresh_if_due(datetime.now(UTC) + timedelta(days=1)) is True
    regions = (await platform.get("/v1/public/statistics", params={**MONTH, "by": "region"})).json()
    assert {row["key"]: row["received"] for row in regions["rows"]}["44"] is None
    summary = (await platform.get("/v1/public/statistics/summary")).json()
    assert summary["published"] == 20
