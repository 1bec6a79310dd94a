"""Public reads under load: requests per second, p50 and p99 of every public GET at a fixed concurrency,
each as a ratio to ``/healthz`` (an answer that reads nothing) measured in the same run, without and with
conditional requests (``If-None-Match`` with the ETag the endpoint gave: a CDN or browser revalidating).

One intake process, started with its production command (granian, one worker) on a SecantusDB this bench
starts and seeds with ``--complaints`` realistic complaints (``bench.public_scale``'s generator: their public
records and statistics rollups as intake's projection writes them), routing away (labels fall back to
codes). The clients are ``--concurrency`` asyncio tasks sharing one httpx client on loopback, each
endpoint for ``--seconds``, in half-second slices alternating with ``/healthz`` (the ratio is to the
ceiling measured in the slices between: the machine may be shared); the load average of the machine is
printed with the figures. Prints one JSON document.

    python -m bench.public_reads [--complaints 2000] [--concurrency 16] [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import run_and_print
from bench.public_scale import ACCESS_CODE, COMPANIES, generate, percentile
from bench.submit_to_webhook import cleanup_broker

DB = "bench_public_reads"
HEALTHZ: list[tuple[str, dict[str, str]]] = [("/healthz", {})]
SLICE_S = 0.5
UNIQUE = 50_000  # more than any run asks for


@dataclass
class Load:
    """What ``concurrency`` clients measured: latencies (ms), requests, seconds, statuses not expected."""

    samples: list[float] = field(default_factory=list)
    seconds: float = 0.0
    unexpected: dict[int, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        figures: dict[str, Any] = {
            "requests_per_s": round(len(self.samples) / self.seconds, 1),
            "p50_ms": round(statistics.median(self.samples), 1),
            "p99_ms": round(percentile(self.samples, 0.99), 1),
            "requests": len(self.samples),
        }
        if self.unexpected:
            figures["unexpected_statuses"] = self.unexpected
        return figures


async def load(
    http: httpx.AsyncClient,
    requests: list[tuple[str, dict[str, str]]],
    into: Load,
    *,
    concurrency: int,
    seconds: float,
    expect: int = 200,
) -> None:
    """``concurrency`` clients sending ``requests`` (path, headers) in turn for ``seconds``, noted ``into``."""
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        index = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            path, headers = requests[index % len(requests)]
            response = await http.get(path, headers=headers)
            into.samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != expect:
                into.unexpected[response.status_code] = into.unexpected.get(response.status_code, 0) + 1
            index += concurrency

    began = time.perf_counter()
    await asyncio.gather(*(client(offset) for offset in range(concurrency)))
    into.seconds += time.perf_counter() - began


async def against_healthz(
    http: httpx.AsyncClient,
    requests: list[tuple[str, dict[str, str]]],
    *,
    concurrency: int,
    seconds: float,
    expect: int = 200,
) -> dict:
    """The endpoint and /healthz in alternating slices of half a second, so both meet the same load of a
    shared machine: the endpoint's figures, the ceiling's and their ratio."""
    endpoint, ceiling = Load(), Load()
    for _ in range(max(1, round(seconds / SLICE_S))):
        await load(http, HEALTHZ, ceiling, concurrency=concurrency, seconds=SLICE_S)
        await load(http, requests, endpoint, concurrency=concurrency, seconds=SLICE_S, expect=expect)
    figures = endpoint.figures()
    healthz = ceiling.figures()
    return {
        **figures,
        "healthz_requests_per_s": healthz["requests_per_s"],
        "healthz_p99_ms": healthz["p99_ms"],
        "ratio_to_healthz": round(figures["requests_per_s"] / healthz["requests_per_s"], 2),
    }


async def endpoints(http: httpx.AsyncClient) -> dict[str, tuple[list[str], dict[str, str], bool]]:
    """name -> (paths, headers, public): what is measured, the paths taken from the seeded data."""
    first = (await http.get("/v1/public/complaints", params={"limit": 100})).json()["items"]
    numbers = [item["number"] for item in first]
    rng = random.Random(7)
    companies = rng.sample(COMPANIES[:20], 8)
    return {
        "home_page": (["/"], {}, True),
        "results_page": (["/public/results"], {}, True),
        "public_record": ([f"/v1/public/complaints/{number}" for number in numbers[:50]], {}, True),
        "results_list": (["/v1/public/complaints?limit=20"], {}, True),
        "results_list_company": (
            [f"/v1/public/complaints?limit=20&company_id={company}" for company in companies],
            {},
            True,
        ),
        # Each request a URL of its own (a parameter the API ignores): what computing the answer costs, with
        # nothing kept in memory to answer from.
        "results_list_computed": (
            [f"/v1/public/complaints?limit=20&unique={index}" for index in range(UNIQUE)],
            {},
            True,
        ),
        "statistics_summary": (["/v1/public/statistics/summary"], {}, True),
        "statistics_summary_computed": (
            [f"/v1/public/statistics/summary?unique={index}" for index in range(UNIQUE)],
            {},
            True,
        ),
        "statistics_by_month": (["/v1/public/statistics"], {}, True),
        "rankings": (["/v1/public/rankings"], {}, True),
        "scorecard": ([f"/v1/public/companies/{company}/scorecard" for company in companies], {}, True),
        # Private (the access code is someone's): never cached, measured for comparison.
        "status_lookup": (
            [f"/v1/complaints/{number}" for number in numbers[:50]],
            {"X-Access-Code": ACCESS_CODE},
            False,
        ),
    }


async def measure(workdir: Path, complaints: int, concurrency: int, seconds: float) -> dict:
    from devstack import standins
    from devstack.processes import service_env, start_service
    from greenchannel.mongo import make_client

    server = standins.start_secantus(workdir / "secantus", log_dir=workdir)
    mongo_url = standins.mongo_url(server.port)
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    if not standins.ensure_rabbitmq(amqp_url).reachable:
        raise SystemExit("RabbitMQ is not reachable at " + amqp_url)
    run_id = uuid.uuid4().hex[:8]
    broker = {"amqp_url": amqp_url, "event_exchange": f"bench-{run_id}.events", "queue_prefix": f"bench-{run_id}"}
    store = make_client(mongo_url, "bench-public-reads")
    intake = None
    try:
        generated = await generate(store[DB], complaints)
        env = service_env(
            "intake",
            mongo_url=mongo_url,
            mongo_db=DB,
            broker=broker,
            log_level="ERROR",
            urls={
                "evidence": "http://127.0.0.1:9",
                "routing": "http://127.0.0.1:9",
                "notification": "http://127.0.0.1:9",
            },
        )
        intake = start_service("intake", env, log_dir=workdir)
        await intake.wait_ready()
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=intake.url, timeout=30, limits=limits) as http:
            measured = await endpoints(http)
            for paths, headers, _ in measured.values():  # warm up: connections, directory fallbacks, windows
                for path in paths[:50]:
                    (await http.get(path, headers=headers)).raise_for_status()
            results: dict[str, dict] = {}
            for name, (paths, headers, public) in measured.items():
                plain = [(path, headers) for path in paths]
                results[name] = {
                    "public": public,
                    "plain": await against_healthz(http, plain, concurrency=concurrency, seconds=seconds),
                }
                if public:
                    # Each path revalidated with the ETag it answered: a browser or CDN that holds the answer.
                    tagged = [(path, {"If-None-Match": (await http.get(path)).headers["etag"]}) for path in paths[:50]]
                    results[name]["conditional"] = await against_healthz(
                        http, tagged, concurrency=concurrency, seconds=seconds, expect=304
                    )
    finally:
        if intake is not None:
            await intake.aterminate()
        await store.close()
        server.stop()
        await cleanup_broker(amqp_url, broker)
    return {
        "complaints": complaints,
        "published": generated.get("public_records"),
        "concurrency": concurrency,
        "seconds_per_endpoint": seconds,
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "endpoints": results,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0)
    arguments = parser.parse_args()
    return run_and_print(
        lambda workdir: measure(workdir, arguments.complaints, arguments.concurrency, arguments.seconds),
        "gc-public-reads-",
    )


if __name__ == "__main__":
    raise SystemExit(main())
