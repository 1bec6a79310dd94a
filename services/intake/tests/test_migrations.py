"""intake's migrations against SecantusDB: the indexes of its first step, and the sealing of dead letters taken
before their bodies were sealed, run twice (the second run changes nothing) and read back through ``DeadLetters``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from greenchannel.migrations import Migrations, discover
from greenchannel.mongo import make_client
from intake import migrations
from intake.adapters.dead_letters import DeadLetters
from intake.adapters.pii import PiiCipher
from intake.config import Settings

pytestmark = pytest.mark.integration

LETTERS = 1200  # three batches


def old_letter(index: int, taken_at: datetime) -> dict:
    """A dead letter as intake kept it before bodies were sealed: ``body`` and ``event`` in plaintext, no expiry."""
    event = {"id": f"ev-{index}", "type": "complaint.submitted", "data": {"narrative": f"第{index}号：电话13800138000"}}
    return {
        "_id": f"dl-{index:05d}",
        "service": "routing",
        "status": "pending",
        "reason": "handler failed",
        "queue": "greenchannel.routing",
        "routing_key": "complaint.submitted",
        "message_id": f"ev-{index}",
        "type": "complaint.submitted",
        "headers": {},
        "body": json.dumps(event, ensure_ascii=False).encode(),
        "event": event,
        "taken_at": taken_at,
    }


async def test_dead_letters_are_sealed_once_and_read_back(mongo_url, run_id):
    db_name = f"t{run_id}_intake_migrations"
    settings = Settings(mongo_url=mongo_url, mongo_db=db_name, greenchannel_env="development")
    client = make_client(mongo_url, "intake-migrations-test")
    db = client[db_name]
    taken_at = datetime.now(UTC) - timedelta(days=3)
    try:
        await db["dead_letters"].insert_many([old_letter(index, taken_at) for index in range(LETTERS)])
        runner = Migrations(db, discover(migrations.__name__), settings)
        assert await runner.migrate(wait_s=30) == [
            "m0001_indexes",
            "m0002_seal_dead_letters",
            "m0003_staff_changes_counter",
            "m0004_retention_indexes",
            "m0005_backfill_ended_at",
            "m0006_audit_actions",
            "m0007_company_portal",
        ]
        result = (await runner.applied())["m0002_seal_dead_letters"]["result"]
        assert {key: result[key] for key in ("examined", "sealed")} == {"examined": LETTERS, "sealed": LETTERS}
        assert "resumed_after" not in result
        assert await db["dead_letters"].count_documents({"body": {"$exists": True}}) == 0
        assert await db["dead_letters"].count_documents({"event": {"$exists": True}}) == 0
        raw = await db["dead_letters"].find_one({"_id": "dl-00000"})
        assert "13800138000" not in json.dumps(raw, default=str)
        indexes = await db["complaints"].index_information()
        assert any(index["key"] == [("number", 1)] and index.get("unique") for index in indexes.values())

        # Again, the step itself included: nothing left to seal, nothing rewritten.
        before = await db["dead_letters"].find({}).sort("_id", 1).to_list()
        assert await runner.migrate(wait_s=5) == []
        await db["migrations"].delete_one({"_id": "m0002_seal_dead_letters"})
        assert await runner.migrate(wait_s=30) == ["m0002_seal_dead_letters"]
        assert (await runner.applied())["m0002_seal_dead_letters"]["result"].get("sealed", 0) == 0
        assert await db["dead_letters"].find({}).sort("_id", 1).to_list() == before

        cipher = PiiCipher.from_settings(settings.pii_keys.get_secret_value(), settings.pii_active_key_id)
        # The broker is not used to read a letter.
        letters = DeadLetters(db, None, cipher, timedelta(days=settings.dead_letter_retention_days))
        for index in (0, LETTERS - 1):
            letter = await letters.get(f"dl-{index:05d}")
            original = old_letter(index, taken_at)
            assert letter is not None
            assert letter["body"] == original["body"]
            assert letter["event"] == original["event"]
            assert letter["expires_at"] > datetime.now(UTC)
    finally:
        await client.drop_database(db_name)
        await client.close()


async def test_cases_that_ended_before_retention_get_their_end_and_the_staff_counter_exists(mongo_url, run_id):
    """A case closed, withdrawn or rejected before ``ended_at`` was recorded gets its last timeline entry's time (the
    retention job finds cases by it); open cases and cases that have it are left alone; run twice, nothing changes."""
    db_name = f"t{run_id}_intake_migrations_ended"
    settings = Settings(mongo_url=mongo_url, mongo_db=db_name, greenchannel_env="development")
    client = make_client(mongo_url, "intake-migrations-test")
    db = client[db_name]
    long_ago = datetime(2023, 5, 4, 3, 2, 1, tzinfo=UTC)
    recorded = datetime(2024, 1, 1, tzinfo=UTC)

    def case(number: str, status: str, **fields) -> dict:
        timeline = [{"at": long_ago - timedelta(days=9), "action": "submit"}, {"at": long_ago, "action": status}]
        return {"_id": number, "number": number, "status": status, "timeline": timeline, **fields}

    try:
        await db["complaints"].insert_many(
            [
                *(case(f"GC-20230504-{n:06d}", ("closed", "withdrawn", "rejected")[n % 3]) for n in range(700)),
                case("GC-20230504-900001", "forwarded"),
                case("GC-20230504-900002", "closed", ended_at=recorded),
            ]
        )
        runner = Migrations(db, discover(migrations.__name__), settings)
        await runner.migrate(wait_s=60)
        assert (await runner.applied())["m0005_backfill_ended_at"]["result"]["backfilled"] == 700
        complaints = db["complaints"]
        assert await complaints.count_documents({"ended_at": long_ago}) == 700
        assert "ended_at" not in await complaints.find_one({"_id": "GC-20230504-900001"})
        assert await complaints.count_documents({"_id": "GC-20230504-900002", "ended_at": recorded}) == 1
        assert await db["staff_changes"].find_one({"_id": "staff"}) == {"_id": "staff", "count": 0}

        await db["migrations"].delete_one({"_id": "m0005_backfill_ended_at"})
        assert await runner.migrate(wait_s=30) == ["m0005_backfill_ended_at"]
        assert (await runner.applied())["m0005_backfill_ended_at"]["result"].get("backfilled", 0) == 0
    finally:
        await client.drop_database(db_name)
        await client.close()
