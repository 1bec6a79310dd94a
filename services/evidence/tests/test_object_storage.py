"""The storage adapter's streamed upload against real nanio: parts while the bytes arrive, signed or not, and an
abort that leaves no part behind."""

from __future__ import annotations

import asyncio
import hashlib
import os

import botocore.session
import pytest
from botocore.config import Config

from evidence.adapters.object_storage import ObjectStorage, StorageFailed

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


@pytest.fixture(scope="module", params=[False, True], ids=["unsigned", "signed"])
async def object_storage(request, settings) -> ObjectStorage:
    storage = ObjectStorage(settings.model_copy(update={"s3_sign_payloads": request.param}))
    await storage.ensure_bucket()
    yield storage
    await storage.close()


@pytest.fixture(scope="module")
def s3(settings):
    """A client of its own, through the public ListMultipartUploads call, to see what storage holds."""
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=f"http://{settings.s3_endpoint}",
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def open_multipart_uploads(s3, bucket: str, key: str) -> list[str]:
    return [upload["Key"] for upload in s3.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])]


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


async def test_an_aborted_upload_leaves_no_part_and_no_object(object_storage, storage, settings, s3):
    key = "adapter/aborted"
    put = object_storage.streamed_put(key, content_type="video/mp4", metadata={})
    for _ in range(2 * settings.upload_part_bytes // MIB):  # one part sent, the next one filling
        await put.write(os.urandom(MIB))

    await put.abort()

    assert await asyncio.to_thread(open_multipart_uploads, s3, settings.s3_bucket, key) == []
    assert [item.object_name for item in storage.list_objects(settings.s3_bucket, prefix=key)] == []


async def test_storage_out_of_reach_fails_the_upload(settings):
    away = ObjectStorage(settings.model_copy(update={"s3_endpoint": "127.0.0.1:9", "s3_timeout_s": 2.0}))
    put = away.streamed_put("adapter/unreachable", content_type="video/mp4", metadata={})
    # Whichever write or the completion first reaches for storage fails: the whole upload is inside.
    with pytest.raises(StorageFailed):  # noqa: PT012
        for _ in range(settings.upload_part_bytes // MIB + 1):
            await put.write(bytes(MIB))
        await put.complete()
    await put.abort()
    await away.close()


async def test_a_body_of_known_length_streams_into_one_object_with_its_type_and_metadata(storage, settings):
    streaming = ObjectStorage(settings.model_copy(update={"s3_sign_payloads": False}))
    await streaming.ensure_bucket()
    content = os.urandom(3 * MIB + 5)
    key = "adapter/known-length"

    async def chunks():
        for offset in range(0, len(content), 64 * 1024):
            yield content[offset : offset + 64 * 1024]

    await streaming.put_stream(key, chunks(), len(content), content_type="audio/mpeg", metadata={"evidence-id": "e2"})

    assert await streaming.digest(key) == (hashlib.sha256(content).hexdigest(), len(content))
    stat = await asyncio.to_thread(storage.stat_object, settings.s3_bucket, key)
    assert stat.content_type == "audio/mpeg" and stat.metadata.get("x-amz-meta-evidence-id") == "e2"
    assert "-" not in stat.etag, "one PutObject, not a multipart upload"
    await streaming.close()


async def test_a_body_shorter_than_announced_leaves_no_object(storage, settings):
    streaming = ObjectStorage(settings.model_copy(update={"s3_sign_payloads": False}))
    await streaming.ensure_bucket()
    key = "adapter/cut-short"

    async def chunks():
        yield bytes(MIB)
        raise ConnectionResetError("the client went away")

    with pytest.raises((ConnectionResetError, StorageFailed)):
        await streaming.put_stream(key, chunks(), 2 * MIB, content_type="video/mp4", metadata={})

    assert await streaming.size_of(key) is None
    await streaming.close()


@pytest.mark.parametrize(
    ("public", "secure", "link_start"),
    [
        ("", False, "http://{endpoint}/"),
        ("localhost:9000", False, "http://localhost:9000/"),
        ("files.example.org:8443", True, "https://files.example.org:8443/"),
        ("https://files.example.org", False, "https://files.example.org/"),
        ("http://files.example.org:8080", True, "http://files.example.org:8080/"),
    ],
)
async def test_links_name_the_host_and_scheme_clients_reach_storage_by(settings, public, secure, link_start):
    """Behind a TLS gateway storage is https for clients while the service talks plain HTTP inside the cluster."""
    signer = ObjectStorage(settings.model_copy(update={"s3_public_endpoint": public, "s3_secure": secure}))
    start = link_start.format(endpoint=settings.s3_endpoint)

    upload = signer.upload_link("adapter/linked", 10, 60)
    download = await signer.download_link(
        "adapter/linked", 60, content_type="image/png", content_disposition="attachment"
    )

    assert upload.startswith(start) and download.startswith(start), (upload, download)
    await signer.close()
