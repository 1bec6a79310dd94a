"""Presigned uploads against real nanio: declared up front, PUT into quarantine, verified, then attached."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from minio import Minio
from PIL import Image

pytestmark = pytest.mark.integration


def new_number() -> str:
    return f"GC-{uuid.uuid4().hex[:12]}"


def keys_under(storage: Minio, bucket: str, prefix: str) -> list[str]:
    return [item.object_name for item in storage.list_objects(bucket, prefix=prefix, recursive=True)]


def multipart_uploads(s3, bucket: str, prefix: str = "") -> list[str]:
    """The keys of the multipart uploads still open in ``bucket`` under ``prefix``."""
    return [upload["Key"] for upload in s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])]


def declaration(content: bytes, media_type: str, **overrides) -> dict:
    return {
        "filename": "录像.mp4",
        "media_type": media_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        **overrides,
    }


async def put(url: str, content: bytes) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as outsider:
        return await outsider.put(url, content=content)


def video(samples, extra_bytes: int) -> bytes:
    return samples["mp4"][0] + os.urandom(extra_bytes)


async def test_a_presigned_upload_is_quarantined_until_verified_then_stored_and_announced(
    client, settings, storage, db, events, samples
):
    number = new_number()
    content = video(samples, 6 * 1024 * 1024)  # more than one storage part

    started = await client.post("/v1/uploads", json=declaration(content, "video/mp4", number=number))

    assert started.status_code == 201, started.text
    ticket = started.json()
    upload_id = ticket["upload_id"]
    assert ticket["method"] == "PUT" and urlsplit(ticket["url"]).path == f"/{settings.s3_bucket}/quarantine/{upload_id}"
    expires_at = datetime.fromisoformat(ticket["expires_at"])
    assert abs(expires_at - datetime.now(UTC) - timedelta(seconds=settings.upload_url_ttl_s)) < timedelta(seconds=30)

    state = (await client.get(f"/v1/uploads/{upload_id}")).json()
    assert (state["number"], state["status"], state["size"], state["evidence_id"]) == (
        number,
        "pending",
        len(content),
        None,
    )

    early = await client.post(f"/v1/uploads/{upload_id}/complete")
    assert early.status_code == 409 and early.json()["code"] == "upload_not_received"

    assert (await put(ticket["url"], content)).status_code == 200
    # In quarantine: not evidence yet, no link for it by any id.
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "quarantine/") == [
        f"quarantine/{upload_id}"
    ]
    assert await db.evidence.count_documents({"number": number}) == 0
    assert (await client.post(f"/v1/evidence/{upload_id}/link")).status_code == 404

    completed = await client.post(f"/v1/uploads/{upload_id}/complete")

    assert completed.status_code == 201, completed.text
    receipt = completed.json()
    assert (receipt["number"], receipt["media_type"], receipt["status"], receipt["filename"]) == (
        number,
        "video/mp4",
        "attached",
        "录像.mp4",
    )
    assert receipt["sha256"] == receipt["original_sha256"] == hashlib.sha256(content).hexdigest()
    assert receipt["size"] == len(content)
    state = (await client.get(f"/v1/uploads/{upload_id}")).json()
    assert (state["status"], state["evidence_id"]) == ("completed", receipt["evidence_id"])
    key = f"{number}/{receipt['evidence_id']}"
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, f"{number}/") == [key]
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "quarantine/") == []
    response = await asyncio.to_thread(storage.get_object, settings.s3_bucket, key)
    try:
        assert hashlib.sha256(response.data).hexdigest() == receipt["sha256"]
    finally:
        response.close()
        response.release_conn()
    upload = await db.uploads.find_one({"_id": upload_id})
    assert (upload["status"], upload["evidence_id"]) == ("completed", receipt["evidence_id"])
    # The URL works until it expires: quarantine is swept once more after that.
    assert upload["quarantine_present"] is True and upload["sweep_after"] == upload["url_expires_at"]
    stored = await events.wait_for(
        "evidence.stored", where=lambda event: event.data["evidence_id"] == receipt["evidence_id"]
    )
    assert stored.event.subject == number and stored.event.data["sha256"] == receipt["sha256"]

    # Completing again answers the same receipt, and stores nothing twice.
    again = await client.post(f"/v1/uploads/{upload_id}/complete")
    assert again.status_code == 200 and again.json() == receipt
    assert await db.evidence.count_documents({"number": number}) == 1


async def test_declarations_outside_the_rules_are_refused_up_front(client, db, events, samples):
    content = samples["pdf"][0]
    refused_ids = []
    cases = [
        (declaration(content, "video/mp4", size=200 * 1024 * 1024 + 1), 413, "evidence_too_large"),
        (declaration(content, "image/png", size=10 * 1024 * 1024 + 1), 413, "evidence_too_large"),
        (declaration(content, "application/x-msdownload"), 415, "unsupported_media_type"),
        (declaration(content, "application/octet-stream"), 415, "unsupported_media_type"),
        (declaration(content, "application/pdf", size=0), 422, "empty_evidence"),
    ]
    for body, status, code in cases:
        answer = await client.post("/v1/uploads", json=body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body
        upload_id = answer.json()["upload_id"]
        refused_ids.append(upload_id)
        rejected = await events.wait_for("evidence.rejected", subject=upload_id)
        assert rejected.event.data["reason"] == code and rejected.event.data["upload_id"] == upload_id
        assert "录像" not in rejected.event.model_dump_json()
    invalid = await client.post("/v1/uploads", json=declaration(content, "application/pdf", sha256="abc"))
    assert invalid.status_code == 422 and invalid.json()["code"] == "validation_failed"
    assert await db.uploads.count_documents({"_id": {"$in": refused_ids}}) == 0  # no URL, nothing to clean up


async def test_a_declaration_with_a_field_this_release_does_not_know_is_taken_and_the_field_ignored(
    client, db, samples
):
    """During a rollout a newer intake may declare a field this release does not know yet: ignored, not a 422."""
    number = new_number()
    content = video(samples, 1024)
    newer = declaration(content, "video/mp4", number=number, checksum_algorithm="CRC64NVME", resumable_for_s=86400)

    started = await client.post("/v1/uploads", json=newer)

    assert started.status_code == 201, started.text
    stored = await db.uploads.find_one({"_id": started.json()["upload_id"]})
    assert (stored["number"], stored["size"], stored["media_type"]) == (number, len(content), "video/mp4")
    assert "checksum_algorithm" not in stored and "resumable_for_s" not in stored
    assert "checksum_algorithm" not in started.json()
    # The fields it does know are checked as strictly as ever, unknown fields beside them or not.
    for wrong in ({"sha256": "abc"}, {"size": -1}, {"multipart": "sometimes"}, {"media_type": None}):
        refused = await client.post("/v1/uploads", json={**newer, **wrong})
        assert (refused.status_code, refused.json()["code"]) == (422, "validation_failed"), wrong


@pytest.mark.parametrize(
    ("declared", "uploaded", "status", "code"),
    [
        ("hash", "other-bytes", 422, "upload_hash_mismatch"),
        ("type", "pdf-as-png", 415, "media_type_mismatch"),
        ("type-copied", "video-as-pdf", 415, "media_type_mismatch"),
        ("hash-large", "other-bytes", 422, "upload_hash_mismatch"),
    ],
)
async def test_an_upload_that_is_not_what_was_declared_is_refused_and_removed(
    s3, client, settings, storage, db, events, samples, declared, uploaded, status, code
):
    number = new_number()
    if declared.startswith("type"):
        content = samples["pdf"][0] if declared == "type" else video(samples, 50_000)
        body = declaration(content, "image/png" if declared == "type" else "application/pdf", number=number)
        sent = content
    else:
        content = video(samples, 7 * 1024 * 1024 if declared == "hash-large" else 50_000)
        body = declaration(content, "video/mp4", number=number)
        sent = content[:-1] + bytes([content[-1] ^ 1]) if uploaded == "other-bytes" else content + b"trailing"
    ticket = (await client.post("/v1/uploads", json=body)).json()
    assert (await put(ticket["url"], sent)).status_code == 200

    answer = await client.post(f"/v1/uploads/{ticket['upload_id']}/complete")

    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, f"quarantine/{ticket['upload_id']}") == []
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, f"{number}/") == []
    assert await asyncio.to_thread(multipart_uploads, s3, settings.s3_bucket) == []
    assert await db.evidence.count_documents({"number": number}) == 0
    rejected = await events.wait_for("evidence.rejected", subject=number)
    assert (rejected.event.data["reason"], rejected.event.data["upload_id"]) == (code, ticket["upload_id"])
    # The verdict stands: completing again answers the same refusal, nothing is stored.
    again = await client.post(f"/v1/uploads/{ticket['upload_id']}/complete")
    assert (again.status_code, again.json()["code"]) == (422, code)
    assert (await db.uploads.find_one({"_id": ticket["upload_id"]}))["status"] == "rejected"


async def test_the_presigned_put_is_bound_to_the_declared_size(client, settings, storage, db, events, samples):
    number = new_number()
    content = video(samples, 50_000)
    ticket = (await client.post("/v1/uploads", json=declaration(content, "video/mp4", number=number))).json()
    assert "content-length" in dict(httpx.URL(ticket["url"]).params)["X-Amz-SignedHeaders"].split(";")
    quarantined = f"quarantine/{ticket['upload_id']}"

    async def chunked(body: bytes):
        yield body

    async with httpx.AsyncClient(timeout=30) as outsider:
        refusals = [
            await outsider.put(ticket["url"], content=content + b"more"),  # honest about its larger length
            await outsider.put(ticket["url"], content=content[:-1]),  # shorter
            await outsider.put(ticket["url"], content=chunked(content + b"more")),  # no length at all (chunked)
        ]
    # Storage itself refuses them (the signature covers the length): nothing lands in quarantine.
    assert [refused.status_code for refused in refusals] == [403, 403, 403]
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, quarantined) == []
    early = await client.post(f"/v1/uploads/{ticket['upload_id']}/complete")
    assert early.status_code == 409 and early.json()["code"] == "upload_not_received"

    # A storage that did not check the signed length: completion still refuses the object and removes it.
    longer = content + b"trailing"
    await asyncio.to_thread(storage.put_object, settings.s3_bucket, quarantined, io.BytesIO(longer), len(longer))
    answer = await client.post(f"/v1/uploads/{ticket['upload_id']}/complete")
    assert (answer.status_code, answer.json()["code"]) == (422, "upload_size_mismatch")
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, quarantined) == []
    assert await db.evidence.count_documents({"number": number}) == 0

    # The exact bytes go through.
    exact = (await client.post("/v1/uploads", json=declaration(content, "video/mp4", number=number))).json()
    assert (await put(exact["url"], content)).status_code == 200
    assert (await client.post(f"/v1/uploads/{exact['upload_id']}/complete")).status_code == 201


async def test_a_presigned_image_loses_its_metadata_and_keeps_the_declared_hash_as_original(
    client, settings, storage, located_photo
):
    photo = located_photo("JPEG")
    ticket = (await client.post("/v1/uploads", json=declaration(photo, "image/jpeg", filename="IMG_1.jpg"))).json()
    assert (await put(ticket["url"], photo)).status_code == 200

    receipt = (await client.post(f"/v1/uploads/{ticket['upload_id']}/complete")).json()

    assert receipt["original_sha256"] == hashlib.sha256(photo).hexdigest() and receipt["metadata_stripped"] is True
    assert receipt["number"] is None and receipt["status"] == "unattached"
    response = await asyncio.to_thread(storage.get_object, settings.s3_bucket, f"unattached/{receipt['evidence_id']}")
    try:
        kept = response.data
    finally:
        response.close()
        response.release_conn()
    assert hashlib.sha256(kept).hexdigest() == receipt["sha256"] != receipt["original_sha256"]
    assert len(Image.open(io.BytesIO(kept)).getexif()) == 0


async def test_unknown_uploads_answer_not_found(client):
    assert (await client.post(f"/v1/uploads/{uuid.uuid4().hex}/complete")).json()["code"] == "upload_not_found"
    assert (await client.post("/v1/uploads/../complete")).status_code == 404
    assert (await client.get(f"/v1/uploads/{uuid.uuid4().hex}")).json()["code"] == "upload_not_found"
    assert (await client.get("/v1/uploads/not-an-upload")).json()["code"] == "upload_not_found"
