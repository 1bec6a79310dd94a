"""intake when its store goes away and comes back: a clear 503 meanwhile (never a 500), nothing lost,
and filing works again once the store answers. The store here is a SecantusDB process of this test's own."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from devstack import standins
from devstack.servers import serve
from intake.config import Settings
from intake.main import create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FORM = {
    "complainant": {"name": "钱九", "id_number": "11010519491231002X", "phone": "13622223333"},
    "company": {"name": "迅联"},
    "category": "refund",
    "title": "退款迟迟不到账",
    "description": "申请退款已过十五个工作日仍未到账。",
    "occurred_on": "2026-09-09",
    "desired_outcome": "尽快退款",
}


async def test_a_store_outage_answers_503_and_filing_resumes_after(workdir, broker_namespace, run_id):
    store = standins.start_secantus(workdir / "outage-store", log_dir=workdir)
    port = store.port
    namespace = broker_namespace.isolated("intake-outage")
    settings = Settings(
        mongo_url=standins.mongo_url(port),
        mongo_db=f"t{run_id}_intake_outage",
        evidence_url="http://127.0.0.1:9",
        **namespace.settings_for("intake"),
    )
    app = create_app(settings)
    try:
        async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            before = await client.post("/v1/complaints", json=FORM, headers={"Idempotency-Key": "before-outage"})
            assert before.status_code == 201
            store.stop()
            during = await client.post("/v1/complaints", json=FORM, headers={"Idempotency-Key": "during-outage"})
            assert during.status_code == 503, during.text
            assert during.json()["code"] == "store_unavailable" and during.headers["Retry-After"]
            assert (await client.get("/readyz")).status_code == 503

            store = standins.start_secantus(workdir / "outage-store", port=port, log_dir=workdir)
            for _ in range(100):
                if (await client.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.2)
            retried = await client.post("/v1/complaints", json=FORM, headers={"Idempotency-Key": "during-outage"})
            assert retried.status_code == 201
            again = await client.post("/v1/complaints", json=FORM, headers={"Idempotency-Key": "before-outage"})
            assert again.json() == before.json()  # what was stored before the outage is still there
            read = await client.get(
                f"/v1/complaints/{before.json()['number']}", headers={"X-Access-Code": before.json()["access_code"]}
            )
            assert read.status_code == 200
    finally:
        store.stop()
