"""Turns per key inside one process: what must not interleave for one complaint, one company or one counter."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class SubjectLocks:
    """One FIFO lock per subject, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, subject: str | None) -> AsyncIterator[None]:
        if subject is None:
            yield
            return
        lock, users = self._locks.get(subject, (asyncio.Lock(), 0))
        self._locks[subject] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[subject]
            if users == 1:
                del self._locks[subject]
            else:
                self._locks[subject] = (lock, users - 1)
