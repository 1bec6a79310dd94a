"""Evidence through the gateway, against real nanio: intake in front of the evidence service, both on real ports.

Streamed uploads, as a multipart form or as the raw body named in Content-Disposition, refused at the gateway
by the same rules (empty, cut short, oversized as announced or while streaming, wrong type, hostile or unreadable
names), and a raw body stored with one PUT of its length; presigned uploads,
the client PUTting the bytes straight to storage at the URL intake hands out (signed for ``S3_PUBLIC_ENDPOINT``,
here another name of the same server) and completing them through intake; operators' re-verification."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from minio import Minio
from pymongo import AsyncMongoClient

from devstack import standins
from devstack.accounts import create_account
from devstack.servers import serve
from evidence.config import Settings as EvidenceSettings
from evidence.domain.uploads import MULTIPART_PART_BYTES
from evidence.main import create_app as evidence_app
from intake.adapters.identities import LoginTaken
from intake.config import Settings
from intake.main import create_app

pytestmark = pytest.mark.integration

FORM = json.loads((Path(__file__).parents[3] / "docs" / "examples" / "complaint.json").read_text(encoding="utf-8"))
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HOSTILE_NAME = "../../quarantine/录像 <script>.mp4"
IMAGE_LIMIT = 2 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def video(extra_bytes: int) -> bytes:
    """An MP4 (an ``ftyp`` box, then an ``mdat`` box) of random content."""
    brands = b"isom" + b"\x00\x00\x02\x00" + b"isomiso2mp41"
    return (
        struct.pack(">I", 8 + len(brands))
        + b"ftyp"
        + brands
        + struct.pack(">I", 8 + extra_bytes)
        + b"mdat"
        + os.urandom(extra_bytes)
    )


def declaration(content: bytes, media_type: str = "video/mp4", **changes) -> dict:
    return {
        "filename": "录像.mp4",
        "media_type": media_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        **changes,
    }


@pytest.fixture(scope="module")
async def stack(mongo_url, s3_endpoint, broker_namespace, run_id):
    """evidence and intake on real ports; presigned URLs are signed for ``localhost``, storage reached at 127.0.0.1."""
    port = s3_endpoint.rsplit(":", 1)[1]
    evidence_settings = EvidenceSettings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_evidence_presigned",
        s3_endpoint=s3_endpoint,
        s3_public_endpoint=f"localhost:{port}",
        s3_access_key=standins.S3_ACCESS_KEY,
        s3_secret_key=standins.S3_SECRET_KEY,
        s3_bucket=f"gw-{run_id}",
        outbox_poll_interval_s=0.1,
        log_json=False,
        max_image_bytes=IMAGE_LIMIT,
        **broker_namespace.settings_for("evidence"),
    )
    evidence = evidence_app(evidence_settings)
    async with serve(evidence) as evidence_url:
        settings = Settings(
            mongo_url=mongo_url,
            mongo_db=f"t{run_id}_intake_presigned",
            outbox_poll_interval_s=0.1,
            evidence_url=evidence_url,
            **broker_namespace.settings_for("intake"),
        )
        intake = create_app(settings)
        async with serve(intake) as intake_url, httpx.AsyncClient(base_url=intake_url, timeout=30) as client:
            deadline = asyncio.get_running_loop().time() + 20
            while (await client.get(f"{evidence_url}/readyz")).status_code != 200:
                assert asyncio.get_running_loop().time() < deadline, "evidence is not ready"
                await asyncio.sleep(0.1)
            mongo = AsyncMongoClient(mongo_url, tz_aware=True)
            storage = Minio(s3_endpoint, standins.S3_ACCESS_KEY, standins.S3_SECRET_KEY, secure=False)
            client.evidence_app, client.storage, client.bucket = evidence, storage, evidence_settings.s3_bucket
            client.evidence_url, client.mongo = evidence_url, mongo
            client.app = intake
            client.evidence_db = mongo[evidence_settings.database_name]
            client.s3_endpoint, client.public_endpoint = s3_endpoint, evidence_settings.s3_public_endpoint
            try:
                yield client
            finally:
                await mongo.close()


async def put(url: str, content: bytes) -> httpx.Response:
    """The client's PUT straight to storage (no credentials of the platform: the URL is the authorisation)."""
    async with httpx.AsyncClient(timeout=30) as outsider:
        return await outsider.put(url, content=content)


def keys(storage: Minio, bucket: str, prefix: str = "") -> list[str]:
    return sorted(item.object_name for item in storage.list_objects(bucket, prefix=prefix, recursive=True))


async def quarantined(stack) -> list[str]:
    return await asyncio.to_thread(keys, stack.storage, stack.bucket, "quarantine/")


async def file_complaint(stack, headers: dict | None = None, **changes) -> tuple[str, str]:
    filed = await stack.post("/v1/complaints", json={**FORM, **changes}, headers=headers or {})
    assert filed.status_code == 201, filed.text
    return filed.json()["number"], filed.json()["access_code"]


async def complainant(stack, login: str) -> dict[str, str]:
    with contextlib.suppress(LoginTaken):
        await create_account(stack.app, login, "a-long-password-1")
    signed_in = await stack.post("/v1/auth/token", json={"login": login, "password": "a-long-password-1"})
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


async def operator(stack) -> dict[str, str]:
    signed_in = await stack.post(
        "/v1/ops/auth/token", json={"login": "admin", "password": "development-only-admin-password"}
    )
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


async def until(check, timeout: float = 20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await check()):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)
    return result


async def stored_under(stack, prefix: str) -> list[str]:
    return await asyncio.to_thread(keys, stack.storage, stack.bucket, prefix)


async def test_streamed_uploads_that_are_empty_or_grow_past_the_limit_are_refused_and_nothing_is_kept(stack):
    records, objects = await stack.evidence_db.evidence.count_documents({}), await stored_under(stack, "unattached/")

    empty = await stack.post("/v1/evidence", files={"file": ("空.txt", b"", "text/plain")})

    assert (empty.status_code, empty.json()["code"]) == (422, "empty_evidence")

    boundary = "gc-gateway-test"

    async def endless_image():  # chunked: no Content-Length for the gateway to judge by, only the count
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode() + PNG_SIGNATURE
        for _ in range(IMAGE_LIMIT // (256 * 1024) + 4):
            yield bytes(256 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    oversized = await stack.post(
        "/v1/evidence", content=endless_image(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )

    assert "content-length" not in oversized.request.headers
    assert (oversized.status_code, oversized.json()["code"], oversized.json()["limit_bytes"]) == (
        413,
        "evidence_too_large",
        IMAGE_LIMIT,
    )
    assert oversized.headers["content-type"].startswith("application/problem+json")
    assert await stack.evidence_db.evidence.count_documents({}) == records
    assert await stored_under(stack, "unattached/") == objects


async def test_hostile_filenames_through_the_gateway_never_reach_the_storage_key(stack):
    for name in (
        "../../quarantine/evil.txt",
        "..\\..\\boot.ini",
        "a/b/c/" + "长" * 300 + ".txt",
        ".",
        "%2e%2e%2fx.txt",
    ):
        answer = await stack.post("/v1/evidence", files={"file": (name, "证据文本".encode(), "text/plain")})
        assert answer.status_code == 201, (name, answer.text)
        receipt = answer.json()
        assert (
            "/" not in receipt["filename"]
            and "\\" not in receipt["filename"]
            and receipt["filename"] not in (".", "..")
        )
        assert len(receipt["filename"]) <= 200
        assert await stored_under(stack, f"unattached/{receipt['evidence_id']}") == [
            f"unattached/{receipt['evidence_id']}"
        ]


async def test_a_large_file_goes_straight_to_storage_then_is_filed_with_its_receipt(stack):
    content = video(6 * 1024 * 1024)  # more than one storage part

    started = await stack.post("/v1/uploads", json=declaration(content, filename=HOSTILE_NAME))

    assert started.status_code == 201, started.text
    ticket = started.json()
    upload_id = ticket["upload_id"]
    url = urlsplit(ticket["url"])
    # Signed for the name clients reach storage by; the key is the upload id alone, never the filename.
    assert (ticket["method"], url.netloc, url.path) == (
        "PUT",
        stack.public_endpoint,
        f"/{stack.bucket}/quarantine/{upload_id}",
    )
    assert ticket["links"]["complete"] == f"/v1/uploads/{upload_id}/complete"
    assert datetime.fromisoformat(ticket["expires_at"]) > datetime.now(UTC)

    assert (await put(ticket["url"], content)).status_code == 200
    assert await quarantined(stack) == [f"quarantine/{upload_id}"]

    completed = await stack.post(f"/v1/uploads/{upload_id}/complete")

    assert completed.status_code == 201, completed.text
    receipt = completed.json()
    digest = hashlib.sha256(content).hexdigest()
    assert (receipt["sha256"], receipt["original_sha256"], receipt["size"]) == (digest, digest, len(content))
    assert (receipt["media_type"], receipt["number"], receipt["status"]) == ("video/mp4", None, "unattached")
    assert ".." not in receipt["filename"] and "/" not in receipt["filename"]
    assert await quarantined(stack) == []
    assert await stored_under(stack, f"unattached/{receipt['evidence_id']}") == [f"unattached/{receipt['evidence_id']}"]
    again = await stack.post(f"/v1/uploads/{upload_id}/complete")
    assert again.status_code == 200 and again.json() == receipt

    number, code = await file_complaint(stack, evidence_ids=[receipt["evidence_id"]])

    case = (await stack.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
    assert [ref["evidence_id"] for ref in case["evidence"]] == [receipt["evidence_id"]]

    async def attached():
        stored = await stack.evidence_db.evidence.find_one({"_id": receipt["evidence_id"]})
        return stored["status"] == "attached" and stored["number"] == number

    await until(attached)
    link_path = f"/v1/complaints/{number}/evidence/{receipt['evidence_id']}/link"
    link = await stack.get(link_path, headers={"X-Access-Code": code})
    async with httpx.AsyncClient(timeout=30) as outsider:
        downloaded = await outsider.get(link.json()["url"])
    assert hashlib.sha256(downloaded.content).hexdigest() == digest
    # Operators may download it too; everybody else gets the 404 of a complaint that does not exist.
    assert (await stack.get(link_path, headers=await operator(stack))).status_code == 200
    other_number, other_code = await file_complaint(stack)
    for stranger in (
        {},
        {"X-Access-Code": "ZZZZZZZZZZ"},
        {"X-Access-Code": other_code},
        await complainant(stack, "stranger@example.cn"),
    ):
        refused = await stack.get(link_path, headers=stranger)
        assert (refused.status_code, refused.json()["code"]) == (404, "complaint_not_found"), stranger
    assert (
        await stack.get(
            f"/v1/complaints/{other_number}/evidence/{receipt['evidence_id']}/link",
            headers={"X-Access-Code": other_code},
        )
    ).status_code == 404


async def test_a_filed_complaint_takes_a_presigned_upload_from_its_complainant_only(stack):
    bearer = await complainant(stack, "presigned@example.cn")
    number, code = await file_complaint(stack, headers=bearer)
    content = video(300 * 1024)
    path = f"/v1/complaints/{number}/uploads"

    stranger = await stack.post(path, json=declaration(content), headers={"X-Access-Code": "ZZZZZZZZZZ"})
    anonymous = await stack.post(path, json=declaration(content))
    assert (stranger.status_code, anonymous.status_code) == (404, 404)

    for credentials in ({"X-Access-Code": code}, bearer):
        started = await stack.post(path, json=declaration(content), headers=credentials)
        assert started.status_code == 201, started.text
        ticket = started.json()
        complete = f"{path}/{ticket['upload_id']}/complete"
        assert ticket["links"]["complete"] == complete
        assert (await put(ticket["url"], content)).status_code == 200
        # Nobody else completes it, and not through the route for uploads before filing.
        assert (await stack.post(complete, headers={"X-Access-Code": "ZZZZZZZZZZ"})).status_code == 404
        assert (await stack.post(f"/v1/uploads/{ticket['upload_id']}/complete")).status_code == 404
        other_number, other_code = await file_complaint(stack)
        assert (
            await stack.post(
                f"/v1/complaints/{other_number}/uploads/{ticket['upload_id']}/complete",
                headers={"X-Access-Code": other_code},
            )
        ).status_code == 404

        completed = await stack.post(complete, headers=credentials)
        assert completed.status_code == 201, completed.text
        assert (completed.json()["number"], completed.json()["status"]) == (number, "attached")
        assert (await stack.post(complete, headers=credentials)).status_code == 200

    case = (await stack.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
    assert len(case["evidence"]) == 2 and len({ref["evidence_id"] for ref in case["evidence"]}) == 2
    assert [entry["action"] for entry in case["timeline"]].count("add_evidence") == 2
    assert next(entry["actor"] for entry in case["timeline"] if entry["action"] == "add_evidence") == "guest"
    assert await stack.evidence_db.evidence.count_documents({"number": number}) == 2
    assert await quarantined(stack) == []


async def test_a_multipart_upload_for_a_filed_complaint_resumes_through_its_own_route_only(stack):
    """A dropped connection: the complainant asks which parts storage holds, through the complaint's route (nobody
    else, and not through the route for uploads before filing), sends the missing one and completes."""
    number, code = await file_complaint(stack)
    content = video(MULTIPART_PART_BYTES + 300 * 1024)
    path = f"/v1/complaints/{number}/uploads"
    started = await stack.post(path, json=declaration(content, multipart=True), headers={"X-Access-Code": code})
    assert started.status_code == 201, started.text
    ticket = started.json()
    upload = f"{path}/{ticket['upload_id']}"
    assert ticket["url"] is None
    assert ticket["links"] == {"complete": f"{upload}/complete", "parts": f"{upload}/parts"}
    first, second = ticket["parts"]
    assert (first["number"], first["size"], second["size"]) == (1, MULTIPART_PART_BYTES, 300 * 1024 + len(video(0)))
    assert (await put(second["url"], content[MULTIPART_PART_BYTES:])).status_code == 200

    unfinished = await stack.post(f"{upload}/complete", headers={"X-Access-Code": code})
    assert (unfinished.status_code, unfinished.json()["code"]) == (409, "upload_not_received")
    assert unfinished.json()["missing_parts"] == [1]
    assert (await stack.get(f"{upload}/parts", headers={"X-Access-Code": "ZZZZZZZZZZ"})).status_code == 404
    assert (await stack.get(f"/v1/uploads/{ticket['upload_id']}/parts")).status_code == 404
    listed = await stack.get(f"{upload}/parts", headers={"X-Access-Code": code})
    assert listed.status_code == 200, listed.text
    assert listed.json()["stored"] == [{"number": 2, "size": second["size"]}]
    [missing] = listed.json()["missing"]
    assert (missing["number"], missing["size"]) == (1, MULTIPART_PART_BYTES)
    assert (await put(missing["url"], content[:MULTIPART_PART_BYTES])).status_code == 200

    completed = await stack.post(f"{upload}/complete", headers={"X-Access-Code": code})
    assert completed.status_code == 201, completed.text
    assert completed.json()["original_sha256"] == hashlib.sha256(content).hexdigest()
    case = (await stack.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
    assert [ref["evidence_id"] for ref in case["evidence"]] == [completed.json()["evidence_id"]]
    assert await quarantined(stack) == []


async def test_a_declaration_with_a_field_this_release_does_not_know_is_taken_and_the_field_ignored(stack):
    """A page served by a newer replica during a rollout may declare a field this one does not know yet: the gateway
    takes the declaration (the field dropped, not passed on) instead of failing the upload with a 422."""
    number, code = await file_complaint(stack)
    content = video(1024)
    newer = declaration(content, checksum_algorithm="CRC64NVME")
    for path, headers in (("/v1/uploads", {}), (f"/v1/complaints/{number}/uploads", {"X-Access-Code": code})):
        started = await stack.post(path, json=newer, headers=headers)
        assert started.status_code == 201, started.text
        assert started.json()["url"] and "checksum_algorithm" not in started.json()
        state = await stack.evidence_db.uploads.find_one({"_id": started.json()["upload_id"]})
        assert (state["size"], state["number"]) == (len(content), None if path == "/v1/uploads" else number)
        # The fields it does know are checked as strictly as ever.
        for wrong in ({"sha256": "abc"}, {"size": -1}, {"multipart": "sometimes"}, {"filename": "x" * 256}):
            refused = await stack.post(path, json={**newer, **wrong}, headers=headers)
            assert (refused.status_code, refused.json()["code"]) == (422, "validation_failed"), wrong


async def test_every_refusal_is_a_problem_and_leaves_nothing_in_storage(stack):
    before = await stack.evidence_db.evidence.count_documents({})
    refusals = {}

    # Refused from the declaration alone.
    huge = {"media_type": "video/mp4", "size": 200 * 1024 * 1024 + 1, "sha256": "0" * 64}
    refusals["too large"] = (await stack.post("/v1/uploads", json=huge), 413, "evidence_too_large")
    off_list = {"media_type": "application/x-msdownload", "size": 100, "sha256": "0" * 64}
    refusals["type off the list"] = (await stack.post("/v1/uploads", json=off_list), 415, "unsupported_media_type")
    empty = {"media_type": "application/pdf", "size": 0, "sha256": hashlib.sha256(b"").hexdigest()}
    refusals["empty"] = (await stack.post("/v1/uploads", json=empty), 422, "empty_evidence")
    bad_hash = {"media_type": "application/pdf", "size": 10, "sha256": "not-a-hash"}
    refusals["malformed hash"] = (await stack.post("/v1/uploads", json=bad_hash), 422, "validation_failed")

    async def uploaded(declared: dict, sent: bytes | None, stored: int = 200) -> str:
        ticket = (await stack.post("/v1/uploads", json=declared)).json()
        if sent is not None:
            assert (await put(ticket["url"], sent)).status_code == stored
        return ticket["upload_id"]

    async def completion(upload_id: str) -> httpx.Response:
        return await stack.post(f"/v1/uploads/{upload_id}/complete")

    # Refused once the object is checked: the content is not what was declared.
    content = video(64 * 1024)
    mismatch = await uploaded(declaration(PDF, "application/pdf"), PDF.replace(b"Catalog", b"Catalox"))
    refusals["hash mismatch"] = (await completion(mismatch), 422, "upload_hash_mismatch")
    # Storage refuses a PUT of another length than the declared one: the URL is signed for it.
    shorter = await uploaded(declaration(content), content[:-1], stored=403)
    refusals["size mismatch"] = (await completion(shorter), 409, "upload_not_received")
    pdf_as_video = await uploaded(declaration(PDF, "video/mp4"), PDF)
    refusals["type mismatch"] = (await completion(pdf_as_video), 415, "media_type_mismatch")
    never = await uploaded(declaration(content), None)
    refusals["never uploaded"] = (await completion(never), 409, "upload_not_received")
    refusals["unknown upload"] = (await completion("0" * 32), 404, "upload_not_found")
    refusals["malformed id"] = (await completion("..;$where:1"), 404, "upload_not_found")

    # Expired: the upload's time ran out (moved into the past here) and the clean-up passed.
    late = await uploaded(declaration(content), content)
    past = datetime.now(UTC) - timedelta(seconds=1)
    await stack.evidence_db.uploads.update_one({"_id": late}, {"$set": {"complete_by": past, "url_expires_at": past}})
    await stack.evidence_app.state.cleanup.run_once()
    refusals["expired"] = (await completion(late), 410, "upload_expired")

    for case, (answer, status, code) in refusals.items():
        assert (answer.status_code, answer.json().get("code")) == (status, code), (case, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json"), case
    # A refused completion removed its object; the one never uploaded has none; no evidence was recorded.
    assert await quarantined(stack) == []
    assert await stack.evidence_db.evidence.count_documents({}) == before
    # A refused upload stays refused: completing it again answers the same problem.
    again = await completion(mismatch)
    assert (again.status_code, again.json()["code"]) == (422, "upload_hash_mismatch")


async def test_operators_reverify_a_stored_file_through_the_gateway_and_nobody_else_may(stack):
    content = video(100 * 1024)
    ticket = (await stack.post("/v1/uploads", json=declaration(content))).json()
    assert (await put(ticket["url"], content)).status_code == 200
    receipt = (await stack.post(f"/v1/uploads/{ticket['upload_id']}/complete")).json()
    path = f"/v1/ops/evidence/{receipt['evidence_id']}/verify"
    as_operator = await operator(stack)

    intact = await stack.post(path, headers=as_operator)

    assert intact.status_code == 200, intact.text
    assert intact.json()["ok"] is True and intact.json()["actual"] == {
        "sha256": receipt["sha256"],
        "size": receipt["size"],
    }
    # The stored object is changed behind the platform's back: the re-verification says so.
    tampered = content[:-1] + bytes([content[-1] ^ 1])
    await asyncio.to_thread(
        stack.storage.put_object,
        stack.bucket,
        f"unattached/{receipt['evidence_id']}",
        io.BytesIO(tampered),
        len(tampered),
    )
    found = (await stack.post(path, headers=as_operator)).json()
    assert found["ok"] is False and found["actual"]["sha256"] == hashlib.sha256(tampered).hexdigest()
    assert found["expected"]["sha256"] == receipt["sha256"]

    assert (await stack.post(path, headers=await complainant(stack, "curious@example.cn"))).status_code == 403
    assert (await stack.post(path)).status_code == 401
    unknown = await stack.post(f"/v1/ops/evidence/{'0' * 32}/verify", headers=as_operator)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "evidence_not_found")


# --- the raw body: the file itself, named in Content-Disposition (the same rules as a multipart form) ----------


def named(filename: str, media_type: str, **headers: str) -> dict[str, str]:
    """The headers of a raw-body upload: the file's type, and its name as RFC 8187 encodes it."""
    return {
        "Content-Type": media_type,
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
        **headers,
    }


async def in_pieces(content: bytes, piece: int = 256 * 1024):
    for offset in range(0, len(content), piece):
        yield content[offset : offset + piece]


async def test_a_raw_body_is_stored_with_its_name_in_one_put(stack):
    content = video(6 * 1024 * 1024)  # more than one storage part: sent as one PUT because its length is known

    stored = await stack.post("/v1/evidence", content=content, headers=named("录像 1.mp4", "video/mp4"))

    assert stored.status_code == 201, stored.text
    receipt = stored.json()
    assert (receipt["filename"], receipt["media_type"], receipt["size"], receipt["sha256"]) == (
        "录像 1.mp4",
        "video/mp4",
        len(content),
        hashlib.sha256(content).hexdigest(),
    )
    stat = await asyncio.to_thread(stack.storage.stat_object, stack.bucket, f"unattached/{receipt['evidence_id']}")
    assert stat.size == len(content) and "-" not in stat.etag  # a multipart object's ETag ends with -<parts>


async def test_raw_bodies_that_are_empty_cut_short_or_oversized_are_refused_and_nothing_is_kept(stack):
    records, objects = await stack.evidence_db.evidence.count_documents({}), await stored_under(stack, "unattached/")

    empty = await stack.post("/v1/evidence", content=b"", headers=named("空.txt", "text/plain"))
    announced = await send_head(stack, named("大.png", "image/png", **{"Content-Length": str(IMAGE_LIMIT + 1)}))

    async def endless_image():  # chunked: no Content-Length to judge by, only the count
        yield PNG_SIGNATURE
        for _ in range(IMAGE_LIMIT // (256 * 1024) + 4):
            yield bytes(256 * 1024)

    grown = await stack.post("/v1/evidence", content=endless_image(), headers=named("大.png", "image/png"))
    truncated = await send_part_then_stop(
        stack, named("录像.mp4", "video/mp4", **{"Content-Length": str(4 * 1024 * 1024)}), video(1024 * 1024)
    )

    assert (empty.status_code, empty.json()["code"]) == (422, "empty_evidence")
    # Refused from the announced length before a byte of the body was sent.
    assert (announced[0], announced[1]["code"], announced[1]["limit_bytes"]) == (413, "evidence_too_large", IMAGE_LIMIT)
    assert "content-length" not in grown.request.headers
    assert (grown.status_code, grown.json()["code"], grown.json()["limit_bytes"]) == (
        413,
        "evidence_too_large",
        IMAGE_LIMIT,
    )
    assert truncated in (None, 400)  # the client that stopped sending may not be there to read an answer
    await asyncio.sleep(0.5)
    assert await stack.evidence_db.evidence.count_documents({}) == records
    assert await stored_under(stack, "unattached/") == objects


async def test_raw_bodies_of_a_wrong_type_are_refused_even_while_still_on_their_way(stack):
    records = await stack.evidence_db.evidence.count_documents({})
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(300)

    executable = await stack.post("/v1/evidence", content=elf, headers=named("photo.png", "image/png"))
    off_list = await stack.post(
        "/v1/evidence",
        content=in_pieces(b"MZ" + os.urandom(8 * 1024 * 1024)),
        headers=named("setup.exe", "application/x-msdownload"),
    )
    # A PDF declared as a video, 8 MiB still to come when evidence has seen enough to refuse it.
    disguised = PDF + os.urandom(8 * 1024 * 1024)
    mismatch = await stack.post(
        "/v1/evidence",
        content=in_pieces(disguised),
        headers=named("录像.mp4", "video/mp4", **{"Content-Length": str(len(disguised))}),
    )

    assert (executable.status_code, executable.json()["code"]) == (415, "media_type_mismatch")  # not the PNG it claims
    assert (off_list.status_code, off_list.json()["code"]) == (415, "unsupported_media_type")
    assert (mismatch.status_code, mismatch.json()["code"]) == (415, "media_type_mismatch")
    assert await stack.evidence_db.evidence.count_documents({}) == records


async def test_raw_bodies_with_hostile_names_never_reach_the_storage_key(stack):
    for name in ("../../quarantine/evil.txt", "..\\..\\boot.ini", "a/b/c/" + "长" * 300 + ".txt", "\u202etxt.exe", "."):
        answer = await stack.post("/v1/evidence", content="证据文本".encode(), headers=named(name, "text/plain"))
        assert answer.status_code == 201, (name, answer.text)
        receipt = answer.json()
        assert (
            "/" not in receipt["filename"] and "\\" not in receipt["filename"] and "\u202e" not in receipt["filename"]
        )
        assert receipt["filename"] not in (".", "..") and len(receipt["filename"]) <= 200
        assert await stored_under(stack, f"unattached/{receipt['evidence_id']}") == [
            f"unattached/{receipt['evidence_id']}"
        ]


@pytest.mark.parametrize(
    ("disposition", "code"),
    [
        (None, "content_disposition_missing"),
        ("attachment", "content_disposition_invalid"),
        ('inline; filename="a.txt"', "content_disposition_invalid"),
        ("attachment; filename*=UTF-8''%ZZ.txt", "content_disposition_invalid"),
        ("attachment; filename*=UTF-8''%FF%FE.txt", "content_disposition_invalid"),
        ("attachment;;; =", "content_disposition_invalid"),
    ],
)
async def test_a_raw_body_without_a_readable_name_is_refused(stack, disposition, code):
    records = await stack.evidence_db.evidence.count_documents({})
    headers = {"Content-Type": "text/plain"} | ({"Content-Disposition": disposition} if disposition else {})

    refused = await stack.post("/v1/evidence", content="证据文本".encode(), headers=headers)

    assert (refused.status_code, refused.json()["code"]) == (400, code)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await stack.evidence_db.evidence.count_documents({}) == records


async def test_a_plain_filename_parameter_names_a_raw_body_too(stack):
    stored = await stack.post(
        "/v1/evidence",
        content=PDF,
        headers={"Content-Type": "application/pdf", "Content-Disposition": 'attachment; filename="r.pdf"'},
    )

    assert stored.status_code == 201 and stored.json()["filename"] == "r.pdf"


async def send_head(stack, headers: dict[str, str]) -> tuple[int, dict]:
    """Send only a request head to ``POST /v1/evidence`` and read the answer (a refusal before the body)."""
    address = urlsplit(str(stack.base_url))
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        head = f"POST /v1/evidence HTTP/1.1\r\nHost: {address.netloc}\r\n"
        writer.write((head + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n").encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        length = 0
        while (line := await asyncio.wait_for(reader.readline(), timeout=10)) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            length = int(value) if name.strip().lower() == "content-length" else length
        return int(status_line.split()[1]), json.loads(await reader.readexactly(length))
    finally:
        writer.close()


async def send_part_then_stop(stack, headers: dict[str, str], sent: bytes) -> int | None:
    """Send part of the announced body, then stop (half-close): the status answered, if any."""
    address = urlsplit(str(stack.base_url))
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        head = f"POST /v1/evidence HTTP/1.1\r\nHost: {address.netloc}\r\n"
        writer.write(
            (head + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n").encode() + sent
        )
        await writer.drain()
        writer.write_eof()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        return int(status_line.split()[1]) if status_line else None
    except ConnectionError:
        return None
    finally:
        writer.close()


# --- the daily byte budget of anonymous uploads per address ----------------------------------------------------

BUDGET = 300_000  # three of the ~100 kB videos below


@pytest.fixture
async def budgeted(stack, broker_namespace, mongo_url, run_id):
    """A second intake in front of the same evidence, with a small budget and its own store (a fresh address book)."""
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_budget_{os.urandom(4).hex()}",
        outbox_poll_interval_s=0.1,
        evidence_url=stack.evidence_url,
        anonymous_upload_bytes_per_ip_per_day=BUDGET,
        **broker_namespace.settings_for("intake-budget"),
    )
    assert settings.rate_limits_enabled and not settings.trusted_proxies  # production's defaults
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        client.db = stack.mongo[settings.database_name]
        yield client


def budget_refusal(answer: httpx.Response) -> int:
    """The seconds of a budget refusal's Retry-After, after checking it is the problem document it must be."""
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "upload_budget_exhausted" and "额度" in answer.json()["detail"]
    retry_after = int(answer.headers["retry-after"])
    assert 0 < retry_after <= 25 * 3600 and answer.json()["retry_after_s"] == retry_after
    return retry_after


async def test_concurrent_anonymous_uploads_never_overshoot_the_daily_budget_of_their_address(stack, budgeted):
    records, objects = await stack.evidence_db.evidence.count_documents({}), await stored_under(stack, "unattached/")
    files = [video(99_000) for _ in range(8)]
    answers = await asyncio.gather(
        *(
            budgeted.post("/v1/evidence", content=content, headers=named(f"录像{index}.mp4", "video/mp4"))
            for index, content in enumerate(files)
        )
    )

    stored = [answer for answer in answers if answer.status_code == 201]
    refused = [answer for answer in answers if answer.status_code != 201]
    assert len(stored) == 3 and len(refused) == 5, [answer.status_code for answer in answers]
    for answer in refused:
        budget_refusal(answer)
    # The refused ones stored nothing: three records, three objects, and the budget holds what was stored.
    assert await stack.evidence_db.evidence.count_documents({}) == records + 3
    assert len(await stored_under(stack, "unattached/")) == len(objects) + 3
    ledger = await budgeted.db.upload_budgets.find_one({})
    assert sorted(item["bytes"] for item in ledger["reservations"]) == sorted(
        answer.json()["size"] for answer in stored
    )
    assert sum(item["bytes"] for item in ledger["reservations"]) <= BUDGET

    # A presigned upload and a multipart form from the same address are refused too, before anything is issued.
    uploads = await stack.evidence_db.uploads.count_documents({})
    presigned = await budgeted.post("/v1/uploads", json=declaration(files[0]))
    form = await budgeted.post("/v1/evidence", files={"file": ("录像.mp4", files[0], "video/mp4")})
    for answer in (presigned, form):
        budget_refusal(answer)
    assert await stack.evidence_db.uploads.count_documents({}) == uploads
    assert await stack.evidence_db.evidence.count_documents({}) == records + 3


async def test_refused_files_give_their_bytes_back_and_an_unknown_length_reserves_the_most_it_may_be(stack, budgeted):
    content = video(99_000)
    # A PDF declared as a video: evidence refuses it, so it costs nothing.
    disguised = await budgeted.post("/v1/evidence", content=PDF + bytes(99_000), headers=named("录像.mp4", "video/mp4"))
    assert (disguised.status_code, disguised.json()["code"]) == (415, "media_type_mismatch")
    refused_declaration = await budgeted.post("/v1/uploads", json=declaration(content, "application/x-msdownload"))
    assert refused_declaration.status_code == 415
    ledger = await budgeted.db.upload_budgets.find_one({})
    assert ledger["reservations"] == []

    # Without a length, a video may be up to its limit (200 MiB), more than the budget: refused before it is read.
    chunked = await budgeted.post("/v1/evidence", content=in_pieces(content), headers=named("录像.mp4", "video/mp4"))
    assert "content-length" not in chunked.request.headers
    budget_refusal(chunked)

    # A presigned upload counts its declared size from when its URL is issued, for as long as the file may lie
    # unattached in storage (at least a day).
    ticket = await budgeted.post("/v1/uploads", json=declaration(content))
    assert ticket.status_code == 201, ticket.text
    assert (await put(ticket.json()["url"], content)).status_code == 200
    assert (await budgeted.post(f"/v1/uploads/{ticket.json()['upload_id']}/complete")).status_code == 201
    [reservation] = (await budgeted.db.upload_budgets.find_one({}))["reservations"]
    kept_s = stack.evidence_app.state.settings.orphan_ttl_s + stack.evidence_app.state.settings.cleanup_interval_s
    remaining = reservation["until"].replace(tzinfo=UTC) - datetime.now(UTC)
    assert reservation["bytes"] == len(content)
    assert timedelta(seconds=kept_s) - timedelta(minutes=1) < remaining <= timedelta(seconds=max(kept_s, 86400))
    # Two more fit, a third does not.
    assert [(await budgeted.post("/v1/uploads", json=declaration(content))).status_code for _ in range(2)] == [201, 201]
    retry_after = budget_refusal(await budgeted.post("/v1/uploads", json=declaration(content)))
    assert retry_after > 86400 - 60  # the oldest reservation of the day stops counting only then
    # A header naming another address changes nothing: no proxy is trusted by default.
    budget_refusal(
        await budgeted.post("/v1/uploads", json=declaration(content), headers={"X-Forwarded-For": "198.51.100.7"})
    )
