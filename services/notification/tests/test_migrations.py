"""notification's migrations against SecantusDB: the sealing of what was stored in plaintext before sealing existed
(delivery payloads, message texts, endpoint secrets), run by ``python -m notification.migrate`` as an operator runs
it, killed part-way once (SIGKILL, holding the lease), continued by the next run where it stopped, run again with
nothing left to do, and read back through the repositories the service uses."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from greenchannel.migrations import COLLECTION, LEASE_ID, PROGRESS_PREFIX, MigrationError, Migrations, discover
from greenchannel.mongo import make_client
from greenchannel.sealing import KeyRingCipher
from notification import migrations
from notification.adapters.deliveries import DeliveryRepository
from notification.adapters.endpoints import EndpointRepository
from notification.adapters.messages import MessageRepository
from notification.config import Settings

pytestmark = pytest.mark.integration

# Enough records for several batches (500 each), so a kill lands after one was recorded and before the last.
DELIVERIES = 2600
MESSAGES = 40
ENDPOINTS = 6
LEASE_S = 2.0


def old_delivery(index: int, now: datetime) -> dict:
    """A delivery record as notification wrote it before payloads were sealed: ``payload`` in plaintext, no expiry."""
    return {
        "_id": f"msg_{index:06d}",
        "company_id": f"co-{index % 7}",
        "number": f"GC-2026-{index:06d}",
        "type": "complaint.forwarded",
        "status": "delivered",
        "payload": {"number": f"GC-2026-{index:06d}", "narrative": f"第{index}号投诉：客服电话13800138000无人接听"},
        "attempts": [],
        "created_at": now - timedelta(days=1),
        "next_attempt_at": now,
    }


def old_message(index: int, now: datetime) -> dict:
    return {
        "_id": f"m-{index:04d}",
        "number": f"GC-2026-{index:06d}",
        "kind": "complaint.forwarded",
        "title_zh": f"投诉{index}已转交",
        "title_en": f"Complaint {index} forwarded",
        "body_zh": "企业将在10个工作日内答复。",
        "body_en": "The company answers within 10 working days.",
        "created_at": now - timedelta(hours=index),
        "read_at": None,
    }


def settings_for(mongo_url: str, db_name: str) -> Settings:
    return Settings(mongo_url=mongo_url, mongo_db=db_name, greenchannel_env="development", migration_lease_s=LEASE_S)


async def test_sealing_migration_is_resumable_idempotent_and_reads_back(mongo_url, run_id, tmp_path):
    db_name = f"t{run_id}_notification_migrations"
    settings = settings_for(mongo_url, db_name)
    client = make_client(mongo_url, "migrations-test")
    db = client[db_name]
    now = datetime.now(UTC)
    try:
        await db["deliveries"].insert_many([old_delivery(index, now) for index in range(DELIVERIES)])
        await db["messages"].insert_many([old_message(index, now) for index in range(MESSAGES)])
        endpoints = [
            {
                "_id": f"co-{index}",
                "url": f"https://hooks.example.com/{index}",
                "status": "enabled",
                "secret": f"whsec_plain{index}",
                # one endpoint was in a rotation's overlap: both secrets in plaintext
                "previous_secret": "whsec_before" if index == 0 else None,
            }
            for index in range(ENDPOINTS)
        ]
        await db["endpoints"].insert_many(endpoints)

        # The operator's command, killed once it recorded a batch of the payloads and before it finished them.
        env = {
            **os.environ,
            "MONGO_URL": mongo_url,
            "MONGO_DB": db_name,
            "GREENCHANNEL_ENV": "development",
            "MIGRATION_LEASE_S": str(LEASE_S),
        }
        log = (tmp_path / "migrate.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "notification.migrate", env=env, stdout=log, stderr=subprocess.STDOUT
        )
        progress_id = f"{PROGRESS_PREFIX}m0002_seal_delivery_payloads"
        try:
            async with asyncio.timeout(60):
                while True:
                    progress = await db[COLLECTION].find_one({"_id": progress_id})
                    if progress and progress["state"].get("last"):
                        break
                    assert process.returncode is None, (tmp_path / "migrate.log").read_text()
                    await asyncio.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            log.close()
        interrupted = await db[COLLECTION].find_one({"_id": progress_id})
        assert interrupted is not None
        stopped_after = interrupted["state"]["last"]
        assert interrupted["state"]["examined"] < DELIVERIES, "the kill came after the step finished"
        assert await db[COLLECTION].find_one({"_id": "m0002_seal_delivery_payloads"}) is None
        # The dead process still holds the lease: it is taken over once it has expired.
        assert (await db[COLLECTION].find_one({"_id": LEASE_ID}))["holder"]
        left = await db["deliveries"].count_documents({"payload": {"$exists": True}})
        assert 0 < left < DELIVERIES

        # The next run continues where the first stopped: the progress counts every record once.
        runner = Migrations(db, discover(migrations.__name__), settings, lease_s=LEASE_S)
        applied = await runner.migrate(wait_s=30)
        assert applied == [
            "m0002_seal_delivery_payloads",
            "m0003_seal_message_texts",
            "m0004_seal_endpoint_secrets",
            "m0005_outbox_subject_index",
        ]
        recorded = await runner.applied()
        payloads = recorded["m0002_seal_delivery_payloads"]["result"]
        assert recorded["m0002_seal_delivery_payloads"]["runs"] == 2
        assert recorded["m0003_seal_message_texts"]["runs"] == 1
        # The second run read what the first had left: nothing it had recorded, and of the batch in flight only what
        # it had not sealed yet.
        assert payloads["resumed_after"] == [stopped_after]
        assert DELIVERIES - 500 <= payloads["examined"] <= DELIVERIES
        assert recorded["m0003_seal_message_texts"]["result"]["sealed"] == MESSAGES
        assert recorded["m0004_seal_endpoint_secrets"]["result"]["sealed"] == ENDPOINTS
        assert await db[COLLECTION].find_one({"_id": progress_id}) is None
        assert await db[COLLECTION].find_one({"_id": LEASE_ID}) is None

        # Nothing in plaintext is left.
        assert await db["deliveries"].count_documents({"payload": {"$exists": True}}) == 0
        assert await db["deliveries"].count_documents({"sealed_payload": {"$exists": True}}) == DELIVERIES
        assert await db["messages"].count_documents({"title_zh": {"$exists": True}}) == 0
        assert await db["endpoints"].count_documents({"secret": {"$type": "string"}}) == 0
        assert await db["endpoints"].count_documents({"previous_secret": {"$type": "string"}}) == 0
        raw = await db["deliveries"].find_one({"_id": "msg_000000"})
        assert "13800138000" not in json.dumps(raw, default=str)

        # Run again: recorded, so nothing runs; the steps themselves, run again, change nothing.
        assert await runner.migrate(wait_s=5) == []
        before = {doc["_id"]: doc for doc in await db["deliveries"].find({}).to_list()}
        secrets_before = await db["endpoints"].find({}).sort("_id", 1).to_list()
        await db[COLLECTION].delete_many({"number": {"$gte": 2}})
        again = Migrations(db, discover(migrations.__name__), settings, lease_s=LEASE_S)
        assert len(await again.migrate(wait_s=30)) == 4
        results = await again.applied()
        for key in ("m0002_seal_delivery_payloads", "m0003_seal_message_texts", "m0004_seal_endpoint_secrets"):
            assert results[key]["result"].get("sealed", 0) == 0, key
        assert {doc["_id"]: doc for doc in await db["deliveries"].find({}).to_list()} == before
        assert await db["endpoints"].find({}).sort("_id", 1).to_list() == secrets_before

        # What was migrated reads back through the repositories the service runs with.
        cipher = KeyRingCipher.from_settings(
            settings.webhook_secret_keys.get_secret_value(), settings.webhook_secret_active_key_id
        )
        deliveries = DeliveryRepository(db, cipher, timedelta(days=settings.delivery_body_retention_days))
        for index in (0, DELIVERIES // 2, DELIVERIES - 1):
            delivery = await deliveries.get(f"msg_{index:06d}")
            assert delivery is not None
            assert delivery["payload"] == old_delivery(index, now)["payload"]
            assert delivery["body_expires_at"] > now
        messages = MessageRepository(db, cipher, timedelta(days=settings.message_retention_days))
        page = await messages.page([f"GC-2026-{index:06d}" for index in range(MESSAGES)], limit=MESSAGES)
        assert len(page) == MESSAGES
        for message in page:
            index = int(message["_id"].removeprefix("m-"))
            original = old_message(index, now)
            assert {field: message[field] for field in ("title_zh", "title_en", "body_zh", "body_en")} == {
                field: original[field] for field in ("title_zh", "title_en", "body_zh", "body_en")
            }
            assert message["expires_at"] > now
        endpoints_repository = EndpointRepository(db, cipher)
        for stored in endpoints:
            endpoint = await endpoints_repository.get(stored["_id"])
            assert endpoint is not None
            assert endpoint["secret"] == stored["secret"]
            assert endpoint["previous_secret"] == stored["previous_secret"]
    finally:
        await client.drop_database(db_name)
        await client.close()


async def test_one_of_several_migrators_applies_each_step_the_others_wait(mongo_url, run_id):
    """Replicas starting at once: each step is applied once, by the lease holder, and every replica returns only
    once the store is at the level."""
    db_name = f"t{run_id}_notification_migrators"
    client = make_client(mongo_url, "migrators-test")
    db = client[db_name]
    settings = settings_for(mongo_url, db_name)
    try:
        await db["deliveries"].insert_many([old_delivery(index, datetime.now(UTC)) for index in range(600)])
        runners = [
            Migrations(db, discover(migrations.__name__), settings, lease_s=LEASE_S, holder=f"replica-{uuid.uuid4()}")
            for _ in range(4)
        ]
        applied = await asyncio.gather(*(runner.migrate(wait_s=60) for runner in runners))
        steps = [key for keys in applied for key in keys]
        assert sorted(steps) == [step.key for step in discover(migrations.__name__)]
        assert sum(1 for keys in applied if keys) == 1
        recorded = await runners[0].applied()
        assert recorded["m0002_seal_delivery_payloads"]["result"]["sealed"] == 600
        # A process that only waits finds the level reached.
        await Migrations(db, discover(migrations.__name__), settings).wait(wait_s=1)
    finally:
        await client.drop_database(db_name)
        await client.close()


async def test_waiting_for_a_level_nobody_applies_fails_clearly(mongo_url, run_id):
    db_name = f"t{run_id}_notification_unmigrated"
    client = make_client(mongo_url, "unmigrated-test")
    try:
        runner = Migrations(client[db_name], discover(migrations.__name__), settings_for(mongo_url, db_name))
        with pytest.raises(MigrationError, match=r"not at migration level 5 .*m0001_indexes.*run the migrate command"):
            await runner.wait(wait_s=1)
    finally:
        await client.drop_database(db_name)
        await client.close()
