"""Test fixtures shared by every test folder: the stand-ins (SecantusDB, nanio) on free ports and a
RabbitMQ namespace unique to this run, so parallel or leftover runs never collide.

Everything is real: the stand-ins are the same servers the dev runner uses, reached over their
sockets; RabbitMQ is the machine's broker at ``AMQP_URL`` (default localhost), and tests that stop
the broker get a node of the run's own (``rabbit_node``).

The tests run in development mode (published keys and tokens), set here before any settings are read;
a test of production mode gives its process ``GREENCHANNEL_ENV=production`` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aio_pika
import pytest

from devstack import standins

os.environ["GREENCHANNEL_ENV"] = "development"

ROOT = Path(__file__).parent
# Apps the tests build listen internally on a port the system picks, on loopback (the harnesses and the tests
# read it from ``app.state.internal_url``): the per-service defaults would collide between apps of one run and
# between runs side by side. Processes get their environment from devstack.processes.service_env instead.
os.environ["INTERNAL_PORT"] = "0"
os.environ["INTERNAL_HOST"] = "127.0.0.1"
RUN_ID = uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def run_id() -> str:
    return RUN_ID


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    path = ROOT / ".testdata" / RUN_ID
    path.mkdir(parents=True, exist_ok=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def mongo_url(workdir: Path) -> Iterator[str]:
    server = standins.start_secantus(workdir / "secantus", log_dir=workdir)
    yield standins.mongo_url(server.port)
    server.stop()


@pytest.fixture(scope="session")
def s3_endpoint(workdir: Path) -> Iterator[str]:
    server = standins.start_nanio(workdir / "nanio", log_dir=workdir)
    yield f"127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture(scope="session")
def rabbit_node(workdir: Path) -> Iterator[standins.RabbitNode]:
    """A RabbitMQ node of the run's own, beside the machine's broker, for tests that stop and start
    the broker. It boots in seconds, so it starts at first use and serves the rest of the session: a
    test that stops it starts it again before it ends."""
    node = standins.start_rabbit_node(workdir / "rabbit-node", "greenchannel-test")
    yield node
    node.stop()


@pytest.fixture(scope="session")
def amqp_url() -> str:
    url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    check = standins.ensure_rabbitmq(url)
    if not check.reachable:
        pytest.exit(f"RabbitMQ is required for the tests: {check.message}", returncode=3)
    return url


class BrokerNamespace:
    """Exchange and queue names unique to one test run, deleted at the end of the session."""

    def __init__(self, amqp_url: str, label: str = "") -> None:
        self.amqp_url = amqp_url
        self.queue_prefix = f"test-{RUN_ID}{label and '-' + label}"
        self.exchange = f"{self.queue_prefix}.events"
        self._services: set[str] = set()
        self._children: list[BrokerNamespace] = []

    def isolated(self, label: str) -> BrokerNamespace:
        """A namespace of its own (exchange and queues) for tests that run the whole platform."""
        child = BrokerNamespace(self.amqp_url, label)
        self._children.append(child)
        return child

    def broker_settings(self) -> dict[str, str]:
        return {"amqp_url": self.amqp_url, "event_exchange": self.exchange, "queue_prefix": self.queue_prefix}

    def settings_for(self, service_name: str) -> dict[str, str]:
        self._services.add(service_name)
        return self.broker_settings()

    async def cleanup(self) -> None:
        for child in self._children:
            await child.cleanup()
        connection = await aio_pika.connect(self.amqp_url)
        async with connection:
            for service in self._services:
                base = f"{self.queue_prefix}.{service}"
                for name in (base, f"{base}.retry", f"{base}.dlq"):
                    channel = await connection.channel()
                    with contextlib.suppress(Exception):  # a queue that was never declared
                        await channel.queue_delete(name)
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.exchange_delete(self.exchange)


@pytest.fixture(scope="session")
async def broker_namespace(amqp_url: str) -> AsyncIterator[BrokerNamespace]:
    namespace = BrokerNamespace(amqp_url)
    yield namespace
    await asyncio.wait_for(namespace.cleanup(), timeout=30)
