"""Waiting in tests for something that happens through queues and other processes: poll, never sleep a guess."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def until(
    check: Callable[[], Awaitable[Any]], timeout: float = 30.0, what: str = "condition", interval: float = 0.2
) -> Any:
    """Await ``check()`` every ``interval`` seconds until it answers something true, and answer that; fail after
    ``timeout`` seconds (generous: the machine is shared)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
