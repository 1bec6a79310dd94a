"""Streaming inspection: hash and size as the bytes pass, limits enforced as early as they can be."""

from __future__ import annotations

import hashlib

import pytest

from evidence.domain.inspection import UploadInspection
from evidence.domain.media_types import SIGNATURE_BYTES, SizeLimits
from evidence.domain.refusals import EmptyEvidence, EvidenceTooLarge, MediaTypeMismatch

pytestmark = pytest.mark.unit

LIMITS = SizeLimits(image=20_000, document=30_000, audio=40_000, video=50_000)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[offset : offset + size] for offset in range(0, len(data), size)]


def test_hash_size_and_type_of_a_chunked_stream(png_bytes):
    content = png_bytes + bytes(15_000)
    inspection = UploadInspection(LIMITS, content_type="image/png", content_length=len(content))
    for chunk in chunked(content, 1000):
        inspection.feed(chunk)
    result = inspection.finish()
    assert (result.media_type, result.size, result.sha256) == (
        "image/png",
        len(content),
        hashlib.sha256(content).hexdigest(),
    )


def test_type_is_decided_once_the_signature_is_in_and_refused_right_then(executable_headers):
    inspection = UploadInspection(LIMITS, content_type="image/png", content_length=None)
    inspection.feed(executable_headers["elf"])  # shorter than the signature: undecided yet
    with pytest.raises(MediaTypeMismatch):
        inspection.feed(bytes(SIGNATURE_BYTES))


def test_announced_size_above_the_largest_limit_is_refused_before_reading():
    with pytest.raises(EvidenceTooLarge) as refused:
        UploadInspection(LIMITS, content_type=None, content_length=LIMITS.largest + 1)
    assert refused.value.limit == LIMITS.largest


def test_announced_size_above_the_declared_kinds_limit_is_refused_before_reading():
    with pytest.raises(EvidenceTooLarge) as refused:
        UploadInspection(LIMITS, content_type="image/png", content_length=LIMITS.image + 1)
    assert refused.value.limit == LIMITS.image
    # Without a declaration the detected kind's limit applies once the signature is in.
    inspection = UploadInspection(LIMITS, content_type=None, content_length=LIMITS.image + 1)
    with pytest.raises(EvidenceTooLarge):
        inspection.feed(b"\x89PNG\r\n\x1a\n" + bytes(SIGNATURE_BYTES))


def test_streamed_size_is_refused_at_the_byte_that_crosses_the_limit(png_bytes):
    inspection = UploadInspection(LIMITS, content_type=None, content_length=None)
    inspection.feed(png_bytes + bytes(LIMITS.image - len(png_bytes)))
    assert inspection.size == LIMITS.image
    with pytest.raises(EvidenceTooLarge):
        inspection.feed(b"\x00")


def test_a_document_may_be_larger_than_an_image(samples):
    pdf = samples["pdf"][0] + bytes(LIMITS.document - len(samples["pdf"][0]))
    inspection = UploadInspection(LIMITS, content_type="application/pdf", content_length=None)
    for chunk in chunked(pdf, 4096):
        inspection.feed(chunk)
    assert inspection.finish().size == LIMITS.document


def test_empty_upload_is_refused():
    with pytest.raises(EmptyEvidence):
        UploadInspection(LIMITS, content_type="image/png", content_length=0)
    inspection = UploadInspection(LIMITS, content_type="image/png", content_length=None)
    inspection.feed(b"")
    with pytest.raises(EmptyEvidence):
        inspection.finish()


def test_text_is_checked_as_utf8_to_its_last_byte():
    text = ("申诉材料 " * 2000).encode()
    assert len(text) > SIGNATURE_BYTES
    ok = UploadInspection(LIMITS, content_type="text/plain; charset=utf-8", content_length=None)
    for chunk in chunked(text, 1001):  # splits characters across chunks
        ok.feed(chunk)
    assert ok.finish().media_type == "text/plain"

    broken = UploadInspection(LIMITS, content_type="text/plain", content_length=None)
    broken.feed(text)
    with pytest.raises(MediaTypeMismatch):
        broken.feed(b"\xff\xfe")

    truncated = UploadInspection(LIMITS, content_type=None, content_length=None)
    truncated.feed("截图".encode()[:-1])
    with pytest.raises(MediaTypeMismatch):
        truncated.finish()
