"""Two versions live: a rolling upgrade from the previous release to this code while complaints stream in.

The previous release is the commit ``tests/upgrade/PREVIOUS_RELEASE`` names, installed from ``git archive`` of that
commit into a virtual environment of its own with uv (from its own ``uv.lock``), kept in pytest's cache folder
between runs. The test

1. starts the previous release's four services as processes (its production server command) on databases and a
   broker namespace of the test's own, and streams complaints into its intake;
2. starts this code's four services beside them, on the same databases and queues: they apply their migrations
   (``MIGRATIONS_ON_START=run``) to the store the previous release is writing, and compete with it for every queue;
   the stream goes to both intakes;
3. stops the previous release (SIGTERM, as a rollout does, once the filings sent to it were answered) and streams
   into this code alone;
4. checks that every complaint reached its final state once: forwarded (or under review for an unknown company)
   with each transition once, one webhook id per forwarded complaint, nothing stored or applied twice, nothing in
   a dead-letter queue, and every migration recorded.

It runs under ``docs/architecture.md``'s rule of two versions live; if the previous release's commit is not in this
clone's history, it fails saying so.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devstack.filing import Filer, FilingStream
from devstack.invariants import TRANSITIONS, PlatformStores, tally_webhooks, until
from devstack.platform import WEBHOOK_SECRET, register_endpoints
from devstack.processes import (
    CALLED_BY_INTAKE,
    SERVICES,
    ServiceProcess,
    service_env,
    start_service,
    wait_for_consumers,
)
from devstack.receiver import WebhookReceiver
from devstack.servers import serve
from devstack.standins import free_port
from greenchannel.migrations import discover
from greenchannel.mongo import make_client

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS_RELEASE = Path(__file__).with_name("PREVIOUS_RELEASE")
CONSUMING = ("intake", "routing", "notification")
# Filings answered in each phase before the next begins (the stream goes on while processes start and stop, so the
# phase of this code starting holds many more). What is checked holds for every filing: a few in each phase show it.
OLD_ONLY, SIDE_BY_SIDE, NEW_ONLY = 6, 10, 6
SETTLE_TIMEOUT_S = 60
READY_TIMEOUT_S = 90


def previous_release(named_in: Path = PREVIOUS_RELEASE) -> str:
    """The full id of the previous release's commit; fails the test when the clone does not hold it."""
    wanted = named_in.read_text().strip()
    found = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{wanted}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        pytest.fail(
            f"the previous release {wanted!r} named in {named_in.name} is not a commit of this clone's "
            "history (a shallow clone? fetch it with `git fetch --unshallow`, or name a release the clone holds)",
            pytrace=False,
        )
    return found.stdout.strip()


def install(commit: str, cache: Path) -> Path:
    """The previous release's interpreter: its tree from ``git archive`` and its locked packages in a virtual
    environment of its own (uv, from its ``uv.lock``), made once per commit and kept in ``cache``."""
    home = cache / commit
    python = home / "venv" / "bin" / "python"
    if (home / ".installed").exists():
        return python
    shutil.rmtree(home, ignore_errors=True)
    source = home / "src"
    source.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tree:
        tree.extractall(source, filter="data")
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(home / "venv"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_LINK_MODE": "copy",
    }
    env.pop("VIRTUAL_ENV", None)
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(
        [str(uv), "sync", "--locked", "--all-packages", "--no-default-groups", "--python", sys.executable],
        cwd=source,
        env=env,
        check=True,
        capture_output=True,
    )
    (home / ".installed").touch()
    return python


@dataclass(frozen=True)
class Stores:
    """What both releases share: the databases (one per service), the bucket and the broker namespace."""

    mongo_url: str
    db_prefix: str
    broker: dict[str, str]
    s3_endpoint: str
    bucket: str


class Release:
    """The four services of one release as processes, each calling the others of the same release."""

    def __init__(self, label: str, python: str | None, stores: Stores, log_dir: Path) -> None:
        ports = {service: (free_port(), free_port()) for service in SERVICES}
        urls = {service: f"http://127.0.0.1:{public}" for service, (public, _) in ports.items()}
        called = {
            "intake": {name: urls[name] for name in CALLED_BY_INTAKE},
            "notification": {"intake": f"http://127.0.0.1:{ports['intake'][1]}"},
        }
        self.processes: dict[str, ServiceProcess] = {}
        for service in SERVICES:
            self.processes[service] = start_service(
                service,
                service_env(
                    service,
                    mongo_url=stores.mongo_url,
                    mongo_db=f"{stores.db_prefix}_{service}",
                    broker=stores.broker,
                    s3_endpoint=stores.s3_endpoint,
                    s3_bucket=stores.bucket,
                    urls=called.get(service),
                ),
                log_dir=log_dir,
                name=f"{service}-{label}",
                port=ports[service][0],
                internal_port=ports[service][1],
                python=python,
            )

    def url(self, service: str) -> str:
        return self.processes[service].url

    async def wait_ready(self) -> None:
        await asyncio.gather(*(process.wait_ready(READY_TIMEOUT_S) for process in self.processes.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(process.aterminate() for process in self.processes.values()))


@pytest.mark.unit
def test_a_previous_release_missing_from_the_clone_fails_the_test_saying_so(tmp_path) -> None:
    named = tmp_path / "PREVIOUS_RELEASE"
    named.write_text("0123456789abcdef0123456789abcdef01234567\n")
    with pytest.raises(pytest.fail.Exception, match="is not a commit of this clone's history"):
        previous_release(named)
    assert previous_release() == previous_release(PREVIOUS_RELEASE)


async def test_a_rolling_upgrade_from_the_previous_release_loses_and_repeats_nothing(
    mongo_url, s3_endpoint, broker_namespace, run_id, tmp_path, request
):
    began = time.monotonic()
    commit = previous_release()
    # A run without the cache installs it first (about a minute, from uv's cache), which is not counted.
    previous_python = await asyncio.to_thread(install, commit, request.config.cache.mkdir("upgrade-previous-release"))
    installed_s = time.monotonic() - began

    namespace = broker_namespace.isolated("upgrade")
    for service in SERVICES:
        namespace.settings_for(service)
    broker = namespace.broker_settings()
    db_prefix = f"t{run_id}_upgrade"
    shared = Stores(mongo_url, db_prefix, broker, s3_endpoint, f"upgrade-{run_id}".replace("_", "-"))
    store = make_client(mongo_url, "upgrade-test")
    dbs = {service: store[f"{db_prefix}_{service}"] for service in SERVICES}
    stores = PlatformStores(dbs, broker["amqp_url"], broker["queue_prefix"], CONSUMING)
    receiver = WebhookReceiver(WEBHOOK_SECRET)
    log_dir = tmp_path / "logs"
    queues = [f"{broker['queue_prefix']}.{service}" for service in CONSUMING]
    releases: list[Release] = []
    try:
        async with serve(receiver.app()) as receiver_url, httpx.AsyncClient(timeout=60) as http:
            marks: dict[str, float] = {}
            old = Release("previous", str(previous_python), shared, log_dir)
            releases.append(old)
            await old.wait_ready()
            await wait_for_consumers(broker["amqp_url"], dict.fromkeys(queues, 1), READY_TIMEOUT_S)
            marks["previous release ready"] = time.monotonic()
            async with (
                httpx.AsyncClient(base_url=old.url("routing"), timeout=30) as routing,
                httpx.AsyncClient(base_url=old.url("notification"), timeout=30) as notification,
            ):
                await register_endpoints(routing, notification, receiver_url)
                listing = (await routing.get("/v1/companies", params={"limit": 100})).json()
            companies = listing["items"] if isinstance(listing, dict) else listing

            intakes = [old.url("intake")]
            stream = FilingStream(
                Filer(http, max_tries=3),
                lambda index: intakes[index % len(intakes)],
                companies,
                label=f"upgrade-{run_id}",
                pace_s=0.4,
                concurrency=4,
            )
            stop = asyncio.Event()
            streaming = asyncio.create_task(stream.run(stop, at_least=OLD_ONLY + SIDE_BY_SIDE + NEW_ONLY, at_most=400))
            try:
                stream.phase = "previous"
                await stream.wait_answered(OLD_ONLY)

                # This code starts beside the previous release, migrating the store it is writing.
                stream.phase = "both"
                new = Release("current", None, shared, log_dir)
                releases.append(new)
                await new.wait_ready()
                await wait_for_consumers(broker["amqp_url"], dict.fromkeys(queues, 2), READY_TIMEOUT_S)
                marks["current release ready"] = time.monotonic()
                intakes.append(new.url("intake"))
                await stream.wait_answered(len(stream.answered) + SIDE_BY_SIDE)

                # The previous release goes, once what was sent to its intake was answered.
                stream.phase = "current"
                intakes.remove(old.url("intake"))
                sent_before = len(stream.filings)
                await until(
                    lambda: all(filing.number for filing in stream.filings[:sent_before]),
                    READY_TIMEOUT_S,
                    "the filings sent to the previous release's intake to be answered",
                    interval=0.05,
                )
                await old.stop()
                marks["previous release stopped"] = time.monotonic()
                await stream.wait_answered(len(stream.answered) + NEW_ONLY)
                stop.set()
                await streaming
            finally:
                if not streaming.done():
                    streaming.cancel()
                    await asyncio.gather(streaming, return_exceptions=True)

            numbers = stream.numbers()
            forwarded_numbers = stream.numbers(known=True)
            await stores.wait_final(numbers, SETTLE_TIMEOUT_S, hint=f"logs: {log_dir}")
            await stores.wait_quiet()
            marks["settled"] = time.monotonic()

            # Every phase had complaints, filed through both releases.
            assert {phase: len(stream.during(phase)) > 0 for phase in ("previous", "both", "current")} == {
                "previous": True,
                "both": True,
                "current": True,
            }
            cases = {case["_id"]: case async for case in dbs["intake"].complaints.find({"_id": {"$in": list(numbers)}})}
            assert len(cases) == len(numbers) == len(stream.filings)
            for number in forwarded_numbers:
                actions = [entry["action"] for entry in cases[number]["timeline"] if entry["action"] in TRANSITIONS]
                assert (cases[number]["status"], actions) == ("forwarded", ["submit", "accept", "forward"]), number
            for number in numbers - forwarded_numbers:
                assert cases[number]["status"] == "under_review", number
            twice = await stores.stored_twice(numbers)
            assert twice == {
                "complaints_filed_twice": 0,
                "transitions_applied_twice": 0,
                "events_applied_twice": dict.fromkeys(SERVICES, 0),
                "forwarding_deliveries_twice": 0,
                "evidence_counted_wrong": 0,
            }
            assert await stores.dead_letters() == dict.fromkeys(CONSUMING, 0)

            tally = tally_webhooks(list(receiver.received))
            assert tally.unverified == 0
            assert set(tally.ids_by_number) == forwarded_numbers
            assert not tally.numbers_with_several_ids
            for number in forwarded_numbers:
                assert cases[number]["forwarding_webhook_id"] in tally.ids_by_number[number]

            # The current release recorded every step of its migrations in each service's store.
            for service in SERVICES:
                recorded = {doc["_id"] async for doc in dbs[service].migrations.find({"number": {"$exists": True}})}
                assert recorded == {step.key for step in discover(f"{service}.migrations")}, service
            elapsed = time.monotonic() - began - installed_s
            print(
                f"\nupgrade: {len(numbers)} complaints ({len(forwarded_numbers)} forwarded), phases "
                f"{ {phase: len(stream.during(phase)) for phase in ('previous', 'both', 'current')} }, "
                f"{elapsed:.0f} s (installing the previous release {installed_s:.0f} s); "
                + ", ".join(f"{mark} at {at - began - installed_s:.0f} s" for mark, at in marks.items())
            )
    finally:
        for release in releases:
            await release.stop()
        for service in SERVICES:
            await store.drop_database(f"{db_prefix}_{service}")
        await store.close()
