"""Evidence samples made here, small and real (images from Pillow, office files from zipfile, media headers as
their formats define them), and the evidence service served on a real port against nanio, SecantusDB and RabbitMQ.

A test module gets its own database, bucket and app; it tunes the service with a module-level
``EVIDENCE_SETTINGS`` dict (e.g. short clean-up times).
"""

from __future__ import annotations

import asyncio
import io
import struct
import wave
import zipfile

import botocore.session
import httpx
import pytest
from botocore.config import Config
from minio import Minio
from PIL import ExifTags, Image
from pymongo import AsyncMongoClient

from devstack import standins
from devstack.eventtap import event_tap
from devstack.servers import serve
from evidence.config import Settings
from evidence.main import create_app

OPERATOR_TOKEN = "test-operator-token"
INTERNAL_TOKEN = "test-internal-token"


def image_bytes(image_format: str, size: tuple[int, int] = (16, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, image_format)
    return buffer.getvalue()


def office_open_xml(part: str) -> bytes:
    """A minimal OOXML package, entries in the order Office writes them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        package.writestr(part, '<?xml version="1.0"?><root/>')
    return buffer.getvalue()


def iso_bmff(major_brand: bytes, compatible: tuple[bytes, ...]) -> bytes:
    """An ISO base media file (MP4/MOV/M4A/HEIC): an ``ftyp`` box, then an empty ``mdat``."""
    ftyp_body = major_brand + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(ftyp_body)) + b"ftyp" + ftyp_body + struct.pack(">I", 16) + b"mdat" + bytes(8)


def wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(8000)
        recording.writeframes(b"\x00\x01" * 800)
    return buffer.getvalue()


SAMPLES: dict[str, tuple[bytes, str]] = {
    "png": (image_bytes("PNG"), "image/png"),
    "jpeg": (image_bytes("JPEG"), "image/jpeg"),
    "webp": (image_bytes("WEBP"), "image/webp"),
    "heic": (iso_bmff(b"heic", (b"mif1", b"heic")), "image/heic"),
    "pdf": (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n", "application/pdf"),
    "docx": (
        office_open_xml("word/document.xml"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (office_open_xml("xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "txt": ("客服拒绝退款，聊天记录如下。\nThe agent refused the refund.\n".encode(), "text/plain"),
    "mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + (b"\xff\xfb\x90\x64" + bytes(413)) * 3, "audio/mpeg"),
    "m4a": (iso_bmff(b"M4A ", (b"M4A ", b"mp42", b"isom")), "audio/mp4"),
    "amr": (b"#!AMR\n" + b"\x3c" + bytes(31), "audio/amr"),
    "wav": (wav_bytes(), "audio/wav"),
    "mp4": (iso_bmff(b"isom", (b"isom", b"iso2", b"mp41")), "video/mp4"),
    "mov": (iso_bmff(b"qt  ", (b"qt  ",)), "video/quicktime"),
}

ELF_HEADER = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(100)
PE_HEADER = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(100)


@pytest.fixture(scope="session")
def samples() -> dict[str, tuple[bytes, str]]:
    """Accepted evidence samples: name -> (bytes, the media type they are)."""
    return SAMPLES


@pytest.fixture(scope="session")
def png_bytes() -> bytes:
    return SAMPLES["png"][0]


@pytest.fixture(scope="session")
def executable_headers() -> dict[str, bytes]:
    return {"elf": ELF_HEADER, "pe": PE_HEADER}


def photo_with_location(image_format: str, *, orientation: int = 6, size: tuple[int, int] = (40, 20)) -> bytes:
    """A photo as phones write it: EXIF with GPS position, camera make and model, time, and an orientation."""
    image = Image.new("RGB", size, (200, 30, 30))
    # A marker in the top-left corner, to see where it ends up once the orientation is applied.
    image.paste((0, 0, 255), (0, 0, 8, 8))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15 Pro"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.DateTimeOriginal] = "2026:10:01 09:30:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 26.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 23.0, 29.0)
    buffer = io.BytesIO()
    options = {"quality": 90} if image_format == "JPEG" else {}
    image.save(buffer, image_format, exif=exif, **options)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def located_photo():
    """``located_photo("JPEG" | "PNG" | "WEBP", orientation=6)``: a photo carrying GPS and device metadata."""
    return photo_with_location


# --- the service on a real port --------------------------------------------------------------------


@pytest.fixture(scope="module")
def settings(request, mongo_url, s3_endpoint, broker_namespace, run_id) -> Settings:
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    return Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_evidence_{module}",
        s3_endpoint=s3_endpoint,
        s3_access_key=standins.S3_ACCESS_KEY,
        s3_secret_key=standins.S3_SECRET_KEY,
        s3_bucket=f"ev-{run_id}-{module.replace('_', '-')}"[:63].rstrip("-"),
        outbox_poll_interval_s=0.1,
        operator_token=OPERATOR_TOKEN,
        internal_token=INTERNAL_TOKEN,
        log_json=False,
        **broker_namespace.settings_for("evidence"),
        **getattr(request.module, "EVIDENCE_SETTINGS", {}),
    )


@pytest.fixture(scope="module")
def s3(settings):
    """The bucket through botocore, for what the MinIO SDK has no public call for (ListMultipartUploads)."""
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=f"http://{settings.s3_endpoint}",
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.fixture(scope="module")
def storage(settings) -> Minio:
    """The test's own view of the bucket, through the same SDK."""
    return Minio(
        settings.s3_endpoint,
        settings.s3_access_key.get_secret_value(),
        settings.s3_secret_key.get_secret_value(),
        secure=False,
    )


@pytest.fixture(scope="module")
async def db(settings):
    client = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    yield client[settings.database_name]
    await client.close()


@pytest.fixture(scope="module")
async def events(settings):
    """A queue of our own bound to the exchange, as any consumer would be; publishes as intake would."""
    keys = ["evidence.stored", "evidence.rejected"]
    async with event_tap(settings.amqp_url, settings.event_exchange, keys) as tap:
        yield tap


@pytest.fixture(scope="module")
async def app(settings, events):
    application = create_app(settings)
    async with serve(application) as base_url:
        application.state.base_url = base_url
        yield application


@pytest.fixture(scope="module")
async def client(app):
    """A client of the service as intake is one: every request carries the internal token."""
    async with httpx.AsyncClient(
        base_url=app.state.base_url, timeout=30, headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    ) as http:
        deadline = asyncio.get_running_loop().time() + 20
        while (ready := await http.get("/readyz")).status_code != 200:
            assert asyncio.get_running_loop().time() < deadline, ready.text
            await asyncio.sleep(0.1)
        yield http


@pytest.fixture(scope="session")
def operator() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
