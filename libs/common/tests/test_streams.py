"""Bodies passed on in large writes: the same bytes, in the same order, in pieces of at least the write size."""

from __future__ import annotations

import os

from greenchannel.streams import gathered


async def pieces(content: bytes, sizes: list[int]):
    offset = 0
    for size in sizes:
        yield content[offset : offset + size]
        offset += size


async def test_small_pieces_are_joined_into_writes_of_at_least_the_write_size():
    content = os.urandom(10_000)
    sizes = [1, 700, 299, 3000, 5000, 1000]

    written = [piece async for piece in gathered(pieces(content, sizes), write_bytes=1000)]

    assert b"".join(written) == content
    assert [len(piece) for piece in written] == [1000, 3000, 5000, 1000]


async def test_a_short_body_is_one_write_and_an_empty_one_none():
    assert [piece async for piece in gathered(pieces(b"abc", [1, 2]), write_bytes=1000)] == [b"abc"]
    assert [piece async for piece in gathered(pieces(b"", []), write_bytes=1000)] == []
