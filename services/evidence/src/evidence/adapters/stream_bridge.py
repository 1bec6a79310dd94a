"""A bounded hand-over of bytes from the event loop (the HTTP body as it arrives) to a blocking reader
(the MinIO SDK uploading parts in a worker thread), so a file streams into storage while it is received.

The loop side awaits when ``buffer_bytes`` are waiting (back-pressure to the client); the thread
side blocks until there is enough to read. Either side can end the hand-over: the loop with an error
(the upload was refused or the client went away: the SDK's ``read`` raises, and the SDK aborts its
multipart upload, so no part is kept), the thread when the upload to storage failed. A client that
sends nothing for ``idle_timeout_s`` is dropped the same way.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque


class UploadAborted(Exception):
    """Raised in the reading thread: the bytes will not all come, the storage upload must be abandoned."""


class StorageGone(Exception):
    """Raised on the loop side: the storage upload ended (failed) and takes no more bytes."""


class StreamBridge:
    def __init__(self, loop: asyncio.AbstractEventLoop, *, buffer_bytes: int, idle_timeout_s: float) -> None:
        self._loop = loop
        self._limit = buffer_bytes
        self._idle_timeout_s = idle_timeout_s
        self._lock = threading.Condition()
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._ended = False
        self._error: BaseException | None = None
        self._reader_gone = False
        self._room = asyncio.Event()
        self._room.set()

    # --- the event loop's side -----------------------------------------------------------------

    async def send(self, chunk: bytes) -> None:
        if not chunk:
            return
        while True:
            with self._lock:
                if self._reader_gone:
                    raise StorageGone("the storage upload ended early")
                if self._buffered < self._limit:
                    self._chunks.append(chunk)
                    self._buffered += len(chunk)
                    self._lock.notify()
                    return
                # Cleared under the lock: a reader that takes bytes after this sets it again.
                self._room.clear()
            await self._room.wait()

    def end(self) -> None:
        """Every byte was sent: the reader sees the end of the stream once it has read them."""
        with self._lock:
            self._ended = True
            self._lock.notify()

    def abort(self, error: BaseException) -> None:
        """The bytes will not all come: the reader raises :class:`UploadAborted` at its next read."""
        with self._lock:
            if self._error is None:
                self._error = error
            self._lock.notify()

    # --- the reading thread's side --------------------------------------------------------------

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end. Waits until ``size`` bytes (or a full buffer) are there:
        with a buffer of at least one part, the SDK takes each part in one read, without re-copying it,
        while the client goes on filling the buffer during the part's upload."""
        want = size if size and size > 0 else self._limit
        enough = min(want, self._limit)
        with self._lock:
            while self._error is None and not self._ended and self._buffered < enough:
                if not self._lock.wait(timeout=self._idle_timeout_s):
                    self._error = TimeoutError(f"no bytes received for {self._idle_timeout_s:.0f} s")
            if self._error is not None:
                raise UploadAborted(str(self._error)) from self._error
            pieces, taken = [], 0
            while self._chunks and taken < want:
                chunk = self._chunks.popleft()
                if taken + len(chunk) > want:
                    cut = want - taken
                    self._chunks.appendleft(chunk[cut:])
                    chunk = chunk[:cut]
                pieces.append(chunk)
                taken += len(chunk)
            self._buffered -= taken
        self._wake_sender()
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def reader_done(self) -> None:
        """The storage upload finished or failed: a sender waiting for room must not wait forever."""
        with self._lock:
            self._reader_gone = True
            self._chunks.clear()
            self._buffered = 0
        self._wake_sender()

    def _wake_sender(self) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._room.set)
