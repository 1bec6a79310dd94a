"""The storage adapter's streamed upload against real nanio: parts while the bytes arrive, signed or not, and an
abort that leaves no part behind."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
from evidence.adapters.object_storage import UNSIGNED_PAYLOAD, ObjectStorage, StorageFailed, _Client
from minio import Minio

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


@pytest.fixture(scope="module", params=[False, True], ids=["unsigned", "signed"])
async def object_storage(request, settings) -> ObjectStorage:
    storage = ObjectStorage(settings.model_copy(update={"s3_sign_payloads": request.param}))
    await storage.ensure_bucket()
    yield storage
    await storage.close()


def open_multipart_uploads(storage: Minio, bucket: str, key: str) -> list[str]:
    return [upload.object_name for upload in storage._list_multipart_uploads(bucket, prefix=key).uploads]


@pytest.mark.parametrize("size", [300 * 1024, 12 * MIB + 7], ids=["one-put", "three-parts"])
async def test_a_streamed_object_arrives_whole_in_parts_of_the_configured_size(object_storage, storage, settings, size):
    content = os.urandom(size)
    key = f"adapter/{hashlib.sha256(content).hexdigest()[:16]}"
    put = object_storage.streamed_put(key, content_type="video/mp4", metadata={"evidence-id": "e1"})

    for offset in range(0, size, 256 * 1024):
        await put.write(content[offset : offset + 256 * 1024])
    await put.complete()

    assert await object_storage.digest(key) == (hashlib.sha256(content).hexdigest(), size)
    stat = await asyncio.to_thread(storage.stat_object, settings.s3_bucket, key)
    assert stat.content_type == "video/mp4" and stat.metadata.get("x-amz-meta-evidence-id") == "e1"
    expected_parts = 1 if size < settings.upload_part_bytes else -(-size // settings.upload_part_bytes)
    assert stat.etag.endswith(f"-{expected_parts}") if expected_parts > 1 else "-" not in stat.etag


async def test_an_aborted_upload_leaves_no_part_and_no_object(object_storage, storage, settings):
    key = "adapter/aborted"
    put = object_storage.streamed_put(key, content_type="video/mp4", metadata={})
    for _ in range(2 * settings.upload_part_bytes // MIB):  # one part sent, the next one filling
        await put.write(os.urandom(MIB))

    await put.abort()

    assert await asyncio.to_thread(open_multipart_uploads, storage, settings.s3_bucket, key) == []
    assert [item.object_name for item in storage.list_objects(settings.s3_bucket, prefix=key)] == []


async def test_storage_out_of_reach_fails_the_upload(settings):
    away = ObjectStorage(settings.model_copy(update={"s3_endpoint": "127.0.0.1:9", "s3_timeout_s": 2.0}))
    put = away.streamed_put("adapter/unreachable", content_type="video/mp4", metadata={})
    with pytest.raises(StorageFailed):
        for _ in range(settings.upload_part_bytes // MIB + 1):
            await put.write(bytes(MIB))
        await put.complete()
    await put.abort()
    await away.close()


def test_only_a_body_marked_unsigned_goes_without_its_hash():
    client = _Client("127.0.0.1:9", "access", "secret-key", secure=False)
    credentials = client._provider.retrieve()

    unsigned, _ = client._build_headers("storage:9000", {"x-amz-content-sha256": UNSIGNED_PAYLOAD}, b"part", credentials)
    signed, _ = client._build_headers("storage:9000", {}, b"part", credentials)

    assert (unsigned["x-amz-content-sha256"], unsigned["Content-Length"]) == (UNSIGNED_PAYLOAD, "4")
    assert signed["x-amz-content-sha256"] == hashlib.sha256(b"part").hexdigest()
