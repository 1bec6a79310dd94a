"""Byte streams passed on from one connection to another (uploads streamed through a service)."""

from __future__ import annotations

from collections.abc import AsyncIterator

#: Bytes per write when a body is passed on (see :func:`gathered`).
WRITE_BYTES = 1024 * 1024


async def gathered(chunks: AsyncIterator[bytes], write_bytes: int = WRITE_BYTES) -> AsyncIterator[bytes]:
    """``chunks`` joined into pieces of at least ``write_bytes`` (the last one may be shorter).

    A server hands a request body on in the pieces the network delivered, often a few KiB. Written
    to the next connection one by one, each wakes the receiver for a small read: nanio spent about
    40 % more CPU on a body sent so than on the same bytes in 1 MiB writes, and each piece costs the
    sender's HTTP client its own overhead. One copy per byte buys that back."""
    pending: list[bytes] = []
    size = 0
    async for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size >= write_bytes:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)
