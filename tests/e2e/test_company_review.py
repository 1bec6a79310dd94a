"""A company the directory does not know, over HTTP on real components: the filing form promises that a
name it cannot find goes to the operators' review, and it does. The complaint is neither rejected nor
forwarded while it waits (the complainant reads "under review"); an operator resolves it to a directory
company, which forwards it with the normal response deadline, or rejects it with a reason; the complainant's
messages say which. A company id the directory does not know is a wrong reference, rejected at once."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.e2e

ADMIN = {"login": "admin", "password": "development-only-admin-password"}


def form(company: dict, phone: str) -> dict:
    return {
        "complainant": {"name": "赵六", "id_number": "11010519491231002X", "phone": phone},
        "company": company,
        "category": "refund",
        "title": "课程退款被拒绝",
        "description": "七天无理由退款期内申请退款，客服以已观看为由拒绝。",
        "occurred_on": "2026-11-01",
        "desired_outcome": "全额退款",
    }


async def until(check, timeout=30.0, what="condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def operator(platform) -> dict[str, str]:
    token = (await platform.intake.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def file(platform, company: dict, phone: str) -> tuple[str, dict[str, str]]:
    filed = await platform.intake.post("/v1/complaints", json=form(company, phone))
    assert filed.status_code == 201, filed.text
    return filed.json()["number"], {"X-Access-Code": filed.json()["access_code"]}


async def reaches(platform, number: str, access: dict[str, str], status: str) -> dict:
    async def check():
        case = (await platform.intake.get(f"/v1/complaints/{number}", headers=access)).json()
        return case if case["status"] == status else None

    return await until(check, what=f"{number} to be {status}")


async def messages(platform, number: str, access: dict[str, str], kind: str) -> list[dict]:
    async def check():
        answer = await platform.intake.get(f"/v1/complaints/{number}/messages", headers=access)
        items = answer.json()["items"] if answer.status_code == 200 else []
        return items if kind in {item["kind"] for item in items} else None

    return await until(check, what=f"message {kind} for {number}")


def delivered_to_companies(platform, number: str) -> list:
    return [d for d in platform.receiver.received if d.body.get("data", {}).get("number") == number]


async def test_an_unknown_name_waits_for_review_and_an_operator_forwards_it_with_the_normal_deadline(platform):
    number, access = await file(platform, {"name": "根本不存在的某某网络公司"}, "13700002001")
    case = await reaches(platform, number, access, "under_review")
    assert [entry["action"] for entry in case["timeline"]] == ["submit", "refer_for_review"]
    assert case["rejection"] is None and case["company"]["requested"]["name"] == "根本不存在的某某网络公司"
    ops = await operator(platform)
    queue = (await platform.intake.get("/v1/ops/queue", params={"kind": "company_review"}, headers=ops)).json()
    assert number in [item["number"] for item in queue["items"]]
    assert not delivered_to_companies(platform, number)

    company = (await platform.routing.get("/v1/companies", params={"q": "迅联"})).json()["items"][0]
    resolving = [
        platform.intake.post(
            f"/v1/ops/complaints/{number}/resolve-company",
            headers=ops,
            json={"company_id": company["id"], "note": "名称为企业的旧称"},
        )
        for _ in range(3)
    ]
    answers = await asyncio.gather(*resolving)  # operators resolving at once: one wins, the others are told
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409], [a.text for a in answers]
    await reaches(platform, number, access, "forwarded")

    async def deadline_set():
        case = (await platform.intake.get(f"/v1/complaints/{number}", headers=access)).json()
        return case if case["response_due"] else None

    case = await until(deadline_set, what="the response clock to start")  # routing's clock, from the forwarding
    assert case["company"]["id"] == company["id"]
    assert "deadline_started" in [entry["action"] for entry in case["timeline"]]
    transitions = [entry["action"] for entry in case["timeline"] if not entry["action"].startswith("deadline")]
    assert transitions == ["submit", "refer_for_review", "resolve_company", "forward"]
    assert len(delivered_to_companies(platform, number)) == 1
    await messages(platform, number, access, "complaint.forwarded")
    queue = (await platform.intake.get("/v1/ops/queue", params={"kind": "company_review"}, headers=ops)).json()
    assert number not in [item["number"] for item in queue["items"]]


async def test_an_operator_rejects_a_reviewed_complaint_with_a_reason_the_complainant_is_told(platform):
    number, access = await file(platform, {"name": "查无此名的某某公司"}, "13700002002")
    await reaches(platform, number, access, "under_review")
    ops = await operator(platform)
    unknown = await platform.intake.post(
        f"/v1/ops/complaints/{number}/resolve-company", headers=ops, json={"company_id": "c-nope"}
    )
    assert unknown.status_code == 422 and unknown.headers["content-type"].startswith("application/problem+json")
    rejected = await platform.intake.post(
        f"/v1/ops/complaints/{number}/reject",
        headers=ops,
        json={"reason": "company_unknown", "detail": "无法确定被投诉企业"},
    )
    assert rejected.status_code == 200, rejected.text
    case = await reaches(platform, number, access, "rejected")
    assert case["rejection"] == {"reason": "company_unknown", "detail": "无法确定被投诉企业"}
    found = await messages(platform, number, access, "complaint.rejected")
    assert all(item["title_zh"] and item["title_en"] for item in found)
    late = await platform.intake.post(
        f"/v1/ops/complaints/{number}/resolve-company", headers=ops, json={"company_id": "c-xunlian"}
    )
    assert late.status_code == 409 and late.json()["code"] == "illegal_transition"
    assert not delivered_to_companies(platform, number)


async def test_a_company_id_the_directory_does_not_know_is_rejected_at_once(platform):
    number, access = await file(platform, {"id": "c-nope", "name": "迅联"}, "13700002003")
    case = await reaches(platform, number, access, "rejected")
    assert case["rejection"]["reason"] == "company_unknown"
    assert [entry["action"] for entry in case["timeline"]] == ["submit", "reject"]
