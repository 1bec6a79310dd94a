"""Hygiene for the original filename, kept only as metadata (never part of a storage key or a path).

The name a client sends may carry path components (``../../etc/passwd``), control and bidi-override
characters (``\u202e`` to disguise ``gpj.exe`` as ``exe.jpg``), or be absurdly long. What is kept is
the last path component, NFC-normalised, without control/format characters or characters Windows
refuses, at most :data:`MAX_FILENAME_CHARS` characters with its extension preserved. Unicode letters
stay as they are (``截图.png``).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote

MAX_FILENAME_CHARS = 200
MAX_EXTENSION_CHARS = 16
FALLBACK_STEM = "evidence"

_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')
_WHITESPACE_RUN = re.compile(r"\s+")


def decode_header_filename(raw: str | None) -> str | None:
    """The ``X-Filename`` header is percent-encoded UTF-8 (RFC 3986); undecodable bytes become U+FFFD."""
    if raw is None:
        return None
    return unquote(raw, encoding="utf-8", errors="replace")


def sanitize_filename(raw: str | None) -> str:
    """A safe display name for ``raw``; empty when nothing usable is left (the caller picks a default)."""
    if not raw:
        return ""
    name = unicodedata.normalize("NFC", raw)
    # Tabs and line breaks separate words: they become spaces; every other control character goes.
    name = "".join(" " if char.isspace() else char for char in name)
    name = "".join(char for char in name if unicodedata.category(char) not in _REMOVED_CATEGORIES)
    name = re.split(r"[/\\]", name)[-1]
    name = _WINDOWS_RESERVED.sub("_", name)
    name = _WHITESPACE_RUN.sub(" ", name).strip(" .")
    return _cap(name)


def filename_or_default(sanitized: str, extension: str) -> str:
    return sanitized or f"{FALLBACK_STEM}{extension}"


def content_disposition(filename: str) -> str:
    """An ``attachment`` disposition carrying ``filename`` (RFC 6266, with RFC 8187 UTF-8 encoding)."""
    fallback = "".join(
        char if char.isascii() and char.isprintable() and char not in '"\\%' else "_" for char in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _cap(name: str) -> str:
    if len(name) <= MAX_FILENAME_CHARS:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 0 < len(extension) <= MAX_EXTENSION_CHARS:
        suffix = f".{extension}"
        return name[: MAX_FILENAME_CHARS - len(suffix)].rstrip(" .") + suffix
    return name[:MAX_FILENAME_CHARS].rstrip(" .")
