"""Run ASGI apps on real sockets inside the current event loop (tests and the dev webhook receiver).

:func:`serve` serves an app for the length of a ``with`` block; :class:`Listener` serves one on a
fixed port that can stop listening (connections to it are refused) and listen there again, as a
company's endpoint that goes away and comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn

from devstack.standins import free_port


class Listener:
    """``app`` served with uvicorn on ``host:port`` (a free port by default, kept across restarts)."""

    def __init__(self, app, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self.port = port or free_port()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def listening(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> str:
        """Listen, run the app's lifespan start-up, answer the base URL."""
        # No proxy headers: the app sees the TCP peer, as under granian in production, and decides itself
        # which X-Forwarded-For to believe.
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="on",
            access_log=False,
            proxy_headers=False,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.02)
        return self.url

    async def stop(self) -> None:
        """Stop listening (new connections are refused) after the requests in progress were answered."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None


@contextlib.asynccontextmanager
async def serve(app, port: int | None = None, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on ``host:port`` (a free port by default), run its lifespan, yield its base URL."""
    listener = Listener(app, port, host)
    url = await listener.start()
    try:
        yield url
    finally:
        await listener.stop()
