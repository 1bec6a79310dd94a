"""Publication through the running platform: a complaint filed with consent is forwarded, answered and
rated; it appears in the public results with its narrative scrubbed, with routing's handling time in the
statistics and the company's name from the directory, and in the open data; the regulator sees it too."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.e2e.test_lifecycle_journey import ADMIN, Journey, form, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CHINA = timezone(timedelta(hours=8))


async def test_an_answered_complaint_is_published_and_counted(platform):
    journey = Journey(platform)
    intake = platform.intake
    company = await journey.company()
    body = {
        **form(company["name"]),
        "publication_consent": True,
        "description": "我是吴七，手机13811112222，七天无理由退款期内申请退款，客服以已观看为由拒绝。",
    }
    filed = await intake.post("/v1/complaints", json=body)
    assert filed.status_code == 201, filed.text
    number, guest = filed.json()["number"], {"X-Access-Code": filed.json()["access_code"]}
    await journey.status_is(number, guest, "forwarded")
    assert (await intake.get(f"/v1/public/complaints/{number}")).status_code == 404

    key = await journey.company_key(company["id"])
    answered = await intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=key,
        json={"response_type": "monetary_relief", "text": "已联系吴七女士，同意全额退款。"},
    )
    assert answered.status_code == 200, answered.text
    assert (await intake.post(f"/v1/complaints/{number}/rating", headers=guest, json={"rating": 5})).status_code == 200

    async def public():
        response = await intake.get(f"/v1/public/complaints/{number}")
        return response.json() if response.status_code == 200 and response.json()["status"] == "closed" else None

    shown = await until(public, what="the public record")
    assert (shown["company_id"], shown["company_name"], shown["rating"], shown["timely"]) == (
        company["id"],
        company["name"],
        5,
        True,
    )
    assert shown["category_name_zh"] == "退款" and shown["category_name_en"] == "Refund"
    raw = json.dumps(shown, ensure_ascii=False)
    assert "吴七" not in raw and "13811112222" not in raw and "退款期内申请退款" in shown["narrative"]

    # routing's clock stopped at the answer: the handling time reaches the company's statistics.
    month = datetime.now(CHINA).strftime("%Y-%m")

    async def counted():
        rows = (await intake.get("/v1/public/statistics", params={"from": month, "to": month, "by": "company"})).json()[
            "rows"
        ]
        row = next((row for row in rows if row["key"] == company["id"]), None)
        return row if row and row["median_handling_days"] is not None else None

    row = await until(counted, what="the handling time in the statistics")
    assert row["label_zh"] == company["name"] and row["answered"] >= 1 and row["median_handling_days"] == 0
    card = (await intake.get(f"/v1/public/companies/{company['id']}/scorecard", params={"period": month})).json()
    assert card["volume"] >= 1 and card["user_base"] == company["user_base_millions"] * 1_000_000

    exported = list(csv.DictReader(io.StringIO((await intake.get("/v1/public/open-data/complaints.csv")).text)))
    assert number in [row["number"] for row in exported]

    token = (await intake.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
    regulator = (
        await intake.get(
            "/v1/regulator/statistics",
            params={"from": month, "to": month},
            headers={"Authorization": f"Bearer {token}"},
        )
    ).json()
    assert regulator["totals"]["received"] >= row["received"]
