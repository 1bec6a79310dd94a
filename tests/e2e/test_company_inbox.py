"""A company's inbox on the whole platform: complaints forwarded to it with the working days left on routing's
calendar, filtered (category, number, due within N working days, overdue, appealed), paged stably while new
complaints arrive, and exported as CSV of the same filter with no cell starting a formula.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from intake.domain.statistics import CHINA
from tests.e2e.test_lifecycle_journey import Journey, until

pytestmark = pytest.mark.e2e

COMPANY = "c-maisui"
TEXTS = (
    ("refund", '=HYPERLINK("http://x") 退款被拒', "购买的会员无法使用，申请退款一直没有处理结果。"),
    ("billing", "自动扣费金额不对", "账单显示重复扣费两次，客服说系统正常不予退还。"),
    ("auto_renewal", "续费前没有提醒", "年度会员到期前没有任何提醒就自动续费了三百元。"),
    ("privacy", "注销后仍收到推送", "账号已经注销一个月，手机号仍然每天收到营销短信。"),
)


def complaint(category: str, title: str, description: str, phone: str) -> dict:
    return {
        "complainant": {"name": "钱八", "id_number": "11010519491231002X", "phone": phone, "email": None},
        "company": {"id": COMPANY},
        "category": category,
        "title": title,
        "description": description,
        "occurred_on": "2026-11-01",
        "desired_outcome": "按规定处理并退款",
        "evidence_ids": [],
    }


async def file_all(platform) -> list[tuple[str, dict]]:
    journey = Journey(platform)
    filed = []
    for index, (category, title, description) in enumerate(TEXTS):
        answer = await platform.intake.post(
            "/v1/complaints", json=complaint(category, title, description, f"1391234{index:04d}")
        )
        assert answer.status_code == 201, answer.text
        filed.append((answer.json()["number"], {"X-Access-Code": answer.json()["access_code"]}))
    for number, access in filed:
        await journey.status_is(number, access, "forwarded")
    return filed


async def listing(platform, headers, **params) -> list[dict]:
    answer = await platform.intake.get("/v1/company/complaints", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_the_inbox_filters_counts_working_days_pages_and_exports(platform):
    filed = await file_all(platform)
    numbers = [number for number, _ in filed]
    key = await Journey(platform).company_key(COMPANY)

    items = await listing(platform, key)
    assert [item["number"] for item in items] == numbers[::-1]  # newest first
    # Working days left, on routing's calendar: those after today up to the due day (routing's own count).
    calendar = platform.apps["routing"].state.calendar
    today = datetime.now(CHINA).date()
    for item in items:
        due = datetime.fromisoformat(item["response_due"]).date()
        expected = calendar.working_days_between(today, due)
        assert item["working_days_left"] == expected, item
        assert item["appealed"] is False and item["collective"] is False and item["overdue"] is False
    assert all(item["category"] == category for item, (category, _, _) in zip(items[::-1], TEXTS, strict=True))

    assert [item["number"] for item in await listing(platform, key, category="billing")] == [numbers[1]]
    assert [item["number"] for item in await listing(platform, key, number=numbers[2])] == [numbers[2]]
    prefix = numbers[0][: numbers[0].rindex("-") + 1]
    assert len(await listing(platform, key, number=prefix)) == len(numbers)
    assert await listing(platform, key, due_within=1) == []
    assert len(await listing(platform, key, due_within=30)) == len(numbers)
    refused = await platform.intake.get("/v1/company/complaints", headers=key, params={"due_within": 0})
    assert refused.status_code == 422

    # Stable paging: a complaint arriving between two pages neither repeats nor skips one.
    first = await platform.intake.get("/v1/company/complaints", headers=key, params={"limit": 2})
    page = first.json()
    late = await platform.intake.post(
        "/v1/complaints", json=complaint("account", "无法注销账号", "注销入口一直报错，客服不处理。", "13912349999")
    )
    assert late.status_code == 201
    await Journey(platform).status_is(late.json()["number"], {"X-Access-Code": late.json()["access_code"]}, "forwarded")
    seen = [item["number"] for item in page["items"]]
    while page["next_cursor"]:
        page = (
            await platform.intake.get(
                "/v1/company/complaints", headers=key, params={"limit": 2, "cursor": page["next_cursor"]}
            )
        ).json()
        seen += [item["number"] for item in page["items"]]
    assert seen == numbers[::-1]

    # Answered and appealed; one overdue once routing's watchdog runs after its deadline.
    answered, access = filed[0]
    response = await platform.intake.post(
        f"/v1/company/complaints/{answered}/response",
        headers=key,
        json={"response_type": "declined", "text": "经核实，该会员已使用，不予退款。"},
    )
    assert response.status_code == 200, response.text
    appeal = await platform.intake.post(
        f"/v1/complaints/{answered}/appeal", headers=access, json={"reason": "会员从未成功使用过，要求复核。"}
    )
    assert appeal.status_code == 200, appeal.text
    assert [item["number"] for item in await listing(platform, key, appealed="true")] == [answered]
    assert answered not in [item["number"] for item in await listing(platform, key, appealed="false")]
    answered_item = next(item for item in await listing(platform, key) if item["number"] == answered)
    assert answered_item["working_days_left"] is None and answered_item["appealed"] is True

    await Journey(platform).watchdog(datetime.now(CHINA) + timedelta(days=40))

    # Every complaint still waiting for the answer is late forty days on (the appealed one may be too: its
    # mediation has a clock of its own).
    waiting = set(numbers[1:]) | {late.json()["number"]}

    async def overdue() -> set[str] | None:
        found = {item["number"] for item in await listing(platform, key, overdue="true")}
        return found if found >= waiting else None

    await until(overdue, what="overdue complaints")
    on_time = {item["number"] for item in await listing(platform, key, overdue="false")}
    assert not on_time & waiting

    # The CSV of a filter: the same complaints, and no cell a spreadsheet would run.
    export = await platform.intake.get("/v1/company/complaints.csv", headers=key, params={"number": prefix})
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0][0] == "number" and len(rows) == 1 + len(numbers) + 1
    assert {row[0] for row in rows[1:]} == set(numbers) | {late.json()["number"]}
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))]
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    filtered = await platform.intake.get("/v1/company/complaints.csv", headers=key, params={"category": "billing"})
    assert [row[0] for row in csv.reader(io.StringIO(filtered.text.lstrip("\ufeff")))][1:] == [numbers[1]]

    # Another company's key sees none of it.
    other = await Journey(platform).company_key("c-haina")
    assert await listing(platform, other, number=prefix) == []
