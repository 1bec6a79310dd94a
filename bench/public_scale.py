"""The public results and statistics with a large case file: query times with ``--complaints`` (1,000,000)
complaints stored.

A generator writes realistic complaints straight into a SecantusDB this bench starts: two years of
filings against 60 companies (a few large ones take most), 12 categories, provinces weighted by
population, the usual outcomes (about 8 % rejected, most answered, some late, rated, appealed,
withdrawn; about 85 % published, a third with the complainant's consent, their text scrubbed), and the
public records and statistics rollups intake keeps for them, computed with intake's own projection
functions. The data folder is kept under ``.benchdata/`` and reused while its size and generator
version match, so reruns only measure.

Then intake runs on that store (routing away: labels fall back to codes, as the tests run it) and every
query is timed over HTTP, each ``--queries`` times with varying parameters: the complainant's status lookup,
the public record, the public list (no filter, company, company and category, category, status, filing
dates, the second page), a scorecard, the rankings, statistics by month and by region, the home page's
summary. The baselines, measured in the same run: one complaint found by its primary key with the driver
(``baseline_pk_find``), and an HTTP answer that reads nothing (``baseline_http``); every figure is also
given as a ratio to each. Prints one JSON document.

    python -m bench.public_scale [--complaints 1000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 3
ROOT = Path(__file__).resolve().parent.parent / ".benchdata"
DB = "bench_public"
ACCESS_CODE = "ABCDEFGHJK"
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
COMPANIES = [f"c-{index:03d}" for index in range(60)]
CATEGORIES = [
    "service_quality",
    "billing",
    "auto_renewal",
    "refund",
    "account",
    "privacy",
    "content",
    "security",
    "advertising",
    "delivery",
    "customer_service",
    "other",
]
# Province codes with rough population weights (millions).
PROVINCES = {
    "44": 126,
    "37": 101,
    "41": 99,
    "51": 84,
    "32": 85,
    "13": 75,
    "43": 66,
    "34": 61,
    "42": 58,
    "33": 65,
    "45": 50,
    "53": 47,
    "36": 45,
    "21": 43,
    "35": 41,
    "61": 40,
    "23": 31,
    "14": 35,
    "52": 39,
    "50": 32,
    "22": 24,
    "62": 25,
    "15": 24,
    "65": 26,
    "31": 25,
    "11": 22,
    "12": 14,
    "46": 10,
    "63": 6,
    "64": 7,
    "54": 4,
}
TEXTS = [
    "会员到期前未收到任何提醒即被扣费{a}元，客服拒绝退款。",
    "课程无法观看，申请退款被拒绝，要求退还{a}元。",
    "账号被无故封禁，申诉后没有回复。",
    "快递显示已签收但本人未收到，平台客服推诿。",
    "我是{n}，电话138{p}，订单多扣了{a}元，客服一直不处理。",
    "应用频繁推送广告，无法关闭。",
]
ANSWERS = [
    "已核实情况并向用户说明扣费规则。",
    "已为用户办理退款{a}元。",
    "已联系{n}先生，电话138{p}，退还差价。",
    "经核实不符合退款条件。",
    "正在处理中，预计三个工作日内完成。",
]
RESPONSE_TYPES = ["explained", "monetary_relief", "non_monetary_relief", "declined", "in_progress"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def period(start: str, end: str) -> dict[str, Any]:
    """The query parameters of a publication period (``from`` is a keyword of Python's)."""
    return {"from": start, "to": end}


def generate_case(
    rng: random.Random, index: int, weights: list[float], sealed_name: dict, masked: dict, code_hash: str
) -> dict:
    from intake.domain.statistics import CHINA

    filed = NOW - timedelta(days=rng.random() * 730)
    day = filed.astimezone(CHINA)
    number = f"GC-{day:%Y%m%d}-{index:06d}"
    company = rng.choices(COMPANIES, weights)[0]
    category = rng.choice(CATEGORIES)
    amount = rng.randint(10, 3000)
    text = rng.choice(TEXTS).format(a=amount, n="王小明", p=f"{rng.randint(0, 99999999):08d}")
    case: dict[str, Any] = {
        "_id": number,
        "number": number,
        "status": "submitted",
        "access_code_hash": code_hash,
        "account_id": None,
        "complainant": {"name": sealed_name, "id_number": sealed_name, "phone": sealed_name, "email": None},
        "complainant_masked": masked,
        "complainant_key": uuid.UUID(int=rng.getrandbits(128)).hex,
        "phone_key": uuid.UUID(int=rng.getrandbits(128)).hex,
        "region_code": rng.choices(list(PROVINCES), list(PROVINCES.values()))[0],
        "company_requested": {"id": company, "name": None},
        "company_id": None,
        "company_name": None,
        "category": category,
        "title": "投诉" + category,
        "description": text,
        "occurred_on": f"{day:%Y-%m-%d}",
        "desired_outcome": "退款",
        "publication_consent": rng.random() < 0.33,
        "evidence": [],
        "submitted_at": filed,
        "response_due": None,
        "forwarded_at": None,
        "round": 0,
        "overdue": False,
        "timeline": [
            {
                "at": filed,
                "actor": "complainant",
                "action": "submit",
                "status": "submitted",
                "detail": "",
                "trace_id": None,
            }
        ],
    }
    age_days = (NOW - filed).days
    if age_days < 1 and rng.random() < 0.5:
        return case
    screened = filed + timedelta(hours=rng.random() * 6)
    if rng.random() < 0.08:
        case.update(
            status="rejected",
            rejection={
                "reason": rng.choice(["duplicate", "company_unknown", "out_of_scope", "insufficient"]),
                "detail": "",
            },
        )
        return case
    forwarded = screened + timedelta(minutes=5)
    case.update(
        status="forwarded",
        company_id=company,
        company_name=f"{company} 公司",
        accepted_at=screened,
        forwarded_at=forwarded,
        round=1,
        response_due=f"{(forwarded + timedelta(days=14)).date()}",
    )
    case["timeline"].append(
        {
            "at": forwarded,
            "actor": "notification",
            "action": "forward",
            "status": "forwarded",
            "detail": "",
            "trace_id": None,
        }
    )
    handling = min(int(rng.expovariate(1 / 6)), 40)
    answered_at = forwarded + timedelta(days=handling * 1.4 + rng.random())
    if answered_at < NOW and rng.random() < 0.9:
        kind = rng.choices(RESPONSE_TYPES, [40, 20, 15, 20, 5])[0]
        answer = rng.choice(ANSWERS).format(a=amount, n="王", p=f"{rng.randint(0, 99999999):08d}")
        response = {"type": kind, "text": answer, "at": answered_at, "timely": handling <= 10}
        case.update(
            status="responded",
            response=response,
            responses=[response],
            handling_days=handling,
            published_at=answered_at,
        )
        roll = rng.random()
        if roll < 0.45:
            case.update(
                status="closed",
                rating={
                    "rating": rng.choices([1, 2, 3, 4, 5], [20, 10, 15, 25, 30])[0],
                    "comment": "",
                    "at": answered_at,
                },
                closure={"outcome": "rated", "at": answered_at},
            )
        elif roll < 0.55:
            case.update(status="appealed", appeal={"reason": "不满意", "at": answered_at})
        elif roll < 0.85:
            case.update(status="closed", closure={"outcome": "auto_closed", "at": answered_at})
    elif rng.random() < 0.05:
        case.update(status="withdrawn", closure={"outcome": "withdrawn", "at": forwarded})
    elif age_days > 21:
        case["published_at"] = forwarded + timedelta(days=21)
    return case


async def generate(db, complaints: int) -> dict:
    """Write ``complaints`` cases, their public records and the rollups; answers what was written."""
    from greenchannel.migrations import Migrations, discover
    from intake import migrations
    from intake.adapters.pii import KeyedHash
    from intake.adapters.public_records import PublicRecords, stored
    from intake.adapters.statistics import Statistics
    from intake.config import Settings
    from intake.domain.publication import public_record
    from intake.domain.statistics import contributions
    from intake.rebuild_statistics import nested

    settings = Settings(mongo_url="mongodb://unused")
    code_hash = KeyedHash(settings.access_code_key.get_secret_value().encode(), "access-code").digest(ACCESS_CODE)
    sealed_name = {"kid": "dev-1", "nonce": "AAAAAAAAAAAAAAAA", "ct": "AAAAAAAAAAAAAAAAAAAAAAAA"}
    masked = {"name": "王*", "id_number": "4401**********0026", "phone": "138****0000", "email": None}
    rng = random.Random(11)
    weights = [1 / (rank + 1) for rank in range(len(COMPANIES))]
    records, stats = PublicRecords(db), Statistics(db)
    # intake's migrations (its indexes), applied before the data so the indexes grow with it.
    await Migrations(db, discover(migrations.__name__), settings).migrate(wait_s=60)
    sums: dict[str, dict[str, tuple[dict[str, Any], Counter[str]]]] = {}
    names: dict[str, str] = {}
    written: Counter[str] = Counter()
    batch, public = [], []
    started = time.perf_counter()
    for index in range(complaints):
        case = generate_case(rng, index, weights, sealed_name, masked, code_hash)
        batch.append(case)
        for rollup, documents in contributions(case).items():
            for doc_id, (key, counts) in documents.items():
                sums.setdefault(rollup, {}).setdefault(doc_id, (key, Counter()))[1].update(counts)
                if rollup in ("company", "company_year") and case.get("company_name"):
                    names[doc_id] = case["company_name"]
        if case.get("published_at"):
            public.append(stored(public_record(case, "王小明" if case["publication_consent"] else None)))
        if len(batch) >= 2000:
            await db["complaints"].insert_many(batch, ordered=False)
            written["complaints"] += len(batch)
            batch = []
        if len(public) >= 2000:
            await records.records.insert_many(public, ordered=False)
            written["public_records"] += len(public)
            public = []
        if index and index % 100_000 == 0:
            print(f"generated {index} complaints in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if batch:
        await db["complaints"].insert_many(batch, ordered=False)
        written["complaints"] += len(batch)
    if public:
        await records.records.insert_many(public, ordered=False)
        written["public_records"] += len(public)
    for rollup, summed in sums.items():
        rows = [
            {"_id": doc_id, **key, **nested(totals), **({"company_name": names[doc_id]} if doc_id in names else {})}
            for doc_id, (key, totals) in summed.items()
        ]
        for start in range(0, len(rows), 2000):
            await stats.rollups[rollup].insert_many(rows[start : start + 2000])
        written[f"statistics_by_{rollup}"] = len(rows)
    return {**written, "generate_s": round(time.perf_counter() - started, 1)}


async def measure(complaints: int, queries: int) -> dict:
    import httpx

    from bench.submit_to_webhook import cleanup_broker
    from devstack import standins
    from devstack.servers import serve
    from greenchannel.mongo import make_client
    from intake.config import Settings
    from intake.main import create_app

    folder = ROOT / f"public_scale_{complaints}_v{GENERATOR_VERSION}"
    marker = folder / "complete.json"
    fresh = not marker.exists()
    if fresh and folder.exists():
        import shutil

        shutil.rmtree(folder)  # a generation that did not finish
    folder.mkdir(parents=True, exist_ok=True)
    # A million complaints take SecantusDB about a minute to open.
    server = standins.start_secantus(folder / "secantus", log_dir=folder, start_timeout=600)
    mongo_url = standins.mongo_url(server.port)
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    if not standins.ensure_rabbitmq(amqp_url).reachable:
        raise SystemExit("RabbitMQ is not reachable at " + amqp_url)
    run_id = uuid.uuid4().hex[:8]
    broker: dict[str, Any] = {
        "amqp_url": amqp_url,
        "event_exchange": f"bench-{run_id}.events",
        "queue_prefix": f"bench-{run_id}",
    }
    client = make_client(mongo_url, "bench-public-scale")
    try:
        db = client[DB]
        if fresh:
            generated = await generate(db, complaints)
            marker.write_text(json.dumps(generated))
        generated = json.loads(marker.read_text())
        if "filed_on_1" in await db["public_records"].index_information():
            await db["public_records"].drop_index("filed_on_1")  # an index intake no longer makes (see PublicRecords)
        # Complaints to look up: those published on one day half a year back (a range of one index; a
        # random sample of the whole collection would read all of it).
        published = [
            record["_id"]
            for record in await db["public_records"]
            .find({"order_key": {"$gte": "2026-06-01", "$lt": "2026-06-02"}}, projection={"_id": 1})
            .to_list()
        ]
        random.Random(3).shuffle(published)
        numbers = published = published[:queries]
        settings = Settings(
            mongo_url=mongo_url,
            mongo_db=DB,
            evidence_url="http://127.0.0.1:9",
            routing_url="http://127.0.0.1:9",
            notification_url="http://127.0.0.1:9",
            rate_limits_enabled=False,
            internal_host="127.0.0.1",
            internal_port=0,
            **broker,
        )
        app = create_app(settings)
        results: dict[str, dict] = {}
        rng = random.Random(5)
        try:
            async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=60) as http:

                async def timed(name: str, call, rounds: int | None = None) -> None:
                    samples = []
                    warm_up = min(3, rounds or queries)  # the first calls warm caches and connections
                    for round_ in range((rounds or queries) + warm_up):
                        start = time.perf_counter()
                        await call(round_)
                        if round_ >= warm_up:
                            samples.append((time.perf_counter() - start) * 1000)
                    results[name] = {
                        "p50_ms": round(statistics.median(samples), 2),
                        "p95_ms": round(percentile(samples, 0.95), 2),
                    }
                    print(f"{name}: {results[name]}", file=sys.stderr, flush=True)

                async def get(path: str, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
                    response = await http.get(path, params=params, headers=headers)
                    assert response.status_code == 200, (path, response.status_code, response.text[:300])
                    return response.json()

                cursor = (await get("/v1/public/complaints"))["next_cursor"]
                companies = COMPANIES[:20]

                async def pk(round_: int) -> None:
                    assert await db["complaints"].find_one({"_id": numbers[round_ % len(numbers)]}) is not None

                await timed("baseline_pk_find", pk)
                await timed("baseline_http", lambda r: get("/v1/public/open-data/schema"))
                await timed(
                    "status_lookup_complainant",
                    lambda r: get(
                        f"/v1/complaints/{numbers[r % len(numbers)]}", headers={"X-Access-Code": ACCESS_CODE}
                    ),
                )
                await timed("public_record", lambda r: get(f"/v1/public/complaints/{published[r % len(published)]}"))
                await timed("list_all", lambda r: get("/v1/public/complaints"))
                await timed("list_second_page", lambda r: get("/v1/public/complaints", cursor=cursor))
                await timed("list_company", lambda r: get("/v1/public/complaints", company_id=rng.choice(companies)))
                await timed(
                    "list_company_category",
                    lambda r: get(
                        "/v1/public/complaints", company_id=rng.choice(companies), category=rng.choice(CATEGORIES)
                    ),
                )
                await timed("list_category", lambda r: get("/v1/public/complaints", category=rng.choice(CATEGORIES)))
                await timed(
                    "list_status",
                    lambda r: get(
                        "/v1/public/complaints", status=rng.choice(["responded", "closed", "appealed", "forwarded"])
                    ),
                )
                # The period is the publication's: a bounded range of the list's own key, old or recent.
                await timed(
                    "list_published_last_month",
                    lambda r: get("/v1/public/complaints", **period("2026-11-01", "2026-11-30")),
                )
                await timed(
                    "list_published_a_year_ago",
                    lambda r: get(
                        "/v1/public/complaints", company_id=rng.choice(companies), **period("2025-11-01", "2025-11-30")
                    ),
                )
                await timed("scorecard", lambda r: get(f"/v1/public/companies/{rng.choice(companies)}/scorecard"))
                await timed(
                    "scorecard_year",
                    lambda r: get(f"/v1/public/companies/{rng.choice(companies)}/scorecard", period="2026"),
                )
                await timed("rankings", lambda r: get("/v1/public/rankings", order_by="volume"))
                await timed(
                    "rankings_year", lambda r: get("/v1/public/rankings", period="2026", order_by="timely_rate")
                )
                await timed("statistics_by_month", lambda r: get("/v1/public/statistics"))
                await timed("statistics_by_region", lambda r: get("/v1/public/statistics", by="region"))
                await timed("summary", lambda r: get("/v1/public/statistics/summary"))
        finally:
            await cleanup_broker(amqp_url, broker)
    finally:
        await client.close()
        server.stop()
    pk_p50, http_p50 = results["baseline_pk_find"]["p50_ms"], results["baseline_http"]["p50_ms"]
    for figures in results.values():
        figures["ratio_to_pk_find"] = round(figures["p50_ms"] / pk_p50, 1)
        figures["ratio_to_http"] = round(figures["p50_ms"] / http_p50, 1)
    return {
        "complaints": complaints,
        "queries_each": queries,
        "data_reused": not fresh,
        "generated": generated,
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "queries": results,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    arguments = parser.parse_args()
    result = asyncio.run(measure(arguments.complaints, arguments.queries))
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
