"""The company inbox while routing (its working-day calendar) is away: the list and the export still answer, and only
the filter that counts working days is refused, with a problem saying so, before any CSV byte is sent."""

from __future__ import annotations

import httpx
import pytest

from devstack.servers import serve
from intake.config import Settings
from intake.main import create_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def intake(mongo_url, broker_namespace, run_id):
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_inbox_no_routing",
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        log_json=False,
        **broker_namespace.settings_for("intake"),
    )
    app = create_app(settings)
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        issued = await app.state.intake.identities.issue_api_key("c-x", "inbox", "test")
        client.headers["X-Api-Key"] = issued["api_key"]
        yield client


async def test_the_inbox_answers_without_the_calendar_except_due_within(intake):
    assert (await intake.get("/v1/company/complaints")).status_code == 200
    export = await intake.get("/v1/company/complaints.csv")
    assert export.status_code == 200 and export.text.lstrip("\ufeff").startswith("number,")
    for path in ("/v1/company/complaints", "/v1/company/complaints.csv"):
        refused = await intake.get(path, params={"due_within": 5})
        assert refused.status_code == 503, path
        assert refused.json()["code"] == "calendar_unavailable"
