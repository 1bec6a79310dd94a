"""End to end over HTTP on real components: a guest files a complaint with evidence, routing accepts
it, the company's endpoint receives a Standard Webhooks-signed webhook, and the case reads
``forwarded``; a company id the directory does not know is rejected with its reason."""

from __future__ import annotations

import asyncio
import hashlib
import io

import httpx
import pytest
from PIL import Image
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from devstack.platform import WEBHOOK_SECRET

pytestmark = pytest.mark.e2e


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def form(company_name: str, evidence_ids: list[str] | None = None) -> dict:
    return {
        "complainant": {"name": "王五", "id_number": "11010519491231002X", "phone": "13700001111"},
        "company": {"name": company_name},
        "category": "auto_renewal",
        "title": "会员到期自动续费未提醒",
        "description": "到期前没有任何提醒就扣费三十元，申请退款被拒。",
        "occurred_on": "2026-10-20",
        "desired_outcome": "退款并关闭自动续费",
        "evidence_ids": evidence_ids or [],
    }


async def until(check, timeout=30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_complaint_travels_from_intake_to_the_company_webhook(platform):
    company = (await platform.routing.get("/v1/companies", params={"limit": 1})).json()
    company = (company["items"] if isinstance(company, dict) else company)[0]
    alias = (company.get("aliases") or [company["name"]])[0]

    image = png_bytes()
    upload = await platform.intake.post("/v1/evidence", files={"file": ("聊天截图.png", image, "image/png")})
    assert upload.status_code == 201, upload.text
    receipt = upload.json()
    assert receipt["sha256"] == hashlib.sha256(image).hexdigest()

    filed = await platform.intake.post(
        "/v1/complaints", json=form(alias, [receipt["evidence_id"]]), headers={"Idempotency-Key": "e2e-journey-1"}
    )
    assert filed.status_code == 201, filed.text
    number, code = filed.json()["number"], filed.json()["access_code"]

    async def forwarded():
        case = (await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
        return case if case["status"] == "forwarded" else None

    case = await until(forwarded)
    assert case["company"]["id"] == company["id"]
    assert case["response_due"] and case["forwarded_at"]
    transitions = [entry for entry in case["timeline"] if not entry["action"].startswith("deadline")]
    assert [entry["action"] for entry in transitions] == ["submit", "accept", "forward"]
    assert case["evidence"][0]["evidence_id"] == receipt["evidence_id"]

    deliveries = [d for d in platform.receiver.received if d.body.get("data", {}).get("number") == number]
    assert len(deliveries) == 1
    delivery = deliveries[0]
    # Verify the signature ourselves too, with the Standard Webhooks library, on the exact bytes received.
    assert delivery.verified
    payload = Webhook(WEBHOOK_SECRET).verify(delivery.raw, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(WEBHOOK_SECRET).verify(
            delivery.raw.replace(b"complaint.forwarded", b"complaint.rejected"), delivery.headers
        )
    assert payload["type"] == "complaint.forwarded"
    data = payload["data"]
    assert data["company_id"] == company["id"]
    assert data["complainant"] == {"name": "王*", "phone": "137****1111"}
    assert data["evidence"] == [
        {key: receipt[key] for key in ("evidence_id", "filename", "media_type", "size", "sha256")}
    ]
    assert "11010519491231002X" not in str(payload) and "13700001111" not in str(payload)
    assert delivery.webhook_id == transitions[-1]["detail"].split()[1]

    # Evidence added later with the access code; a wrong code sees nothing.
    more = await platform.intake.post(
        f"/v1/complaints/{number}/evidence",
        headers={"X-Access-Code": code},
        files={"file": ("收据.png", png_bytes(), "image/png")},
    )
    assert more.status_code == 201, more.text
    denied = await platform.intake.post(
        f"/v1/complaints/{number}/evidence",
        headers={"X-Access-Code": "ZZZZZZZZZZ"},
        files={"file": ("x.png", png_bytes(), "image/png")},
    )
    assert denied.status_code == 404


async def test_unknown_company_id_is_rejected_with_its_reason(platform):
    # (A name the directory does not know goes to the operators' review instead: test_company_review.)
    filed = await platform.intake.post("/v1/complaints", json={**form("迅联"), "company": {"id": "c-not-in-directory"}})
    assert filed.status_code == 201
    number, code = filed.json()["number"], filed.json()["access_code"]

    async def rejected():
        case = (await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
        return case if case["status"] == "rejected" else None

    case = await until(rejected)
    assert case["rejection"]["reason"] == "company_unknown"
    assert not [d for d in platform.receiver.received if d.body.get("data", {}).get("number") == number]


async def test_evidence_of_a_disallowed_type_is_refused_at_the_gateway(platform):
    response = await platform.intake.post(
        "/v1/evidence", files={"file": ("run.png", b"\x7fELF\x02\x01\x01" + b"\0" * 200, "image/png")}
    )
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_broken_uploads_at_the_gateway_store_nothing(platform):
    evidence_db = platform.apps["evidence"].state.runtime.db
    before = await evidence_db.evidence.count_documents({})
    image = png_bytes()
    boundary = "----gc-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="截图.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()

    truncated = await platform.intake.post(
        "/v1/evidence",
        content=head + image[: len(image) // 2],
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert truncated.status_code == 400 and truncated.json()["code"] == "upload_interrupted"
    no_file = await platform.intake.post("/v1/evidence", files={"other": ("a.png", image, "image/png")})
    assert no_file.status_code == 422 and no_file.json()["code"] == "file_missing"
    # A raw body must name its file.
    unnamed = await platform.intake.post("/v1/evidence", content=image, headers={"Content-Type": "image/png"})
    assert unnamed.status_code == 400 and unnamed.json()["code"] == "content_disposition_missing"
    # A declared 300 MiB body is refused from its Content-Length, before a byte of it is read.
    url = httpx.URL(str(platform.intake.base_url))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(
        (
            f"POST /v1/evidence HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: multipart/form-data; "
            f"boundary={boundary}\r\nContent-Length: {300 * 1024 * 1024}\r\n\r\n"
        ).encode()
        + head
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    writer.close()
    assert b" 413 " in status_line
    await asyncio.sleep(0.5)
    assert await evidence_db.evidence.count_documents({}) == before

    whole = await platform.intake.post(
        "/v1/evidence",
        content=head + image + f"\r\n--{boundary}--\r\n".encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert whole.status_code == 201 and whole.json()["sha256"] == hashlib.sha256(image).hexdigest()
    assert whole.json()["filename"] == "截图.png"


async def test_twin_filings_with_one_key_and_evidence_answer_one_complaint(platform):
    company = (await platform.routing.get("/v1/companies", params={"limit": 1})).json()["items"][0]["name"]
    for attempt in range(3):
        receipt = (
            await platform.intake.post("/v1/evidence", files={"file": ("a.png", png_bytes(), "image/png")})
        ).json()
        body = form(company, [receipt["evidence_id"]])
        headers = {"Idempotency-Key": f"twin-{attempt}-{receipt['evidence_id']}"}
        answers = await asyncio.gather(
            *(platform.intake.post("/v1/complaints", json=body, headers=headers) for _ in range(2))
        )
        assert [answer.status_code for answer in answers] == [201, 201], [answer.text for answer in answers]
        assert answers[0].json() == answers[1].json()
        later = await platform.intake.post("/v1/complaints", json=body, headers=headers)
        assert later.json() == answers[0].json()


async def test_the_public_finds_companies_and_categories_through_the_gateway(platform):
    found = await platform.intake.get("/v1/public/companies", params={"q": "迅联支付"})
    assert found.status_code == 200, found.text
    assert [company["id"] for company in found.json()["items"]] == ["c-xunlian"]
    assert (await platform.intake.get("/v1/public/companies", params={"q": "no such company anywhere"})).json() == {
        "items": []
    }

    categories = (await platform.intake.get("/v1/public/categories")).json()["items"]
    assert {"code": "billing", "zh": "计费争议", "en": "Billing dispute"} in categories

    refused = await platform.intake.get("/v1/public/companies", params={"q": "迅联\x00"})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
