"""Rating and appealing go together, over HTTP on real components: an unsatisfied rating (1-2) is
recorded and leaves the appeal open, and the operators mediate the appeal as ever; a satisfied rating
(3-5) closes the complaint; a rating is given once; an unsatisfied rating left without an appeal is
closed by the quiet period with the rating kept, and the public record shows it once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from devstack.platform import INTERNAL_TOKEN
from tests.e2e.test_lifecycle_journey import Journey, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def answered(journey: Journey) -> tuple[str, dict, dict]:
    number, guest = await journey.file_and_forward()
    company = await journey.company_key((await journey.company())["id"])
    answer = await journey.intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=company,
        json={"response_type": "explained", "text": "课程已观看超过30%，按规则不予退款。"},
    )
    assert answer.status_code == 200, answer.text
    case = await journey.status_is(number, guest, "responded")
    assert case["allowed_actions"] == ["rate", "appeal", "withdraw"]
    return number, guest, company


async def test_an_unsatisfied_rating_keeps_the_appeal_and_the_operators_mediate_it(platform):
    journey = Journey(platform)
    intake = platform.intake
    number, guest, company = await answered(journey)
    other, other_guest = await journey.file_and_forward()

    # Someone else's access code rates nothing.
    forged = await intake.post(f"/v1/complaints/{number}/rating", headers=other_guest, json={"rating": 1})
    assert forged.status_code == 404 and forged.headers["content-type"].startswith("application/problem+json")

    rated = await intake.post(f"/v1/complaints/{number}/rating", headers=guest, json={"rating": 2, "comment": "不满意"})
    assert rated.status_code == 200 and rated.json() == {"number": number, "status": "responded"}
    case = (await intake.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert case["rating"]["rating"] == 2 and case["closure"] is None
    assert case["allowed_actions"] == ["appeal", "withdraw"]

    again = await intake.post(f"/v1/complaints/{number}/rating", headers=guest, json={"rating": 5})
    assert again.status_code == 409 and again.json()["code"] == "already_rated", again.text
    assert again.headers["content-type"].startswith("application/problem+json")

    appealed = await intake.post(
        f"/v1/complaints/{number}/appeal", headers=guest, json={"reason": "规则未在购买前告知，属于格式条款。"}
    )
    assert appealed.status_code == 200 and appealed.json()["status"] == "appealed", appealed.text
    await journey.webhook(number, "complaint.appealed")
    operator = await journey.operator()
    queue = (await intake.get("/v1/ops/queue", params={"kind": "appeals"}, headers=operator)).json()
    assert number in [item["number"] for item in queue["items"]]
    reforwarded = await intake.post(
        f"/v1/ops/complaints/{number}/reforward",
        headers=operator,
        json={"note": "请核实购买页面是否提示退款规则。", "deadline_working_days": 5},
    )
    assert reforwarded.json()["status"] == "forwarded"
    second = await intake.post(
        f"/v1/company/complaints/{number}/response",
        headers=company,
        json={"response_type": "monetary_relief", "text": "经核实，已全额退款。"},
    )
    assert second.json()["status"] == "responded"
    closed = await intake.post(
        f"/v1/ops/complaints/{number}/close", headers=operator, json={"outcome": "mediated_settled", "note": "已退款"}
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text

    case = (await intake.get(f"/v1/complaints/{number}", headers=guest)).json()
    transitions = [entry["action"] for entry in case["timeline"] if not entry["action"].startswith("deadline")]
    assert transitions == [
        "submit",
        "accept",
        "forward",
        "respond",
        "rate_unsatisfied",
        "appeal",
        "reforward",
        "respond",
        "close",
    ]
    assert case["rating"]["rating"] == 2 and case["closure"]["outcome"] == "mediated_settled"
    assert case["allowed_actions"] == []

    async def public():
        shown = await intake.get(f"/v1/public/complaints/{number}")
        return shown.json() if shown.status_code == 200 and shown.json()["status"] == "closed" else None

    record = await until(public, what="the public record to show the closing")
    assert record["rating"] == 2
    assert (await intake.get(f"/v1/complaints/{other}", headers=other_guest)).json()["rating"] is None


async def test_a_satisfied_rating_closes_and_refuses_the_appeal(platform):
    journey = Journey(platform)
    number, guest, _ = await answered(journey)
    rated = await platform.intake.post(f"/v1/complaints/{number}/rating", headers=guest, json={"rating": 5})
    assert rated.json() == {"number": number, "status": "closed"}
    appeal = await platform.intake.post(
        f"/v1/complaints/{number}/appeal", headers=guest, json={"reason": "规则未在购买前告知，属于格式条款。"}
    )
    assert appeal.status_code == 409 and appeal.json()["status_now"] == "closed", appeal.text
    again = await platform.intake.post(f"/v1/complaints/{number}/rating", headers=guest, json={"rating": 1})
    assert again.status_code == 409
    case = (await platform.intake.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert case["rating"]["rating"] == 5 and case["closure"]["outcome"] == "rated" and case["allowed_actions"] == []


async def test_two_ratings_at_once_record_one(platform):
    journey = Journey(platform)
    number, guest, _ = await answered(journey)
    answers = await asyncio.gather(
        *[
            platform.intake.post(f"/v1/complaints/{number}/rating", headers=guest, json={"rating": rating})
            for rating in (1, 2, 2, 4)
        ]
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes.count(200) == 1 and set(codes) <= {200, 409}, [answer.text for answer in answers]
    [won] = [answer for answer in answers if answer.status_code == 200]
    case = (await platform.intake.get(f"/v1/complaints/{number}", headers=guest)).json()
    assert case["status"] == won.json()["status"]
    assert [entry["action"] for entry in case["timeline"]].count("rate") + [
        entry["action"] for entry in case["timeline"]
    ].count("rate_unsatisfied") == 1


async def test_an_unsatisfied_rating_without_an_appeal_closes_after_the_quiet_period(platform):
    journey = Journey(platform)
    number, guest, _ = await answered(journey)
    rated = await platform.intake.post(f"/v1/complaints/{number}/rating", headers=guest, json={"rating": 1})
    assert rated.json()["status"] == "responded"

    async def quiet_period() -> str | None:
        clocks = await platform.routing.get(
            f"/v1/clocks/{number}", headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
        )
        periods = [clock.get("quiet_period") for clock in clocks.json()["clocks"]] if clocks.status_code == 200 else []
        return next((period["state"] for period in periods if period), None)

    await until(quiet_period, what="the quiet period to start")
    # Routing hears of the rating within moments; give it ample time to (wrongly) cancel the quiet period.
    for _ in range(30):
        assert await quiet_period() == "waiting", "an unsatisfied rating must not end the quiet period"
        await asyncio.sleep(0.1)
    published = await journey.watchdog(datetime.now(UTC) + timedelta(days=16))
    assert "sla.quiet_period_elapsed" in [event["type"] for event in published if event["subject"] == number]
    case = await journey.status_is(number, guest, "closed")
    assert case["closure"]["outcome"] == "auto_closed" and case["rating"]["rating"] == 1
    assert [entry["action"] for entry in case["timeline"]].count("rate_unsatisfied") == 1
    late = await platform.intake.post(
        f"/v1/complaints/{number}/appeal", headers=guest, json={"reason": "规则未在购买前告知，属于格式条款。"}
    )
    assert late.status_code == 409
