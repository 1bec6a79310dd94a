"""Held files: a file of a kind that can carry metadata, stored with that metadata not removed, is refused to a
company's link until an operator releases it; records written before the rule count by their fields."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime

import pikepdf
import pytest

pytestmark = pytest.mark.integration


def encrypted_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = "张三"
    buffer = io.BytesIO()
    pdf.save(buffer, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    return buffer.getvalue()


def new_number() -> str:
    return f"GC-HELD-{uuid.uuid4().hex[:12]}"


async def upload(client, number: str, data: bytes, media_type: str) -> dict:
    response = await client.post(
        f"/v1/complaints/{number}/evidence", content=data, headers={"Content-Type": media_type}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def record_of_before(db, number: str, media_type: str) -> str:
    """A record as the service wrote it before files were held: no release, no reason, metadata not removed."""
    evidence_id = uuid.uuid4().hex
    await db["evidence"].insert_one(
        {
            "_id": evidence_id,
            "evidence_id": evidence_id,
            "number": number,
            "filename": "old",
            "media_type": media_type,
            "size": 3,
            "sha256": "0" * 64,
            "metadata_stripped": False,
            "object_key": f"{number}/{evidence_id}",
            "bucket": "evidence",
            "received_at": datetime.now(UTC),
            "status": "attached",
        }
    )
    return evidence_id


async def held_ids(client, operator) -> list[str]:
    ids, after = [], None
    while True:
        page = await client.get(
            "/v1/held-evidence", params={"limit": 2, **({"after": after} if after else {})}, headers=operator
        )
        assert page.status_code == 200, page.text
        ids += [item["evidence_id"] for item in page.json()["items"]]
        if (after := page.json()["next_after"]) is None:
            return ids


async def test_an_encrypted_pdf_is_held_from_the_company_until_released_once(client, operator):
    number = new_number()
    receipt = await upload(client, number, encrypted_pdf(), "application/pdf")
    assert receipt["held"] is True and receipt["released"] is None
    evidence_id = receipt["evidence_id"]
    link = f"/v1/evidence/{evidence_id}/link"

    refused = await client.post(link, params={"audience": "company"})
    assert refused.status_code == 409 and refused.json()["code"] == "evidence_held"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.post(link)).status_code == 200  # the complainant's and the operators' link
    assert evidence_id in await held_ids(client, operator)

    release = f"/v1/evidence/{evidence_id}/release"
    body = {"by": "operator:o-1", "note": "已核查"}
    assert (await client.post(release, json=body)).status_code == 401  # intake's token is not the operator's
    answers = await asyncio.gather(*(client.post(release, json=body, headers=operator) for _ in range(5)))
    assert [answer.status_code for answer in answers] == [200] * 5
    assert sorted(answer.json()["released_now"] for answer in answers) == [False] * 4 + [True]
    releases = {str(answer.json()["receipt"]["released"]) for answer in answers}
    assert len(releases) == 1
    assert (await client.post(link, params={"audience": "company"})).status_code == 200
    assert evidence_id not in await held_ids(client, operator)
    assert (await client.get(f"/v1/evidence/{evidence_id}")).json()["held"] is False


async def test_records_of_before_are_held_by_their_fields_and_text_never_is(client, db, operator):
    number = new_number()
    pdf = await record_of_before(db, number, "application/pdf")
    text = await record_of_before(db, number, "text/plain")
    receipts = {
        item["evidence_id"]: item for item in (await client.get(f"/v1/complaints/{number}/evidence")).json()["items"]
    }
    assert receipts[pdf]["held"] is True and receipts[text]["held"] is False

    queue = await held_ids(client, operator)
    assert pdf in queue and text not in queue
    assert (await client.post(f"/v1/evidence/{pdf}/link", params={"audience": "company"})).status_code == 409
    assert (await client.post(f"/v1/evidence/{text}/link", params={"audience": "company"})).status_code == 200

    not_held = await client.post(
        f"/v1/evidence/{text}/release", json={"by": "operator:o-1", "note": "x"}, headers=operator
    )
    assert not_held.status_code == 409 and not_held.json()["code"] == "evidence_not_held"
    released = await client.post(
        f"/v1/evidence/{pdf}/release", json={"by": "operator:o-1", "note": "旧文件已核查"}, headers=operator
    )
    assert released.status_code == 200 and released.json()["released_now"] is True
    assert (await client.post(f"/v1/evidence/{pdf}/link", params={"audience": "company"})).status_code == 200
