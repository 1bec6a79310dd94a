"""The hand-over of a streamed body to the storage thread: bytes intact, memory bounded, both sides can end it."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
from evidence.adapters.stream_bridge import StorageGone, StreamBridge, UploadAborted

pytestmark = pytest.mark.unit


def drain(bridge: StreamBridge, part: int, sizes: list[int]) -> bytes:
    """What the SDK does: read parts until the end."""
    received = bytearray()
    while chunk := bridge.read(part):
        sizes.append(len(chunk))
        received += chunk
    return bytes(received)


async def test_every_byte_arrives_in_order_and_the_buffer_stays_bounded():
    bridge = StreamBridge(asyncio.get_running_loop(), buffer_bytes=256 * 1024, idle_timeout_s=5)
    content = os.urandom(3 * 1024 * 1024 + 17)
    sizes: list[int] = []
    reader = asyncio.get_running_loop().run_in_executor(None, drain, bridge, 300_000, sizes)
    highest = 0
    for offset in range(0, len(content), 65_536):
        await bridge.send(content[offset : offset + 65_536])
        highest = max(highest, bridge._buffered)
    bridge.end()
    received = await reader
    assert hashlib.sha256(received).digest() == hashlib.sha256(content).digest()
    assert max(sizes) <= 300_000
    assert highest <= 256 * 1024 + 65_536


async def test_an_aborted_stream_makes_the_reader_fail():
    bridge = StreamBridge(asyncio.get_running_loop(), buffer_bytes=1024, idle_timeout_s=5)
    reader = asyncio.get_running_loop().run_in_executor(None, drain, bridge, 4096, [])
    await bridge.send(b"x" * 100)
    bridge.abort(ValueError("refused"))
    with pytest.raises(UploadAborted):
        await reader


async def test_a_sender_waiting_for_room_is_released_when_the_reader_is_gone():
    bridge = StreamBridge(asyncio.get_running_loop(), buffer_bytes=1024, idle_timeout_s=5)
    await bridge.send(b"x" * 2048)  # fills the buffer; the next send waits for room
    waiting = asyncio.create_task(bridge.send(b"y"))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await asyncio.get_running_loop().run_in_executor(None, bridge.reader_done)
    with pytest.raises(StorageGone):
        await asyncio.wait_for(waiting, 5)


async def test_a_silent_sender_is_dropped_after_the_idle_timeout():
    bridge = StreamBridge(asyncio.get_running_loop(), buffer_bytes=1024, idle_timeout_s=0.2)
    with pytest.raises(UploadAborted) as aborted:
        await asyncio.get_running_loop().run_in_executor(None, bridge.read, 100)
    assert isinstance(aborted.value.__cause__, TimeoutError)
