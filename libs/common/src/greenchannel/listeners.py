"""The internal listener: a second socket, in the same process and event loop as the public one, for what only the
cluster may ask (``/internal/*`` routes of other services, ``/metrics`` for the scraper).

Production serves each service with granian, which binds one address; so the public app's lifespan starts this
listener itself with uvicorn, which can serve inside a running loop. Its signal handling stays granian's: SIGTERM
reaches granian, granian runs the public app's lifespan shutdown, and that stops this listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn
from fastapi import FastAPI

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class _LoopServer(uvicorn.Server):
    """A uvicorn server that leaves signals to whoever owns the process (granian, or a test's own server)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class InternalListener:
    """``app`` served on ``host:port`` (port 0: one the system picks; :attr:`port` says which) from :meth:`start`
    to :meth:`stop`. The socket is bound before serving, so a port in use fails the start at once."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: _LoopServer | None = None
        self._task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        # No lifespan of its own (the public app's runs the service); no logging set-up (the service's stays).
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=int(STOP_TIMEOUT_S),
        )
        self._server = _LoopServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name=f"internal-listener:{self.port}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while not self._server.started:
            if self._task.done():
                sock.close()
                self._task.result()
                raise RuntimeError(f"the internal listener on port {self.port} stopped while starting")
            if loop.time() > deadline:
                await self.stop()
                raise RuntimeError(f"the internal listener on port {self.port} did not start in time")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop accepting, let the requests in progress finish (bounded), close the socket."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(self._task, timeout=STOP_TIMEOUT_S + 2)
        except TimeoutError:
            pass
        finally:
            self._server = self._task = None
