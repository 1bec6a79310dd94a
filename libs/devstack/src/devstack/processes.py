"""Run the services as real processes, as they run in production (:func:`server_command`: granian serving
``<service>.main:create_app``) on a free port, with its internal listener (``/internal/*``, ``/metrics``) on
another, configured only through environment variables, each with its own log file.

Used where one event loop is not enough: several replicas of a service against the same store and
broker (tests/scale, bench/replicas.py), and fault tests that must kill a process the way a node
dies (SIGKILL: no shutdown hook runs, leases and unacknowledged messages are left behind).

* :func:`service_env` builds a service's environment (the same variables a Kubernetes ConfigMap
  and Secret give it); :func:`start_service` starts one process; :class:`ServiceProcess` waits for
  its ``/readyz``, stops it with SIGTERM or kills it with SIGKILL.
* :func:`running_replicas` starts any number of replicas of each service on shared databases (one
  database per service, shared by its replicas) and one broker namespace, waits until all are
  ready and every consumer is attached to its queue, and stops them all at the end.
  :meth:`ReplicatedPlatform.restart` starts a stopped or killed replica again at its address, as a
  restarted pod comes back behind its Service.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import httpx

from devstack import standins

SERVICES = ("intake", "evidence", "routing", "notification")
# The services that always consume a queue of their own (others may, depending on their version),
# and those intake calls over HTTP.
CONSUMERS = ("intake", "routing", "notification")
CALLED_BY_INTAKE = ("evidence", "routing", "notification")
# Whom each service calls over HTTP: intake the three others, notification intake (complainants' contact
# details for e-mail and SMS).
CALLS = {"intake": CALLED_BY_INTAKE, "notification": ("intake",)}
# The calls that go to the callee's internal listener, not its public port: notification's contact lookups.
INTERNAL_CALLS = {("notification", "intake")}
OPERATOR_TOKEN = "test-operator-token"
ADMIN_TOKEN = "test-admin-token"
INTERNAL_TOKEN = "test-internal-token"
# Short polls and a quick retry schedule: tests and benchmarks should not wait for production delays.
FAST_ENV = {
    "OUTBOX_POLL_INTERVAL_S": "0.2",
    "DELIVERY_POLL_INTERVAL_S": "0.2",
    "WEBHOOK_RETRY_SCHEDULE_S": json.dumps([0, 0.2, 0.5, 1, 2]),
    "CONSUMER_RETRY_DELAY_MS": "500",
    # A killed replica's claims (outbox entries, webhook deliveries) come free after seconds, not minutes.
    "OUTBOX_LEASE_S": "5",
    "WEBHOOK_TIMEOUT_S": "5",
    "DELIVERY_LEASE_S": "8",
    "STATISTICS_FOLD_INTERVAL_S": "0.2",
    "METRICS_REFRESH_INTERVAL_S": "0.5",
}
# Variables a service reads; an inherited value from the caller's environment must never leak in.
_SERVICE_VARIABLES = (
    "MONGO_URL",
    "MONGO_DB",
    "AMQP_URL",
    "EVENT_EXCHANGE",
    "QUEUE_PREFIX",
    "QUEUE_TYPE",
    "OPERATOR_TOKEN",
    "ADMIN_TOKEN",
    "INTERNAL_TOKEN",
    "EVIDENCE_URL",
    "ROUTING_URL",
    "NOTIFICATION_URL",
    "PUBLIC_BASE_URL",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_BUCKET",
    "S3_SECURE",
    "S3_PUBLIC_ENDPOINT",
    "WEBHOOK_ALLOW_PRIVATE_TARGETS",
    "WEBHOOK_RETRY_SCHEDULE_S",
    "OUTBOX_POLL_INTERVAL_S",
    "DELIVERY_POLL_INTERVAL_S",
    "CONSUMER_RETRY_DELAY_MS",
    "CONSUMER_MAX_RETRIES",
    "RATE_LIMITS_ENABLED",
    "OUTBOX_LEASE_S",
    "WEBHOOK_TIMEOUT_S",
    "DELIVERY_LEASE_S",
    "DUPLICATE_WINDOW_DAYS",
    "STATISTICS_FOLD_INTERVAL_S",
    "LOG_LEVEL",
    "LOG_JSON",
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
    "INTAKE_URL",
    "GREENCHANNEL_ENV",
    "INTERNAL_HOST",
    "INTERNAL_PORT",
    "METRICS_REFRESH_INTERVAL_S",
)


def service_env(
    service: str,
    *,
    mongo_url: str,
    mongo_db: str,
    broker: Mapping[str, str],
    s3_endpoint: str = "",
    s3_bucket: str = "",
    urls: Mapping[str, str] | None = None,
    operator_token: str = OPERATOR_TOKEN,
    admin_token: str = ADMIN_TOKEN,
    internal_token: str = INTERNAL_TOKEN,
    fast: bool = True,
    log_level: str = "WARNING",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of one ``service`` process. ``broker`` holds amqp_url, event_exchange and
    queue_prefix; ``urls`` the base URLs the service calls (:data:`CALLS`: intake calls ``evidence``,
    ``routing`` and ``notification``, notification calls ``intake``'s internal listener). The listening
    ports are :func:`start_service`'s."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    env = {key: value for key, value in os.environ.items() if key not in _SERVICE_VARIABLES}
    env.update(
        MONGO_URL=mongo_url,
        MONGO_DB=mongo_db,
        AMQP_URL=broker["amqp_url"],
        EVENT_EXCHANGE=broker["event_exchange"],
        QUEUE_PREFIX=broker["queue_prefix"],
        OPERATOR_TOKEN=operator_token,
        ADMIN_TOKEN=admin_token,
        INTERNAL_TOKEN=internal_token,
        LOG_LEVEL=log_level,
        LOG_JSON="false",
        OTEL_SERVICE_NAME=service,
        # The test tokens and the services' default keys are published: development mode (``extra`` may ask
        # for production, with secrets of its own).
        GREENCHANNEL_ENV="development",
        # Log lines reach the file before a SIGKILL, not when a buffer happens to fill.
        PYTHONUNBUFFERED="1",
        INTERNAL_HOST="127.0.0.1",
    )
    if fast:
        env.update(FAST_ENV)
    urls = urls or {}
    if service == "intake":
        env.update({f"{name.upper()}_URL": url for name, url in urls.items() if name in CALLED_BY_INTAKE})
        # One test client on loopback stands for many complainants: the per-address limits would
        # refuse it (``extra`` turns them back on for a test of the limits themselves).
        env["RATE_LIMITS_ENABLED"] = "false"
    if service == "routing":
        # The same test identity files the same example text again and again: the duplicate check would
        # refuse all but the first (``extra`` turns it back on for a test of duplicates).
        env["DUPLICATE_WINDOW_DAYS"] = "0"
    if service == "evidence":
        env.update(S3_ENDPOINT=s3_endpoint, S3_ACCESS_KEY=standins.S3_ACCESS_KEY, S3_SECRET_KEY=standins.S3_SECRET_KEY)
        if s3_bucket:
            env["S3_BUCKET"] = s3_bucket
    if service == "notification":
        # Test receivers listen on loopback over plain http, which production refuses (the environment is
        # development mode, above).
        env["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"
        if "intake" in urls:
            env["INTAKE_URL"] = urls["intake"]
    env.update(extra or {})
    return env


@dataclass
class ServiceProcess:
    """One running service process (a replica)."""

    service: str
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def internal_port(self) -> int:
        return int(self.env["INTERNAL_PORT"])

    @property
    def internal_url(self) -> str:
        """The internal listener: ``/internal/*`` and ``/metrics``."""
        return f"http://127.0.0.1:{self.internal_port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def worker_pid(self) -> int:
        """The process that runs the application (the server's worker, a child of :attr:`pid`): where its
        memory and CPU time are counted."""
        try:
            with Path(f"/proc/{self.pid}/task/{self.pid}/children").open() as children:
                workers = [int(pid) for pid in children.read().split()]
        except OSError:
            workers = []
        return workers[0] if workers else self.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    async def wait_ready(self, timeout: float = 90.0) -> None:
        """Wait until ``/readyz`` answers 200 on both listeners; fails at once if the process exits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient(timeout=3) as client:
            waiting = [self.url, self.internal_url]
            while loop.time() < deadline:
                if not self.running:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    if (await client.get(f"{waiting[0]}/readyz")).status_code == 200:
                        waiting.pop(0)
                        if not waiting:
                            return
                        continue
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.name} is not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def terminate(self, timeout: float = 20.0) -> int | None:
        """Graceful stop (SIGTERM: the server runs the lifespan's shutdown); SIGKILL if it does not exit in time."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def kill(self) -> int | None:
        """Crash (SIGKILL): nothing is cleaned up, as when a node or container dies. The whole process
        group (its own session) is killed, so the server's worker dies with it, as in a container."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        return self.process.returncode

    async def aterminate(self, timeout: float = 20.0) -> int | None:
        return await asyncio.to_thread(self.terminate, timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def server_command(
    service: str, *, host: str = "127.0.0.1", port: int, factory: str | None = None, python: str | None = None
) -> list[str]:
    """The production server command of ``service`` (the Dockerfiles' ``CMD``), run by this interpreter, or by
    ``python`` (another release's installation, tests/upgrade).

    granian (a Rust HTTP server for ASGI apps): it takes a request body in larger reads and hands it
    to the app for a fraction of the CPU uvicorn spends, which is most of what the upload gateway
    costs (docs/architecture.md). One worker process: replicas scale out. The worker is a child of
    the process started here; SIGTERM lets granian run the app's lifespan shutdown. ``factory`` serves
    another app the same way (a benchmark's)."""
    return [
        python or sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        factory or f"{service}.main:create_app",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        "--workers-kill-timeout",
        "10",
        "--no-ws",
        "--log-level",
        "warning",
    ]


def start_service(
    service: str,
    env: Mapping[str, str],
    *,
    log_dir: Path,
    name: str | None = None,
    port: int | None = None,
    factory: str | None = None,
    internal_port: int | None = None,
    python: str | None = None,
) -> ServiceProcess:
    """Start ``service`` with its production :func:`server_command` (not waiting for it), its public listener on
    ``port`` and its internal one on ``internal_port`` (``env``'s ``INTERNAL_PORT`` if set, as when a replica is
    restarted at its addresses; else a free port), run by ``python`` when given (another release's installation).

    Call it from the thread that lives as long as the process should (the event loop's): the child
    is told to stop when the thread that started it ends."""
    name = name or service
    port = port or standins.free_port()
    internal_port = internal_port or int(env.get("INTERNAL_PORT") or 0) or standins.free_port()
    env = {**env, "INTERNAL_PORT": str(internal_port)}
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            server_command(service, port=port, factory=factory, python=python),
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=standins.parent_death_signal(),
        )
    return ServiceProcess(service, name, port, dict(env), log_path, process)


@dataclass
class ReplicatedPlatform:
    """Replicas of every service on shared databases and one broker namespace."""

    mongo_url: str
    s3_endpoint: str
    broker: dict[str, str]
    db_prefix: str
    bucket: str
    log_dir: Path
    fast: bool = True
    log_level: str = "WARNING"
    # Variables set for every replica of a service, over the defaults (e.g. a retry schedule of a test's own).
    env: dict[str, dict[str, str]] = field(default_factory=dict)
    replicas: dict[str, list[ServiceProcess]] = field(default_factory=lambda: {service: [] for service in SERVICES})
    retired: list[ServiceProcess] = field(default_factory=list)
    _started: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SERVICES, 0), init=False, repr=False)

    def database(self, service: str) -> str:
        return f"{self.db_prefix}_{service}"

    def running(self, service: str) -> list[ServiceProcess]:
        return [replica for replica in self.replicas[service] if replica.running]

    def url(self, service: str, index: int = 0) -> str:
        """A running replica's URL (round-robin by ``index``), as a Kubernetes Service would pick one."""
        return self._pick(service, index).url

    def internal_url(self, service: str, index: int = 0) -> str:
        """A running replica's internal listener (round-robin by ``index``)."""
        return self._pick(service, index).internal_url

    def _pick(self, service: str, index: int) -> ServiceProcess:
        running = self.running(service)
        if not running:
            raise RuntimeError(f"no {service} replica is running")
        return running[index % len(running)]

    def launch(
        self,
        service: str,
        urls: Mapping[str, str] | None = None,
        port: int | None = None,
        internal_port: int | None = None,
    ) -> ServiceProcess:
        """Start one more replica of ``service`` (not waiting for it)."""
        self._started[service] += 1
        env = service_env(
            service,
            mongo_url=self.mongo_url,
            mongo_db=self.database(service),
            broker=self.broker,
            s3_endpoint=self.s3_endpoint,
            s3_bucket=self.bucket,
            urls=urls,
            fast=self.fast,
            log_level=self.log_level,
            extra=self.env.get(service),
        )
        replica = start_service(
            service,
            env,
            log_dir=self.log_dir,
            name=f"{service}-{self._started[service]}",
            port=port,
            internal_port=internal_port,
        )
        self.replicas[service].append(replica)
        return replica

    async def add_replica(self, service: str, timeout: float = 90.0) -> ServiceProcess:
        """Start one more replica and wait until it is ready (and, for a consumer, attached to its queue)."""
        index = self._started[service]
        urls = {
            name: self.internal_url(name, index) if (service, name) in INTERNAL_CALLS else self.url(name, index)
            for name in CALLS.get(service, ())
            if self.running(name)
        }
        replica = self.launch(service, urls)
        await self._wait_attached(replica, timeout)
        return replica

    async def restart(self, replica: ServiceProcess, timeout: float = 90.0) -> ServiceProcess:
        """Start a replica that stopped or was killed again, as it was: the same port, environment, name and
        log file, so whatever calls it at its address finds it there again. Waits until it is ready."""
        if replica.running:
            raise RuntimeError(f"{replica.name} is still running")
        if replica in self.replicas[replica.service]:
            self.replicas[replica.service].remove(replica)
            self.retired.append(replica)
        fresh = start_service(replica.service, replica.env, log_dir=self.log_dir, name=replica.name, port=replica.port)
        self.replicas[replica.service].append(fresh)
        await self._wait_attached(fresh, timeout)
        return fresh

    async def _wait_attached(self, replica: ServiceProcess, timeout: float) -> None:
        """Wait until ``replica`` is ready and, for a consumer, every running replica consumes its queue."""
        await replica.wait_ready(timeout)
        expected = {self.queue(replica.service): len(self.running(replica.service))}
        optional = [] if replica.service in CONSUMERS else list(expected)
        await wait_for_consumers(self.broker["amqp_url"], expected, timeout, optional=optional)

    def kill(self, replica: ServiceProcess) -> None:
        replica.kill()
        self.replicas[replica.service].remove(replica)
        self.retired.append(replica)

    async def stop(self) -> None:
        everything = [replica for replicas in self.replicas.values() for replica in replicas]
        await asyncio.gather(*(replica.aterminate() for replica in everything))
        self.retired.extend(everything)
        for replicas in self.replicas.values():
            replicas.clear()

    def queue(self, service: str, suffix: str = "") -> str:
        return f"{self.broker['queue_prefix']}.{service}{suffix}"


async def queue_counts(amqp_url: str, queues: Iterable[str]) -> dict[str, tuple[int, int]]:
    """``queue -> (ready messages, consumers)``; a queue that does not exist counts as ``(0, 0)``."""
    counts: dict[str, tuple[int, int]] = {}
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for name in queues:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(name, passive=True)
                result = declared.declaration_result
                counts[name] = (result.message_count or 0, result.consumer_count or 0)
                await channel.close()
            except aio_pika.exceptions.ChannelClosed:
                counts[name] = (0, 0)
    return counts


async def wait_for_consumers(
    amqp_url: str,
    expected: Mapping[str, int],
    timeout: float = 60.0,
    *,
    optional: Iterable[str] = (),
    absent_after_s: float = 3.0,
) -> None:
    """Wait until each queue in ``expected`` has at least that many consumers attached. A queue named
    in ``optional`` that still does not exist ``absent_after_s`` after the call belongs to a service
    version that consumes nothing, and is not waited for."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    optional = set(optional)
    while True:
        counts = await queue_counts(amqp_url, expected)
        missing = {
            name: wanted
            for name, wanted in expected.items()
            if counts[name][1] < wanted
            and not (name in optional and counts[name] == (0, 0) and loop.time() - began > absent_after_s)
        }
        if not missing:
            return
        if loop.time() - began > timeout:
            attached = {name: counts[name][1] for name in missing}
            raise TimeoutError(f"consumers attached {attached}, wanted {missing}")
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running_replicas(
    *,
    mongo_url: str,
    s3_endpoint: str,
    broker: Mapping[str, str],
    db_prefix: str,
    bucket: str,
    log_dir: Path,
    replicas: Mapping[str, int],
    fast: bool = True,
    log_level: str = "WARNING",
    ready_timeout: float = 120.0,
    env: Mapping[str, Mapping[str, str]] | None = None,
) -> AsyncIterator[ReplicatedPlatform]:
    """Start ``replicas[service]`` processes of each service at once and wait until every one is ready
    and every consumer replica is attached to its service's queue. Each intake replica calls one replica
    of evidence, routing and notification (round-robin) at a fixed URL, and each notification replica one
    intake replica: there is no Service in front, so a caller keeps calling a replica that was killed
    (until :meth:`ReplicatedPlatform.restart` brings it back there). ``env`` adds variables per service.
    Everything is stopped (SIGTERM) on exit."""
    platform = ReplicatedPlatform(
        mongo_url,
        s3_endpoint,
        dict(broker),
        db_prefix,
        bucket,
        log_dir,
        fast,
        log_level,
        env={service: dict(values) for service, values in (env or {}).items()},
    )
    try:
        # Every port is chosen before anything starts, so all processes start together and each knows
        # where the replicas it calls will listen.
        intake_ports = [(standins.free_port(), standins.free_port()) for _ in range(replicas.get("intake", 0))]
        for service in ("evidence", "routing", "notification"):
            for index in range(replicas.get(service, 0)):
                urls = None
                if service == "notification" and intake_ports:
                    # notification asks intake's internal listener for contacts.
                    urls = {"intake": f"http://127.0.0.1:{intake_ports[index % len(intake_ports)][1]}"}
                platform.launch(service, urls)
        for index, (port, internal_port) in enumerate(intake_ports):
            urls = {
                name: platform.replicas[name][index % len(platform.replicas[name])].url
                for name in CALLED_BY_INTAKE
                if platform.replicas[name]
            }
            platform.launch("intake", urls, port=port, internal_port=internal_port)
        everything = [replica for group in platform.replicas.values() for replica in group]
        await asyncio.gather(*(replica.wait_ready(ready_timeout) for replica in everything))
        consumers = {platform.queue(s): count for s, count in replicas.items() if count}
        optional = [platform.queue(s) for s, count in replicas.items() if count and s not in CONSUMERS]
        await wait_for_consumers(broker["amqp_url"], consumers, timeout=ready_timeout, optional=optional)
        yield platform
    finally:
        await platform.stop()
