"""Versioned data migrations: the plumbing; each service keeps its own steps.

A service's steps are the modules of its ``<service>.migrations`` package named ``m<NNNN>_<name>`` (``m0001_indexes``,
``m0002_seal_plaintext``): the number orders them, the name says what they do, and each defines
``async def up(context: StepContext) -> None``. A step is idempotent (run again, it changes nothing it already
changed) and resumable (interrupted, the next run continues): a step over a large collection reads what it has left
to change in batches with :func:`batches`, which records its progress after every batch, never one transaction for
a whole collection, and writes each batch's changes with :func:`rewrite`, one bulk write of conditional writes.
A step, once released, is history: a later change is a new step, since a store that applied a step never runs it
again.

What was applied is recorded in the service's own ``migrations`` collection: one document per applied step (its
``_id`` the module's name), a ``progress:<step>`` document while a step is under way, and the ``lease``.

Two ways to apply them, both through :class:`Migrations`:

* ``python -m <service>.migrate`` (:func:`command`), which the Kubernetes manifests run as a Job before a rollout;
* the service's start-up (:func:`prepare`), as ``MIGRATIONS_ON_START`` says: ``run`` applies what is pending,
  ``wait`` only waits until the store is at the level the code knows (the Job migrates).

Several processes may start at once (replicas, the Job): the one holding the lease migrates, renewing it while it
works; the others wait, bounded by ``MIGRATION_WAIT_S``, until every step they know is recorded, and then start.
A migrator that dies leaves a lease that expires (``MIGRATION_LEASE_S``), and a waiting process takes it over and
continues where the dead one stopped. A process that finds steps recorded that it does not know (an older release
during a rollout) starts: the store is ahead of it, which the rule of two versions live allows
(docs/architecture.md, "Two versions live").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import os
import pkgutil
import re
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DeleteOne, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from greenchannel.mongo import make_client
from greenchannel.settings import ServiceSettings
from greenchannel.telemetry import setup_logging

log = logging.getLogger(__name__)

COLLECTION = "migrations"
LEASE_ID = "lease"
PROGRESS_PREFIX = "progress:"
STEP_MODULE = re.compile(r"^m(?P<number>\d{4})_(?P<name>[a-z0-9_]+)$")
# How often a waiting process looks at the store again.
POLL_S = 0.5
# Documents a batch reads and rewrites (one bulk write, :func:`rewrite`) before the progress is recorded.
BATCH_SIZE = 500


class MigrationError(Exception):
    """The store is not at the level the code needs, and this process may not or could not bring it there."""


class LeaseLost(MigrationError):
    """Another process took the migration lease over while this one held it (this one stalled past the lease)."""


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    up: Callable[[StepContext], Awaitable[None]]

    @property
    def key(self) -> str:
        return f"m{self.number:04d}_{self.name}"


def discover(package: str) -> tuple[Step, ...]:
    """The steps of ``package`` (``<service>.migrations``) in order; the numbers must run 1, 2, 3, ... without a
    gap or a repeat, so a step left out of a merge or numbered twice stops the service rather than being skipped."""
    found = importlib.import_module(package)
    steps = []
    for module in pkgutil.iter_modules(found.__path__):
        match = STEP_MODULE.match(module.name)
        if match is None:
            continue
        step = importlib.import_module(f"{package}.{module.name}")
        steps.append(Step(int(match["number"]), match["name"], step.up))
    steps.sort(key=lambda step: step.number)
    numbers = [step.number for step in steps]
    if numbers != list(range(1, len(steps) + 1)):
        raise MigrationError(f"the steps of {package} must be numbered 1..{len(steps)} once each, found {numbers}")
    return tuple(steps)


class Progress:
    """What a step has done so far, kept in the ``migrations`` collection between batches (``state``), so a step
    that was interrupted continues after the last batch it recorded. A run that continues an earlier one is
    counted in ``runs``."""

    def __init__(self, collection: AsyncCollection, step: Step, lease: Lease) -> None:
        self.collection = collection
        self.key = f"{PROGRESS_PREFIX}{step.key}"
        self.lease = lease
        self.state: dict[str, Any] = {}
        self.runs = 0

    async def load(self) -> None:
        found = await self.collection.find_one_and_update(
            {"_id": self.key},
            {"$inc": {"runs": 1}, "$setOnInsert": {"state": {}, "started_at": datetime.now(UTC)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        # The upsert answers the document it made or found.
        self.state = dict(found["state"]) if found is not None else {}
        self.runs = found["runs"] if found is not None else 1

    async def save(self) -> None:
        """Record the state; refused (:class:`LeaseLost`) once another process holds the lease, so two processes
        never both move a step's progress."""
        await self.lease.check()
        await self.collection.update_one({"_id": self.key}, {"$set": {"state": self.state}})

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a counter of the state (recorded with the next :meth:`save`)."""
        self.state[name] = self.state.get(name, 0) + amount


@dataclass
class StepContext:
    """What a step is given: the service's database and settings (to build the adapters and ciphers it needs), and
    its progress."""

    db: AsyncDatabase
    settings: ServiceSettings
    progress: Progress


async def batches(
    collection: AsyncCollection,
    query: Mapping[str, Any],
    progress: Progress,
    *,
    size: int = BATCH_SIZE,
    projection: Mapping[str, Any] | None = None,
) -> AsyncIterator[list[dict[str, Any]]]:
    """The documents still matching ``query``, ``size`` at a time, read through one cursor.

    ``query`` must match only what the step has still to change (a sealing step's: the documents still in
    plaintext), which is what makes a step idempotent and is what makes it resumable: an interrupted step's next run
    reads what is left, and nothing it had done. The caller handles a batch (each document with a write of its own,
    conditional on what it read, all of them sent at once with :func:`rewrite`); when it asks for the next one, the count of documents read (``examined``) and the
    last one's ``_id`` (``last``) are recorded, and a later run notes where it began (``resumed_after``).

    One cursor rather than a range on ``_id`` per batch: SecantusDB reads a whole collection for a range of ``_id``
    sorted by ``_id``, which per batch made a walk of a large collection quadratic; MongoDB's plan for either is one
    scan."""
    if progress.state.get("last") is not None:
        progress.state.setdefault("resumed_after", []).append(progress.state["last"])
    cursor = collection.find(dict(query), projection=projection, batch_size=size)
    try:
        batch: list[dict[str, Any]] = []
        async for document in cursor:
            batch.append(document)
            if len(batch) < size:
                continue
            yield batch
            await _recorded(progress, batch)
            batch = []
        if batch:
            yield batch
            await _recorded(progress, batch)
    finally:
        await cursor.close()


async def rewrite(
    collection: AsyncCollection,
    writes: Sequence[UpdateOne | ReplaceOne[Any] | DeleteOne],
    progress: Progress,
    counter: str,
) -> None:
    """Send a batch's writes as one unordered bulk write and add the documents they changed to ``counter``.

    Each write must be conditional on what was read (the document still holds what the step changes), as a single
    write of a step would be: then one that finds its document already changed (a concurrent writer, an earlier run)
    changes nothing and is not counted. One bulk write instead of a write per document, since a round trip per
    document bounds a step: on SecantusDB here a batch of 500 single updates took 4-8 times as long as the same
    updates sent at once. Unordered, since the writes are on distinct documents and one refused should not keep the
    store from the others; a refused write still raises (:class:`~pymongo.errors.BulkWriteError`), and the step,
    stopped there, continues on its next run from what is left."""
    if not writes:
        return
    result = await collection.bulk_write(list(writes), ordered=False)
    changed = result.modified_count + result.deleted_count
    progress.count(counter, changed)


async def _recorded(progress: Progress, batch: list[dict[str, Any]]) -> None:
    progress.state["last"] = batch[-1]["_id"]
    progress.count("examined", len(batch))
    await progress.save()


class Lease:
    """The one migrator: a document in the ``migrations`` collection naming its holder until a time; the holder
    renews it while it works, and the others may take it only once that time has passed."""

    def __init__(self, collection: AsyncCollection, holder: str, lease_s: float) -> None:
        self.collection = collection
        self.holder = holder
        self.lease_s = lease_s

    async def acquire(self) -> bool:
        now = datetime.now(UTC)
        try:
            await self.collection.find_one_and_update(
                {"_id": LEASE_ID, "$or": [{"until": {"$lt": now}}, {"holder": self.holder}]},
                {"$set": {"holder": self.holder, "until": now + timedelta(seconds=self.lease_s), "taken_at": now}},
                upsert=True,
            )
        except DuplicateKeyError:
            # The lease exists and is someone else's, still running: the upsert found nothing and the insert lost.
            return False
        return True

    async def renew(self) -> bool:
        result = await self.collection.update_one(
            {"_id": LEASE_ID, "holder": self.holder},
            {"$set": {"until": datetime.now(UTC) + timedelta(seconds=self.lease_s)}},
        )
        return result.matched_count == 1

    async def check(self) -> None:
        if not await self.renew():
            raise LeaseLost(f"{self.holder} no longer holds the migration lease")

    async def release(self) -> None:
        await self.collection.delete_one({"_id": LEASE_ID, "holder": self.holder})

    @contextlib.asynccontextmanager
    async def kept(self) -> AsyncIterator[asyncio.Task[None]]:
        """Renew the lease in the background while the block runs (three times a lease); the task it yields ends
        with :class:`LeaseLost` when a renewal finds the lease taken."""

        async def renewing() -> None:
            while True:
                await asyncio.sleep(self.lease_s / 3)
                if not await self.renew():
                    raise LeaseLost(f"{self.holder} lost the migration lease")

        task = asyncio.create_task(renewing(), name="migration lease")
        try:
            yield task
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, LeaseLost):
                await task


def holder_name() -> str:
    """Who holds the lease, as an operator reading the ``migrations`` collection would look for it: the host (the
    pod's name) and the process, and a random part so two runs of one process are told apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Migrations:
    """The steps of one service against its database."""

    db: AsyncDatabase
    steps: tuple[Step, ...]
    settings: ServiceSettings
    lease_s: float = 30.0
    holder: str = field(default_factory=holder_name)

    @property
    def collection(self) -> AsyncCollection:
        return self.db[COLLECTION]

    @property
    def latest(self) -> int:
        return self.steps[-1].number if self.steps else 0

    async def applied(self) -> dict[str, dict[str, Any]]:
        """The recorded steps by key (those of a newer release too)."""
        found = await self.collection.find({"number": {"$exists": True}}).to_list()
        return {document["_id"]: document for document in found}

    async def pending(self) -> list[Step]:
        applied = await self.applied()
        return [step for step in self.steps if step.key not in applied]

    async def migrate(self, wait_s: float) -> list[str]:
        """Apply the pending steps under the lease, or wait (at most ``wait_s``) while another process applies them
        (taking its lease over if it dies). Answers the keys of the steps this process applied."""
        lease = Lease(self.collection, self.holder, self.lease_s)
        deadline = time.monotonic() + wait_s
        while await self.pending():
            if await lease.acquire():
                try:
                    return await self._apply(lease)
                finally:
                    await lease.release()
            if time.monotonic() > deadline:
                raise MigrationError(self._late(wait_s, "another process holds the migration lease"))
            await asyncio.sleep(POLL_S)
        return []

    async def wait(self, wait_s: float) -> None:
        """Wait (at most ``wait_s``) until every step this code knows is recorded; never migrates."""
        deadline = time.monotonic() + wait_s
        while pending := await self.pending():
            if time.monotonic() > deadline:
                missing = ", ".join(step.key for step in pending)
                raise MigrationError(self._late(wait_s, f"not applied: {missing}; run the migrate command"))
            await asyncio.sleep(POLL_S)

    def _late(self, wait_s: float, why: str) -> str:
        return f"the {self.db.name} store is not at migration level {self.latest} after {wait_s:.0f} s ({why})"

    async def _apply(self, lease: Lease) -> list[str]:
        applied = []
        # Read again under the lease: the previous holder may have finished steps meanwhile.
        for step in await self.pending():
            await self._run(step, lease)
            applied.append(step.key)
        return applied

    async def _run(self, step: Step, lease: Lease) -> None:
        log.info("migration %s: applying", step.key)
        began = time.monotonic()
        progress = Progress(self.collection, step, lease)
        await progress.load()
        async with lease.kept() as keeper:
            work = asyncio.ensure_future(step.up(StepContext(self.db, self.settings, progress)))
            done, _ = await asyncio.wait({work, keeper}, return_when=asyncio.FIRST_COMPLETED)
            if keeper in done:
                # The lease was lost: another process continues the step; this one must stop writing.
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
                keeper.result()
            work.result()
        await lease.check()
        await self.collection.insert_one(
            {
                "_id": step.key,
                "number": step.number,
                "name": step.name,
                "applied_at": datetime.now(UTC),
                "seconds": round(time.monotonic() - began, 3),
                "result": progress.state,
                # More than 1: the step was interrupted and continued.
                "runs": progress.runs,
                "by": self.holder,
            }
        )
        await self.collection.delete_one({"_id": progress.key})
        log.info("migration %s: applied in %.1f s %s", step.key, time.monotonic() - began, progress.state)


async def plumbing_indexes(db: AsyncDatabase) -> None:
    """The indexes of the plumbing every service's store holds (outbox, inbox), as they were when migrations began:
    each service's first step creates them. A later change to them is a new step in every service."""
    outbox = db["outbox"]
    # The relay's unsent entries oldest first, its claims, and the expiry of sent entries.
    await outbox.create_index([("sent_at", ASCENDING), ("created_at", ASCENDING)])
    await outbox.create_index("claim")
    await outbox.create_index("sent_expires_at", expireAfterSeconds=0)
    await db["inbox"].create_index("expires_at", expireAfterSeconds=0)


async def outbox_subject_index(db: AsyncDatabase) -> None:
    """The outbox's entries of one subject (``Outbox.forget``, an erasure's): a step of every service."""
    await db["outbox"].create_index("event.subject")


def migrations_of(settings: ServiceSettings, db: AsyncDatabase, package: str) -> Migrations:
    return Migrations(db, discover(package), settings, lease_s=settings.migration_lease_s)


async def prepare(settings: ServiceSettings, db: AsyncDatabase, package: str) -> None:
    """At a service's start: migrate or wait for the level (``MIGRATIONS_ON_START``), bounded by
    ``MIGRATION_WAIT_S``; raises :class:`MigrationError` when the store is not there in time, so the process stops
    (and is restarted) instead of serving against a store it does not know."""
    migrations = migrations_of(settings, db, package)
    if settings.migrations_on_start == "run":
        await migrations.migrate(settings.migration_wait_s)
    else:
        await migrations.wait(settings.migration_wait_s)


async def _command(settings: ServiceSettings, package: str, status_only: bool) -> dict[str, Any]:
    client = make_client(settings.mongo_url, f"{settings.service_name}-migrate")
    try:
        migrations = migrations_of(settings, client[settings.database_name], package)
        applied = [] if status_only else await migrations.migrate(settings.migration_wait_s)
        recorded = await migrations.applied()
        return {
            "service": settings.service_name,
            "applied_now": applied,
            "level": migrations.latest,
            "pending": [step.key for step in await migrations.pending()],
            "recorded": {
                key: {"seconds": value.get("seconds"), "result": value.get("result")}
                for key, value in sorted(recorded.items())
            },
        }
    finally:
        await client.close()


def command(description: str, settings_class: Callable[[], ServiceSettings], package: str) -> int:
    """``python -m <service>.migrate``: apply the pending steps (waiting for another migrator, as a start-up does),
    log each step, and print what is recorded as one JSON line after the logs; ``--status`` prints it without
    migrating. Exit status 1 when the store could not be brought to the level."""
    parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    parser.add_argument("--status", action="store_true", help="print the recorded and pending steps, change nothing")
    arguments = parser.parse_args()
    settings = settings_class()
    # The service's own log format (JSON lines in a pod), each step's start and end at INFO whatever its level.
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    log.setLevel(logging.INFO)
    try:
        report = asyncio.run(_command(settings, package, arguments.status))
    except MigrationError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    # One line, as the log lines before it are: a log collector keeps it whole.
    json.dump(report, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0
