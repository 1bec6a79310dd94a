"""Evidence samples made here, small and real: images from Pillow, office files from zipfile, media headers by the spec."""

from __future__ import annotations

import io
import struct
import wave
import zipfile

import pytest
from PIL import Image


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
    "docx": (office_open_xml("word/document.xml"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
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
