"""Backups of a database (greenchannel.backup) against SecantusDB over its socket: every collection with its
options, indexes and documents as they were, one point in time while writers commit, and restores that refuse
a damaged backup or a database that is not empty before writing anything."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from bson import Binary, Decimal128, Int64, ObjectId
from pymongo import ASCENDING, DESCENDING

from greenchannel.backup import MANIFEST, BackupError, DatabasePart, restore_backup, take_backup
from greenchannel.mongo import in_transaction, make_client
from greenchannel.outbox import EPOCH

pytestmark = pytest.mark.integration

PAIRS_WRITTEN_DURING_BACKUP = 2000
SEED_DOCUMENTS = 3000


@pytest.fixture
async def client(mongo_url):
    client = make_client(mongo_url, "backup-tests")
    yield client
    await client.close()


@pytest.fixture
def names(run_id, request):
    suffix = request.node.name[-24:].replace("[", "").replace("]", "")
    return f"t{run_id}_bk_{suffix}_src", f"t{run_id}_bk_{suffix}_dst"


def restore_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "routing.restore", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def indexes(database, collection: str) -> list[dict]:
    listed = await (await database[collection].list_indexes()).to_list()
    return sorted(({k: v for k, v in index.items() if k not in ("v", "ns")} for index in listed), key=str)


async def test_every_collection_comes_back_with_its_indexes_and_documents_as_they_were(client, names, tmp_path):
    source, target = client[names[0]], client[names[1]]
    document = {
        "_id": ObjectId(),
        "number": "GC2026120700001",
        "at": datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
        "amount": Decimal128(Decimal("12.50")),
        "big": Int64(2**40),
        "blob": Binary(b"\x00\x01sealed"),
        "nested": {"z": 1, "a": [1, "two", None]},
    }
    await source.complaints.insert_one(document)
    await source.complaints.create_index([("number", ASCENDING)], unique=True, name="number_unique")
    await source.outbox.insert_many([{"_id": f"e{i}", "sent": i % 2 == 0} for i in range(2500)])
    await source.outbox.create_index(
        [("sent", ASCENDING), ("_id", DESCENDING)], name="unsent", partialFilterExpression={"sent": False}
    )
    await source.idempotency.insert_one({"_id": "key-1", "answer": {"status": 201}})
    await source.idempotency.create_index("expires_at", expireAfterSeconds=86400, name="expiry")
    await source.create_collection("leases")  # an empty collection is a collection too

    report = await take_backup(tmp_path / "b", "svc", [DatabasePart(client, names[0])])
    section = report.manifest["parts"]["database"]
    assert section["counts"] == {"complaints": 1, "idempotency": 1, "leases": 0, "outbox": 2500}

    await restore_backup(tmp_path / "b", "svc", [DatabasePart(client, names[1])])

    assert sorted(await target.list_collection_names()) == ["complaints", "idempotency", "leases", "outbox"]
    restored = await target.complaints.find_one({"_id": document["_id"]})
    original = await source.complaints.find_one({"_id": document["_id"]})
    assert restored == original and list(restored) == list(document)  # values, types and field order
    assert await target.outbox.count_documents({}) == 2500
    for name in ("complaints", "outbox", "idempotency", "leases"):
        assert await indexes(target, name) == await indexes(source, name)
    with pytest.raises(Exception, match=r"duplicate key|E11000"):
        await target.complaints.insert_one({"number": "GC2026120700001"})


async def test_the_copy_is_one_point_in_time_while_writers_commit(client, names, tmp_path):
    """A writer commits pairs (a change and its outbox entry, in one transaction) as fast as it can while the
    backup reads: every pair is in the copy whole or not at all."""
    source = client[names[0]]
    # Enough to read that the writer commits many pairs between the first collection's read and the last's.
    await source.cases.insert_many([{"_id": f"seed-{i}", "text": "x" * 2000} for i in range(SEED_DOCUMENTS)])
    await source.outbox.insert_many([{"_id": f"seed-{i}", "text": "x" * 2000} for i in range(SEED_DOCUMENTS)])
    written = 0
    stop, under_way = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        nonlocal written
        while not stop.is_set() and written < PAIRS_WRITTEN_DURING_BACKUP:
            key = f"pair-{written}"

            async def pair(session, key=key):
                await source.cases.insert_one({"_id": key}, session=session)
                await source.outbox.insert_one({"_id": key}, session=session)

            await in_transaction(client, pair)
            written += 1
            if written == 5:
                under_way.set()

    task = asyncio.create_task(writer())
    await under_way.wait()
    # A copy taken while the writer commits, again until one overlapped a commit (a fast machine
    # may read the whole store between two): every copy must hold whole pairs only.
    overlapped = []
    for attempt in range(10):
        written_at_backup_start = written
        report = await take_backup(tmp_path / f"b{attempt}", "svc", [DatabasePart(client, names[0])])
        overlapped.append(written - written_at_backup_start)
        counts = report.manifest["parts"]["database"]["counts"]
        assert counts["cases"] == counts["outbox"] >= SEED_DOCUMENTS + written_at_backup_start
        if overlapped[-1] >= 1:
            break
    stop.set()
    await task

    print(
        f"\npairs committed while each copy read: {overlapped}; in the last copy: {counts['cases'] - SEED_DOCUMENTS} "
        f"cases, {counts['outbox'] - SEED_DOCUMENTS} entries"
    )
    assert overlapped[-1] >= 1  # the writer did commit while the backup read
    await restore_backup(tmp_path / f"b{attempt}", "svc", [DatabasePart(client, names[1])])
    target = client[names[1]]
    cases = {doc["_id"] async for doc in target.cases.find({}, projection={"_id": 1})}
    outbox = {doc["_id"] async for doc in target.outbox.find({}, projection={"_id": 1})}
    assert cases == outbox


async def test_a_restore_refuses_a_damaged_backup_or_a_database_in_use_and_writes_nothing(client, names, tmp_path):
    source, target = client[names[0]], client[names[1]]
    await source.cases.insert_many([{"_id": i} for i in range(10)])
    await source.inbox.insert_one({"_id": "event-1"})
    await take_backup(tmp_path / "b", "svc", [DatabasePart(client, names[0])])

    with pytest.raises(BackupError, match="not empty"):
        await take_backup(tmp_path / "b", "svc", [DatabasePart(client, names[0])])
    with pytest.raises(BackupError, match="not 'other'"):
        await restore_backup(tmp_path / "b", "other", [DatabasePart(client, names[1])])

    damaged = tmp_path / "b" / "database" / "inbox.bson"
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\x01")
    with pytest.raises(BackupError, match=r"inbox\.bson is not the file"):
        await restore_backup(tmp_path / "b", "svc", [DatabasePart(client, names[1])])
    assert await target.list_collection_names() == []  # cases.bson was fine, yet nothing was written

    await take_backup(tmp_path / "c", "svc", [DatabasePart(client, names[0])])
    await target.started.insert_one({"_id": "a service started here first"})
    with pytest.raises(BackupError, match="is not empty"):
        await restore_backup(tmp_path / "c", "svc", [DatabasePart(client, names[1])])
    assert await target.list_collection_names() == ["started"]
    assert (tmp_path / "b" / MANIFEST).is_file()


async def test_the_commands_of_a_service_back_up_and_restore_through_its_settings(client, names, tmp_path, mongo_url):
    """``python -m routing.backup`` and ``python -m routing.restore`` as an operator runs them: the service's
    environment, a folder, JSON on stdout; a refusal is a line on stderr and status 2."""
    await client[names[0]].companies.insert_many([{"_id": f"c{i}"} for i in range(3)])
    env = {"GREENCHANNEL_ENV": "development", "MONGO_URL": mongo_url, "PATH": "/usr/bin:/bin"}

    def run(action: str, database: str, folder: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", f"routing.{action}", str(tmp_path / folder)],
            env={**env, "MONGO_DB": database},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    backed_up = run("backup", names[0], "r")
    assert backed_up.returncode == 0, backed_up.stderr
    assert json.loads(backed_up.stdout)["counts"] == {"database": {"companies": 3}}
    restored = run("restore", names[1], "r")
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["counts"] == {"database": {"companies": 3}}
    again = run("restore", names[1], "r")
    assert again.returncode == 2 and "is not empty" in again.stderr and again.stdout == ""


async def test_after_a_restore_the_outbox_publishes_again_what_it_sent_lately(client, names, tmp_path, mongo_url):
    """The copy of each service is its own point in time and the broker is in none: entries marked sent in the
    window before the copy go out again (consumers skip what they had), older ones stay sent, and leases held by
    relays that no longer exist are freed. ``--outbox-since`` does the same after a restore made another way."""
    now = datetime.now(UTC)
    leased = {"lease_until": now + timedelta(minutes=5), "claimed_by": "relay-of-a-dead-process"}
    await client[names[0]].outbox.insert_many(
        [
            {"_id": "old", "sent_at": now - timedelta(hours=2), "sent_expires_at": now, **leased},
            {"_id": "recent", "sent_at": now - timedelta(minutes=3), "sent_expires_at": now, **leased},
            {"_id": "pending", "sent_at": None, **leased},
        ]
    )
    await take_backup(tmp_path / "b", "svc", [DatabasePart(client, names[0])])
    restored = await restore_backup(tmp_path / "b", "svc", [DatabasePart(client, names[1])])
    assert restored.manifest["restored"]["database"]["outbox_republished"] == 1
    outbox = {doc["_id"]: doc async for doc in client[names[1]].outbox.find({})}
    assert outbox["old"]["sent_at"] is not None
    for key in ("recent", "pending"):
        assert outbox[key]["sent_at"] is None and outbox[key]["lease_until"] == EPOCH, key
        assert outbox[key]["claimed_by"] is None and "sent_expires_at" not in outbox[key]

    await client[names[0]].outbox.update_one({"_id": "old"}, {"$set": {"sent_at": now}})
    env = {"GREENCHANNEL_ENV": "development", "MONGO_URL": mongo_url, "MONGO_DB": names[0], "PATH": "/usr/bin:/bin"}
    reopened = restore_command(env, "--outbox-since", (now - timedelta(minutes=1)).isoformat())
    assert reopened.returncode == 0, reopened.stderr
    assert json.loads(reopened.stdout)["counts"] == {"outbox": {"republished": 1, "pending": 2}}
    naive = restore_command(env, "--outbox-since", "2026-12-07T02:00:00")
    assert naive.returncode == 2 and "needs its offset" in naive.stderr
