"""greenchannel.migrations against SecantusDB, with steps of the test's own (a package written to ``tmp_path``):
the numbering rule, batches that continue after the last recorded one, a batch's writes sent as one bulk write
that leaves what another writer changed alone, and a migrator that lost its lease to another process recording
nothing more."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, DeleteOne, UpdateOne, monitoring

from devstack.invariants import until
from greenchannel.migrations import (
    COLLECTION,
    LEASE_ID,
    Lease,
    LeaseLost,
    MigrationError,
    Migrations,
    Progress,
    Step,
    discover,
    rewrite,
)
from greenchannel.mongo import make_client
from greenchannel.settings import ServiceSettings

pytestmark = pytest.mark.integration

STEP = """
from greenchannel.migrations import batches


async def up(context):
    things = context.db["things"]
    async for batch in batches(things, {{"done": {{"$exists": False}}}}, context.progress, size={size}):
        for thing in batch:
            result = await things.update_one({{"_id": thing["_id"], "done": {{"$exists": False}}}}, {{"$set": {{"done": True}}}})
            context.progress.count("done", result.modified_count)
            {stall}
"""


def package(tmp_path, monkeypatch, files: dict[str, str]) -> str:
    name = f"steps_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, source in files.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


@pytest.fixture
async def db(mongo_url, run_id):
    client = make_client(mongo_url, "migrations-plumbing")
    name = f"t{run_id}_migrations_{uuid.uuid4().hex[:6]}"
    yield client[name]
    await client.drop_database(name)
    await client.close()


def settings(mongo_url: str) -> ServiceSettings:
    return ServiceSettings(service_name="steps", mongo_url=mongo_url, greenchannel_env="development")


def test_steps_are_numbered_one_by_one(tmp_path, monkeypatch) -> None:
    gap = package(tmp_path, monkeypatch, {"m0001_a": "async def up(context): ...", "m0003_c": "async def up(c): ..."})
    with pytest.raises(MigrationError, match=r"numbered 1\.\.2 once each, found \[1, 3\]"):
        discover(gap)
    fine = package(tmp_path, monkeypatch, {"m0002_b": "async def up(c): ...", "m0001_a": "async def up(c): ..."})
    assert [step.key for step in discover(fine)] == ["m0001_a", "m0002_b"]
    sys.modules.pop(gap, None)


async def test_a_step_taken_over_stops_and_the_new_holder_continues_after_the_last_batch(
    db, mongo_url, tmp_path, monkeypatch
):
    # The first migrator stalls in its second batch long enough for its lease to be taken over.
    name = package(
        tmp_path,
        monkeypatch,
        {"m0001_mark": STEP.format(size=10, stall="await __import__('asyncio').sleep(0.01)")},
    )
    await db["things"].insert_many([{"_id": index} for index in range(100)])
    first = Migrations(db, discover(name), settings(mongo_url), lease_s=30, holder="first")
    running = asyncio.create_task(first.migrate(wait_s=5))

    async def recorded_a_batch() -> bool:
        progress = await db[COLLECTION].find_one({"_id": "progress:m0001_mark"})
        return bool(progress and progress["state"].get("last"))

    await until(recorded_a_batch, 10, "the first migrator to record a batch", interval=0.01)
    # Another process takes the lease over, as one does when the holder's lease expired.
    await db[COLLECTION].update_one(
        {"_id": LEASE_ID}, {"$set": {"holder": "second", "until": datetime.now(UTC) + timedelta(seconds=30)}}
    )
    with pytest.raises(LeaseLost):
        await running
    assert await db[COLLECTION].find_one({"_id": "m0001_mark"}) is None, "a holder that lost its lease recorded"
    stopped = (await db[COLLECTION].find_one({"_id": "progress:m0001_mark"}))["state"]
    assert 0 < stopped["examined"] < 100

    second = Migrations(db, discover(name), settings(mongo_url), lease_s=30, holder="second")
    assert await second.migrate(wait_s=5) == ["m0001_mark"]
    result = (await second.applied())["m0001_mark"]["result"]
    # It read what the first had left: nothing of the batches it recorded, and of the batch in flight only what the
    # first had not changed yet.
    assert result["resumed_after"] == [stopped["last"]]
    assert 90 <= result["examined"] <= 100
    assert await db["things"].count_documents({"done": True}) == 100
    assert await db[COLLECTION].find_one({"_id": LEASE_ID}) is None


class Commands(monitoring.CommandListener):
    """The commands the driver sent, by name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None: ...

    def failed(self, event: monitoring.CommandFailedEvent) -> None: ...


async def test_a_batch_is_one_bulk_write_that_counts_only_what_it_changed(db, mongo_url) -> None:
    await db["things"].insert_many([{"_id": index} for index in range(10)])
    # Another writer got to three of them between the step's read and its write.
    await db["things"].update_many({"_id": {"$in": [2, 5, 7]}}, {"$set": {"done": "elsewhere"}})
    commands = Commands()
    client: AsyncMongoClient = AsyncMongoClient(mongo_url, tz_aware=True, event_listeners=[commands])
    try:
        things = client[db.name]["things"]
        step = Step(1, "mark", lambda context: asyncio.sleep(0))
        progress = Progress(client[db.name][COLLECTION], step, Lease(client[db.name][COLLECTION], "me", 30))
        writes: list[UpdateOne | DeleteOne] = [
            UpdateOne({"_id": index, "done": {"$exists": False}}, {"$set": {"done": True}}) for index in range(9)
        ]
        writes.append(DeleteOne({"_id": 9, "done": {"$exists": False}}))
        await rewrite(things, writes, progress, "done")
        assert commands.names == ["update", "delete"], "not one bulk write (one command per kind of write)"
        assert progress.state == {"done": 7}
        assert await db["things"].count_documents({"done": "elsewhere"}) == 3
        assert await db["things"].count_documents({"done": True}) == 6
        assert await db["things"].find_one({"_id": 9}) is None

        # Run again (a step continued after a kill re-sends what it had sent): nothing changes, nothing is counted.
        await rewrite(things, writes, progress, "done")
        assert progress.state == {"done": 7}
        commands.names.clear()
        await rewrite(things, [], progress, "done")
        assert commands.names == []
    finally:
        await client.close()
