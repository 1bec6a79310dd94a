"""The evidence API served on a real port, against real nanio, SecantusDB and RabbitMQ."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from minio import Minio
from PIL import Image

from devstack.eventtap import TappedEvent
from evidence.adapters.object_storage import ObjectStorage
from evidence.config import Settings

pytestmark = pytest.mark.integration

IMAGE_LIMIT = 8 * 1024 * 1024
EVIDENCE_SETTINGS = {"max_image_bytes": IMAGE_LIMIT, "max_image_pixels": 4_000_000}
MEBIBYTE = 1024 * 1024


def new_number() -> str:
    return f"GC-{uuid.uuid4().hex[:12]}"


def noise_png(side: int) -> bytes:
    """A real PNG that does not compress: about 3 * side**2 bytes."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


async def upload(client: httpx.AsyncClient, number: str, content, media_type: str | None, filename: str | None = None):
    headers = {}
    if media_type is not None:
        headers["Content-Type"] = media_type
    if filename is not None:
        headers["X-Filename"] = quote(filename, safe="")
    return await client.post(f"/v1/complaints/{number}/evidence", content=content, headers=headers)


def object_keys(storage: Minio, bucket: str, number: str) -> list[str]:
    return [item.object_name for item in storage.list_objects(bucket, prefix=f"{number}/", recursive=True)]


async def assert_nothing_kept(storage: Minio, settings: Settings, db, number: str) -> None:
    assert await asyncio.to_thread(object_keys, storage, settings.s3_bucket, number) == []
    assert await db.evidence.count_documents({"number": number}) == 0
    assert await db.outbox.count_documents({"event.subject": number, "event.type": "evidence.stored"}) == 0


async def assert_rejections_announced(tap, number: str, reasons: list[str], *, not_in_event: str = "") -> None:
    """``evidence.rejected`` arrived for each refusal, with its reason and no personal data (the filename)."""
    deadline = asyncio.get_running_loop().time() + 15
    while len(tap.events("evidence.rejected", subject=number)) < len(reasons):
        assert asyncio.get_running_loop().time() < deadline, tap.events("evidence.rejected", subject=number)
        await asyncio.sleep(0.05)
    announced = tap.events("evidence.rejected", subject=number)
    assert sorted(tapped.event.data["reason"] for tapped in announced) == sorted(reasons)
    for tapped in announced:
        assert tapped.event.data["number"] == number and len(tapped.event.data["upload_id"]) == 32
        if not_in_event:
            assert not_in_event not in tapped.event.model_dump_json()


async def next_event_for(tap, evidence_id: str) -> TappedEvent:
    return await tap.wait_for("evidence.stored", where=lambda event: event.data["evidence_id"] == evidence_id)


async def test_png_upload_is_stored_receipted_recorded_and_announced(client, settings, storage, db, events):
    number = new_number()
    content = Image.new("RGB", (32, 32), (10, 120, 200))
    buffer = io.BytesIO()
    content.save(buffer, "PNG")
    png = buffer.getvalue()

    answer = await upload(client, number, png, "image/png", filename="../../截图 1.png")

    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert receipt["sha256"] == hashlib.sha256(png).hexdigest()
    assert receipt["size"] == len(png)
    assert (receipt["number"], receipt["media_type"], receipt["filename"]) == (number, "image/png", "截图 1.png")
    # A picture without metadata is kept byte for byte: what was received is what was stored.
    assert (receipt["original_sha256"], receipt["original_size"]) == (receipt["sha256"], receipt["size"])
    assert receipt["metadata_stripped"] is True and receipt["status"] == "attached"
    assert len(receipt["evidence_id"]) == 32
    received_at = datetime.fromisoformat(receipt["received_at"])
    assert abs(datetime.now(UTC) - received_at) < timedelta(seconds=30)

    # The object holds exactly the bytes, under a key made of the number and the id, never the filename.
    key = f"{number}/{receipt['evidence_id']}"
    assert await asyncio.to_thread(object_keys, storage, settings.s3_bucket, number) == [key]
    stored = await asyncio.to_thread(storage.get_object, settings.s3_bucket, key)
    try:
        assert stored.data == png
    finally:
        stored.close()
        stored.release_conn()
    stat = await asyncio.to_thread(storage.stat_object, settings.s3_bucket, key)
    assert stat.content_type == "image/png"

    # The metadata record, and the same receipt answered later, alone and in the complaint's list.
    record = await db.evidence.find_one({"_id": receipt["evidence_id"]})
    assert record["status"] == "attached" and record["object_key"] == key and record["sha256"] == receipt["sha256"]
    assert (await client.get(f"/v1/evidence/{receipt['evidence_id']}")).json() == receipt
    listed = (await client.get(f"/v1/complaints/{number}/evidence")).json()
    assert listed == {"number": number, "items": [receipt]}

    # evidence.stored reaches a queue bound to the exchange, through the outbox.
    tapped = await next_event_for(events, receipt["evidence_id"])
    event = tapped.event.model_dump(mode="json")
    assert tapped.routing_key == "evidence.stored"
    assert event["type"] == "evidence.stored" and event["subject"] == number
    assert {name: event["data"][name] for name in ("number", "filename", "media_type", "size", "sha256")} == {
        name: receipt[name] for name in ("number", "filename", "media_type", "size", "sha256")
    }
    assert datetime.fromisoformat(event["data"]["stored_at"]) == received_at


async def test_upload_before_filing_is_kept_unattached_until_intake_links_it(client, settings, storage, db, events):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "PNG")
    png = buffer.getvalue()
    answer = await client.post(
        "/v1/evidence", content=png, headers={"Content-Type": "image/png", "X-Filename": "a.png"}
    )
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert receipt["number"] is None and receipt["sha256"] == hashlib.sha256(png).hexdigest()
    key = f"unattached/{receipt['evidence_id']}"
    assert await asyncio.to_thread(object_keys, storage, settings.s3_bucket, "unattached") == [key]
    assert (await db.evidence.find_one({"_id": receipt["evidence_id"]}))["number"] is None
    event = (await next_event_for(events, receipt["evidence_id"])).event
    assert event.data["number"] is None and event.subject == receipt["evidence_id"]
    refused = await client.post("/v1/evidence", content=b"MZ" + b"\0" * 100, headers={"Content-Type": "image/png"})
    assert refused.status_code == 415
    assert await asyncio.to_thread(object_keys, storage, settings.s3_bucket, "unattached") == [key]


async def test_upload_above_the_part_size_is_streamed_in_parts(client, settings, storage):
    number = new_number()
    png = noise_png(1450)  # ~6.3 MB: above the SDK's 5 MiB part size, below the image limit
    assert 5 * 1024 * 1024 < len(png) < IMAGE_LIMIT

    async def in_chunks():
        for offset in range(0, len(png), 64 * 1024):
            yield png[offset : offset + 64 * 1024]

    answer = await upload(client, number, in_chunks(), "image/png", filename="noise.png")

    assert answer.status_code == 201, answer.text
    assert answer.json()["sha256"] == hashlib.sha256(png).hexdigest()
    stored = await asyncio.to_thread(storage.get_object, settings.s3_bucket, f"{number}/{answer.json()['evidence_id']}")
    try:
        assert hashlib.sha256(stored.data).hexdigest() == hashlib.sha256(png).hexdigest()
    finally:
        stored.close()
        stored.release_conn()


async def test_disguised_files_are_refused_and_nothing_is_kept(
    client, settings, storage, db, events, executable_headers, samples
):
    number = new_number()

    executable = await upload(
        client, number, executable_headers["elf"] + bytes(9000), "image/png", filename="photo.png"
    )
    assert executable.status_code == 415
    assert executable.headers["content-type"] == "application/problem+json"
    assert executable.json()["code"] == "media_type_mismatch"  # not the image it claims to be

    pdf_as_png = await upload(client, number, samples["pdf"][0], "image/png", filename="photo.png")
    assert pdf_as_png.status_code == 415 and pdf_as_png.json()["code"] == "media_type_mismatch"

    declared_off_list = await upload(client, number, b"MZ" + bytes(100), "application/x-msdownload")
    assert declared_off_list.status_code == 415 and declared_off_list.json()["code"] == "unsupported_media_type"

    await assert_nothing_kept(storage, settings, db, number)
    await assert_rejections_announced(
        events,
        number,
        ["media_type_mismatch", "media_type_mismatch", "unsupported_media_type"],
        not_in_event="photo.png",
    )


async def raw_post_without_body(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> tuple[int, dict]:
    """Send only the request head (with the client's token) and read the answer: proves the server refused before
    any body byte."""
    address = urlsplit(str(client.base_url))
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: {client.headers['Authorization']}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        writer.write(head.encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        response_headers = {}
        while (line := await asyncio.wait_for(reader.readline(), timeout=10)) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            response_headers[name.strip().lower()] = value.strip()
        body = await asyncio.wait_for(reader.readexactly(int(response_headers["content-length"])), timeout=10)
        return int(status_line.split()[1]), json.loads(body)
    finally:
        writer.close()


async def test_oversize_announced_by_content_length_is_refused_before_the_body(client, settings, storage, db, events):
    number = new_number()
    path = f"/v1/complaints/{number}/evidence"

    status, problem = await raw_post_without_body(
        client, path, {"Content-Type": "video/mp4", "Content-Length": str(settings.max_video_bytes + 1)}
    )
    assert (status, problem["code"], problem["limit_bytes"]) == (413, "evidence_too_large", settings.max_video_bytes)

    # A declared image is held to the image limit, though a video of that size would pass.
    status, problem = await raw_post_without_body(
        client, path, {"Content-Type": "image/png", "Content-Length": str(IMAGE_LIMIT + 1)}
    )
    assert (status, problem["limit_bytes"]) == (413, IMAGE_LIMIT)

    await assert_nothing_kept(storage, settings, db, number)
    await assert_rejections_announced(events, number, ["evidence_too_large", "evidence_too_large"])


async def test_oversize_streamed_without_content_length_is_refused_and_nothing_is_kept(
    client, settings, storage, db, events, png_bytes
):
    number = new_number()
    sent = 0

    async def endless_png():  # chunked transfer encoding: no Content-Length to judge by
        nonlocal sent
        yield png_bytes
        sent += len(png_bytes)
        chunk = bytes(256 * 1024)
        while sent <= IMAGE_LIMIT + len(chunk):
            yield chunk
            sent += len(chunk)

    answer = await upload(client, number, endless_png(), "image/png", filename="huge.png")

    assert answer.status_code == 413, answer.text
    assert answer.json()["code"] == "evidence_too_large" and answer.json()["limit_bytes"] == IMAGE_LIMIT
    assert "content-length" not in answer.request.headers and answer.request.headers["transfer-encoding"] == "chunked"
    await assert_nothing_kept(storage, settings, db, number)
    await assert_rejections_announced(events, number, ["evidence_too_large"], not_in_event="huge.png")


async def test_zero_byte_upload_is_refused(client, settings, storage, db, events):
    number = new_number()
    announced_empty = await upload(client, number, b"", "image/png")
    assert announced_empty.status_code == 422 and announced_empty.json()["code"] == "empty_evidence"

    async def nothing():
        return
        yield b""

    streamed_empty = await upload(client, number, nothing(), "text/plain")
    assert streamed_empty.status_code == 422 and streamed_empty.json()["code"] == "empty_evidence"
    await assert_nothing_kept(storage, settings, db, number)
    await assert_rejections_announced(events, number, ["empty_evidence", "empty_evidence"])


async def test_presigned_link_downloads_the_same_bytes_and_the_bucket_is_private(client, settings, samples):
    number = new_number()
    text = samples["txt"][0]
    receipt = (await upload(client, number, text, "text/plain; charset=utf-8", filename="聊天记录.txt")).json()
    key = f"{number}/{receipt['evidence_id']}"

    answer = await client.post(f"/v1/evidence/{receipt['evidence_id']}/link")

    assert answer.status_code == 200, answer.text
    link = answer.json()
    query = parse_qs(urlsplit(link["url"]).query)
    assert query["X-Amz-Expires"] == [str(settings.download_link_ttl_s)]
    expires_at = datetime.fromisoformat(link["expires_at"])
    assert abs(expires_at - datetime.now(UTC) - timedelta(seconds=settings.download_link_ttl_s)) < timedelta(seconds=30)
    async with httpx.AsyncClient(timeout=10) as outsider:
        download = await outsider.get(link["url"])
        assert download.status_code == 200
        assert download.content == text
        assert hashlib.sha256(download.content).hexdigest() == receipt["sha256"]

        # Without a signature the object and the bucket are refused.
        unsigned = await outsider.get(f"http://{settings.s3_endpoint}/{settings.s3_bucket}/{key}")
        assert unsigned.status_code in (401, 403)
        assert unsigned.content != text
        listing = await outsider.get(f"http://{settings.s3_endpoint}/{settings.s3_bucket}")
        assert listing.status_code in (401, 403)
        # A tampered signature is refused too.
        tampered = await outsider.get(link["url"].replace(f"{number}/", f"{new_number()}/"))
        assert tampered.status_code in (401, 403, 404)


async def test_unknown_evidence_and_invalid_numbers_answer_problems(client):
    unknown = await client.get(f"/v1/evidence/{uuid.uuid4().hex}")
    assert unknown.status_code == 404 and unknown.json()["code"] == "evidence_not_found"
    assert (await client.post("/v1/evidence/not-an-id/link")).status_code == 404
    assert (await client.get(f"/v1/complaints/{new_number()}/evidence")).json()["items"] == []
    invalid = await upload(client, "..%2F..%2Fsecrets", b"%PDF-1.7\n", "application/pdf")
    assert invalid.status_code in (404, 422)
    bad_number = await upload(client, "GC 1", b"%PDF-1.7\n", "application/pdf")
    assert bad_number.status_code == 422 and bad_number.json()["code"] == "validation_failed"


async def test_published_limits_are_the_ones_enforced(client, settings):
    limits = (await client.get("/v1/limits")).json()
    by_type = {item["media_type"]: item for item in limits["types"]}
    assert by_type["image/png"] == {
        "media_type": "image/png",
        "extension": ".png",
        "kind": "image",
        "max_bytes": IMAGE_LIMIT,
    }
    assert by_type["video/mp4"]["max_bytes"] == settings.max_video_bytes
    assert limits["max_bytes"]["document"] == settings.max_document_bytes
    assert limits["aliases"]["image/jpg"] == "image/jpeg"
    assert limits["max_files_per_complaint"] == settings.max_files_per_complaint
    # One byte over the published image limit is refused by the upload itself.
    over = await upload(client, new_number(), b"\x89PNG\r\n\x1a\n" + bytes(IMAGE_LIMIT), "image/png")
    assert over.status_code == 413 and over.json()["limit_bytes"] == IMAGE_LIMIT


async def test_readiness_includes_object_storage(client):
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"store": "ok", "broker": "ok", "object_storage": "ok"}


async def upload_video_measuring_memory(client, samples, total: int) -> int:
    """Stream a ``total``-byte video in, answer the peak of Python allocations (client and service) meanwhile."""
    number = new_number()
    header = samples["mp4"][0]
    digest = hashlib.sha256(header)

    async def video():
        yield header
        sent, chunk = len(header), os.urandom(64 * 1024)
        while sent < total:
            digest.update(chunk)
            yield chunk
            sent += len(chunk)

    tracemalloc.start()
    try:
        answer = await upload(client, number, video(), "video/mp4")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 201, answer.text
    assert answer.json()["sha256"] == digest.hexdigest()
    return peak


async def test_memory_stays_flat_however_large_the_upload(client, settings, samples):
    mib = 1024 * 1024
    smaller = await upload_video_measuring_memory(client, samples, 16 * mib)
    larger = await upload_video_measuring_memory(client, samples, 48 * mib)
    # One part is sent to storage while the next fills: two parts (and the growth of the one filling),
    # whatever the file's size.
    bound = 3 * settings.upload_part_bytes + 2 * mib
    assert smaller < bound and larger < bound, f"peaks {smaller} and {larger} bytes; bound {bound}"
    # Three times the file, not a tenth more memory (a buffered upload would need 32 MiB more).
    assert larger - smaller < 4 * mib, f"peak grew from {smaller} to {larger} bytes with the file's size"


async def send_part_of_a_body_then_disconnect(
    client: httpx.AsyncClient, path: str, announced: int, sent: bytes, media_type: str
) -> None:
    address = urlsplit(str(client.base_url))
    _, writer = await asyncio.open_connection(address.hostname, address.port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: {media_type}\r\n"
        f"Authorization: {client.headers['Authorization']}\r\n"
        f"Content-Length: {announced}\r\n\r\n"
    )
    writer.write(head.encode() + sent)
    await writer.drain()
    await asyncio.sleep(0.3)  # let the service take in what was sent, then go away mid-body
    writer.transport.abort()


def multipart_uploads(s3, bucket: str, prefix: str = "") -> list[str]:
    """The keys of the multipart uploads still open in ``bucket`` under ``prefix``."""
    return [upload["Key"] for upload in s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])]


@pytest.mark.parametrize("sent_mib", [0.1, 7], ids=["below-one-part", "parts-already-sent"])
async def test_client_that_disconnects_mid_body_leaves_nothing_behind(
    s3, client, settings, storage, db, events, samples, sent_mib
):
    number = new_number()
    content = samples["mp4"][0] + os.urandom(int(sent_mib * 1024 * 1024))

    await send_part_of_a_body_then_disconnect(
        client, f"/v1/complaints/{number}/evidence", 12 * 1024 * 1024, content, "video/mp4"
    )

    # Once the service noticed, no object, no part of a multipart upload, no record, no event remain.
    deadline = asyncio.get_running_loop().time() + 10
    while await asyncio.to_thread(multipart_uploads, s3, settings.s3_bucket, f"{number}/"):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    assert await asyncio.to_thread(multipart_uploads, s3, settings.s3_bucket, f"{number}/") == []
    await assert_nothing_kept(storage, settings, db, number)
    assert events.events("evidence.rejected", subject=number) == []
    # The service is fine and takes the next upload of the same complaint.
    again = await upload(client, number, samples["mp4"][0], "video/mp4")
    assert again.status_code == 201, again.text


def stored_bytes(storage: Minio, bucket: str, key: str) -> bytes:
    response = storage.get_object(bucket, key)
    try:
        return response.data
    finally:
        response.close()
        response.release_conn()


@pytest.mark.parametrize(
    ("image_format", "media_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
async def test_location_and_device_metadata_are_removed_before_storage(
    client, settings, storage, located_photo, image_format, media_type
):
    number = new_number()
    original = located_photo(image_format, orientation=6, size=(40, 20))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload does carry a GPS position

    answer = await upload(client, number, original, media_type, filename="IMG_0001.jpg")

    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert receipt["original_sha256"] == hashlib.sha256(original).hexdigest()
    assert receipt["original_size"] == len(original)
    assert receipt["metadata_stripped"] is True and receipt["sha256"] != receipt["original_sha256"]
    kept = await asyncio.to_thread(stored_bytes, storage, settings.s3_bucket, f"{number}/{receipt['evidence_id']}")
    assert (hashlib.sha256(kept).hexdigest(), len(kept)) == (receipt["sha256"], receipt["size"])
    picture = Image.open(io.BytesIO(kept))
    picture.load()
    assert len(picture.getexif()) == 0 and "exif" not in picture.info and "xmp" not in picture.info
    assert b"iPhone" not in kept and b"Apple" not in kept
    # Orientation 6 (rotate 90 degrees clockwise) was applied to the pixels: 40x20 became 20x40 and the
    # marker from the top-left corner is now top-right.
    assert picture.size == (20, 40)
    red, _, blue = picture.convert("RGB").getpixel((17, 2))
    assert blue > 150 and red < 100


async def test_heic_that_cannot_be_decoded_is_stored_as_received_and_says_so(client, samples):
    number = new_number()
    heic = samples["heic"][0]
    receipt = (await upload(client, number, heic, "image/heic")).json()
    assert receipt["media_type"] == "image/heic" and receipt["metadata_stripped"] is False
    assert receipt["sha256"] == receipt["original_sha256"] == hashlib.sha256(heic).hexdigest()


async def test_decompression_bombs_and_damaged_images_are_refused(client, settings, storage, db, events, located_photo):
    number = new_number()
    buffer = io.BytesIO()
    Image.new("L", (3000, 3000)).save(buffer, "PNG")  # 9 megapixels in a few kilobytes
    bomb = buffer.getvalue()
    assert len(bomb) < 100_000

    refused = await upload(client, number, bomb, "image/png")
    assert refused.status_code == 422 and refused.json()["code"] == "image_dimensions_too_large"

    photo = located_photo("JPEG")
    damaged = await upload(client, number, photo[: len(photo) // 2], "image/jpeg")
    assert damaged.status_code == 422 and damaged.json()["code"] == "image_unreadable"

    await assert_nothing_kept(storage, settings, db, number)
    await assert_rejections_announced(events, number, ["image_dimensions_too_large", "image_unreadable"])


async def test_hostile_filenames_never_reach_the_storage_key(client, settings, storage, samples):
    number = new_number()
    text = samples["txt"][0]
    hostile = [
        "../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "a\x00b\x07\x1bc.txt",
        "\u202egpj.exe",
        "名" * 1000 + ".txt",
        "/",
        "....",
        "%2e%2e%2f",
    ]
    keys = []
    for name in hostile:
        answer = await upload(client, number, text, "text/plain", filename=name)
        assert answer.status_code == 201, (name, answer.text)
        receipt = answer.json()
        keys.append(f"{number}/{receipt['evidence_id']}")
        kept = receipt["filename"]
        assert kept and len(kept) <= 200 and "/" not in kept and "\\" not in kept
        assert all(char.isprintable() for char in kept) and "\u202e" not in kept
    assert sorted(await asyncio.to_thread(object_keys, storage, settings.s3_bucket, number)) == sorted(keys)


# --- a file of announced length: one PUT ---------------------------------------------------------------------


def etag_of(storage: Minio, bucket: str, key: str) -> str:
    return storage.stat_object(bucket, key).etag


async def in_pieces(content: bytes, piece: int = 256 * 1024):
    for offset in range(0, len(content), piece):
        yield content[offset : offset + piece]


async def test_an_announced_length_is_stored_with_one_put_and_an_unknown_one_in_parts(
    client, settings, storage, samples
):
    number = new_number()
    # AMR carries no metadata, so it streams on (a video is gathered first: its metadata is removed).
    content = samples["amr"][0] + os.urandom(12 * MEBIBYTE)

    announced = await upload(client, number, content, "audio/amr")  # bytes: httpx sends their Content-Length
    streamed = await upload(client, number, in_pieces(content), "audio/amr")  # a generator: chunked, no length

    assert "content-length" in announced.request.headers and "content-length" not in streamed.request.headers
    for answer in (announced, streamed):
        assert answer.status_code == 201, answer.text
        assert answer.json()["sha256"] == hashlib.sha256(content).hexdigest() and answer.json()["size"] == len(content)
    one_put = await asyncio.to_thread(
        etag_of, storage, settings.s3_bucket, f"{number}/{announced.json()['evidence_id']}"
    )
    in_parts = await asyncio.to_thread(
        etag_of, storage, settings.s3_bucket, f"{number}/{streamed.json()['evidence_id']}"
    )
    assert "-" not in one_put  # a multipart object's ETag ends with -<parts>
    assert in_parts.endswith(f"-{-(-len(content) // settings.upload_part_bytes)}")


async def test_a_put_of_known_length_cut_short_by_its_source_leaves_no_object(s3, settings, storage):
    object_storage = ObjectStorage(settings)
    key = f"adapter/cut-{new_number()}"

    async def failing():
        yield os.urandom(MEBIBYTE)
        raise RuntimeError("the client went away")

    with pytest.raises(RuntimeError, match="went away"):
        await object_storage.put_stream(key, failing(), 4 * MEBIBYTE, content_type="video/mp4", metadata={})
    await object_storage.put_stream(
        f"{key}-whole", in_pieces(b"x" * MEBIBYTE), MEBIBYTE, content_type="text/plain", metadata={"evidence-id": "e1"}
    )
    await object_storage.close()

    assert [item.object_name for item in storage.list_objects(settings.s3_bucket, prefix=key)] == [f"{key}-whole"]
    stat = await asyncio.to_thread(storage.stat_object, settings.s3_bucket, f"{key}-whole")
    assert stat.size == MEBIBYTE and stat.metadata.get("x-amz-meta-evidence-id") == "e1"
    assert await asyncio.to_thread(multipart_uploads, s3, settings.s3_bucket, "adapter/cut-") == []


async def test_the_internal_api_refuses_callers_without_the_internal_token(client, db, storage, settings, operator):
    """Only intake (the internal token) reaches the evidence API; the probes and metrics stay open to the kubelet and
    the scraper."""
    number = new_number()
    pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    before = (await db.evidence.count_documents({}), await db.uploads.count_documents({}))
    async with httpx.AsyncClient(base_url=client.base_url, timeout=10) as outsider:
        for headers in (
            {},
            {"Authorization": "Bearer not-the-token"},
            {"Authorization": "Basic test-internal-token"},
            operator,
        ):
            refused = [
                await outsider.post(
                    f"/v1/complaints/{number}/evidence",
                    content=pdf,
                    headers={**headers, "Content-Type": "application/pdf"},
                ),
                await outsider.post(
                    "/v1/uploads",
                    headers=headers,
                    json={"media_type": "application/pdf", "size": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest()},
                ),
                await outsider.get(f"/v1/complaints/{number}/evidence", headers=headers),
                await outsider.get("/v1/limits", headers=headers),
            ]
            assert [(answer.status_code, answer.json()["code"]) for answer in refused] == [(401, "unauthorized")] * 4
            assert refused[0].headers["www-authenticate"] == "Bearer"
        assert (await outsider.get("/healthz")).status_code == 200
        assert (await outsider.get("/readyz")).status_code == 200
        # /metrics is the internal listener's, never the service port's.
        assert (await outsider.get("/metrics")).status_code == 404
    assert (await db.evidence.count_documents({}), await db.uploads.count_documents({})) == before
    assert object_keys(storage, settings.s3_bucket, number) == []
    assert (await upload(client, number, pdf, "application/pdf")).status_code == 201
