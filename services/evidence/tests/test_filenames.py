"""The original filename is metadata: path components, control characters and excess length are removed."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from evidence.domain.filenames import (
    MAX_FILENAME_CHARS,
    content_disposition,
    decode_header_filename,
    filename_or_default,
    sanitize_filename,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\cmd.exe", "cmd.exe"),
        ("/var/www/../../shot.png", "shot.png"),
        ("a\x00b\r\nc\x1b[31m.png", "ab c[31m.png"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # the bidi override that disguises a name
        ("截图 2024-05-01.png", "截图 2024-05-01.png"),
        ("  spaced\tout  name .pdf  ", "spaced out name .pdf"),
        ('what?<is>:"this"|*.txt', "what__is___this___.txt"),
        ("..", ""),
        ("", ""),
        (None, ""),
        ("\x00\x01", ""),
    ],
)
def test_sanitised_names(raw, kept):
    assert sanitize_filename(raw) == kept


def test_unicode_is_normalised_to_nfc():
    assert sanitize_filename("cafe\u0301.txt") == "caf\u00e9.txt"


def test_long_names_are_capped_and_keep_their_extension():
    capped = sanitize_filename("证" * 500 + ".jpeg")
    assert len(capped) == MAX_FILENAME_CHARS and capped.endswith("证.jpeg")
    no_extension = sanitize_filename("x" * 500)
    assert no_extension == "x" * MAX_FILENAME_CHARS


def test_a_name_with_nothing_left_gets_a_default_with_the_detected_extension():
    assert filename_or_default(sanitize_filename("../"), ".png") == "evidence.png"
    assert filename_or_default("shot.png", ".png") == "shot.png"


def test_header_filename_is_percent_decoded_utf8():
    assert decode_header_filename(quote("截图 1.png", safe="")) == "截图 1.png"
    assert decode_header_filename("%FF.png") == "\ufffd.png"
    assert decode_header_filename(None) is None


def test_content_disposition_carries_the_unicode_name_and_an_ascii_fallback():
    header = content_disposition('截图 "a".png')
    assert header == "attachment; filename=\"__ _a_.png\"; filename*=UTF-8''%E6%88%AA%E5%9B%BE%20%22a%22.png"
