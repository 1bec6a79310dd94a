"""Inspection of an upload as it streams: size, SHA-256, type from content, size limit and text encoding.

The content is seen once, chunk by chunk, in constant memory: only the first
:data:`~evidence.domain.media_types.SIGNATURE_BYTES` are kept, until the type is decided. A rule is
enforced as soon as it can be: a declared type that is not accepted or a ``Content-Length`` above
the limit refuses the upload before its first byte is read, a size over the limit refuses it at
the byte that crosses the limit, a type mismatch once the leading bytes are in.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass

from evidence.domain.media_types import (
    SIGNATURE_BYTES,
    TEXT_PLAIN,
    AcceptedType,
    SizeLimits,
    decide,
    declared_type,
)
from evidence.domain.refusals import EmptyEvidence, EvidenceTooLarge, MediaTypeMismatch


@dataclass(frozen=True)
class InspectedContent:
    media_type: str
    extension: str
    size: int
    sha256: str


class UploadInspection:
    def __init__(self, limits: SizeLimits, *, content_type: str | None, content_length: int | None) -> None:
        self.limits = limits
        self.declared = declared_type(content_type)
        self.accepted: AcceptedType | None = None
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._signature = bytearray()
        self._text_decoder: codecs.IncrementalDecoder | None = None
        self._content_length = content_length
        if content_length is not None:
            if content_length == 0:
                raise EmptyEvidence("The file is empty.")
            self._check_size(content_length, announced=True)

    @property
    def limit(self) -> int:
        """The size limit known so far: the detected kind's, else the declared kind's, else the largest."""
        known = self.accepted or self.declared
        return self.limits.for_kind(known.kind) if known is not None else self.limits.largest

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        self._check_size(self.size)
        self._sha256.update(chunk)
        if self.accepted is None:
            self._signature += chunk
            if len(self._signature) >= SIGNATURE_BYTES:
                self._decide()
        elif self._text_decoder is not None:
            self._check_text(chunk)

    def finish(self) -> InspectedContent:
        """Everything has been fed: the verdict on the whole content (or its refusal)."""
        if self.size == 0:
            raise EmptyEvidence("The file is empty.")
        if self.accepted is None:
            self._decide()
        if self._text_decoder is not None:
            self._check_text(b"", final=True)
        assert self.accepted is not None
        return InspectedContent(
            media_type=self.accepted.media_type,
            extension=self.accepted.extension,
            size=self.size,
            sha256=self._sha256.hexdigest(),
        )

    def _decide(self) -> None:
        self.accepted = decide(self.declared, bytes(self._signature))
        signature, self._signature = bytes(self._signature), bytearray()
        if self.accepted.media_type == TEXT_PLAIN:
            self._text_decoder = codecs.getincrementaldecoder("utf-8")()
            self._check_text(signature)
        self._check_size(self.size)
        if self._content_length is not None:
            self._check_size(self._content_length, announced=True)

    def _check_text(self, chunk: bytes, final: bool = False) -> None:
        assert self._text_decoder is not None
        try:
            self._text_decoder.decode(chunk, final)
        except UnicodeDecodeError:
            raise MediaTypeMismatch("Text evidence must be UTF-8 encoded.") from None
        if b"\x00" in chunk:
            raise MediaTypeMismatch("Text evidence must not contain NUL bytes.")

    def _check_size(self, size: int, announced: bool = False) -> None:
        limit = self.limit
        if size > limit:
            what = (
                f"{self.accepted.kind.value} "
                if self.accepted
                else (f"{self.declared.kind.value} " if self.declared else "")
            )
            detail = (
                f"The {what}file is announced as {size} bytes; the limit is {limit} bytes."
                if announced
                else f"The {what}file is larger than the limit of {limit} bytes."
            )
            raise EvidenceTooLarge(detail, limit=limit)
