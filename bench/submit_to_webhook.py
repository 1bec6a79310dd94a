"""Submit complaints through the whole platform and measure it against its raw ceiling.

Prints one JSON document: intake throughput and latency percentiles, submit -> webhook received
latency percentiles, MongoDB write commands (in all, per service and per collection) and
transactions and broker publishes per complaint, from filing to forwarded (counted by a command
listener and a publish counter, not estimated), and, measured in the same run with the same store
and broker, the raw ceiling: a bare loop of the same transactional store write (case + outbox entry)
followed by a confirmed publish, with the ratio of the two throughputs.

Two loads: a burst (every complaint at once, ``--concurrency`` in flight), where batches are as large as
they get, and a paced one (``--rate N`` complaints per second for ``--duration`` seconds), which shows
what a steady load costs: batches are small then, the honest case for what one complaint costs.

The platform runs with the test settings' short polls and retry delays, except the statistics fold, which
runs at its production cadence (``STATISTICS_FOLD_INTERVAL_S``): it trades how fresh public figures are
for writes, and the tests' 0.2 s would count five folds where production makes one.

    python -m bench.submit_to_webhook [--complaints 300] [--concurrency 16]
    python -m bench.submit_to_webhook --rate 3 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aio_pika
from pymongo import monitoring

from bench.common import run_and_print

WRITE_COMMANDS = {"insert", "update", "delete", "findAndModify"}


class WriteCounter(monitoring.CommandListener):
    """Counts write commands by command and by ``<database>.<collection>``, and transactions ended."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.by_collection: Counter[str] = Counter()

    def clear(self) -> None:
        self.counts.clear()
        self.by_collection.clear()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in WRITE_COMMANDS:
            self.counts[event.command_name] += 1
            self.by_collection[f"{event.database_name}.{event.command[event.command_name]}"] += 1
        elif event.command_name in ("commitTransaction", "abortTransaction"):
            self.counts[event.command_name] += 1

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass

    def writes(self) -> int:
        return sum(self.counts[name] for name in WRITE_COMMANDS)


class PublishCounter:
    """Counts every confirmed publish the process makes, whatever the exchange."""

    def __init__(self) -> None:
        self.count = 0
        original = aio_pika.Exchange.publish
        counter = self

        async def counted(exchange, *args, **kwargs):
            result = await original(exchange, *args, **kwargs)
            counter.count += 1
            return result

        # Wrapped in place: the platform's brokers publish through this method.
        aio_pika.Exchange.publish = counted  # type: ignore[method-assign, assignment]


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "p50_ms": round(pick(0.50) * 1000, 1),
        "p95_ms": round(pick(0.95) * 1000, 1),
        "p99_ms": round(pick(0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


def complaint_form(i: int, company: str) -> dict:
    return {
        "complainant": {"name": "测试用户", "id_number": "11010519491231002X", "phone": "13800138000"},
        "company": {"name": company},
        "category": "billing",
        "title": f"扣费争议第{i}号",
        "description": "未经同意开通增值服务并每月扣费，要求退款。" * 3,
        "occurred_on": "2026-10-01",
        "desired_outcome": "退还全部扣费",
    }


async def run(complaints: int, concurrency: int, rate: float | None, workdir: Path) -> dict:
    from devstack import standins
    from devstack.platform import running_platform
    from greenchannel.contracts import CloudEvent, ComplaintSubmitted
    from greenchannel.messaging import Broker
    from greenchannel.mongo import in_transaction, make_client
    from greenchannel.settings import ServiceSettings
    from intake.config import Settings as IntakeSettings

    production_fold_interval_s = IntakeSettings.model_fields["statistics_fold_interval_s"].default
    writes = WriteCounter()
    monitoring.register(writes)
    publishes = PublishCounter()
    run_id = uuid.uuid4().hex[:8]
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    if not standins.ensure_rabbitmq(amqp_url).reachable:
        raise SystemExit("RabbitMQ is required at AMQP_URL")
    mongo = standins.start_secantus(workdir / "secantus", log_dir=workdir)
    s3 = standins.start_nanio(workdir / "nanio", log_dir=workdir)
    broker: dict[str, Any] = {
        "amqp_url": amqp_url,
        "event_exchange": f"bench-{run_id}.events",
        "queue_prefix": f"bench-{run_id}",
    }
    mongo_url = standins.mongo_url(mongo.port)
    try:
        async with running_platform(
            mongo_url=mongo_url,
            s3_endpoint=f"127.0.0.1:{s3.port}",
            broker=broker,
            db_prefix=f"bench{run_id}",
            bucket=f"bench-{run_id}",
            log_level="ERROR",
            # One client files every complaint: the per-address limit would stop it.
            intake_settings={"rate_limits_enabled": False, "statistics_fold_interval_s": production_fold_interval_s},
        ) as platform:
            listing = (await platform.routing.get("/v1/companies", params={"limit": 1})).json()
            company = (listing["items"] if isinstance(listing, dict) else listing)[0]["name"]
            await asyncio.sleep(1.0)  # consumers bound
            writes.clear()
            publishes.count = 0
            submitted_at: dict[str, float] = {}
            latencies: list[float] = []
            semaphore = asyncio.Semaphore(concurrency)

            async def submit(i: int) -> None:
                if rate is not None:
                    # Paced: the i-th filing starts at i / rate seconds, whatever the others are doing.
                    await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
                async with semaphore:
                    started = time.monotonic()
                    response = await platform.intake.post("/v1/complaints", json=complaint_form(i, company))
                    latencies.append(time.monotonic() - started)
                    response.raise_for_status()
                    submitted_at[response.json()["number"]] = started

            began = time.monotonic()
            await asyncio.gather(*(submit(i) for i in range(complaints)))
            intake_elapsed = time.monotonic() - began
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                numbers = {d.body["data"]["number"] for d in platform.receiver.received}
                if submitted_at.keys() <= numbers:
                    break
                await asyncio.sleep(0.2)
            # Let intake apply webhook.delivered (the last hop) before counting.
            intake_db = platform.apps["intake"].state.runtime.db
            while time.monotonic() < deadline:
                if await intake_db.complaints.count_documents({"status": "forwarded"}) >= len(submitted_at):
                    break
                await asyncio.sleep(0.2)
            end_to_end_elapsed = time.monotonic() - began
            first_delivery: dict[str, float] = {}
            for delivery in platform.receiver.received:
                first_delivery.setdefault(delivery.body["data"]["number"], delivery.received_at)
            to_webhook = [first_delivery[n] - t for n, t in submitted_at.items() if n in first_delivery]
            platform_writes, platform_commits, platform_publishes = (
                writes.writes(),
                writes.counts["commitTransaction"],
                publishes.count,
            )
            platform_aborts = writes.counts["abortTransaction"]
            db_prefix = f"bench{run_id}_"
            per_collection = {name.removeprefix(db_prefix): count for name, count in writes.by_collection.most_common()}
            per_service: Counter[str] = Counter()
            for name, count in per_collection.items():
                per_service[name.split(".", 1)[0]] += count

        # The raw ceiling: the same transactional write and a confirmed publish, nothing else.
        settings = ServiceSettings(service_name="bench-raw", mongo_url=mongo_url, **broker)
        client = make_client(mongo_url, "bench-raw")
        db = client[f"bench{run_id}_raw"]
        raw_broker = Broker(settings)
        await raw_broker.connect()
        sample = {"x": "y" * 2000}
        raw_semaphore = asyncio.Semaphore(concurrency)

        async def raw_once(i: int) -> None:
            async with raw_semaphore:
                event = CloudEvent.wrap(
                    ComplaintSubmitted(
                        number=f"RAW-{i}",
                        category="billing",
                        title="t",
                        description="d",
                        occurred_on="2026-10-01",
                        desired_outcome="o",
                        complainant_key="k",
                        region_code="11",
                        submitted_at="2026-10-01T00:00:00Z",
                    ),
                    source="/bench",
                )

                async def write(session):
                    await db.cases.insert_one({"_id": f"RAW-{i}", **sample}, session=session)
                    await db.outbox.insert_one(
                        {"_id": event.id, "event": event.model_dump(mode="json")}, session=session
                    )

                await in_transaction(client, write)
                await raw_broker.publish(event)

        raw_began = time.monotonic()
        await asyncio.gather(*(raw_once(i) for i in range(complaints)))
        raw_elapsed = time.monotonic() - raw_began
        await raw_broker.close()
        await client.close()
    finally:
        await cleanup_broker(amqp_url, broker)
        mongo.stop()
        s3.stop()

    intake_rate = complaints / intake_elapsed
    raw_rate = complaints / raw_elapsed

    def each(count: int) -> float:
        return round(count / complaints, 2)

    return {
        "benchmark": "submit_to_webhook",
        "load": {"paced_per_s": rate, "duration_s": round(complaints / rate, 1)} if rate else {"burst": True},
        "complaints": complaints,
        "concurrency": concurrency,
        "statistics_fold_interval_s": production_fold_interval_s,
        "intake": {"throughput_per_s": round(intake_rate, 1), "latency": percentiles(latencies)},
        "submit_to_webhook": {
            "delivered": len(to_webhook),
            "throughput_per_s": round(len(to_webhook) / end_to_end_elapsed, 1),
            "latency": percentiles(to_webhook),
        },
        "per_complaint": {
            "mongo_write_commands": each(platform_writes),
            "mongo_transactions_committed": each(platform_commits),
            "mongo_transactions_aborted": each(platform_aborts),
            "broker_publishes": each(platform_publishes),
            "write_commands_per_service": {name: each(count) for name, count in per_service.most_common()},
            "write_commands_per_collection": {name: each(count) for name, count in per_collection.items()},
        },
        "raw_ceiling": {
            "what": "one transaction (case + outbox insert) then one confirmed publish",
            "throughput_per_s": round(raw_rate, 1),
        },
        "ratio_intake_to_raw": round(intake_rate / raw_rate, 3),
    }


async def cleanup_broker(amqp_url: str, broker: dict) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for service in ("intake", "evidence", "routing", "notification"):
            for suffix in ("", ".retry", ".dlq"):
                channel = await connection.channel()
                with contextlib.suppress(aio_pika.exceptions.AMQPError):  # a queue this run never declared
                    await channel.queue_delete(f"{broker['queue_prefix']}.{service}{suffix}")
        channel = await connection.channel()
        await channel.exchange_delete(broker["event_exchange"])


def main() -> int:
    parser = argparse.ArgumentParser(description="Submit -> webhook benchmark")
    parser.add_argument("--complaints", type=int, default=300, help="burst: how many complaints at once")
    parser.add_argument("--concurrency", type=int, default=16, help="filings in flight at most")
    parser.add_argument("--rate", type=float, help="paced: complaints per second (instead of a burst)")
    parser.add_argument("--duration", type=float, default=60, help="paced: seconds of filing")
    args = parser.parse_args()
    complaints = round(args.rate * args.duration) if args.rate else args.complaints
    return run_and_print(lambda workdir: run(complaints, args.concurrency, args.rate, workdir), "bench-")


if __name__ == "__main__":
    sys.exit(main())
