"""A file whose metadata could not be removed reaches the company only after an operator released it.

An encrypted PDF (evidence cannot open it, so its author stays in it) is uploaded through intake next to a PNG
(cleaned as usual). The company is refused the PDF with ``evidence_held`` and sees it marked held, while it gets the
PNG; the complainant downloads both. Only an operator may release it; two operators releasing at once leave one
release and one timeline entry. Then the company downloads it from nanio over HTTP, byte for byte the receipt's.
"""

from __future__ import annotations

import asyncio
import hashlib
import io

import httpx
import pikepdf
import pytest

from tests.e2e.test_lifecycle_journey import Journey, png

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROBLEM_JSON = "application/problem+json"


def encrypted_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = "张三"
    buffer = io.BytesIO()
    pdf.save(buffer, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    return buffer.getvalue()


async def upload(intake: httpx.AsyncClient, name: str, data: bytes, media_type: str) -> dict:
    uploaded = await intake.post("/v1/evidence", files={"file": (name, data, media_type)})
    assert uploaded.status_code == 201, uploaded.text
    return uploaded.json()


async def held_ids(intake: httpx.AsyncClient, operator: dict) -> list[str]:
    """Every page of the operators' queue of held files."""
    ids: list[str] = []
    cursor = None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await intake.get("/v1/ops/evidence/held", params=params, headers=operator)
        assert page.status_code == 200, page.text
        ids += [item["evidence_id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return ids


async def test_a_file_with_its_metadata_kept_is_held_from_the_company_until_an_operator_releases_it(platform):
    journey = Journey(platform)
    intake = platform.intake
    pdf, image = encrypted_pdf(), png()
    held = await upload(intake, "合同.pdf", pdf, "application/pdf")
    clean = await upload(intake, "截图.png", image, "image/png")
    assert held["metadata_stripped"] is False and held["metadata_reason"] == "encrypted_pdf"
    assert held["held"] is True and held["released"] is None
    assert clean["metadata_stripped"] is True and clean["held"] is False
    assert held["sha256"] == hashlib.sha256(pdf).hexdigest()

    number, complainant = await journey.file_and_forward(evidence_ids=[held["evidence_id"], clean["evidence_id"]])
    forwarded = await journey.webhook(number, "complaint.forwarded")
    company = await journey.company_key(forwarded["data"]["company_id"])
    operator = await journey.operator()
    held_link = f"/v1/complaints/{number}/evidence/{held['evidence_id']}/link"
    release = f"/v1/ops/complaints/{number}/evidence/{held['evidence_id']}/release"

    # The company: the PDF refused with a problem (Chinese first), listed as held; the PNG as usual.
    refused = await intake.get(held_link, headers=company)
    assert refused.status_code == 409 and refused.headers["content-type"].startswith(PROBLEM_JSON)
    assert refused.json()["code"] == "evidence_held"
    assert (
        refused.json()["detail"].startswith("平台正在核查") and "The platform is checking" in refused.json()["detail"]
    )
    view = (await intake.get(f"/v1/company/complaints/{number}", headers=company)).json()
    assert {ref["evidence_id"]: ref["held"] for ref in view["evidence"]} == {
        held["evidence_id"]: True,
        clean["evidence_id"]: False,
    }
    assert all("url" not in ref for ref in view["evidence"])
    clean_link = await intake.get(f"/v1/complaints/{number}/evidence/{clean['evidence_id']}/link", headers=company)
    assert clean_link.status_code == 200, clean_link.text

    # The complainant and the operator still get the held file.
    async with httpx.AsyncClient() as outside:
        for caller in (complainant, operator):
            link = await intake.get(held_link, headers=caller)
            assert link.status_code == 200, link.text
            assert (await outside.get(link.json()["url"])).content == pdf

    # It is in the operators' queue; a PNG that lost its metadata never is, and cannot be "released".
    queue = await held_ids(intake, operator)
    assert held["evidence_id"] in queue and clean["evidence_id"] not in queue
    not_held = await intake.post(
        f"/v1/ops/complaints/{number}/evidence/{clean['evidence_id']}/release",
        json={"note": "无需核查"},
        headers=operator,
    )
    assert not_held.status_code == 409 and not_held.json()["code"] == "evidence_not_held"

    # Nobody but an operator releases it; an empty note is refused.
    for caller in (company, complainant, {}):
        denied = await intake.post(release, json={"note": "我来放行"}, headers=caller)
        assert denied.status_code in (401, 403), (caller, denied.status_code, denied.text)
    assert (await intake.post(release, json={"note": ""}, headers=operator)).status_code == 422
    assert (await intake.get(held_link, headers=company)).status_code == 409

    # Two operators release at once: both answered, one release, one timeline entry.
    note = "已人工核查：加密合同，内容与投诉相符，可交企业。"
    answers = await asyncio.gather(*(intake.post(release, json={"note": note}, headers=operator) for _ in range(2)))
    assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
    assert sorted(answer.json()["released_now"] for answer in answers) == [False, True]
    released = answers[0].json()["released"]
    assert released["note"] == note and released["by"].startswith("operator:") and released["at"]
    assert answers[1].json()["released"] == released and answers[0].json()["held"] is False
    again = await intake.post(release, json={"note": "再放行一次"}, headers=operator)
    assert again.status_code == 200 and again.json()["released"] == released and again.json()["released_now"] is False
    case = (await intake.get(f"/v1/ops/complaints/{number}", headers=operator)).json()
    entries = [entry for entry in case["timeline"] if entry["action"] == "release_evidence"]
    assert len(entries) == 1 and note in entries[0]["detail"] and entries[0]["actor"] == released["by"]
    assert held["evidence_id"] not in await held_ids(intake, operator)

    # Now the company downloads it over nanio's HTTP, and it is the file of the receipt.
    view = (await intake.get(f"/v1/company/complaints/{number}", headers=company)).json()
    assert not any(ref["held"] for ref in view["evidence"])
    link = await intake.get(held_link, headers=company)
    assert link.status_code == 200, link.text
    async with httpx.AsyncClient() as outside:
        downloaded = (await outside.get(link.json()["url"])).content
    assert hashlib.sha256(downloaded).hexdigest() == held["sha256"]
