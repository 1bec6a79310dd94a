"""What the sealing migration costs: notification's ``m0002_seal_delivery_payloads`` over the delivery records of
the bench set's complaints.

The complaints are those of ``bench.public_scale``'s generator (``--complaints``, 100,000 by default; the same seed,
so the same cases as that bench's set of that size); every forwarded one gets the delivery record notification kept
of its ``complaint.forwarded`` webhook, in the shape written before payloads were sealed (``payload`` in plaintext:
the number, company, category, title, the complainant's text and masked identity; no expiry). They are written into
a SecantusDB this bench starts, in a store whose indexes are those of notification's first step (as a store the
previous release ran on has them), and the pending steps are applied through ``greenchannel.migrations`` as a
start-up or ``python -m notification.migrate`` applies them.

The baseline, measured in the same run on a second copy of the same records in a store with the same indexes: the
same read (one cursor over the records still in plaintext, 500 a batch) and the same update per record (the payload replaced by a value of the
sealed one's size, the expiry set), with a ciphertext made once instead of per record and no progress recorded: the
store's floor for rewriting every record once. The JSON gives both times, records per second, and their ratio.

    python -m bench.migrations [--complaints 100000] [--order baseline-first|migration-first]
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


async def measure(workdir: Path, complaints: int, baseline_first: bool) -> dict[str, Any]:
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

        started = time.perf_counter()
        rng = random.Random(11)  # bench.public_scale's seed and weights: the same cases
        weights = [1 / (rank + 1) for rank in range(len(COMPANIES))]
        sealed_name = {"kid": "dev-1", "nonce": "AAAAAAAAAAAAAAAA", "ct": "AAAAAAAAAAAAAAAAAAAAAAAA"}
        batch: list[dict[str, Any]] = []
        records = payload_bytes = 0
        sample: dict[str, Any] = {}
        for index in range(complaints + 1):
            if index < complaints:
                case = generate_case(rng, index, weights, sealed_name, {}, "")
                if case.get("forwarded_at") is not None:
                    batch.append(old_delivery(case))
            if batch and (len(batch) >= BATCH or index == complaints):
                sample = batch[0]["payload"]
                payload_bytes += sum(
                    len(json.dumps(record["payload"], ensure_ascii=False).encode()) for record in batch
                )
                await migrated["deliveries"].insert_many(batch)
                await baseline["deliveries"].insert_many(batch)
                records += len(batch)
                batch = []
        generated_s = time.perf_counter() - started

        # The baseline: the same reads and writes, no encryption per record, no progress.
        cipher = KeyRingCipher.from_settings(
            settings.webhook_secret_keys.get_secret_value(), settings.webhook_secret_active_key_id
        )
        retention = timedelta(days=settings.delivery_body_retention_days)
        one_ciphertext = cipher.encrypt_json(PAYLOAD_FIELD, sample)

        async def bare_rewrite() -> None:
            collection = baseline["deliveries"]
            async for record in collection.find({"payload": {"$exists": True}}, batch_size=500):
                await collection.update_one(
                    {"_id": record["_id"], "payload": {"$exists": True}},
                    {
                        "$set": {"sealed_payload": one_ciphertext, "body_expires_at": record["created_at"] + retention},
                        "$unset": {"payload": ""},
                    },
                )

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
        return {
            "bench": "migrations",
            "step": "notification m0002_seal_delivery_payloads",
            "complaints_generated": complaints,
            "first": "baseline" if baseline_first else "migration",
            "delivery_records": records,
            "payload_bytes_mean": round(payload_bytes / max(records, 1)),
            "generate_s": round(generated_s, 1),
            "applied": applied,
            "migration_s": round(migration_s, 1),
            "step_s": step["seconds"],
            "records_per_s": round(records / step["seconds"]),
            "baseline_s": round(baseline_s, 1),
            "baseline_records_per_s": round(records / baseline_s),
            "ratio_to_baseline": round(step["seconds"] / baseline_s, 2),
            "estimated_s_per_million_records": round(step["seconds"] / records * 1_000_000),
            "load_average": [round(value, 2) for value in os.getloadavg()],
        }
    finally:
        await client.close()
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--order", choices=("baseline-first", "migration-first"), default="baseline-first")
    arguments = parser.parse_args()
    baseline_first = arguments.order == "baseline-first"
    return run_and_print(lambda workdir: measure(workdir, arguments.complaints, baseline_first), "bench-migrations-")


if __name__ == "__main__":
    sys.exit(main())
