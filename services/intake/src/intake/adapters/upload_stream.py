"""Stream an uploaded file through, as it arrives: nothing is spooled. Two ways to send one file:

* **The raw body** (any Content-Type but ``multipart/*``): the body is the file, its Content-Type the
  file's, its name in ``Content-Disposition: attachment; filename*=UTF-8''...`` (RFC 6266 with the
  RFC 8187 encoding, as browsers and curl send it). Its Content-Length is the file's length, so it is
  passed on to evidence, which can store the file with one PUT of known length.
* **A multipart form** with the file in a field named ``file``: python-multipart's push parser is fed
  the body chunk by chunk and the file part's bytes are handed on as soon as they are parsed. A part
  carries no length of its own, so evidence learns the size only at the end.

Either way intake forwards the file to evidence while the client is still sending it (memory stays
flat, and the two hops overlap instead of running one after the other), counts the body as it
arrives (a chunked body has no Content-Length to judge by), and refuses a body that ends early.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import HTTP

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from greenchannel.problems import Problem

FILE_FIELD = b"file"

#: RFC 8187 ``ext-value``: a charset, an optional language, then attr-chars or %XX escapes only.
_EXT_VALUE = re.compile(r"(?i)(?:utf-8|iso-8859-1)'[a-z0-9-]*'(?:%[0-9a-f]{2}|[a-z0-9!#$&+.^_`|~-])+")
_EXT_FILENAME = re.compile(r"(?i)(?:^|;)\s*filename\*\s*=\s*([^;]*)")


@dataclass
class UploadedFile:
    filename: str | None
    media_type: str
    #: Known for a raw body (its Content-Length), ``None`` for a multipart part or a chunked body.
    length: int | None
    chunks: AsyncIterator[bytes]


def too_large(limit: int) -> Problem:
    return Problem(413, "evidence_too_large", "The upload is larger than any evidence file may be.", limit_bytes=limit)


def interrupted() -> Problem:
    return Problem(400, "upload_interrupted", "The upload ended before the whole file was received.")


async def uploaded_file(headers: Mapping[str, str], body: AsyncIterator[bytes], *, max_bytes: int) -> UploadedFile:
    """The file of an upload request: a raw body or a multipart form's ``file`` part, its bytes to follow.

    A Content-Length above ``max_bytes`` is refused before a byte is read."""
    declared = headers.get("content-length")
    length = int(declared) if declared and declared.isdigit() else None
    if length is not None and length > max_bytes:
        raise too_large(max_bytes)
    content_type = headers.get("content-type")
    if not content_type:
        raise Problem(
            415,
            "media_type_missing",
            "Send the file as the request body with its Content-Type and a "
            "Content-Disposition naming it, or as multipart/form-data in a field named 'file'.",
        )
    counted = _counted(body, length, max_bytes)
    kind, options = parse_options_header(content_type.encode("latin-1", errors="replace"))
    if kind.startswith(b"multipart/"):
        if kind != b"multipart/form-data" or not options.get(b"boundary"):
            raise Problem(415, "multipart_expected", "Send a multipart form as multipart/form-data with a boundary.")
        return await _file_part(options[b"boundary"], counted)
    filename = attachment_filename(headers.get("content-disposition"))
    return UploadedFile(filename, content_type, length, counted)


def attachment_filename(header: str | None) -> str:
    """The name in ``Content-Disposition: attachment; filename*=UTF-8''...`` (or ``filename="..."``).

    A raw body must name its file: a missing, malformed or undecodable header is refused (400)
    rather than guessed. The name is only metadata; evidence makes it safe to show."""
    if not header:
        raise Problem(
            400,
            "content_disposition_missing",
            "Name the file in a Content-Disposition header: attachment; filename*=UTF-8''<percent-encoded name>.",
        )
    garbled = Problem(
        400,
        "content_disposition_invalid",
        "The Content-Disposition header could not be read; send attachment; filename*=UTF-8''<percent-encoded name>.",
    )
    message = EmailMessage(policy=HTTP)
    try:
        message["Content-Disposition"] = header
        parsed = message["Content-Disposition"]
        disposition, filename = message.get_content_disposition(), message.get_filename()
    except (ValueError, TypeError, IndexError):
        raise garbled from None
    if parsed.defects or disposition != "attachment" or not filename:
        raise garbled
    # The email parser lets a bad escape (%ZZ) through as text; RFC 8187 does not.
    extended = _EXT_FILENAME.search(header)
    if extended and not _EXT_VALUE.fullmatch(extended.group(1).strip()):
        raise garbled
    return filename


async def _counted(body: AsyncIterator[bytes], length: int | None, max_bytes: int) -> AsyncIterator[bytes]:
    """The body, refused past ``max_bytes`` and when it ends before its Content-Length."""
    received = 0
    try:
        async for chunk in body:
            received += len(chunk)
            if received > max_bytes:
                raise too_large(max_bytes)
            yield chunk
    except ClientDisconnect:
        raise interrupted() from None
    if length is not None and received < length:
        raise interrupted()


@dataclass
class _State:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_field: bytes = b""
    header_value: bytes = b""
    in_file: bool = False
    file_started: bool = False
    file_done: bool = False
    filename: str | None = None
    media_type: str = "application/octet-stream"
    data: list[bytes] = field(default_factory=list)


async def _file_part(boundary: bytes, body: AsyncIterator[bytes]) -> UploadedFile:
    """Read up to the ``file`` part's headers; its bytes then follow from ``UploadedFile.chunks``."""
    state = _State()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        state.headers[state.header_field.lower()] = state.header_value
        state.header_field = state.header_value = b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state.headers.get(b"content-disposition", b""))
        if disposition.get(b"name") == FILE_FIELD and not state.file_done:
            state.in_file = state.file_started = True
            raw_name = disposition.get(b"filename")
            state.filename = raw_name.decode("utf-8", errors="replace") if raw_name else None
            media_type = state.headers.get(b"content-type", b"application/octet-stream")
            state.media_type = media_type.decode("latin-1", errors="replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state.in_file:
            state.data.append(data[start:end])

    def on_part_end() -> None:
        if state.in_file:
            state.in_file, state.file_done = False, True
        state.headers = {}

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    stream = body.__aiter__()

    async def feed() -> bool:
        """Parse one more chunk of the body; False at its end."""
        try:
            chunk = await stream.__anext__()
        except StopAsyncIteration:
            return False
        try:
            parser.write(chunk)
        except MultipartParseError:
            raise Problem(400, "multipart_malformed", "The multipart body could not be read.") from None
        return True

    while not state.file_started:
        if not await feed():
            raise Problem(422, "file_missing", "The upload has no field named 'file'.")

    async def chunks() -> AsyncIterator[bytes]:
        while True:
            while state.data:
                yield state.data.pop(0)
            if state.file_done:
                return
            if not await feed():
                # The body ended inside the file part: a truncated upload, never stored as if whole.
                raise interrupted()

    return UploadedFile(state.filename, state.media_type, None, chunks())
