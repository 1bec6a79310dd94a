"""Presigned multipart uploads against real nanio: a PUT URL per part, the parts storage holds listed (to resume
after a dropped connection), completion joining them and checking size, type and SHA-256 as for a single PUT."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid

import httpx
import pytest
from minio import Minio

from evidence.domain.uploads import MULTIPART_PART_BYTES

pytestmark = pytest.mark.integration


def new_number() -> str:
    return f"GC-{uuid.uuid4().hex[:12]}"


def keys_under(storage: Minio, bucket: str, prefix: str) -> list[str]:
    return [item.object_name for item in storage.list_objects(bucket, prefix=prefix, recursive=True)]


def open_uploads(s3, bucket: str) -> list[str]:
    return [upload["Key"] for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def declaration(content: bytes, **overrides) -> dict:
    return {
        "filename": "录像.mp4",
        "media_type": "video/mp4",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "multipart": True,
        **overrides,
    }


def chunk(content: bytes, part: dict) -> bytes:
    start = (part["number"] - 1) * MULTIPART_PART_BYTES
    return content[start : start + part["size"]]


async def send(parts: list[dict], content: bytes) -> list[int]:
    async with httpx.AsyncClient(timeout=60) as outsider:
        return [(await outsider.put(part["url"], content=chunk(content, part))).status_code for part in parts]


async def test_a_multipart_upload_resumes_with_the_missing_parts_only_and_is_verified(
    client, settings, storage, s3, db, samples
):
    number = new_number()
    content = samples["mp4"][0] + os.urandom(2 * MULTIPART_PART_BYTES + 123_456)  # three parts, the last short

    started = await client.post("/v1/uploads", json=declaration(content, number=number))

    assert started.status_code == 201, started.text
    ticket = started.json()
    upload_id, parts = ticket["upload_id"], ticket["parts"]
    assert ticket["url"] is None
    assert [(part["number"], part["size"]) for part in parts] == [
        (1, MULTIPART_PART_BYTES),
        (2, MULTIPART_PART_BYTES),
        (3, len(content) - 2 * MULTIPART_PART_BYTES),
    ]
    # Each URL is signed for its part's length: storage refuses another.
    async with httpx.AsyncClient(timeout=60) as outsider:
        assert (await outsider.put(parts[0]["url"], content=chunk(content, parts[0])[:-1])).status_code == 403

    # The connection "drops" after part 1 (part 3 went too): storage holds 1 and 3.
    assert await send([parts[0], parts[2]], content) == [200, 200]
    early = await client.post(f"/v1/uploads/{upload_id}/complete")
    assert (early.status_code, early.json()["code"], early.json()["missing_parts"]) == (409, "upload_not_received", [2])
    assert (await client.get(f"/v1/uploads/{upload_id}")).json()["status"] == "pending"  # released for a retry

    listed = await client.get(f"/v1/uploads/{upload_id}/parts")

    assert listed.status_code == 200, listed.text
    resume = listed.json()
    assert resume["stored"] == [
        {"number": 1, "size": MULTIPART_PART_BYTES},
        {"number": 3, "size": parts[2]["size"]},
    ]
    assert [(part["number"], part["size"]) for part in resume["missing"]] == [(2, MULTIPART_PART_BYTES)]
    assert await send(resume["missing"], content) == [200]
    assert (await client.get(f"/v1/uploads/{upload_id}/parts")).json()["missing"] == []

    completed = await client.post(f"/v1/uploads/{upload_id}/complete")

    assert completed.status_code == 201, completed.text
    receipt = completed.json()
    assert receipt["original_sha256"] == hashlib.sha256(content).hexdigest()
    assert receipt["original_size"] == len(content)
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "quarantine/") == []
    assert f"quarantine/{upload_id}" not in await asyncio.to_thread(open_uploads, s3, settings.s3_bucket)
    again = await client.post(f"/v1/uploads/{upload_id}/complete")
    assert again.status_code == 200 and again.json() == receipt
    gone = await client.get(f"/v1/uploads/{upload_id}/parts")
    assert (gone.status_code, gone.json()["code"]) == (409, "upload_not_pending")


async def test_parts_that_are_not_the_declared_file_are_refused_and_dropped(client, settings, storage, s3, db, samples):
    number = new_number()
    content = samples["mp4"][0] + os.urandom(MULTIPART_PART_BYTES)
    declared = declaration(content, number=number, sha256=hashlib.sha256(b"another file").hexdigest())
    ticket = (await client.post("/v1/uploads", json=declared)).json()
    assert await send(ticket["parts"], content) == [200, 200]

    refused = await client.post(f"/v1/uploads/{ticket['upload_id']}/complete")

    assert (refused.status_code, refused.json()["code"]) == (422, "upload_hash_mismatch")
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "quarantine/") == []
    assert await db.evidence.count_documents({"number": number}) == 0


async def test_a_single_put_upload_has_no_parts_and_a_refused_multipart_upload_leaves_no_parts(
    client, settings, s3, samples
):
    content = samples["mp4"][0] + os.urandom(100_000)
    single = (await client.post("/v1/uploads", json=declaration(content, multipart=False))).json()
    assert single["parts"] is None and single["url"]
    no_parts = await client.get(f"/v1/uploads/{single['upload_id']}/parts")
    assert (no_parts.status_code, no_parts.json()["code"]) == (409, "not_multipart")
    assert (await client.get(f"/v1/uploads/{'0' * 32}/parts")).status_code == 404

    # Refused at completion (not the declared SHA-256): the multipart upload goes with its object.
    wrong = (await client.post("/v1/uploads", json=declaration(content, size=len(content) + 1))).json()
    wrong_key = f"quarantine/{wrong['upload_id']}"
    assert wrong_key in await asyncio.to_thread(open_uploads, s3, settings.s3_bucket)
    assert await send(wrong["parts"], content + b"x") == [200]
    refused = await client.post(f"/v1/uploads/{wrong['upload_id']}/complete")
    assert refused.status_code == 422, refused.text
    assert wrong_key not in await asyncio.to_thread(open_uploads, s3, settings.s3_bucket)
