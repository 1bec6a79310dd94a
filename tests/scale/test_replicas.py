"""Every service scaled out: three replicas each of routing, notification and evidence and two of intake,
as separate processes on the same databases and broker, while complaints stream in and replicas crash.

What must hold however many replicas run:

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
import json
import os
import time
from pathlib import Path

import httpx
import pytest

from devstack.eventtap import event_tap
from devstack.filing import Filer, complaint_form
from devstack.invariants import TRANSITIONS, PlatformStores, tally_webhooks, until
from devstack.platform import WEBHOOK_SECRET, register_endpoints
from devstack.processes import SERVICES, queue_counts, running_replicas
from devstack.receiver import WebhookReceiver
from devstack.servers import serve
from greenchannel.contracts import CloudEvent, ComplaintScreened, WebhookDelivered, utc_now
from greenchannel.mongo import make_client

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPLICAS = {"evidence": 3, "routing": 3, "notification": 3, "intake": 2}
# Enough for every kind of filing below many times over, and for the crash to fall mid-stream; what is checked
# holds for every complaint, so more would only take longer.
COMPLAINTS = 75
CONCURRENCY = 12
# Every UNKNOWN_EVERY-th complaint names a company the directory does not know; every EVIDENCE_EVERY-th
# uploads a file first; every TWIN_EVERY-th without evidence is sent twice at once, to both intake
# replicas, with one Idempotency-Key.
UNKNOWN_EVERY, EVIDENCE_EVERY, TWIN_EVERY = 5, 4, 7
# After this many filings one replica of routing and one of notification are killed (SIGKILL).
CRASH_AFTER = 20
SETTLE_TIMEOUT_S = 120
CONSUMING = ("intake", "routing", "notification", "evidence")
TAPPED = ("complaint.submitted", "complaint.screened", "complaint.accepted", "webhook.delivered")


def state_of(case: dict) -> tuple:
    """Status and transitions with their times; notes (deadlines) may still be arriving and are left out."""
    transitions = [(entry["action"], entry["at"]) for entry in case["timeline"] if entry["action"] in TRANSITIONS]
    return case["status"], transitions


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
            mongo_url=mongo_url,
            s3_endpoint=s3_endpoint,
            broker=broker,
            db_prefix=f"t{run_id}_scale",
            bucket=f"scale-{run_id}",
            log_dir=log_dir,
            replicas=REPLICAS,
            log_level=os.environ.get("SCALE_LOG_LEVEL", "WARNING"),
        ) as platform,
        httpx.AsyncClient(timeout=60) as http,
    ):
        stores = PlatformStores(db, broker["amqp_url"], broker["queue_prefix"], CONSUMING)
        started_in = time.monotonic() - began
        consumers_at_start = {
            name.rsplit(".", 1)[-1]: count[1]
            for name, count in (await queue_counts(broker["amqp_url"], [platform.queue(s) for s in CONSUMING])).items()
        }
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
        # A connection lost on the way is retried with the same Idempotency-Key, as a client would, and counted.
        filer = Filer(http, max_tries=3)

        async def submit(i: int) -> None:
            async with semaphore:
                known = i % UNKNOWN_EVERY != 0
                company = companies[i % len(companies)]
                name = (company.get("aliases") or [company["name"]])[0] if known else f"并不存在的第{i}号网络公司"
                intake_url = platform.url("intake", i)
                evidence_ids: list[str] = []
                if i % EVIDENCE_EVERY == 0:
                    evidence_ids.append(await filer.upload(intake_url, i))
                body, key = complaint_form("scale", i, name, evidence_ids), f"scale-{run_id}-{i}"
                if i % TWIN_EVERY == 3:
                    # A client retry that lands on the other replica while the first request is in flight.
                    answers = await asyncio.gather(
                        *(filer.file(platform.url("intake", i + k), body, key) for k in (0, 1))
                    )
                    for answer in answers:
                        assert answer.status_code == 201, answer.text
                    twins.append((answers[0].json()["number"], answers[1].json()["number"]))
                    response = answers[0]
                else:
                    response = await filer.file(intake_url, body, key)
                    assert response.status_code == 201, response.text
                filed[i] = {
                    "number": response.json()["number"],
                    "known": known,
                    "company_id": company["id"] if known else None,
                    "evidence_id": evidence_ids[0] if evidence_ids else None,
                }
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
            return {
                "killed": killed,
                "started": [replica.name for replica in replaced],
                "filed_when_killed": filed_when_killed,
                "stream_still_running": not done.is_set(),
            }

        stream_began = time.monotonic()
        crash = asyncio.create_task(crash_and_replace())
        await asyncio.gather(*(submit(i) for i in range(COMPLAINTS)))
        done.set()
        filing_s = time.monotonic() - stream_began
        crash_report = await asyncio.wait_for(crash, timeout=120)

        numbers = {entry["number"] for entry in filed.values()}
        accepted_numbers = {entry["number"] for entry in filed.values() if entry["known"]}
        rejected_numbers = numbers - accepted_numbers

        await stores.wait_final(numbers, SETTLE_TIMEOUT_S, hint=f"logs: {log_dir}")
        pipeline_s = time.monotonic() - stream_began
        # Nothing left to publish or to consume (what follows a final state, e.g. deadline notes, has landed).
        await stores.wait_quiet()

        # --- the outcome -----------------------------------------------------------------------
        cases = {case["_id"]: case async for case in db["intake"].complaints.find({"_id": {"$in": list(numbers)}})}
        snapshot = {number: state_of(case) for number, case in cases.items()}
        for number in accepted_numbers:
            case = cases[number]
            assert case["status"] == "forwarded", (number, case["status"])
            actions = [entry["action"] for entry in case["timeline"]]
            assert [action for action in actions if action in TRANSITIONS] == ["submit", "accept", "forward"], actions
            # Notes that change no state (the response clock starting) come after the forwarding.
            assert all(action in TRANSITIONS for action in actions[: actions.index("forward") + 1]), (number, actions)
        for number in rejected_numbers:
            case = cases[number]
            assert case["status"] == "under_review", (number, case["status"])
            assert [entry["action"] for entry in case["timeline"]] == ["submit", "refer_for_review"]
            assert case["company_review"]["reason"] == "company_unknown"
        for case in cases.values():
            stamps = [entry["at"] for entry in case["timeline"]]
            assert stamps == sorted(stamps), (case["_id"], stamps)
        for entry in filed.values():
            if entry["known"]:
                assert cases[entry["number"]]["company_id"] == entry["company_id"]
            if entry["evidence_id"]:
                assert [ref["evidence_id"] for ref in cases[entry["number"]]["evidence"]] == [entry["evidence_id"]]

        hops: dict[str, list[float]] = {"screened": [], "forwarded": []}
        for case in cases.values():
            at = {entry["action"]: entry["at"] for entry in case["timeline"]}
            decided = at.get("accept") or at.get("reject") or at.get("refer_for_review")
            hops["screened"].append((decided - at["submit"]).total_seconds())
            if "forward" in at:
                hops["forwarded"].append((at["forward"] - at["accept"]).total_seconds())
        hop_seconds = {
            name: {"p50": round(sorted(values)[len(values) // 2], 2), "max": round(max(values), 2)}
            for name, values in hops.items()
        }

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
        tally = tally_webhooks(received, event_type=None)
        assert tally.unverified == 0
        for delivery in received:
            data = delivery.body["data"]
            assert data["company_id"] == cases[data["number"]]["company_id"]
        assert set(tally.ids_by_number) == accepted_numbers
        assert not tally.numbers_with_several_ids, (
            f"complaints with more than one webhook id: {tally.numbers_with_several_ids}"
        )
        per_id = tally.received_per_id
        assert len(per_id) == len(accepted_numbers)
        for number in accepted_numbers:
            assert cases[number]["forwarding_webhook_id"] in tally.ids_by_number[number]
        delivered = await db["notification"].deliveries.count_documents({"status": "delivered"})
        assert delivered == await db["notification"].deliveries.count_documents({}) == len(accepted_numbers)
        evidence_stored = await db["evidence"].evidence.count_documents({})
        assert evidence_stored == sum(1 for entry in filed.values() if entry["evidence_id"])

        # --- twice and out of order --------------------------------------------------------------
        # Replay what the services already handled (the broker redelivering), then publish late
        # decisions that contradict the final state (a stale screening, a second delivery report).
        deliveries_before = len(receiver.received)
        duplicates = [
            await tap.publish(tapped.event) for event_type in TAPPED for tapped in tap.events(event_type)[:15]
        ]
        contradicting = []
        for number in sorted(accepted_numbers)[:8]:
            contradicting.append(
                await tap.publish(
                    CloudEvent.wrap(
                        ComplaintScreened(
                            number=number, decision="rejected", reason="company_unknown", screened_at=utc_now()
                        ),
                        source="/services/routing",
                        subject=number,
                    )
                )
            )
            contradicting.append(
                await tap.publish(
                    CloudEvent.wrap(
                        WebhookDelivered(
                            webhook_id="msg_late_duplicate_report",
                            number=number,
                            company_id=cases[number]["company_id"],
                            event_type="complaint.forwarded",
                            attempts=1,
                            status_code=200,
                            delivered_at=utc_now(),
                        ),
                        source="/services/notification",
                        subject=number,
                    )
                )
            )
        for number in sorted(rejected_numbers)[:4]:
            company = companies[0]
            contradicting.append(
                await tap.publish(
                    CloudEvent.wrap(
                        ComplaintScreened(
                            number=number,
                            decision="accepted",
                            company_id=company["id"],
                            company_name=company["name"],
                            category="billing",
                            response_due="2026-12-01",
                            screened_at=utc_now(),
                        ),
                        source="/services/routing",
                        subject=number,
                    )
                )
            )
        late_ids = [event.id for event in contradicting]

        async def late_events_handled() -> bool:
            return await db["intake"].inbox.count_documents({"_id": {"$in": late_ids}}) == len(late_ids)

        await until(late_events_handled, 60, "the late, contradicting events to be handled")

        await stores.wait_quiet(30, settle_s=1.5)  # the replayed duplicates consumed, with their (no-op) handling

        after = {
            case["_id"]: state_of(case) async for case in db["intake"].complaints.find({"_id": {"$in": list(numbers)}})
        }
        assert after == snapshot, "a duplicate or late event changed a case"
        assert len(receiver.received) == deliveries_before, "a replayed complaint.accepted caused another webhook"
        assert await db["notification"].deliveries.count_documents({}) == len(accepted_numbers)
        assert await db["routing"].decisions.count_documents({}) == COMPLAINTS

        # --- nothing left behind ------------------------------------------------------------------
        dead_letters = await stores.dead_letters()
        assert all(ready == 0 for ready in dead_letters.values()), dead_letters
        reclaimed = await stores.outbox_claimed_more_than_once()
        outbox_entries = {s: await db[s].outbox.count_documents({}) for s in SERVICES}
        crashed_still_dead = all(not replica.running for replica in platform.retired)
        assert crashed_still_dead

    return {
        "replicas": REPLICAS,
        "consumers_per_queue_at_start": consumers_at_start,
        "started_in_s": round(started_in, 1),
        "complaints": COMPLAINTS,
        "accepted_and_forwarded": len(accepted_numbers),
        "under_review_company_unknown": len(rejected_numbers),
        "with_evidence": evidence_stored,
        "twin_submissions_same_number": len(twins),
        "client_retries_after_a_lost_connection": filer.retries["transport"],
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
