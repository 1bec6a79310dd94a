"""Type from content against the allow-list: what is accepted, what is refused, and when the declared type disagrees."""

from __future__ import annotations

import pytest

from evidence.domain.media_types import ACCEPTED, decide, declared_type, detect, looks_like_text
from evidence.domain.refusals import MediaTypeMismatch, UnsupportedMediaType

pytestmark = pytest.mark.unit

SAMPLE_NAMES = ["png", "jpeg", "webp", "heic", "pdf", "docx", "xlsx", "txt", "mp3", "m4a", "amr", "wav", "mp4", "mov"]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_accepted_type_is_recognised_from_its_bytes_alone(samples, name):
    content, media_type = samples[name]
    assert decide(None, content).media_type == media_type


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_a_correct_declaration_is_confirmed(samples, name):
    content, media_type = samples[name]
    assert decide(declared_type(f"{media_type}; charset=utf-8"), content).media_type == media_type


def test_the_allow_list_is_exactly_the_agreed_one():
    assert {accepted.extension for accepted in ACCEPTED.values()} == {
        ".jpg",
        ".png",
        ".webp",
        ".heic",
        ".pdf",
        ".docx",
        ".xlsx",
        ".txt",
        ".mp3",
        ".m4a",
        ".amr",
        ".wav",
        ".mp4",
        ".mov",
    }


@pytest.mark.parametrize("name", ["elf", "pe"])
def test_executables_are_refused_whatever_they_claim(executable_headers, name):
    content = executable_headers[name]
    with pytest.raises(UnsupportedMediaType):
        decide(None, content)
    # Declared as an accepted type, the executable is refused as not being what it claims.
    with pytest.raises(MediaTypeMismatch, match="not the declared image/png"):
        decide(declared_type("image/png"), content)
    with pytest.raises(MediaTypeMismatch):
        decide(declared_type("text/plain"), content)


def test_a_declared_type_that_disagrees_with_the_content_is_refused(samples):
    with pytest.raises(MediaTypeMismatch, match="application/pdf, not the declared image/png"):
        decide(declared_type("image/png"), samples["pdf"][0])
    with pytest.raises(MediaTypeMismatch):
        decide(declared_type("text/plain"), samples["png"][0])
    with pytest.raises(MediaTypeMismatch):
        decide(declared_type("video/mp4"), samples["mov"][0])
    with pytest.raises(MediaTypeMismatch):
        decide(declared_type("image/png"), samples["txt"][0])


def test_a_declared_type_off_the_list_is_refused_before_any_content():
    for media_type in ("application/x-msdownload", "application/zip", "image/svg+xml", "text/html"):
        with pytest.raises(UnsupportedMediaType):
            declared_type(media_type)


def test_aliases_and_unknown_declarations():
    assert declared_type("image/JPG").media_type == "image/jpeg"
    assert declared_type("audio/x-wav").media_type == "audio/wav"
    assert declared_type(None) is None
    assert declared_type("application/octet-stream") is None  # the client did not know: the content decides


def test_audio_recorded_into_a_generic_mp4_container_keeps_its_declared_audio_type(samples):
    assert decide(declared_type("audio/mp4"), samples["mp4"][0]).media_type == "audio/mp4"
    assert decide(None, samples["mp4"][0]).media_type == "video/mp4"


def test_text_must_be_utf8_without_nul():
    assert decide(None, "纯文本".encode()).media_type == "text/plain"
    with pytest.raises(UnsupportedMediaType):
        decide(declared_type("text/plain"), "Grüße".encode("latin-1"))
    with pytest.raises(UnsupportedMediaType):
        decide(declared_type("text/plain"), b"abc\x00def")
    with pytest.raises(UnsupportedMediaType):
        decide(None, bytes(range(256)))


def test_a_sample_cut_in_the_middle_of_a_character_still_looks_like_text():
    text = "截图".encode()
    assert looks_like_text(text[:-1])
    assert not looks_like_text(b"\xff" + text)


def test_a_zip_that_is_no_office_document_is_refused():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.sh", "#!/bin/sh\n")
    assert detect(buffer.getvalue()) == "application/zip"
    with pytest.raises(UnsupportedMediaType):
        decide(None, buffer.getvalue())
