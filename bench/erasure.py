"""What erasing a complaint's personal data costs intake, against a withdrawal of the same complaints measured in the
same run (a transition: one transaction with its timeline entry, projection and outbox event).

intake alone (in this process, on a SecantusDB this bench starts and the local RabbitMQ with names of its own) files
``--complaints`` complaints, withdraws them one by one (timed: the baseline), then erases them with the retention
job's pass (``Retention.run_once``, batches of ``RETENTION_BATCH``), timed as a whole; each erasure drains the four
consumers' dead-letter queues (empty here), deletes the complainant's rate-limit counters, replaces the case, deletes
its outbox entries and writes the audit entry and ``complaint.erased``. Prints one JSON document with the
milliseconds per complaint of both and their ratio, and the load average.

    python -m bench.erasure [--complaints 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import run_and_print
from bench.submit_to_webhook import cleanup_broker
from devstack import standins
from devstack.servers import serve

FORM = {
    "complainant": {"name": "测试人", "id_number": "11010519491231002X", "phone": "13700000000"},
    "company": {"name": "留存基准"},
    "category": "refund",
    "title": "基准投诉",
    "description": "用于测量删除个人信息开销的投诉。",
    "occurred_on": "2026-11-01",
    "desired_outcome": "退款",
}


async def run(complaints: int, workdir: Path) -> dict[str, Any]:
    from intake.config import Settings
    from intake.main import create_app

    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    if not standins.ensure_rabbitmq(amqp_url).reachable:
        raise SystemExit("RabbitMQ must answer at AMQP_URL")
    mongo = standins.start_secantus(workdir / "secantus", log_dir=workdir)
    run_id = uuid.uuid4().hex[:8]
    broker: dict[str, Any] = {
        "amqp_url": amqp_url,
        "event_exchange": f"bench-{run_id}.events",
        "queue_prefix": f"bench-{run_id}",
    }
    try:
        settings = Settings(
            mongo_url=standins.mongo_url(mongo.port),
            mongo_db="bench_erasure",
            evidence_url="http://127.0.0.1:9",
            routing_url="http://127.0.0.1:9",
            rate_limits_enabled=False,
            greenchannel_env="development",
            internal_host="127.0.0.1",
            internal_port=0,
            log_level="WARNING",
            **broker,
        )
        app = create_app(settings)
        async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            filed = []
            for _ in range(complaints):
                answer = await http.post("/v1/complaints", json=FORM)
                answer.raise_for_status()
                filed.append((answer.json()["number"], {"X-Access-Code": answer.json()["access_code"]}))
            withdrawals = []
            for number, guest in filed:
                started = time.perf_counter()
                answer = await http.post(f"/v1/complaints/{number}/withdrawal", json={"reason": "基准"}, headers=guest)
                withdrawals.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
            retention = app.state.retention
            later = datetime.now(UTC) + timedelta(days=settings.retention_days, minutes=1)
            erased = 0
            started = time.perf_counter()
            while erased < complaints:
                report = await retention.run_once(later)
                if not report.erased:
                    break
                erased += report.erased
            erasure_ms = (time.perf_counter() - started) * 1000 / max(erased, 1)
        withdrawal_ms = statistics.mean(withdrawals)
        return {
            "complaints": complaints,
            "erased": erased,
            "withdrawal_ms_per_complaint": round(withdrawal_ms, 1),
            "erasure_ms_per_complaint": round(erasure_ms, 1),
            "erasure_to_withdrawal": round(erasure_ms / withdrawal_ms, 2),
            "load_average": [round(value, 2) for value in os.getloadavg()],
        }
    finally:
        await cleanup_broker(amqp_url, broker)
        mongo.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description="Erasure benchmark")
    parser.add_argument("--complaints", type=int, default=100)
    args = parser.parse_args()
    return run_and_print(lambda workdir: run(args.complaints, workdir), "bench-erasure-")


if __name__ == "__main__":
    raise SystemExit(main())
