"""What is left behind, with short times in the service: orphans and expired quarantine uploads are cleaned up,
and an upload whose client stops sending is dropped with every part it had sent to storage."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from minio import Minio

pytestmark = pytest.mark.integration

EVIDENCE_SETTINGS = {
    "orphan_ttl_s": 2,
    "cleanup_interval_s": 0.3,
    "upload_url_ttl_s": 2,
    "upload_complete_within_s": 2,
    "upload_idle_timeout_s": 2,
}


def keys_under(storage: Minio, bucket: str, prefix: str) -> list[str]:
    return [item.object_name for item in storage.list_objects(bucket, prefix=prefix, recursive=True)]


async def eventually(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_files_never_attached_are_removed_after_their_time_and_attached_ones_stay(
    client, settings, storage, db, samples
):
    text = samples["txt"][0]
    orphan = (await client.post("/v1/evidence", content=text, headers={"Content-Type": "text/plain"})).json()
    number = f"GC-{uuid.uuid4().hex[:12]}"
    kept = (
        await client.post(f"/v1/complaints/{number}/evidence", content=text, headers={"Content-Type": "text/plain"})
    ).json()
    assert f"unattached/{orphan['evidence_id']}" in await asyncio.to_thread(
        keys_under, storage, settings.s3_bucket, "unattached/"
    )

    async def orphan_gone() -> bool:
        return await db.evidence.find_one({"_id": orphan["evidence_id"]}) is None

    await eventually(orphan_gone)
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "unattached/") == []
    assert (await client.get(f"/v1/evidence/{orphan['evidence_id']}")).status_code == 404
    assert (await client.get(f"/v1/evidence/{kept['evidence_id']}")).json()["status"] == "attached"
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, f"{number}/") == [
        f"{number}/{kept['evidence_id']}"
    ]


async def test_a_presigned_upload_not_completed_in_time_expires_and_its_object_goes(
    client, settings, storage, db, samples
):
    pdf = samples["pdf"][0]
    ticket = (
        await client.post(
            "/v1/uploads",
            json={"media_type": "application/pdf", "size": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest()},
        )
    ).json()
    async with httpx.AsyncClient(timeout=10) as outsider:
        assert (await outsider.put(ticket["url"], content=pdf)).status_code == 200
    quarantined = f"quarantine/{ticket['upload_id']}"
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "quarantine/") == [quarantined]

    async def removed() -> bool:
        upload = await db.uploads.find_one({"_id": ticket["upload_id"]})
        return upload["status"] == "expired" and upload["quarantine_present"] is False

    await eventually(removed)
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "quarantine/") == []
    late = await client.post(f"/v1/uploads/{ticket['upload_id']}/complete")
    assert late.status_code == 410 and late.json()["code"] == "upload_expired"
    # The link is refused by storage once expired, so nothing can be put back into quarantine.
    async with httpx.AsyncClient(timeout=10) as outsider:
        assert (await outsider.put(ticket["url"], content=pdf)).status_code == 403


async def test_a_multipart_upload_not_completed_in_time_is_aborted_with_its_parts(s3, client, settings, db, samples):
    content = samples["pdf"][0]
    ticket = (
        await client.post(
            "/v1/uploads",
            json={
                "media_type": "application/pdf",
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "multipart": True,
            },
        )
    ).json()
    [part] = ticket["parts"]
    async with httpx.AsyncClient(timeout=10) as outsider:
        assert (await outsider.put(part["url"], content=content)).status_code == 200
    quarantined = f"quarantine/{ticket['upload_id']}"

    def open_uploads() -> list[str]:
        listed = s3.list_multipart_uploads(Bucket=settings.s3_bucket, Prefix="quarantine/")
        return [upload["Key"] for upload in listed.get("Uploads", [])]

    assert quarantined in await asyncio.to_thread(open_uploads)

    async def removed() -> bool:
        upload = await db.uploads.find_one({"_id": ticket["upload_id"]})
        return upload["status"] == "expired" and upload["quarantine_present"] is False

    await eventually(removed)
    assert quarantined not in await asyncio.to_thread(open_uploads)
    late = await client.get(f"/v1/uploads/{ticket['upload_id']}/parts")
    assert late.status_code == 409 and late.json()["code"] == "upload_not_pending"


async def test_a_file_put_again_after_completion_is_swept_once_the_url_expired(client, settings, storage, db, samples):
    pdf = samples["pdf"][0]
    ticket = (
        await client.post(
            "/v1/uploads",
            json={"media_type": "application/pdf", "size": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest()},
        )
    ).json()
    async with httpx.AsyncClient(timeout=10) as outsider:
        assert (await outsider.put(ticket["url"], content=pdf)).status_code == 200
        completed = await client.post(f"/v1/uploads/{ticket['upload_id']}/complete")
        assert completed.status_code == 201, completed.text
        # The URL is still valid: the same client (or whoever holds it) puts a file there again (of the signed size).
        other = b"%PDF-1.7 something else".ljust(len(pdf), b" ")[: len(pdf)]
        assert (await outsider.put(ticket["url"], content=other)).status_code == 200
    quarantined = f"quarantine/{ticket['upload_id']}"
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "quarantine/") == [quarantined]

    async def swept() -> bool:
        upload = await db.uploads.find_one({"_id": ticket["upload_id"]})
        return upload["quarantine_present"] is False

    await eventually(swept)
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, "quarantine/") == []
    assert (await db.uploads.find_one({"_id": ticket["upload_id"]}))["status"] == "completed"


async def test_a_client_that_stops_sending_is_answered_408_and_nothing_is_kept(s3, client, settings, storage, db):
    number = f"GC-{uuid.uuid4().hex[:12]}"
    # AMR carries no metadata, so it streams on to storage: a part went there before the client stopped.
    sent = b"#!AMR\n" + os.urandom(6 * 1024 * 1024)
    address = urlsplit(str(client.base_url))
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(
            f"POST /v1/complaints/{number}/evidence HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: audio/amr\r\n"
            f"Authorization: {client.headers['Authorization']}\r\n"
            f"Content-Length: {12 * 1024 * 1024}\r\n\r\n".encode()
            + sent
        )
        await writer.drain()
        # ... and then nothing, the connection left open.
        status_line = await asyncio.wait_for(reader.readline(), timeout=30)
        headers = {}
        while (line := await asyncio.wait_for(reader.readline(), timeout=10)) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        problem = json.loads(await reader.readexactly(int(headers["content-length"])))
    finally:
        writer.close()

    assert status_line.split()[1] == b"408" and problem["code"] == "upload_stalled"
    parts = await asyncio.to_thread(s3.list_multipart_uploads, Bucket=settings.s3_bucket, Prefix=f"{number}/")
    assert parts.get("Uploads", []) == []
    assert await asyncio.to_thread(keys_under, storage, settings.s3_bucket, f"{number}/") == []
    assert await db.evidence.count_documents({"number": number}) == 0
