"""The production server command (granian, as the Dockerfile runs it) serves the evidence service: health, a
streamed upload stored with one PUT, a refusal answered while the body is still on its way, and a crash that
takes the server's worker with it. Against real nanio, SecantusDB and RabbitMQ."""

from __future__ import annotations

import asyncio
import hashlib
import os
import struct
from pathlib import Path

import httpx
import pytest
from minio import Minio

from devstack import standins
from devstack.processes import INTERNAL_TOKEN, service_env, start_service

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
INTERNAL = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def video(extra_bytes: int) -> bytes:
    brands = b"isom" + b"\x00\x00\x02\x00" + b"isomiso2mp41"
    return (
        struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands + struct.pack(">I", 0) + b"mdat" + os.urandom(extra_bytes)
    )


async def in_pieces(content: bytes, piece: int = 256 * 1024):
    for offset in range(0, len(content), piece):
        yield content[offset : offset + piece]


@pytest.fixture(scope="module")
async def served(mongo_url, s3_endpoint, broker_namespace, run_id, workdir):
    bucket = f"served-{run_id}"
    env = service_env(
        "evidence",
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_evidence_served",
        broker=broker_namespace.settings_for("evidence"),
        s3_endpoint=s3_endpoint,
        s3_bucket=bucket,
    )
    process = start_service("evidence", env, log_dir=workdir / "served")
    try:
        await process.wait_ready()
        yield process, bucket
    finally:
        await process.aterminate()


async def test_the_production_server_answers_health_and_streams_an_upload_into_one_put(served, s3_endpoint):
    process, bucket = served
    content = video(9 * MIB)
    async with httpx.AsyncClient(base_url=process.url, timeout=30, headers=INTERNAL) as client:
        health = await client.get("/healthz")
        stored = await client.post(
            "/v1/evidence",
            content=in_pieces(content),
            headers={"Content-Type": "video/mp4", "Content-Length": str(len(content))},
        )

    assert health.status_code == 200
    assert stored.status_code == 201, stored.text
    assert (stored.json()["sha256"], stored.json()["size"]) == (hashlib.sha256(content).hexdigest(), len(content))
    storage = Minio(s3_endpoint, standins.S3_ACCESS_KEY, standins.S3_SECRET_KEY, secure=False)
    stat = await asyncio.to_thread(storage.stat_object, bucket, f"unattached/{stored.json()['evidence_id']}")
    assert stat.size == len(content) and "-" not in stat.etag  # one PUT: a multipart object's ETag ends with -<parts>


async def test_a_refusal_while_the_body_is_on_its_way_reaches_a_client_that_reads_after_sending(served):
    process, _ = served
    # Declared a video, but a PDF: refused after the first bytes while 8 MiB are still to come. httpx (as
    # intake) reads the answer only once it has sent the body: a server that closed at once would reset it.
    disguised = PDF + os.urandom(8 * MIB)
    async with httpx.AsyncClient(base_url=process.url, timeout=30, headers=INTERNAL) as client:
        refused = await client.post(
            "/v1/evidence",
            content=in_pieces(disguised),
            headers={"Content-Type": "video/mp4", "Content-Length": str(len(disguised))},
        )
        after = await client.post("/v1/evidence", content=PDF, headers={"Content-Type": "application/pdf"})

    assert (refused.status_code, refused.json()["code"]) == (415, "media_type_mismatch")
    assert after.status_code == 201


async def test_a_client_gone_mid_body_leaves_nothing_behind(served, s3_endpoint):
    process, bucket = served
    storage = Minio(s3_endpoint, standins.S3_ACCESS_KEY, standins.S3_SECRET_KEY, secure=False)
    before = await asyncio.to_thread(
        lambda: sorted(item.object_name for item in storage.list_objects(bucket, prefix="unattached/"))
    )
    host, port = process.url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"POST /v1/evidence HTTP/1.1\r\nHost: {host}\r\nContent-Type: video/mp4\r\n"
        f"Authorization: Bearer {INTERNAL_TOKEN}\r\n"
        f"Content-Length: {12 * MIB}\r\n\r\n".encode()
        + video(3 * MIB)
    )
    await writer.drain()
    await asyncio.sleep(0.3)
    writer.transport.abort()  # gone, 9 MiB short

    await asyncio.sleep(1.0)
    after = await asyncio.to_thread(
        lambda: sorted(item.object_name for item in storage.list_objects(bucket, prefix="unattached/"))
    )
    assert after == before
    async with httpx.AsyncClient(base_url=process.url, timeout=30, headers=INTERNAL) as client:
        assert (
            await client.post("/v1/evidence", content=PDF, headers={"Content-Type": "application/pdf"})
        ).status_code == 201


async def test_a_crash_takes_the_servers_worker_with_it(mongo_url, s3_endpoint, broker_namespace, run_id, workdir):
    env = service_env(
        "evidence",
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_evidence_crash",
        broker=broker_namespace.settings_for("evidence"),
        s3_endpoint=s3_endpoint,
        s3_bucket=f"crash-{run_id}",
    )
    process = start_service("evidence", env, log_dir=workdir / "crash")
    await process.wait_ready()
    worker = process.worker_pid
    assert worker != process.pid  # the application runs in the server's worker process

    process.kill()

    deadline = asyncio.get_running_loop().time() + 5
    while alive(worker):
        assert asyncio.get_running_loop().time() < deadline, "the worker outlived its server"
        await asyncio.sleep(0.05)


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        with Path(f"/proc/{pid}/stat").open() as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
