"""The process-level plumbing every service wires the same way: store, broker, outbox relay, inbox, background jobs.

A service's ``main.py`` is wiring only, in one shape everywhere:

* ``build(settings, overrides)`` makes every part of the service (one :class:`ServiceRuntime`, its repositories,
  use cases, handlers and jobs) and returns them in the service's ``Container``; a test hands a part of its own
  by name (:class:`Overrides`), e.g. a pinned clock;
* ``create_app(settings, **overrides)`` configures logging and tracing (:func:`observe`), builds the container,
  puts its parts on ``app.state`` for the API's dependencies (:func:`expose`) and includes the routers;
* its lifespan brings the store to the level of the service's data migrations (:meth:`ServiceRuntime.migrate`:
  ``<service>.migrations``, which create the indexes too), seeds it, and starts the runtime with the service's subscriptions
  (registered in one place, ``handlers/subscriptions.py``), periodic jobs and gauges, and stops it.

The broker connection is made in the background and retried, so a service starts (and intake keeps accepting
complaints into its outbox) while RabbitMQ is away.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from greenchannel.health import ReadinessCheck
from greenchannel.inbox import Inbox
from greenchannel.messaging import Broker, Subscriptions
from greenchannel.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, Refresh
from greenchannel.migrations import prepare
from greenchannel.mongo import make_client, ping
from greenchannel.outbox import Outbox, OutboxRelay
from greenchannel.periodic import every
from greenchannel.settings import ServiceSettings
from greenchannel.telemetry import setup_logging, setup_tracing

log = logging.getLogger(__name__)

BROKER_RECONNECT_S = 2.0
STOP_TIMEOUT_S = 10.0

Part = TypeVar("Part")


def observe(settings: ServiceSettings) -> None:
    """Logging (JSON lines through the standard library's ``logging``, see :func:`setup_logging`) and tracing of the
    process, configured once, the same way in every service."""
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name)


class Overrides:
    """Parts a test puts in place of those a service's ``build`` makes, by name. A name ``build`` never asks for is
    an error, so a misspelt override cannot leave the real part in place unnoticed."""

    def __init__(self, parts: Mapping[str, object] | None = None) -> None:
        self._parts = dict(parts or {})
        self._asked: set[str] = set()

    def __call__(self, name: str, make: Callable[[], Part]) -> Part:
        """The part named ``name``: the test's, or the one ``make`` builds."""
        self._asked.add(name)
        if name in self._parts:
            # The test hands a part of the same kind as ``make`` builds.
            return cast(Part, self._parts[name])
        return make()

    def check_all_used(self) -> None:
        unknown = set(self._parts) - self._asked
        if unknown:
            raise TypeError(f"no part named {', '.join(sorted(unknown))} to override")


def expose(app: FastAPI, container: Any) -> None:
    """Put the container on ``app.state`` (``app.state.container``) and each of its parts under its own name, where
    the API's dependencies (``api/dependencies.py``) and the tests read them."""
    app.state.container = container
    for part in dataclasses.fields(container):
        setattr(app.state, part.name, getattr(container, part.name))


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.mongo = make_client(settings.mongo_url, settings.service_name)
        self.db: AsyncDatabase = self.mongo[settings.database_name]
        self.broker = Broker(settings)
        self.outbox = Outbox(self.db, source=f"/services/{settings.service_name}")
        self.relay = OutboxRelay(
            self.outbox, self.broker, poll_interval_s=settings.outbox_poll_interval_s, lease_s=settings.outbox_lease_s
        )
        self.inbox = Inbox(self.mongo, self.db)
        self._tasks: list[asyncio.Task] = []

    async def start(
        self,
        subscriptions: Subscriptions | None = None,
        jobs: dict[str, Callable[[], Coroutine[Any, Any, None]]] | None = None,
        gauges: Iterable[Refresh] = (),
    ) -> None:
        """``gauges`` read the service's own figures from the store into Prometheus gauges; they run with the
        outbox's every ``metrics_refresh_interval_s``, so a scrape of ``/metrics`` reads memory only."""
        self._spawn("broker", self._connect_broker(subscriptions))
        self._spawn("outbox-relay", self.relay.run())
        self._spawn(
            "gauges",
            every(
                self.settings.metrics_refresh_interval_s,
                self._gauge_refresh([self.refresh_metrics, *gauges]),
                "gauge refresh",
            ),
        )
        for name, job in (jobs or {}).items():
            self._spawn(name, job())

    async def migrate(self, package: str) -> None:
        """Bring the store to the level of the steps in ``package`` (``<service>.migrations``) before the service
        serves anything: apply them or wait for them, as ``MIGRATIONS_ON_START`` says (:mod:`greenchannel.migrations`)."""
        await prepare(self.settings, self.db, package)

    async def stop(self) -> None:
        """Stop background work, then the connections; each step is bounded so shutdown never hangs
        (a broker connection cancelled half-way through its handshake may never finish closing)."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_S)
            for task in pending:
                log.warning("background task %s did not stop in time", task.get_name())
        self._tasks.clear()
        try:
            await asyncio.wait_for(self.broker.close(), timeout=STOP_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - closing is best effort; the process is going away
            log.warning("broker connection did not close cleanly: %r", error)
        await self.mongo.close()

    async def refresh_metrics(self) -> None:
        """The outbox backlog and the age of its oldest entry."""
        backlog = await self.outbox.pending_count()
        oldest = await self.outbox.collection.find_one(
            {"sent_at": None}, sort=[("created_at", 1)], projection={"created_at": 1}
        )
        age = (datetime.now(UTC) - oldest["created_at"]).total_seconds() if oldest else 0.0
        OUTBOX_BACKLOG.labels(self.settings.service_name).set(backlog)
        OUTBOX_OLDEST_AGE.labels(self.settings.service_name).set(age)

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        async def broker() -> bool:
            return self.broker.is_connected

        return {"store": lambda: ping(self.mongo), "broker": broker}

    async def _connect_broker(self, subscriptions: Subscriptions | None) -> None:
        while True:
            try:
                await self.broker.connect()
                break
            except (TimeoutError, ConnectionError, OSError) as error:
                log.warning("broker not reachable yet (%s); retrying in %.0f s", error, BROKER_RECONNECT_S)
                await asyncio.sleep(BROKER_RECONNECT_S)
        self.relay.wake()
        if subscriptions is not None and subscriptions.by_type:
            await self.broker.consume(subscriptions)

    @staticmethod
    def _gauge_refresh(refreshes: list[Refresh]) -> Refresh:
        async def refresh_all() -> None:
            # One figure that cannot be read now leaves its gauge as it was and the others still refresh.
            for refresh in refreshes:
                try:
                    await refresh()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the next turn tries again
                    log.warning("a gauge could not be refreshed", exc_info=True)

        return refresh_all

    def _spawn(self, name: str, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine, name=f"{self.settings.service_name}:{name}")
        task.add_done_callback(_log_crash)
        self._tasks.append(task)


def _log_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s stopped", task.get_name(), exc_info=task.exception())
