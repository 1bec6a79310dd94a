"""Stream the ``file`` part of a multipart upload through, as it arrives: nothing is spooled.

python-multipart's push parser is fed the request body chunk by chunk; the file part's bytes are
handed on as soon as they are parsed, so intake forwards an upload to evidence while the client is
still sending it (memory stays flat, and the two hops overlap instead of running one after the other).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from greenchannel.problems import Problem
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

FILE_FIELD = b"file"


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


@dataclass
class FilePart:
    filename: str | None
    media_type: str
    chunks: AsyncIterator[bytes]


async def file_part(content_type: str, body: AsyncIterator[bytes]) -> FilePart:
    """Read up to the ``file`` part's headers; its bytes then follow from ``FilePart.chunks``."""
    kind, options = parse_options_header(content_type.encode("latin-1", errors="replace"))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Problem(415, "multipart_expected", "Send the file as multipart/form-data in a field named 'file'.")
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

    parser = MultipartParser(boundary, {
        "on_header_field": on_header_field, "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data, "on_part_end": on_part_end,
    })
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
                raise Problem(400, "upload_interrupted", "The upload ended before the whole file was received.")

    return FilePart(state.filename, state.media_type, chunks())
