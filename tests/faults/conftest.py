"""The fault rig: a platform whose every part the tests own and can stop and start again.

* the run's own RabbitMQ node (the ``rabbit_node`` fixture, a ``devstack.standins.RabbitNode``: the
  machine's rabbitmq-server on free ports with its own node name, data, logs and cookie; the
  machine's broker is not touched);
* a SecantusDB process and a nanio process of its own, restarted on the same port and data;
* the four services as processes (``devstack.processes``), one replica each, restarted at their
  address after a kill -9;
* a real HTTP webhook receiver standing in for every company, whose behaviour the test switches:
  answering 500, hanging past notification's timeout, not listening at all;
* a tap on every event of the exchange (a durable queue, so it counts across a broker restart).

One rig serves every scenario of the module; each scenario files its own stream of complaints and
checks everything filed so far. The counts go into a report printed at the end of the session and
written as JSON into the test run's folder (and to ``FAULTS_REPORT`` when set).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack import standins
from devstack.eventtap import EventTap, event_tap
from devstack.filing import Filer, FilingStream
from devstack.invariants import PlatformStores, until
from devstack.platform import WEBHOOK_SECRET, register_endpoints
from devstack.processes import SERVICES, ReplicatedPlatform, running_replicas
from devstack.receiver import WebhookReceiver
from devstack.servers import Listener
from greenchannel.mongo import make_client

# A hung attempt is given up after WEBHOOK_TIMEOUT_S; the schedule (46.5 s from the first attempt to the
# last) outlasts the endpoint's whole outage, so every delivery is finally made.
WEBHOOK_TIMEOUT_S = 2
# No retries for a handler's own failures: each would end as a dead letter, and none may. A handler that
# failed because the store was away must wait for it instead.
NO_RETRIES = {"CONSUMER_MAX_RETRIES": "0"}
FAULT_ENV = {
    "intake": NO_RETRIES,
    "routing": NO_RETRIES,
    "evidence": NO_RETRIES,
    "notification": {
        **NO_RETRIES,
        "WEBHOOK_TIMEOUT_S": str(WEBHOOK_TIMEOUT_S),
        "DELIVERY_LEASE_S": "6",
        "WEBHOOK_RETRY_SCHEDULE_S": json.dumps([0, 0.5, 1, 2, 3, 5, 5, 5, 5, 5, 5, 5]),
    },
}
# A steady trickle: over a scenario of twenty seconds to a minute, some 25-80 complaints.
STREAM_PACE_S = 0.6
REPORT_KEY = pytest.StashKey[dict]()


@dataclass
class FaultRig:
    node: standins.RabbitNode
    store: standins.StandIn
    store_dir: Path
    platform: ReplicatedPlatform
    stores: PlatformStores
    receiver: WebhookReceiver
    endpoint: Listener
    tap: EventTap
    http: httpx.AsyncClient
    companies: list[dict[str, Any]]
    intake_url: str
    log_dir: Path
    report: dict[str, Any]
    numbers: set[str] = field(default_factory=set)  # every complaint filed by any scenario
    republished: set[str] = field(default_factory=set)  # ids of events the tests published again themselves

    def stream(self, label: str, *, retry_statuses: frozenset[int] = frozenset(), **options: Any) -> FilingStream:
        """A stream of filings to intake's one address (the same after a restart)."""
        filer = Filer(self.http, retry_statuses=retry_statuses, patience_s=150)
        return FilingStream(
            filer, lambda _: self.intake_url, self.companies, label=label, **{"pace_s": STREAM_PACE_S, **options}
        )

    def stop_store(self) -> None:
        self.store.stop()

    def start_store(self) -> None:
        self.store = standins.start_secantus(self.store_dir, port=self.store.port, log_dir=self.log_dir)

    async def readiness(self, service: str) -> tuple[int, dict[str, Any]]:
        """``/readyz`` of the service's running replica: status code and body."""
        answer = await self.http.get(f"{self.platform.url(service)}/readyz", timeout=10)
        return answer.status_code, answer.json()

    async def events_consumed(self, outcome: str) -> dict[str, int]:
        """Per service, the events its running process consumed with ``outcome`` (handled, retried,
        dead_lettered), from its Prometheus metrics."""
        counts = {}
        for service in SERVICES:
            text = (await self.http.get(f"{self.platform.internal_url(service)}/metrics", timeout=10)).text
            counts[service] = int(
                sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith("greenchannel_events_consumed_total{") and f'outcome="{outcome}"' in line
                )
            )
        return counts

    async def wait_ready(self, services=SERVICES, timeout: float = 90.0) -> None:
        """Wait until each of ``services`` answers 200 on ``/readyz`` (ready, or degraded where allowed)."""

        async def ready() -> bool:
            try:
                return all([(await self.readiness(service))[0] == 200 for service in services])
            except httpx.HTTPError:
                return False

        await until(ready, timeout, f"{', '.join(services)} to be ready")


@pytest.fixture(scope="module")
async def rig(rabbit_node, workdir: Path, run_id: str, request) -> AsyncIterator[FaultRig]:
    log_dir = workdir / "faults-logs"
    store_dir = workdir / "faults-store"
    # Both start at once; if one does not, the other is stopped before the failure is reported.
    started = await asyncio.gather(
        asyncio.to_thread(standins.start_secantus, store_dir, log_dir=log_dir),
        asyncio.to_thread(standins.start_nanio, workdir / "faults-objects", log_dir=log_dir),
        return_exceptions=True,
    )
    if failed := [outcome for outcome in started if isinstance(outcome, BaseException)]:
        for outcome in started:
            if isinstance(outcome, standins.StandIn):
                outcome.stop()
        raise failed[0]
    store, objects = (outcome for outcome in started if isinstance(outcome, standins.StandIn))
    prefix = f"test-{run_id}-faults"
    broker = {"amqp_url": rabbit_node.amqp_url, "event_exchange": f"{prefix}.events", "queue_prefix": prefix}
    receiver = WebhookReceiver(WEBHOOK_SECRET)
    endpoint = Listener(receiver.app())
    await endpoint.start()
    mongo = make_client(standins.mongo_url(store.port), "fault-tests")
    report: dict[str, Any] = {}
    rig = None
    try:
        async with (
            event_tap(rabbit_node.amqp_url, broker["event_exchange"], ["#"], queue_name=f"{prefix}.tap") as tap,
            running_replicas(
                mongo_url=standins.mongo_url(store.port),
                s3_endpoint=f"127.0.0.1:{objects.port}",
                broker=broker,
                db_prefix=f"t{run_id}_faults",
                bucket=f"faults-{run_id}",
                log_dir=log_dir,
                replicas=dict.fromkeys(SERVICES, 1),
                env=FAULT_ENV,
                log_level=os.environ.get("FAULTS_LOG_LEVEL", "WARNING"),
            ) as platform,
            httpx.AsyncClient(timeout=60) as http,
        ):
            async with (
                httpx.AsyncClient(base_url=platform.url("routing"), timeout=30) as routing,
                httpx.AsyncClient(base_url=platform.url("notification"), timeout=30) as notification,
            ):
                await register_endpoints(routing, notification, endpoint.url)
                listing = (await routing.get("/v1/companies", params={"limit": 100})).json()
            stores = PlatformStores(
                {service: mongo[platform.database(service)] for service in SERVICES}, rabbit_node.amqp_url, prefix
            )
            rig = FaultRig(
                rabbit_node,
                store,
                store_dir,
                platform,
                stores,
                receiver,
                endpoint,
                tap,
                http,
                listing["items"] if isinstance(listing, dict) else listing,
                platform.url("intake"),
                log_dir,
                report,
            )
            yield rig
    finally:
        if report:
            _keep_report(request.config, workdir, report)
        await endpoint.stop()
        await mongo.close()
        if rig is not None:
            rig.store.stop()
        else:
            store.stop()
        objects.stop()


def _keep_report(config: pytest.Config, workdir: Path, report: dict[str, Any]) -> None:
    text = json.dumps(report, ensure_ascii=False, indent=1, default=str)
    (workdir / "faults-report.json").write_text(text)
    if os.environ.get("FAULTS_REPORT"):
        Path(os.environ["FAULTS_REPORT"]).write_text(text)
    config.stash[REPORT_KEY] = report


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    report = config.stash.get(REPORT_KEY, None)
    if report:
        terminalreporter.section("fault scenarios: counts")
        for scenario, counts in report.items():
            terminalreporter.line(f"{scenario}: {json.dumps(counts, ensure_ascii=False, default=str)}")
