"""What routing's flow tests share: settings of a routing app on the run's stand-ins and broker namespace, and
running one or more replicas of it with a test's own event tap."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import httpx
import pytest

from devstack.eventtap import EventTap, event_tap
from devstack.servers import serve
from greenchannel.messaging import queue_names
from routing.config import Settings
from routing.main import create_app


@pytest.fixture(scope="session")
def routing_settings(mongo_url) -> Callable[..., Settings]:
    """Settings for a routing app with its own database, quick retries and relay, and known operator and internal
    tokens."""

    def make(database: str, broker: dict, **overrides) -> Settings:
        return Settings(
            **{
                "mongo_url": mongo_url,
                "mongo_db": database,
                "consumer_retry_delay_ms": 100,
                "consumer_max_retries": 2,
                "outbox_poll_interval_s": 0.1,
                "log_json": False,
                "operator_token": "test-operator",
                "internal_token": "test-internal",
                **broker,
                **overrides,
            }
        )

    return make


@pytest.fixture(scope="session")
def run_routing():
    """Run ``replicas`` routing apps on one settings (one database, one queue) with ``clock`` as their time, a
    test's event tap on ``event_types``, and an HTTP client of the first, which carries the internal token as the
    other services do; yields (apps, client, tap)."""

    @contextlib.asynccontextmanager
    async def run(
        settings: Settings, clock: Callable[[], datetime], event_types: list[str], replicas: int = 1
    ) -> AsyncIterator[tuple[list, httpx.AsyncClient, EventTap]]:
        apps = [create_app(settings, clock=clock) for _ in range(replicas)]
        async with contextlib.AsyncExitStack() as stack:
            tap = await stack.enter_async_context(event_tap(settings.amqp_url, settings.event_exchange, event_types))
            urls = [await stack.enter_async_context(serve(app)) for app in apps]
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=urls[0],
                    timeout=10,
                    headers={"Authorization": f"Bearer {settings.internal_token.get_secret_value()}"},
                )
            )
            await tap.wait_for_consumer(queue_names(settings)[0])
            yield apps, http, tap

    return run
