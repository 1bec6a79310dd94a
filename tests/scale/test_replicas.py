"""Every service scaled out: three replicas each of routing, notification and evidence and two of intake,
as separate processes on the same databases and broker, while complaints stream in and replicas crash.

What must hold however many replicas run (the issue "Beyond one machine"):

* consumers of one service compete on one queue: each event is handled by one replica, and the
  inbox absorbs the redeliveries a crashed replica leaves behind;
* outbox relays claim entries with leases: nothing is published twice beyond what idempotency
  absorbs, and nothing stays unsent when a relay is killed holding a claim;
* the delivery worker claims deliveries with leases: each company receives each webhook id
  effectively once (a repeated delivery of the same id is allowed by Standard Webhooks and reported);
* events about one complaint that arrive twice or out of order (replayed duplicates, late and
  contradicting decisions) leave every case exactly as it was.

The test prints a JSON summary of the counts it checked. The replicas' logs are kept in the test's
``tmp_path`` (or under ``SCALE_LOG_DIR``); ``SCALE_LOG_LEVEL=INFO`` makes them verbose.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest
from devstack.eventtap import event_tap
from devstack.platform import WEBHOOK_SECRET, register_endpoints
from devstack.processes import SERVICES, queue_counts, running_replicas
from devstack.receiver import WebhookReceiver
from devstack.servers import serve
from greenchannel.contracts import CloudEvent, ComplaintScreened, WebhookDelivered, utc_now
from greenchannel.mongo import make_client
from PIL import Image

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPLICAS = {"evidence": 3, "routing": 3, "notification": 3, "intake": 2}
COMPLAINTS = 150
CONCURRENCY = 12
# Every UNKNOWN_EVERY-th complaint names a company the directory does not know; every EVIDENCE_EVERY-th
# uploads a file first; every TWIN_EVERY-th without evidence is sent twice at once, to both intake
# replicas, with one Idempotency-Key.
UNKNOWN_EVERY, EVIDENCE_EVERY, TWIN_EVERY = 5, 4, 7
# After this many filings one replica of routing and one of notification are killed (SIGKILL).
CRASH_AFTER = 40
SETTLE_TIMEOUT_S = 120
CONSUMING = ("intake", "routing", "notification", "evidence")
# The transitions of the walk tested; other timeline entries are notes (deadlines) that change no state.
TRANSITIONS = {"submit", "accept", "reject", "forward"}
TAPPED = ("complaint.submitted", "complaint.screened", "complaint.accepted", "webhook.delivered")


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (seed % 256, 80, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def form(i: int, company: str, evidence_ids: list[str]) -> dict:
    return {
        "complainant": {"name": "赵六", "id_number": "11010519491231002X", "phone": "13700001111"},
        "company": {"name": company},
        "category": "billing",
        "title": f"重复扣费第{i}号",
        "description": "同一笔会员费被扣了两次，客服不予处理。",
        "occurred_on": "2026-10-20",
        "desired_outcome": "退还多扣的费用",
        "evidence_ids": evidence_ids,
    }


def state_of(case: dict) -> tuple:
    """Status and transitions with their times; notes (deadlines) may still be arriving and are left out."""
    transitions = [(entry["action"], entry["at"]) for entry in case["timeline"] if entry["action"] in TRANSITIONS]
    return case["status"], transitions


async def until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


async def test_replicas_of_every_service_handle_a_stream_with_crashes_duplicates_and_late_events(
    mongo_url, s3_endpoint, broker_namespace, run_id, tmp_path
):
    began = time.monotonic()
    namespace = broker_namespace.isolated("scale")
    for service in SERVICES:
        namespace.settings_for(service)
    broker = namespace.broker_settings()
    receiver = WebhookReceiver(WEBHOOK_SECRET)
    store = make_client(mongo_url, "scale-test")
    db = {service: store[f"t{run_id}_scale_{service}"] for service in SERVICES}
    # pytest keeps the last runs' tmp_path: the replicas' logs stay there to read after a failure
    # (SCALE_LOG_DIR puts them elsewhere).
    log_dir = Path(os.environ["SCALE_LOG_DIR"]) / run_id if os.environ.get("SCALE_LOG_DIR") else tmp_path / "logs"

    try:
        summary = await run_scenario(mongo_url, s3_endpoint, broker, run_id, log_dir, receiver, db, began)
    finally:
        await store.close()
    print("\nscale summary: " + json.dumps(summary, ensure_ascii=False))


async def run_scenario(mongo_url, s3_endpoint, broker, run_id, log_dir, receiver, db, began) -> dict:
    """Start the replicas, stream, crash, replay, check; answer the counts for the summary."""
    async with (
        serve(receiver.app()) as receiver_url,
        event_tap(broker["amqp_url"], broker["event_exchange"], TAPPED) as tap,
        running_replicas(
            mongo_url=mongo_url, s3_endpoint=s3_endpoint, broker=broker, db_prefix=f"t{run_id}_scale",
            bucket=f"scale-{run_id}", log_dir=log_dir, replicas=REPLICAS,
            log_level=os.environ.get("SCALE_LOG_LEVEL", "WARNING"),
        ) as platform,
        httpx.AsyncClient(timeout=60) as http,
    ):
        started_in = time.monotonic() - began
        consumers_at_start = {name.rsplit(".", 1)[-1]: count[1] for name, count in (await queue_counts(
            broker["amqp_url"], [platform.queue(s) for s in CONSUMING])).items()}
        for service in ("intake", "routing", "notification"):
            assert consumers_at_start[service] == REPLICAS[service], "every replica consumes its service's one queue"
        async with (
            httpx.AsyncClient(base_url=platform.url("routing"), timeout=30) as routing,
            httpx.AsyncClient(base_url=platform.url("notification"), timeout=30) as notification,
        ):
            await register_endpoints(routing, notification, receiver_url)
            listing = (await routing.get("/v1/companies", params={"limit": 100})).json()
        companies = listing["items"] if isinstance(listing, dict) else listing
        assert len(companies) >= 3

        # --- the stream ------------------------------------------------------------------------
        filed: dict[int, dict] = {}  # complaint index -> {"number", "known", "evidence_id", "company_id"}
        twins: list[tuple[str, str]] = []
        done = asyncio.Event()
        crash_gate = asyncio.Event()
        semaphore = asyncio.Semaphore(CONCURRENCY)

        retries = Counter()

        async def file(intake_url: str, body: dict, headers: dict) -> httpx.Response:
            """POST a filing; a connection lost on the way is retried with the same Idempotency-Key,
            as a client would, and counted."""
            for attempt in range(3):
                try:
                    return await http.post(f"{intake_url}/v1/complaints", json=body, headers=headers)
                except httpx.TransportError:
                    if attempt == 2:
                        raise
                    retries["filing"] += 1
            raise AssertionError("unreachable")

        async def submit(i: int) -> None:
            async with semaphore:
                known = i % UNKNOWN_EVERY != 0
                company = companies[i % len(companies)]
                name = (company.get("aliases") or [company["name"]])[0] if known else f"并不存在的第{i}号网络公司"
                intake_url = platform.url("intake", i)
                evidence_ids: list[str] = []
                if i % EVIDENCE_EVERY == 0:
                    upload = await http.post(f"{intake_url}/v1/evidence",
                                             files={"file": (f"截图{i}.png", png(i), "image/png")})
                    assert upload.status_code == 201, upload.text
                    evidence_ids.append(upload.json()["evidence_id"])
                body, headers = form(i, name, evidence_ids), {"Idempotency-Key": f"scale-{run_id}-{i}"}
                if i % TWIN_EVERY == 3:
                    # A client retry that lands on the other replica while the first request is in flight.
                    answers = await asyncio.gather(*(
                        file(platform.url("intake", i + k), body, headers) for k in (0, 1)))
                    for answer in answers:
                        assert answer.status_code == 201, answer.text
                    twins.append((answers[0].json()["number"], answers[1].json()["number"]))
                    response = answers[0]
                else:
                    response = await file(intake_url, body, headers)
                    assert response.status_code == 201, response.text
                filed[i] = {"number": response.json()["number"], "known": known,
                            "company_id": company["id"] if known else None,
                            "evidence_id": evidence_ids[0] if evidence_ids else None}
                if len(filed) >= CRASH_AFTER:
                    crash_gate.set()

        async def crash_and_replace() -> dict:
            """Kill one routing and one notification replica mid-stream (SIGKILL: unacked messages,
            claimed outbox entries and deliveries are left behind), then start a fresh one of each."""
            await crash_gate.wait()
            filed_when_killed = len(filed)
            killed = {}
            for service in ("routing", "notification"):
                victim = platform.running(service)[0]
                platform.kill(victim)
                killed[service] = victim.name
            replaced = await asyncio.gather(*(platform.add_replica(s) for s in ("routing", "notification")))
            return {"killed": killed, "started": [replica.name for replica in replaced],
                    "filed_when_killed": filed_when_killed, "stream_still_running": not done.is_set()}

        stream_began = time.monotonic()
        crash = asyncio.create_task(crash_and_replace())
        await asyncio.gather(*(submit(i) for i in range(COMPLAINTS)))
        done.set()
        filing_s = time.monotonic() - stream_began
        crash_report = await asyncio.wait_for(crash, timeout=120)

        numbers = {entry["number"] for entry in filed.values()}
        accepted_numbers = {entry["number"] for entry in filed.values() if entry["known"]}
        rejected_numbers = numbers - accepted_numbers

        async def stuck_report() -> dict:
            open_cases = [case async for case in db["intake"].complaints.find(
                {"_id": {"$in": list(numbers)}, "status": {"$nin": ["forwarded", "rejected"]}},
                projection={"status": 1, "timeline.action": 1, "timeline.at": 1})]
            return {
                "open_cases": len(open_cases),
                "statuses": dict(Counter(case["status"] for case in open_cases)),
                "example": open_cases[:2],
                "unsent_outbox": {s: await db[s].outbox.count_documents({"sent_at": None}) for s in SERVICES},
                "queues": await queue_counts(
                    broker["amqp_url"], [platform.queue(s, x) for s in CONSUMING for x in ("", ".retry", ".dlq")]),
                "deliveries": {d["_id"]: d["n"] async for d in await db["notification"].deliveries.aggregate(
                    [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])},
            }

        async def all_final() -> bool:
            final = await db["intake"].complaints.count_documents(
                {"_id": {"$in": list(numbers)},
                 "$or": [{"status": "forwarded"}, {"status": "rejected"}]})
            return final == len(numbers)

        try:
            await until(all_final, SETTLE_TIMEOUT_S, "every complaint to reach forwarded or rejected")
        except AssertionError:
            raise AssertionError(f"not every complaint is final: {await stuck_report()}\nlogs: {log_dir}") from None
        pipeline_s = time.monotonic() - stream_began

        async def outboxes_empty() -> bool:
            pending = [await db[s].outbox.count_documents({"sent_at": None}) for s in SERVICES]
            return sum(pending) == 0

        async def queues_drained() -> bool:
            counts = await queue_counts(broker["amqp_url"], [platform.queue(s) for s in CONSUMING])
            return all(ready == 0 for ready, _ in counts.values())

        async def quiet() -> bool:
            """Nothing left to publish or to consume (what follows a final state, e.g. deadline notes, has landed)."""
            return await outboxes_empty() and await queues_drained()

        await until(quiet, 60, "every outbox entry to be published and consumed")
        await asyncio.sleep(1.0)  # messages delivered but not yet acknowledged finish their handling
        await until(quiet, 30, "every outbox entry to be published and consumed")

        # --- the outcome -----------------------------------------------------------------------
        cases = {case["_id"]: case async for case in db["intake"].complaints.find({"_id": {"$in": list(numbers)}})}
        snapshot = {number: state_of(case) for number, case in cases.items()}
        for number in accepted_numbers:
            case = cases[number]
            assert case["status"] == "forwarded", (number, case["status"])
            actions = [entry["action"] for entry in case["timeline"]]
            assert [action for action in actions if action in TRANSITIONS] == ["submit", "accept", "forward"], actions
            # Notes that change no state (the response clock starting) come after the forwarding.
            assert all(action in TRANSITIONS for action in actions[:actions.index("forward") + 1]), (number, actions)
        for number in rejected_numbers:
            case = cases[number]
            assert case["status"] == "rejected", (number, case["status"])
            assert [entry["action"] for entry in case["timeline"]] == ["submit", "reject"]
            assert case["rejection"]["reason"] == "company_unknown"
        for case in cases.values():
            stamps = [entry["at"] for entry in case["timeline"]]
            assert stamps == sorted(stamps), (case["_id"], stamps)
        for entry in filed.values():
            if entry["known"]:
                assert cases[entry["number"]]["company_id"] == entry["company_id"]
            if entry["evidence_id"]:
                assert [ref["evidence_id"] for ref in cases[entry["number"]]["evidence"]] == [entry["evidence_id"]]

        hops = {"screened": [], "forwarded": []}
        for case in cases.values():
            at = {entry["action"]: entry["at"] for entry in case["timeline"]}
            decided = at.get("accept") or at.get("reject")
            hops["screened"].append((decided - at["submit"]).total_seconds())
            if "forward" in at:
                hops["forwarded"].append((at["forward"] - at["accept"]).total_seconds())
        hop_seconds = {name: {"p50": round(sorted(values)[len(values) // 2], 2), "max": round(max(values), 2)}
                       for name, values in hops.items()}

        # No complaint twice: one case per filing, and a retried filing on the other replica got the same number.
        assert len(numbers) == COMPLAINTS
        for first, second in twins:
            assert first == second
        all_cases = await db["intake"].complaints.count_documents({})
        assert all_cases == COMPLAINTS
        decisions = await db["routing"].decisions.count_documents({})
        assert decisions == COMPLAINTS

        # Webhooks: one webhook id per accepted complaint, to the right company, signature valid;
        # a repeated delivery of the same id (at-least-once) is allowed and counted.
        received = list(receiver.received)
        assert all(delivery.verified for delivery in received)
        ids_by_number: dict[str, set[str]] = defaultdict(set)
        per_id = Counter(delivery.webhook_id for delivery in received)
        for delivery in received:
            data = delivery.body["data"]
            ids_by_number[data["number"]].add(delivery.webhook_id)
            assert data["company_id"] == cases[data["number"]]["company_id"]
        assert set(ids_by_number) == accepted_numbers
        several = {number: ids for number, ids in ids_by_number.items() if len(ids) > 1}
        assert not several, f"complaints with more than one webhook id: {several}"
        assert len(per_id) == len(accepted_numbers)
        for number in accepted_numbers:
            assert cases[number]["forwarding_webhook_id"] in ids_by_number[number]
        delivered = await db["notification"].deliveries.count_documents({"status": "delivered"})
        assert delivered == await db["notification"].deliveries.count_documents({}) == len(accepted_numbers)
        evidence_stored = await db["evidence"].evidence.count_documents({})
        assert evidence_stored == sum(1 for entry in filed.values() if entry["evidence_id"])

        # --- twice and out of order --------------------------------------------------------------
        # Replay what the services already handled (the broker redelivering), then publish late
        # decisions that contradict the final state (a stale screening, a second delivery report).
        deliveries_before = len(receiver.received)
        duplicates = []
        for event_type in TAPPED:
            for tapped in tap.events(event_type)[:15]:
                duplicates.append(await tap.publish(tapped.event))
        contradicting = []
        for number in sorted(accepted_numbers)[:8]:
            contradicting.append(await tap.publish(CloudEvent.wrap(ComplaintScreened(
                number=number, decision="rejected", reason="company_unknown", screened_at=utc_now()),
                source="/services/routing", subject=number)))
            contradicting.append(await tap.publish(CloudEvent.wrap(WebhookDelivered(
                webhook_id="msg_late_duplicate_report", number=number, company_id=cases[number]["company_id"],
                event_type="complaint.forwarded", attempts=1, status_code=200, delivered_at=utc_now()),
                source="/services/notification", subject=number)))
        for number in sorted(rejected_numbers)[:4]:
            company = companies[0]
            contradicting.append(await tap.publish(CloudEvent.wrap(ComplaintScreened(
                number=number, decision="accepted", company_id=company["id"], company_name=company["name"],
                category="billing", response_due="2026-12-01", screened_at=utc_now()),
                source="/services/routing", subject=number)))
        late_ids = [event.id for event in contradicting]

        async def late_events_handled() -> bool:
            return await db["intake"].inbox.count_documents({"_id": {"$in": late_ids}}) == len(late_ids)

        await until(late_events_handled, 60, "the late, contradicting events to be handled")

        await until(quiet, 30, "the replayed duplicates to be consumed")
        await asyncio.sleep(1.5)  # messages delivered but not yet acknowledged finish their (no-op) handling
        await until(quiet, 30, "the replayed duplicates to be consumed")

        after = {case["_id"]: state_of(case)
                 async for case in db["intake"].complaints.find({"_id": {"$in": list(numbers)}})}
        assert after == snapshot, "a duplicate or late event changed a case"
        assert len(receiver.received) == deliveries_before, "a replayed complaint.accepted caused another webhook"
        assert await db["notification"].deliveries.count_documents({}) == len(accepted_numbers)
        assert await db["routing"].decisions.count_documents({}) == COMPLAINTS

        # --- nothing left behind ------------------------------------------------------------------
        queue_names = [platform.queue(s, suffix) for s in CONSUMING for suffix in ("", ".dlq")]
        counts = await queue_counts(broker["amqp_url"], queue_names)
        dead_letters = {name.split(".")[-2]: ready for name, (ready, _) in counts.items() if name.endswith(".dlq")}
        assert all(ready == 0 for ready in dead_letters.values()), dead_letters
        reclaimed = {s: await db[s].outbox.count_documents({"attempts": {"$gt": 1}}) for s in SERVICES}
        outbox_entries = {s: await db[s].outbox.count_documents({}) for s in SERVICES}
        crashed_still_dead = all(not replica.running for replica in platform.retired)
        assert crashed_still_dead

    return {
        "replicas": REPLICAS,
        "consumers_per_queue_at_start": consumers_at_start,
        "started_in_s": round(started_in, 1),
        "complaints": COMPLAINTS,
        "accepted_and_forwarded": len(accepted_numbers),
        "rejected_company_unknown": len(rejected_numbers),
        "with_evidence": evidence_stored,
        "twin_submissions_same_number": len(twins),
        "client_retries_after_a_lost_connection": retries["filing"],
        "crash": crash_report,
        "filing_s": round(filing_s, 1),
        "all_final_after_s": round(pipeline_s, 1),
        "hop_seconds": hop_seconds,
        "distinct_webhook_ids": len(per_id),
        "webhook_deliveries_received": deliveries_before,
        "webhook_ids_delivered_more_than_once": sum(1 for count in per_id.values() if count > 1),
        "outbox_entries": outbox_entries,
        "outbox_entries_claimed_more_than_once": reclaimed,
        "replayed_duplicates": len(duplicates),
        "late_contradicting_events": len(contradicting),
        "dead_letters": dead_letters,
        "total_s": round(time.monotonic() - began, 1),
    }
