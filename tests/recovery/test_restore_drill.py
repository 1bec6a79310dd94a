"""The restore drill: a platform holding complaints in every stage is backed up while it runs, loses its stores,
and comes back from the backup on fresh ones, where every complaint carries on.

The platform runs on a SecantusDB and a nanio of the test's own; the companies' webhook endpoints are two
receivers of the test's own on fixed ports: one that answers, and one that is away (its company's webhooks wait,
retried). Before the backup there are complaints

* forwarded, their response clock running (deadline pending);
* accepted for the company that is away, their webhook pending with attempts made;
* with an evidence file (a PNG, its receipt's SHA-256 kept);
* answered by the company, one of them rated satisfied (closed), one not rated yet;
* filed with an ``Idempotency-Key``.

Each service is backed up by its own command (``python -m <service>.backup``) while the platform runs; then
the services stop, both stand-ins are stopped and their data removed, fresh ones start (new ports, empty data),
each service's command restores its backup into them, the receivers listen again (the one that was away too),
and the services start on the restored stores. Then:

* the clocks fire: the routing watchdog, its clock pinned past the deadlines, flags every running clock
  overdue, intake shows the flag;
* each pending webhook is delivered, once, with the webhook-id it had before the backup, and its complaint
  becomes forwarded with that id;
* the idempotency key answers the remembered answer (the same number), nothing is filed twice;
* each evidence file downloads (the complainant's link) with its receipt's SHA-256, and the operators'
  ``verify`` says intact;
* the answered complaint is rated and appealed; the closed one stays closed.

No webhook id is accepted twice by a receiver, though restoring publishes again every event of the last
minutes (greenchannel.outbox.reopen_after_restore). The test prints what it checked and the times it measured.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from devstack import standins
from devstack.invariants import PlatformStores, until
from devstack.platform import (
    ADMIN_TOKEN,
    OPERATOR_TOKEN,
    WEBHOOK_SECRET,
    Platform,
    register_endpoints,
    running_platform,
)
from devstack.receiver import WebhookReceiver
from devstack.servers import Listener
from greenchannel.mongo import make_client

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SERVICES = ("intake", "evidence", "routing", "notification")
ADMIN = {"login": "admin", "password": "development-only-admin-password"}
# The company that is away is retried every 2 s for minutes: its webhooks are still pending when the backup is
# taken, and the next attempt after the restore comes within 2 s. A lease just above the timeout: a delivery
# leased to a process that no longer exists is taken over soon after the restore.
PATIENT_DELIVERY = {
    "webhook_retry_schedule_s": [0.0] + [2.0] * 300,
    "webhook_timeout_s": 2.0,
    "delivery_lease_s": 4.0,
}
FIGURES_AS_THEY_CHANGE = {"public_statistics_refresh": timedelta(0), "public_statistics_min_count": 1}
MID_CLOCK = 3
PENDING_WEBHOOKS = 3
WITH_EVIDENCE = 2


def form(company: str, title: str, evidence_ids: list[str] | None = None) -> dict[str, Any]:
    return {
        "complainant": {"name": "吴七", "id_number": "11010519491231002X", "phone": "13811112222"},
        "company": {"name": company},
        "category": "refund",
        "title": title,
        "description": "七天无理由退款期内申请退款，客服以已观看为由拒绝。",
        "occurred_on": "2026-11-01",
        "desired_outcome": "全额退款",
        "evidence_ids": evidence_ids or [],
    }


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40 + seed, 30), (20, 160, seed % 255)).save(buffer, format="PNG")
    return buffer.getvalue()


class Stores:
    """A SecantusDB and a nanio of the test's own, each with its data in a folder that can be thrown away."""

    def __init__(self, base: Path, label: str) -> None:
        self.base = base / label
        self.mongo = standins.start_secantus(self.base / "store", log_dir=self.base)
        self.objects = standins.start_nanio(self.base / "objects", log_dir=self.base)

    @property
    def mongo_url(self) -> str:
        return standins.mongo_url(self.mongo.port)

    @property
    def s3_endpoint(self) -> str:
        return f"127.0.0.1:{self.objects.port}"

    def destroy(self) -> None:
        """Stop both and remove their data: the stores are lost."""
        self.mongo.stop()
        self.objects.stop()
        shutil.rmtree(self.base / "store", ignore_errors=True)
        shutil.rmtree(self.base / "objects", ignore_errors=True)


async def run_command(service: str, action: str, folder: Path, stores: Stores, db_prefix: str, bucket: str) -> dict:
    """``python -m <service>.<action> <folder>`` with the environment the service runs with."""
    env = {
        **os.environ,
        "GREENCHANNEL_ENV": "development",
        "MONGO_URL": stores.mongo_url,
        "MONGO_DB": f"{db_prefix}_{service}",
        "S3_ENDPOINT": stores.s3_endpoint,
        "S3_ACCESS_KEY": standins.S3_ACCESS_KEY,
        "S3_SECRET_KEY": standins.S3_SECRET_KEY,
        "S3_BUCKET": bucket,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"{service}.{action}",
        str(folder),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == 0, f"{service}.{action}: {stderr.decode()}"
    return json.loads(stdout)


def totals(summary: dict[str, Any]) -> dict[str, Any]:
    """A command's summary in short: collections and documents copied, objects, the seconds the work took (the
    rest of a command's time is the interpreter starting and the service's modules loading)."""
    database = {k: v for k, v in summary["counts"]["database"].items() if not k.startswith("outbox_")}
    short = {"collections": len(database), "documents": sum(database.values()), "work_s": summary["seconds"]}
    if "bucket" in summary["counts"]:
        short["objects"] = summary["counts"]["bucket"]["objects"]
    if "outbox_republished" in summary["counts"]["database"]:
        short["outbox_republished"] = summary["counts"]["database"]["outbox_republished"]
    return short


async def operator_headers(platform: Platform) -> dict[str, str]:
    token = (await platform.intake.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def case_of(platform: Platform, number: str, access: dict[str, str]) -> dict[str, Any]:
    answer = await platform.intake.get(f"/v1/complaints/{number}", headers=access)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def status_is(platform: Platform, number: str, access: dict[str, str], status: str) -> dict[str, Any]:
    async def reached():
        case = await case_of(platform, number, access)
        return case if case["status"] == status else None

    return await until(reached, 60, f"{number} to be {status}")


async def test_a_platform_restored_from_its_backup_carries_on(workdir, broker_namespace, run_id):
    namespace = broker_namespace.isolated("restore-drill")
    for service in SERVICES:
        namespace.settings_for(service)
    db_prefix, bucket = f"t{run_id}_drill", f"drill-{run_id}"
    live, away = WebhookReceiver(WEBHOOK_SECRET), WebhookReceiver(WEBHOOK_SECRET)
    live_endpoint, away_endpoint = Listener(live.app()), Listener(away.app())
    await live_endpoint.start()  # the company that is away never listens before the restore
    report: dict[str, Any] = {}

    def platform_on(stores: Stores):
        return running_platform(
            mongo_url=stores.mongo_url,
            s3_endpoint=stores.s3_endpoint,
            broker=namespace.broker_settings(),
            db_prefix=db_prefix,
            bucket=bucket,
            intake_settings=FIGURES_AS_THEY_CHANGE,
            notification_settings=PATIENT_DELIVERY,
            register_receiver=False,
        )

    first = Stores(workdir, "drill-before")
    second: Stores | None = None
    try:
        # ---- complaints in every stage ----
        async with platform_on(first) as platform:
            listing = (await platform.routing.get("/v1/companies", params={"limit": 100})).json()["items"]
            await register_endpoints(platform.routing, platform.notification, f"{live_endpoint.url}")
            answering, absent = listing[0], listing[1]
            moved = await platform.notification.put(
                f"/v1/companies/{absent['id']}/webhook-endpoint",
                json={"url": f"{away_endpoint.url}/webhooks/{absent['id']}", "secret": WEBHOOK_SECRET},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            assert moved.status_code == 200, moved.text
            operator = await operator_headers(platform)
            before = await file_everything(platform, answering, absent, operator)
            await quiet(platform, first, db_prefix)
            pending = await pending_deliveries(platform, absent["id"])
            assert set(pending) == {number for number, _ in before["pending"]}, pending
            assert away.received == []

            # ---- the backup, while the platform runs ----
            folder = workdir / "drill-backup"
            began = time.monotonic()
            backups = await asyncio.gather(
                *(run_command(s, "backup", folder / s, first, db_prefix, bucket) for s in SERVICES)
            )
            report["backup_s"] = round(time.monotonic() - began, 2)
            report["backed_up"] = {summary["service"]: totals(summary) for summary in backups}
            report["backup_bytes"] = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())

        # ---- the stores are lost; fresh ones, the backup restored into them ----
        first.destroy()
        second = Stores(workdir, "drill-after")
        began = time.monotonic()
        restores = await asyncio.gather(
            *(run_command(s, "restore", folder / s, second, db_prefix, bucket) for s in SERVICES)
        )
        report["restore_s"] = round(time.monotonic() - began, 2)
        report["restored"] = {summary["service"]: totals(summary) for summary in restores}
        assert {s: c["documents"] for s, c in report["restored"].items()} == {
            s: c["documents"] for s, c in report["backed_up"].items()
        }
        await away_endpoint.start()  # the company that was away is back, at its address

        # ---- the services start on the restored stores: every complaint carries on ----
        began = time.monotonic()
        async with platform_on(second) as platform:
            report["services_ready_s"] = round(time.monotonic() - began, 2)
            client = make_client(second.mongo_url, "drill-check")
            try:
                stores = PlatformStores(
                    {s: client[f"{db_prefix}_{s}"] for s in SERVICES}, namespace.amqp_url, namespace.queue_prefix
                )
                report["checked"] = await check_everything(platform, stores, before, pending, live, away)
            finally:
                await client.close()
    finally:
        await live_endpoint.stop()
        await away_endpoint.stop()
        first.destroy()
        if second is not None:
            second.destroy()
    print("\nrestore drill:", json.dumps(report, ensure_ascii=False, default=str))


async def file_everything(
    platform: Platform, answering: dict, absent: dict, operator: dict[str, str]
) -> dict[str, list[Any]]:
    intake = platform.intake

    async def file(company: dict, title: str, evidence_ids=None, headers=None) -> tuple[str, dict[str, str], dict]:
        filed = await intake.post("/v1/complaints", json=form(company["name"], title, evidence_ids), headers=headers)
        assert filed.status_code == 201, filed.text
        return filed.json()["number"], {"X-Access-Code": filed.json()["access_code"]}, filed.json()

    done: dict[str, list[Any]] = {"mid_clock": [], "pending": [], "evidence": [], "answered": [], "closed": []}
    for index in range(MID_CLOCK):
        number, access, _ = await file(answering, f"时钟进行中 {index}")
        done["mid_clock"].append((number, access))
    for index in range(PENDING_WEBHOOKS):
        number, access, _ = await file(absent, f"企业暂时无法接收 {index}")
        done["pending"].append((number, access))
    for index in range(WITH_EVIDENCE):
        image = png(index)
        receipt = (await intake.post("/v1/evidence", files={"file": (f"截图{index}.png", image, "image/png")})).json()
        assert receipt["sha256"] == hashlib.sha256(image).hexdigest()  # a PNG without metadata is kept as sent
        number, access, _ = await file(answering, f"附证据 {index}", [receipt["evidence_id"]])
        done["evidence"].append((number, access, receipt))
    key = {"Idempotency-Key": f"drill-{time.time_ns()}"}
    number, access, answer = await file(answering, "带幂等键", headers=key)
    done["idempotent"] = [(number, access, answer, key)]

    issued = await intake.post(
        f"/v1/ops/companies/{answering['id']}/api-keys", json={"label": "drill"}, headers=operator
    )
    assert issued.status_code == 201, issued.text
    company = {"X-Api-Key": issued.json()["api_key"]}
    done["company"] = [company]
    for index in range(2):
        number, access, _ = await file(answering, f"已答复 {index}")
        await status_is(platform, number, access, "forwarded")
        answered = await intake.post(
            f"/v1/company/complaints/{number}/response",
            headers=company,
            json={"response_type": "explained", "text": "课程已观看超过30%，按规则不予退款。"},
        )
        assert answered.status_code == 200, answered.text
        if index == 0:
            rated = await intake.post(f"/v1/complaints/{number}/rating", headers=access, json={"rating": 5})
            assert rated.json() == {"number": number, "status": "closed"}, rated.text
            done["closed"].append((number, access))
        else:
            done["answered"].append((number, access))

    for number, access in done["mid_clock"] + [(n, a) for n, a, _ in done["evidence"]]:
        await status_is(platform, number, access, "forwarded")
    for number, access in done["pending"]:
        await status_is(platform, number, access, "accepted")
    for number, access in done["mid_clock"]:

        async def deadline_known(number=number, access=access):
            case = await case_of(platform, number, access)
            return case if case.get("response_due") else None

        case = await until(deadline_known, 30, f"the deadline of {number}")
        assert case["overdue"] is False
    return done


async def quiet(platform: Platform, stores: Stores, db_prefix: str) -> None:
    """Wait until no outbox holds an entry to publish: what is in flight is then only the retried webhooks."""
    client = make_client(stores.mongo_url, "drill")
    try:

        async def drained():
            counts = [await client[f"{db_prefix}_{s}"].outbox.count_documents({"sent_at": None}) for s in SERVICES]
            return sum(counts) == 0

        await until(drained, 60, "every outbox to be published")
    finally:
        await client.close()


async def pending_deliveries(platform: Platform, company_id: str) -> dict[str, str]:
    """Number -> webhook id of each forwarding webhook to ``company_id`` still to be delivered, once attempted."""
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

    async def attempted():
        listed = await platform.notification.get(
            "/v1/deliveries", params={"company_id": company_id, "status": "pending"}, headers=operator
        )
        items = [item for item in listed.json()["items"] if item["event_type"] == "complaint.forwarded"]
        return items if len(items) == PENDING_WEBHOOKS and all(item["attempt_count"] >= 1 for item in items) else None

    items = await until(attempted, 30, "the webhooks to the absent company to be attempted")
    return {item["number"]: item["webhook_id"] for item in items}


async def check_everything(
    platform: Platform,
    stores: PlatformStores,
    before: dict[str, list[Any]],
    pending: dict[str, str],
    live: WebhookReceiver,
    away: WebhookReceiver,
) -> dict[str, Any]:
    intake = platform.intake
    operator = await operator_headers(platform)
    checked: dict[str, Any] = {}

    # Pending webhooks: delivered once each, with the id they had, and their complaints forwarded with it.
    for number, access in before["pending"]:
        case = await status_is(platform, number, access, "forwarded")
        assert case["status"] == "forwarded"
    accepted_by_id = Counter(d.webhook_id for d in away.received if d.accepted)
    forwarded_ids = {
        d.body["data"]["number"]: d.webhook_id
        for d in away.received
        if d.accepted and d.body.get("type") == "complaint.forwarded"
    }
    assert forwarded_ids == pending
    checked["pending_webhooks_delivered_with_their_id"] = len(forwarded_ids)

    # The answered complaint is rated and appealed; the closed one stays closed. (Before the clocks are moved past
    # the deadlines, which are past the quiet period after an answer too.)
    number, access = before["answered"][0]
    rated = await intake.post(f"/v1/complaints/{number}/rating", headers=access, json={"rating": 2})
    assert rated.json() == {"number": number, "status": "responded"}, rated.text
    appealed = await intake.post(
        f"/v1/complaints/{number}/appeal", headers=access, json={"reason": "规则未在购买前告知，属于格式条款。"}
    )
    assert appealed.status_code == 200 and appealed.json()["status"] == "appealed", appealed.text
    number, access = before["closed"][0]
    closed = await case_of(platform, number, access)
    assert closed["status"] == "closed" and closed["rating"]["rating"] == 5
    checked["answered_rated_and_appealed"] = 1
    checked["closed_stayed_closed"] = 1

    # The clocks: the watchdog, its clock past every deadline, flags each running clock overdue.
    dues = []
    for number, access in before["mid_clock"]:
        case = await case_of(platform, number, access)
        dues.append(datetime.fromisoformat(case["response_due"]).replace(tzinfo=UTC))
    platform.apps["routing"].state.clock = lambda: max(dues) + timedelta(days=2)
    ran = await platform.routing.post("/v1/watchdog/run", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert ran.status_code == 200, ran.text
    fired = {event["subject"] for event in ran.json()["published"] if event["type"] == "sla.overdue"}
    assert {number for number, _ in before["mid_clock"]} <= fired
    for number, access in before["mid_clock"]:

        async def flagged(number=number, access=access):
            return (await case_of(platform, number, access))["overdue"]

        await until(flagged, 30, f"{number} to be flagged overdue")
    checked["clocks_fired_overdue"] = len(before["mid_clock"])

    # The idempotency key answers the remembered answer.
    number, _, answer, key = before["idempotent"][0]
    company_name = (await case_of(platform, number, before["idempotent"][0][1]))["company"]["name"]
    again = await intake.post("/v1/complaints", json=form(company_name, "带幂等键"), headers=key)
    assert again.status_code == 201 and again.json() == answer, again.text
    checked["idempotency_keys_answered_as_before"] = 1

    # Evidence: downloads with its receipt's SHA-256; verify says intact.
    async with httpx.AsyncClient(timeout=30) as outside:
        for number, access, receipt in before["evidence"]:
            link = await intake.get(f"/v1/complaints/{number}/evidence/{receipt['evidence_id']}/link", headers=access)
            assert link.status_code == 200, link.text
            downloaded = await outside.get(link.json()["url"])
            assert hashlib.sha256(downloaded.content).hexdigest() == receipt["sha256"]
            verdict = await intake.post(f"/v1/ops/evidence/{receipt['evidence_id']}/verify", headers=operator)
            assert verdict.status_code == 200 and verdict.json()["ok"] is True, verdict.text
    checked["evidence_downloaded_matching_its_receipt"] = len(before["evidence"])

    # Nothing twice: no webhook id accepted twice by either company, no complaint with a transition twice.
    # Once the events published again after the restore were consumed, and any webhook one caused was sent.
    await stores.wait_quiet()

    async def nothing_to_deliver() -> bool:
        return await stores.dbs["notification"].deliveries.count_documents({"status": "pending"}) == 0

    await until(nothing_to_deliver, 30, "every webhook to be delivered")
    for receiver in (live, away):
        accepted_by_id = Counter(d.webhook_id for d in receiver.received if d.accepted)
        assert [wid for wid, count in accepted_by_id.items() if count > 1] == []
    every = [n for n, *_ in before["mid_clock"] + before["pending"] + before["evidence"] + before["answered"]]
    for number in every:
        case = (await intake.get(f"/v1/ops/complaints/{number}", headers=operator)).json()
        actions = [entry["action"] for entry in case["timeline"] if not entry["action"].startswith("deadline")]
        assert len(actions) == len(set(actions)), (number, actions)
    checked["webhooks_accepted_twice"] = 0
    checked["webhooks_accepted_in_all"] = len([d for d in live.received + away.received if d.accepted])
    return checked
