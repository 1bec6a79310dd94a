"""Throughput with 1 and with 3 replicas of each service, run as separate processes, and CPU per complaint.

For each replica count the platform runs as real processes (``devstack.processes``) on SecantusDB,
nanio and the local RabbitMQ, with a webhook receiver in this process standing in for every company:

1. streaming: complaints are filed (over HTTP, spread over the intake replicas) while every stage
   runs; measured until every case is final (forwarded, rejected, or under review for an unknown company);
2. stage by stage: routing and notification are stopped, complaints are filed and wait in routing's
   queue; then routing replicas start and drain it; then notification replicas start and deliver.
   Each stage's rate is taken from the store's own timestamps (decisions' ``screened_at``,
   deliveries' ``finished_at``) between the 10th and 90th percentile, so start-up does not count;
3. evidence: screenshots (~360 KB PNG) uploaded through intake, which streams them to evidence.

CPU seconds per complaint of every service (all its replicas) and of the stand-in store are read
from /proc; with a replica limited to one core, 1 / (CPU s per complaint) is what one replica can
carry when it is the bottleneck. Prints one JSON document.

    python -m bench.replicas [--complaints 300] [--concurrency 16] [--replicas 1 3]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import sys
import time
import uuid
from pathlib import Path

import bson
import httpx
from PIL import Image

from bench.common import run_and_print
from bench.submit_to_webhook import cleanup_broker, complaint_form

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (Linux /proc); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def spread(values: list[float]) -> tuple[float, float]:
    """The 10th and 90th percentile of ``values`` (timestamps in seconds)."""
    ordered = sorted(values)
    return ordered[int(0.1 * (len(ordered) - 1))], ordered[int(0.9 * (len(ordered) - 1))]


def rate_between_percentiles(stamps: list[float]) -> float | None:
    if len(stamps) < 10:
        return None
    low, high = spread(stamps)
    return round(0.8 * len(stamps) / (high - low), 1) if high > low else None


async def until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def file_complaints(
    http: httpx.AsyncClient, platform, companies: list[dict], count: int, concurrency: int, tag: str
) -> tuple[list[str], float]:
    """File ``count`` complaints (one in five to an unknown company) round-robin over the intake replicas."""
    semaphore = asyncio.Semaphore(concurrency)
    numbers: list[str] = []

    async def one(i: int) -> None:
        async with semaphore:
            known = i % 5 != 0
            name = companies[i % len(companies)]["name"] if known else f"未知公司{tag}{i}"
            response = await http.post(f"{platform.url('intake', i)}/v1/complaints", json=complaint_form(i, name))
            response.raise_for_status()
            numbers.append(response.json()["number"])

    began = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(count)))
    return numbers, time.monotonic() - began


def screenshot(seed: int) -> bytes:
    """A PNG of random pixels (incompressible, ~360 KB): the size of a phone screenshot."""
    noise = random.Random(seed).randbytes(400 * 300 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (400, 300), noise).save(buffer, format="PNG")
    return buffer.getvalue()


async def upload_screenshots(http: httpx.AsyncClient, platform, count: int, concurrency: int) -> tuple[int, float]:
    semaphore = asyncio.Semaphore(concurrency)
    images = [screenshot(i) for i in range(8)]
    sizes: list[int] = []

    async def one(i: int) -> None:
        async with semaphore:
            image = images[i % len(images)]
            response = await http.post(
                f"{platform.url('intake', i)}/v1/evidence", files={"file": (f"screenshot-{i}.png", image, "image/png")}
            )
            response.raise_for_status()
            sizes.append(len(image))

    began = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(count)))
    return sum(sizes), time.monotonic() - began


async def measure(
    replicas: int,
    complaints: int,
    concurrency: int,
    *,
    mongo_url: str,
    s3_endpoint: str,
    amqp_url: str,
    log_dir: Path,
    secantus_pid: int,
) -> dict:
    from devstack.platform import WEBHOOK_SECRET, register_endpoints
    from devstack.processes import running_replicas
    from devstack.receiver import WebhookReceiver
    from devstack.servers import serve
    from greenchannel.mongo import make_client

    run = uuid.uuid4().hex[:8]
    broker = {"amqp_url": amqp_url, "event_exchange": f"bench-{run}.events", "queue_prefix": f"bench-{run}"}
    layout = {"evidence": replicas, "intake": replicas, "routing": replicas, "notification": replicas}
    receiver = WebhookReceiver(WEBHOOK_SECRET)
    store = make_client(mongo_url, "bench-replicas")
    db = {service: store[f"bench{run}_{service}"] for service in layout}
    result: dict = {"replicas": layout}
    try:
        async with (
            serve(receiver.app()) as receiver_url,
            running_replicas(
                mongo_url=mongo_url,
                s3_endpoint=s3_endpoint,
                broker=broker,
                db_prefix=f"bench{run}",
                bucket=f"bench-{run}",
                log_dir=log_dir / f"r{replicas}",
                replicas=layout,
                fast=False,
                log_level="ERROR",
            ) as platform,
            httpx.AsyncClient(timeout=60) as http,
        ):
            async with (
                httpx.AsyncClient(base_url=platform.url("routing")) as routing,
                httpx.AsyncClient(base_url=platform.url("notification")) as notification,
            ):
                await register_endpoints(routing, notification, receiver_url)
                listing = (await routing.get("/v1/companies", params={"limit": 100})).json()
            companies = listing["items"] if isinstance(listing, dict) else listing

            def cpu() -> dict[str, float]:
                used = {service: sum(cpu_seconds(r.pid) for r in platform.replicas[service]) for service in layout}
                return {**used, "secantusdb": cpu_seconds(secantus_pid)}

            async def final(numbers: list[str]) -> bool:
                done = await db["intake"].complaints.count_documents(
                    {"_id": {"$in": numbers}, "status": {"$in": ["forwarded", "rejected", "under_review"]}}
                )
                return done == len(numbers)

            # 1. Streaming, every stage running.
            cpu_before = cpu()
            began = time.monotonic()
            numbers, filing_s = await file_complaints(http, platform, companies, complaints, concurrency, "s")
            await until(lambda: final(numbers), 600, "the streamed complaints to be final")
            elapsed = time.monotonic() - began
            cpu_after = cpu()
            # What the store keeps per complaint: BSON bytes of every document, per collection
            # (indexes not included), while only the streamed complaints exist.
            stored: dict[str, float] = {}
            for service, database in db.items():
                for name in await database.list_collection_names():
                    size = sum([len(bson.encode(doc)) async for doc in database[name].find({})])
                    if size:
                        stored[f"{service}.{name}"] = round(size / complaints)
            result["streaming"] = {
                "complaints": complaints,
                "intake_filing_per_s": round(complaints / filing_s, 1),
                "end_to_end_per_s": round(complaints / elapsed, 1),
                "cpu_s_per_complaint": {
                    name: round((cpu_after[name] - cpu_before[name]) / complaints, 4) for name in cpu_after
                },
                "store_bytes_per_complaint": {**stored, "total": sum(stored.values())},
            }

            # 2. Stage by stage: the work queues up in front of a stopped stage, then the stage drains it.
            for service in ("routing", "notification"):
                for replica in list(platform.replicas[service]):
                    await replica.aterminate()
                    platform.replicas[service].remove(replica)
                    platform.retired.append(replica)
            numbers, filing_s = await file_complaints(http, platform, companies, complaints, concurrency, "q")
            accepted = sum(1 for i in range(complaints) if i % 5 != 0)

            async def queued() -> bool:
                return await db["intake"].outbox.count_documents({"sent_at": None}) == 0

            await until(queued, 120, "intake's outbox to be published")
            await asyncio.gather(*(platform.add_replica("routing") for _ in range(replicas)))

            async def screened() -> bool:
                return await db["routing"].decisions.count_documents({"_id": {"$in": numbers}}) == complaints

            await until(screened, 600, "routing to screen the queued complaints")
            decided = [
                d["screened_at"].timestamp()
                async for d in db["routing"].decisions.find({"_id": {"$in": numbers}}, projection={"screened_at": 1})
            ]

            async def accepted_in_intake() -> bool:
                return (
                    await db["intake"].complaints.count_documents(
                        {"_id": {"$in": numbers}, "status": {"$in": ["accepted", "rejected", "under_review"]}}
                    )
                    == complaints
                )

            await until(accepted_in_intake, 600, "intake to apply the decisions")
            await asyncio.gather(*(platform.add_replica("notification") for _ in range(replicas)))

            async def delivered() -> bool:
                return (
                    await db["notification"].deliveries.count_documents(
                        {"number": {"$in": numbers}, "status": "delivered"}
                    )
                    == accepted
                )

            await until(delivered, 600, "notification to deliver the queued complaints")
            finished = [
                d["finished_at"].timestamp()
                async for d in db["notification"].deliveries.find(
                    {"number": {"$in": numbers}}, projection={"finished_at": 1}
                )
            ]
            await until(lambda: final(numbers), 600, "the queued complaints to be final")
            # Evidence: screenshots uploaded through intake (which streams them to evidence).
            uploads = max(complaints // 3, 20)
            cpu_before = cpu()
            uploaded, upload_s = await upload_screenshots(http, platform, uploads, concurrency)
            cpu_after = cpu()
            records = sum([len(bson.encode(doc)) async for doc in db["evidence"].evidence.find({})])
            result["evidence_uploads"] = {
                "uploads": uploads,
                "mean_bytes": round(uploaded / uploads),
                "store_bytes_per_upload": round(records / uploads),
                "uploads_per_s": round(uploads / upload_s, 1),
                "cpu_s_per_upload": {
                    name: round((cpu_after[name] - cpu_before[name]) / uploads, 4)
                    for name in ("intake", "evidence", "secantusdb")
                },
            }
            result["stages"] = {
                "intake_filing_per_s": round(complaints / filing_s, 1),
                "routing_screening_per_s": rate_between_percentiles(decided),
                "notification_delivery_per_s": rate_between_percentiles(finished),
            }
    finally:
        await store.close()
        await cleanup_broker(amqp_url, broker)
    return result


async def run(complaints: int, concurrency: int, replica_counts: list[int], workdir: Path) -> dict:
    from devstack import standins

    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    if not standins.ensure_rabbitmq(amqp_url).reachable:
        raise SystemExit("RabbitMQ is required at AMQP_URL")
    mongo = standins.start_secantus(workdir / "secantus", log_dir=workdir)
    s3 = standins.start_nanio(workdir / "nanio", log_dir=workdir)
    try:
        runs = [
            await measure(
                count,
                complaints,
                concurrency,
                mongo_url=standins.mongo_url(mongo.port),
                s3_endpoint=f"127.0.0.1:{s3.port}",
                amqp_url=amqp_url,
                log_dir=workdir / "logs",
                secantus_pid=mongo.process.pid,
            )
            for count in replica_counts
        ]
    finally:
        mongo.stop()
        s3.stop()
    return {
        "benchmark": "replicas",
        "machine": {"cpus": os.cpu_count()},
        "complaints_per_run": complaints,
        "concurrency": concurrency,
        "runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Throughput with 1 and 3 replicas of each service (processes)")
    parser.add_argument("--complaints", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 3])
    args = parser.parse_args()
    return run_and_print(
        lambda workdir: run(args.complaints, args.concurrency, args.replicas, workdir), "bench-replicas-"
    )


if __name__ == "__main__":
    sys.exit(main())
