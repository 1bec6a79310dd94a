"""What the sealing migration costs: notification's ``m0002_seal_delivery_payloads`` over the delivery records of
the bench set's complaints.

The complaints are those of ``bench.public_scale``'s generator (``--complaints``, 100,000 by default; the same seed,
so the same cases as that bench's set of that size); every forwarded one gets the delivery record notification kept
of its ``complaint.forwarded`` webhook, in the shape written before payloads were sealed (``payload`` in plaintext:
the number, company, category, title, the complainant's text and masked identity; no expiry). They are written into
a SecantusDB this bench starts, in a store whose indexes are those of notification's first step (as a store the
previous release ran on has them), and the pending steps are applied through ``greenchannel.migrations`` as a
start-up or ``python -m notification.migrate`` applies them.

The baseline, measured in the same run on a second copy of the records in a store with the same indexes: the same
read (one cursor over the records still in plaintext, 500 a batch) and the same writes (the conditional update per
record, a batch's updates sent as one unordered bulk write, the payload replaced by a value of the sealed one's
size, the expiry set), with a ciphertext made once instead of per record and no progress recorded: the store's floor
for rewriting every record once. ``--baseline-complaints`` gives the baseline the records of only the first N
complaints (at a million, a second full copy would double a long run); the ratio is then one of seconds per record.
The JSON gives the time of building the set (``generate_s``) and of writing it (``insert_s``) apart, both times,
records per second, and their ratio.

    python -m bench.migrations [--complaints 100000] [--baseline-complaints N] [--order baseline-first|migration-first]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import run_and_print
from bench.public_scale import COMPANIES, generate_case

BATCH = 2000
# The baseline's writes per bulk write: the step's batch (greenchannel.migrations.BATCH_SIZE).
REWRITE_BATCH = 500


def old_delivery(case: dict[str, Any]) -> dict[str, Any]:
    """The delivery record of a forwarded complaint's webhook, as notification wrote it before sealing."""
    forwarded = case["forwarded_at"]
    number = case["number"]
    return {
        "_id": f"msg_{number}",
        "company_id": case["company_id"],
        "number": number,
        "event_type": "complaint.forwarded",
        "status": "delivered",
        "payload": {
            "type": "complaint.forwarded",
            "timestamp": forwarded.isoformat(),
            "data": {
                "number": number,
                "company_id": case["company_id"],
                "category": case["category"],
                "title": case["title"],
                "description": case["description"],
                "occurred_on": case["occurred_on"],
                "desired_outcome": case["desired_outcome"],
                "complainant": {"name": "王*", "phone": "138****0000"},
                "response_due": case["response_due"],
            },
        },
        "attempts": [{"at": forwarded, "status_code": 200, "duration_ms": 35}],
        "created_at": forwarded,
        "next_attempt_at": None,
        "round_start": 0,
    }


async def measure(workdir: Path, complaints: int, baseline_complaints: int, baseline_first: bool) -> dict[str, Any]:
    from pymongo import UpdateOne

    from devstack import standins
    from greenchannel.migrations import Migrations, discover
    from greenchannel.mongo import make_client
    from greenchannel.sealing import KeyRingCipher
    from notification import migrations
    from notification.adapters.deliveries import PAYLOAD_FIELD
    from notification.config import Settings

    server = standins.start_secantus(workdir / "secantus", log_dir=workdir)
    mongo_url = standins.mongo_url(server.port)
    client = make_client(mongo_url, "bench-migrations")
    try:
        steps = discover(migrations.__name__)
        settings = Settings(mongo_url=mongo_url, mongo_db="bench_notification")
        migrated, baseline = client["bench_notification"], client["bench_baseline"]
        # Both stores as the previous release left them: notification's indexes, before the records.
        for db in (migrated, baseline):
            await Migrations(db, steps[:1], settings).migrate(wait_s=60)

        rng = random.Random(11)  # bench.public_scale's seed and weights: the same cases
        weights = [1 / (rank + 1) for rank in range(len(COMPANIES))]
        sealed_name = {"kid": "dev-1", "nonce": "AAAAAAAAAAAAAAAA", "ct": "AAAAAAAAAAAAAAAAAAAAAAAA"}
        batch: list[dict[str, Any]] = []
        records = baseline_records = payload_bytes = 0
        generated_s = inserted_s = 0.0
        sample: dict[str, Any] = {}

        async def write(into_baseline: bool) -> None:
            nonlocal records, baseline_records, payload_bytes, inserted_s, sample, batch
            sample = batch[0]["payload"]
            payload_bytes += sum(len(json.dumps(record["payload"], ensure_ascii=False).encode()) for record in batch)
            started = time.perf_counter()
            await migrated["deliveries"].insert_many(batch)
            if into_baseline:
                await baseline["deliveries"].insert_many(batch)
                baseline_records += len(batch)
            inserted_s += time.perf_counter() - started
            if (records + len(batch)) // 100_000 != records // 100_000:
                print(f"{records + len(batch)} records written", file=sys.stderr, flush=True)
            records += len(batch)
            batch = []

        for index in range(complaints):
            if index == baseline_complaints and batch:
                # The baseline holds the records of exactly its complaints.
                await write(into_baseline=True)
            started = time.perf_counter()
            case = generate_case(rng, index, weights, sealed_name, {}, "")
            if case.get("forwarded_at") is not None:
                batch.append(old_delivery(case))
            generated_s += time.perf_counter() - started
            if len(batch) >= BATCH:
                await write(into_baseline=index < baseline_complaints)
        if batch:
            await write(into_baseline=complaints <= baseline_complaints)

        # The baseline: the same reads and writes, no encryption per record, no progress.
        cipher = KeyRingCipher.from_settings(
            settings.webhook_secret_keys.get_secret_value(), settings.webhook_secret_active_key_id
        )
        retention = timedelta(days=settings.delivery_body_retention_days)
        one_ciphertext = cipher.encrypt_json(PAYLOAD_FIELD, sample)

        async def bare_rewrite() -> None:
            collection = baseline["deliveries"]
            writes: list[UpdateOne] = []
            async for record in collection.find({"payload": {"$exists": True}}, batch_size=REWRITE_BATCH):
                writes.append(
                    UpdateOne(
                        {"_id": record["_id"], "payload": {"$exists": True}},
                        {
                            "$set": {
                                "sealed_payload": one_ciphertext,
                                "body_expires_at": record["created_at"] + retention,
                            },
                            "$unset": {"payload": ""},
                        },
                    )
                )
                if len(writes) == REWRITE_BATCH:
                    await collection.bulk_write(writes, ordered=False)
                    writes = []
            if writes:
                await collection.bulk_write(writes, ordered=False)

        applied: list[str] = []

        async def migration() -> None:
            applied.extend(await Migrations(migrated, steps, settings).migrate(wait_s=60))

        # What runs second finds the store warmer (and the machine's load changed): --order tells which went first.
        timings: dict[str, float] = {}
        for name, work in sorted(
            {"baseline": bare_rewrite, "migration": migration}.items(), reverse=not baseline_first
        ):
            started = time.perf_counter()
            await work()
            timings[name] = time.perf_counter() - started
        baseline_s, migration_s = timings["baseline"], timings["migration"]
        recorded = await Migrations(migrated, steps, settings).applied()
        step = recorded["m0002_seal_delivery_payloads"]
        left = await migrated["deliveries"].count_documents({"payload": {"$exists": True}})
        assert left == 0 and step["result"]["sealed"] == records, (left, step["result"])
        left = await baseline["deliveries"].count_documents({"payload": {"$exists": True}})
        assert left == 0, left
        step_per_record, baseline_per_record = step["seconds"] / records, baseline_s / max(baseline_records, 1)
        return {
            "bench": "migrations",
            "step": "notification m0002_seal_delivery_payloads",
            "complaints_generated": complaints,
            "first": "baseline" if baseline_first else "migration",
            "delivery_records": records,
            "payload_bytes_mean": round(payload_bytes / max(records, 1)),
            "generate_s": round(generated_s, 1),
            "insert_s": round(inserted_s, 1),
            "applied": applied,
            "migration_s": round(migration_s, 1),
            "step_s": step["seconds"],
            "records_per_s": round(records / step["seconds"]),
            "baseline_complaints": baseline_complaints,
            "baseline_records": baseline_records,
            "baseline_s": round(baseline_s, 1),
            "baseline_records_per_s": round(baseline_records / baseline_s),
            # Seconds per record, so a baseline over fewer records (--baseline-complaints) compares alike.
            "ratio_to_baseline": round(step_per_record / baseline_per_record, 2),
            "estimated_s_per_million_records": round(step["seconds"] / records * 1_000_000),
            "load_average": [round(value, 2) for value in os.getloadavg()],
        }
    finally:
        await client.close()
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument(
        "--baseline-complaints",
        type=int,
        default=None,
        help="the baseline over the records of the first N complaints only (default: all of them)",
    )
    parser.add_argument("--order", choices=("baseline-first", "migration-first"), default="baseline-first")
    arguments = parser.parse_args()
    baseline_first = arguments.order == "baseline-first"
    baseline_complaints = min(arguments.baseline_complaints or arguments.complaints, arguments.complaints)
    return run_and_print(
        lambda workdir: measure(workdir, arguments.complaints, baseline_complaints, baseline_first),
        "bench-migrations-",
    )


if __name__ == "__main__":
    sys.exit(main())
