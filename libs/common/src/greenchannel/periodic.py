"""A job that runs one step, waits, and runs it again, for as long as the service runs; a failed step is logged
and tried again at the next turn (the store may be away for a while)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(interval_s: float, step: Callable[[], Awaitable[object]], what: str) -> None:
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the next turn tries again
            log.exception("%s failed", what)
        await asyncio.sleep(interval_s)
