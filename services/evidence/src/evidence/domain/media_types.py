"""The evidence media types the platform accepts, how they are recognised from content, and their size limits.

The type of a file is decided from its bytes (magic numbers, via the ``filetype`` library), never
from its name or the declared ``Content-Type``: the declared type may only confirm it. Plain text
has no magic number; it is accepted as ``text/plain`` when it is declared so (or not declared) and
its bytes are UTF-8 without NUL bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import filetype

from evidence.domain.refusals import MediaTypeMismatch, UnsupportedMediaType

#: How many leading bytes the detection looks at (``filetype`` reads at most 8192).
SIGNATURE_BYTES = 8192

TEXT_PLAIN = "text/plain"
#: What clients send when they do not know the type: treated as "not declared".
UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class Kind(enum.StrEnum):
    IMAGE = "image"
    DOCUMENT = "document"
    AUDIO = "audio"
    VIDEO = "video"


@dataclass(frozen=True)
class AcceptedType:
    media_type: str
    extension: str
    kind: Kind


ACCEPTED: dict[str, AcceptedType] = {
    accepted.media_type: accepted
    for accepted in (
        AcceptedType("image/jpeg", ".jpg", Kind.IMAGE),
        AcceptedType("image/png", ".png", Kind.IMAGE),
        AcceptedType("image/webp", ".webp", Kind.IMAGE),
        AcceptedType("image/heic", ".heic", Kind.IMAGE),
        AcceptedType("application/pdf", ".pdf", Kind.DOCUMENT),
        AcceptedType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", Kind.DOCUMENT),
        AcceptedType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", Kind.DOCUMENT),
        AcceptedType(TEXT_PLAIN, ".txt", Kind.DOCUMENT),
        AcceptedType("audio/mpeg", ".mp3", Kind.AUDIO),
        AcceptedType("audio/mp4", ".m4a", Kind.AUDIO),
        AcceptedType("audio/amr", ".amr", Kind.AUDIO),
        AcceptedType("audio/wav", ".wav", Kind.AUDIO),
        AcceptedType("video/mp4", ".mp4", Kind.VIDEO),
        AcceptedType("video/quicktime", ".mov", Kind.VIDEO),
    )
}

#: Other names clients and the detection library use for the same types.
ALIASES: dict[str, str] = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/m4a": "audio/mp4",
    "audio/x-m4a": "audio/mp4",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
}

#: (declared, detected) pairs where the declared type is the more precise truth about the same container:
#: phones record audio into generic MP4 containers (brand ``isom``/``mp42``), which read as video/mp4.
COMPATIBLE: frozenset[tuple[str, str]] = frozenset({("audio/mp4", "video/mp4")})


@dataclass(frozen=True)
class SizeLimits:
    image: int
    document: int
    audio: int
    video: int

    def for_kind(self, kind: Kind) -> int:
        limit: int = getattr(self, kind.value)
        return limit

    @property
    def largest(self) -> int:
        return max(self.image, self.document, self.audio, self.video)


def canonical(media_type: str) -> str:
    """``media_type`` without parameters, lower-cased, aliases resolved (``Image/JPG; q=1`` -> ``image/jpeg``)."""
    essence = media_type.split(";", 1)[0].strip().lower()
    return ALIASES.get(essence, essence)


def declared_type(content_type: str | None) -> AcceptedType | None:
    """The accepted type a client declared, ``None`` if it declared none; refuses a type not on the list."""
    if content_type is None or canonical(content_type) in UNDECLARED:
        return None
    media_type = canonical(content_type)
    accepted = ACCEPTED.get(media_type)
    if accepted is None:
        raise UnsupportedMediaType(f"Files of type {media_type!r} are not accepted as evidence.")
    return accepted


def detect(signature: bytes) -> str | None:
    """The media type the leading bytes show, ``None`` if they match no known signature."""
    guess = filetype.guess(bytes(signature[:SIGNATURE_BYTES]))
    return canonical(guess.mime) if guess is not None else None


def looks_like_text(data: bytes) -> bool:
    """Could ``data`` (possibly cut mid-character at its end) be the start of UTF-8 text?"""
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is not an error.
        return error.reason == "unexpected end of data" and error.end == len(data)
    return True


def decide(declared: AcceptedType | None, signature: bytes) -> AcceptedType:
    """The accepted type of content starting with ``signature``, or the refusal (415).

    ``declared`` is what the client said (already checked against the list by :func:`declared_type`).
    Text is only provisionally accepted here: the caller checks the rest of the content is UTF-8 too.
    """
    detected = detect(signature)
    if detected is None:
        if looks_like_text(signature) and (declared is None or declared.media_type == TEXT_PLAIN):
            return ACCEPTED[TEXT_PLAIN]
        if declared is not None and declared.media_type != TEXT_PLAIN:
            raise MediaTypeMismatch(f"The content is not recognisable as {declared.media_type}.")
        raise UnsupportedMediaType("The content is not a recognised evidence type.")
    actual = ACCEPTED.get(detected)
    if actual is None and declared is not None:
        # Named apart from a type not accepted at all: the complainant learns the file is not what its name says.
        raise MediaTypeMismatch(f"The content is {detected}, not the declared {declared.media_type}.")
    if actual is None:
        raise UnsupportedMediaType(f"The content is {detected}, which is not accepted as evidence.")
    if declared is None or declared.media_type == actual.media_type:
        return actual
    if (declared.media_type, actual.media_type) in COMPATIBLE:
        return declared
    raise MediaTypeMismatch(f"The content is {actual.media_type}, not the declared {declared.media_type}.")
