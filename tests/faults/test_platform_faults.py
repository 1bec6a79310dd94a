"""Nothing lost, nothing twice: the platform under a steady stream of complaints while its parts fail.

Each scenario files a stream of complaints (some with evidence, some to companies the directory
does not know) through intake while one part goes away and comes back:

1. the broker stops and starts again (intake keeps filing into its outbox and says ``degraded``);
2. the store stops and starts again (intake answers 503 ``store_unavailable`` meanwhile);
3. each service in turn is killed with SIGKILL mid-stream and started again at its address;
4. the company's webhook endpoint answers 500, then hangs past the timeout, then refuses
   connections, then comes back;
5. poison messages (unparseable, and valid CloudEvents breaking their contract) are published with
   each consumer's routing key.

After each, read from the stores, the broker and the company's receiver: every filing that was
answered 201 reached its final state (forwarded, or under review for an unknown company), no complaint
exists twice, no event was applied twice, each complaint's company received one webhook id for it
(retries reuse it; distinct ids = forwarded complaints), the dead-letter queues hold exactly the
poison, and nothing was lost. The counts go into the session's report (see conftest.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from devstack import standins
from devstack.filing import FilingStream, complaint_form
from devstack.invariants import tally_webhooks, until
from greenchannel.contracts import CloudEvent

from .conftest import WEBHOOK_TIMEOUT_S, FaultRig

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SETTLE_TIMEOUT_S = 150
CONSUMERS = ("intake", "routing", "notification", "evidence")
ADMIN = {"login": "admin", "password": "development-only-admin-password"}
# Each consumer's routing key for the poison (complaint.submitted reaches routing and evidence both).
POISON_KEYS = {
    "intake": "complaint.screened",
    "routing": "complaint.submitted",
    "notification": "complaint.accepted",
    "evidence": "complaint.submitted",
}


async def run_stream(stream: FilingStream, fault, *, at_least: int = 20, at_most: int = 90) -> dict[str, Any]:
    """File while ``fault(stream)`` runs; stop filing once it returned and ``at_least`` filings were made. What is
    checked holds for every filing: ``at_least`` only keeps a fault that passes quickly from ending the stream
    before it was a stream; each fault waits for the filings it needs in each of its phases."""
    stop = asyncio.Event()
    filing = asyncio.create_task(stream.run(stop, at_least=at_least, at_most=at_most))
    try:
        facts = await fault(stream)
    except BaseException:
        filing.cancel()  # what failed is reported, not hidden behind a stream waiting for a part still down
        await asyncio.gather(filing, return_exceptions=True)
        raise
    stop.set()
    await filing
    return facts


async def settle_and_check(
    rig: FaultRig,
    stream: FilingStream,
    scenario: str,
    facts: dict[str, Any],
    published_before: Counter,
    claimed_before: dict[str, int],
) -> dict[str, Any]:
    """Wait until the stream's complaints are final and the platform is quiet, check every invariant over
    all complaints filed so far, and add this scenario's counts to the report."""
    began = time.monotonic()
    numbers, accepted, rejected = stream.numbers(), stream.numbers(known=True), stream.numbers(known=False)
    assert len(stream.answered) == len(stream.filings), "every filing was answered 201 in the end"
    rig.numbers |= numbers
    await rig.stores.wait_final(rig.numbers, SETTLE_TIMEOUT_S, hint=f"logs: {rig.log_dir}")
    # Evidence attaches files on its own; a message it holds unacknowledged is not seen by wait_quiet
    # (e.g. one waiting for the lock a killed process's transaction left, up to the store's 60 s).
    evidence_ids = [filing.evidence_id for filing in stream.answered if filing.evidence_id]

    async def evidence_attached() -> bool:
        return await rig.stores.dbs["evidence"].evidence.count_documents(
            {"_id": {"$in": evidence_ids}, "status": "attached"}
        ) == len(evidence_ids)

    try:
        await until(evidence_attached, SETTLE_TIMEOUT_S, "every evidence file filed to be attached")
    except AssertionError as error:
        raise AssertionError(f"{error}; dead letters {await rig.stores.dead_letters()}, logs: {rig.log_dir}") from None
    await rig.stores.wait_quiet()
    settled_s = time.monotonic() - began

    intake = rig.stores.dbs["intake"]
    cases = {case["_id"]: case async for case in intake.complaints.find({"_id": {"$in": list(numbers)}})}
    assert len(cases) == len(numbers) == len(stream.filings), "one complaint per filing, none lost"
    for filing in stream.answered:
        case = cases[filing.number]
        if filing.company_id is None:
            assert case["status"] == "under_review", case["status"]
            assert case["company_review"]["reason"] == "company_unknown"
        else:
            assert case["status"] == "forwarded", (filing.number, case["status"])
            assert case["company_id"] == filing.company_id
        if filing.evidence_id:
            assert [ref["evidence_id"] for ref in case["evidence"]] == [filing.evidence_id]
            record = await rig.stores.dbs["evidence"].evidence.find_one({"_id": filing.evidence_id})
            assert record is not None and record["number"] == filing.number and record["status"] == "attached"

    twice = await rig.stores.stored_twice(rig.numbers)
    assert twice == {
        "complaints_filed_twice": 0,
        "transitions_applied_twice": 0,
        "events_applied_twice": dict.fromkeys(rig.stores.dbs, 0),
        "forwarding_deliveries_twice": 0,
        "evidence_counted_wrong": 0,
    }, twice

    # Webhooks: every forwarded complaint's company got one webhook id for it, accepted at least once,
    # signed; retries of a delivery reuse its id.
    tally = tally_webhooks(rig.receiver.received)
    assert tally.unverified == 0
    assert not tally.numbers_with_several_ids, tally.numbers_with_several_ids
    assert {number for number in tally.ids_by_number if number in numbers} == accepted
    ids = {number: next(iter(tally.ids_by_number[number])) for number in accepted}
    for number, webhook_id in ids.items():
        assert tally.accepted_per_id[webhook_id] >= 1, (number, webhook_id)
        assert cases[number]["forwarding_webhook_id"] == webhook_id
    deliveries = [
        d
        async for d in rig.stores.dbs["notification"].deliveries.find(
            {"number": {"$in": list(accepted)}, "event_type": "complaint.forwarded"}
        )
    ]
    assert len(deliveries) == len(accepted) and all(d["status"] == "delivered" for d in deliveries)

    dead_letters = await rig.stores.dead_letters()
    assert dead_letters == dict.fromkeys(CONSUMERS, 0), dead_letters

    published = _published_per_event(rig)
    claimed = await rig.stores.outbox_claimed_more_than_once()
    walks = sorted(_submit_to_final_s(case) for case in cases.values())
    counts = {
        "complaints_filed": len(stream.filings),
        "forwarded": len(accepted),
        "under_review_company_unknown": len(rejected),
        "with_evidence": sum(1 for filing in stream.filings if filing.evidence_id),
        "client_retries": dict(stream.filer.retries),
        "all_final_and_quiet_after_s": round(settled_s, 1),
        "submit_to_final_s": {"p50": round(walks[len(walks) // 2], 1), "max": round(walks[-1], 1)},
        "complaints_twice": twice["complaints_filed_twice"],
        "events_applied_twice": sum(twice["events_applied_twice"].values()) + twice["transitions_applied_twice"],
        "distinct_webhook_ids": len(ids),
        "webhook_attempts_received": sum(tally.received_per_id[webhook_id] for webhook_id in ids.values()),
        "webhook_ids_accepted_more_than_once": sum(
            1 for webhook_id in ids.values() if tally.accepted_per_id[webhook_id] > 1
        ),
        "events_published_more_than_once": sum(
            1
            for event_id, count in published.items()
            if count > 1 and published_before[event_id] < 2 and event_id not in rig.republished
        ),
        "outbox_entries_claimed_more_than_once": {
            service: claimed[service] - claimed_before.get(service, 0) for service in claimed
        },
        "dead_letters": dead_letters,
        **facts,
    }
    rig.report[scenario] = counts
    print(f"\n{scenario}: {counts}")
    return counts


def _submit_to_final_s(case: dict[str, Any]) -> float:
    at = {entry["action"]: entry["at"] for entry in case["timeline"]}
    return ((at.get("forward") or at.get("reject") or at["refer_for_review"]) - at["submit"]).total_seconds()


def _published_per_event(rig: FaultRig) -> Counter:
    """How often the broker routed each event id to the tap (a publication counted once however many queues got it)."""
    return Counter(tapped.event.id for tapped in rig.tap.seen)


async def baseline(rig: FaultRig) -> tuple[Counter, dict[str, int]]:
    return _published_per_event(rig), await rig.stores.outbox_claimed_more_than_once()


async def outbox_backlog(rig: FaultRig, service: str = "intake") -> int:
    return (await rig.stores.outbox_pending())[service]


# --- 1. the broker --------------------------------------------------------------------------------


async def test_the_broker_stops_and_starts_again_while_complaints_are_filed(rig: FaultRig, amqp_url: str):
    before = await baseline(rig)
    stream = rig.stream("broker")

    async def broker_outage(stream: FilingStream) -> dict[str, Any]:
        await stream.wait_answered(8)
        stream.phase = "broker down"
        began = time.monotonic()
        await asyncio.to_thread(rig.node.stop)
        stopped_s = time.monotonic() - began

        async def degraded() -> dict[str, Any] | None:
            status, body = await rig.readiness("intake")
            return body if status == 200 and body.get("degraded") == ["broker"] else None

        readiness = await until(degraded, 30, "intake to report itself degraded (broker down)")
        others = {service: (await rig.readiness(service))[0] for service in ("routing", "notification", "evidence")}
        # The machine's own broker, beside the tests' node, is not disturbed.
        await asyncio.to_thread(standins.wait_for_amqp, urlparse(amqp_url).port or 5672, 10)
        filed_before_outage = len(stream.answered)
        await stream.wait_answered(filed_before_outage + 12)
        backlog = await outbox_backlog(rig)
        during = stream.during("broker down")
        assert len(during) >= 12
        # Every filing while the broker was away is in intake's outbox, waiting.
        assert backlog >= len(during), (backlog, len(during))
        down_s = time.monotonic() - began

        stream.phase = "broker back"
        began = time.monotonic()
        await asyncio.to_thread(rig.node.start)
        restarted_s = time.monotonic() - began

        async def intake_ready() -> bool:
            status, body = await rig.readiness("intake")
            return status == 200 and body["status"] == "ready"

        await until(intake_ready, 60, "intake to be ready again")
        await until(lambda: outbox_backlog_is(rig, 0), 60, "intake's outbox to drain")
        drained_s = time.monotonic() - began
        await rig.wait_ready()
        await stream.wait_answered(len(stream.answered) + 6)
        return {
            "filed_while_broker_down": len(during),
            "intake_readyz_while_broker_down": readiness,
            "others_readyz_status_while_broker_down": others,
            "intake_outbox_backlog_while_down": backlog,
            "broker_stop_s": round(stopped_s, 1),
            "broker_down_s": round(down_s, 1),
            "broker_restart_s": round(restarted_s, 1),
            "outbox_drained_after_restart_s": round(drained_s, 1),
        }

    facts = await run_stream(stream, broker_outage)
    # Filing needs only intake's store: nothing was refused or retried while the broker was away.
    assert not stream.filer.retries, stream.filer.retries
    await settle_and_check(rig, stream, "broker_restart", facts, *before)


async def outbox_backlog_is(rig: FaultRig, backlog: int) -> bool:
    return await outbox_backlog(rig) == backlog


# --- 2. the store ---------------------------------------------------------------------------------

STORE_OUTAGE_TIMEOUT_S = 60


async def test_the_store_stops_and_starts_again_while_complaints_are_filed(rig: FaultRig):
    before = await baseline(rig)
    stream = rig.stream("store", retry_statuses=frozenset({503}))

    retried_before: dict[str, int] = {}

    async def store_outage(stream: FilingStream) -> dict[str, Any]:
        await stream.wait_answered(8)
        await rig.stores.wait_final(stream.numbers(), 60)
        retried_before.update(await rig.events_consumed("retried"))
        stream.phase = "store down"
        began = time.monotonic()
        await asyncio.to_thread(rig.stop_store)
        # Events delivered again while the store is away (a broker redelivering), one for each consumer:
        # each handler fails on its inbox and must wait for the store, not dead-letter the event.
        replayed = [
            tapped.event
            for tapped in rig.tap.seen
            if tapped.event.subject in stream.numbers() and tapped.event.type in set(POISON_KEYS.values())
        ]
        for event in replayed:
            await rig.tap.publish(event)
            rig.republished.add(event.id)
        refused = await rig.http.post(
            f"{rig.intake_url}/v1/complaints",
            headers={"Idempotency-Key": "store-down-probe"},
            json=complaint_form("store-down-probe", 0, "迅联"),
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "store_unavailable" and int(refused.headers["Retry-After"]) > 0
        answers = await asyncio.gather(*(rig.readiness(service) for service in CONSUMERS))
        readiness = {service: status for service, (status, _) in zip(CONSUMERS, answers, strict=True)}
        assert readiness["intake"] == 503

        # The store stays away until the platform felt it: a filing of the stream was refused, and every consumer's
        # handler failed on a replayed event and was retried (waiting for the store, not dead-lettering the event;
        # each try waits for the driver's server selection first).
        async def felt_everywhere() -> bool:
            if stream.filer.retries["503 store_unavailable"] < 1:
                return False
            retried = await rig.events_consumed("retried")
            return all(retried[service] > retried_before[service] for service in CONSUMERS)

        await until(felt_everywhere, STORE_OUTAGE_TIMEOUT_S, "a refused filing and a retried handler in every consumer")
        down_s = time.monotonic() - began

        stream.phase = "store back"
        await asyncio.to_thread(rig.start_store)
        began = time.monotonic()
        await rig.wait_ready()
        recovered_s = time.monotonic() - began
        await stream.wait_answered(len(stream.answered) + 8)
        return {
            "events_redelivered_while_store_down": len(replayed),
            "store_down_s": round(down_s, 1),
            "readyz_status_while_store_down": readiness,
            "all_ready_after_restart_s": round(recovered_s, 1),
        }

    facts = await run_stream(stream, store_outage)
    # Every retry the outage caused is counted once the replayed events were handled: once the platform is quiet,
    # which it soon is with the stream stopped (while complaints keep coming it may not be for a long while).
    await rig.stores.wait_quiet()
    retried_after = await rig.events_consumed("retried")
    facts["handler_attempts_retried_while_store_down"] = {
        service: retried_after[service] - retried_before[service] for service in CONSUMERS
    }
    assert stream.filer.retries["503 store_unavailable"] >= 1, stream.filer.retries
    assert set(stream.filer.retries) <= {"503 store_unavailable", "transport"}, stream.filer.retries
    # The refused probe stored nothing.
    probe_title = complaint_form("store-down-probe", 0, "迅联")["title"]
    assert await rig.stores.dbs["intake"].complaints.count_documents({"title": probe_title}) == 0
    await settle_and_check(rig, stream, "store_restart", facts, *before)


# --- 3. kill -9, service by service ---------------------------------------------------------------


# Filings answered before each kill and after the last restart: the platform files again between two kills.
ANSWERED_BETWEEN_KILLS = 3


async def test_each_service_killed_mid_stream_and_started_again(rig: FaultRig):
    before = await baseline(rig)
    # intake away: connections refused; evidence away: intake answers 503 evidence_unavailable.
    stream = rig.stream("kill", retry_statuses=frozenset({503}))

    async def kill_each(stream: FilingStream) -> dict[str, Any]:
        kills = {}
        for service in CONSUMERS:
            await stream.wait_answered(len(stream.answered) + ANSWERED_BETWEEN_KILLS)
            victim = rig.platform.running(service)[0]
            pending = (await rig.stores.outbox_pending())[service]
            rig.platform.kill(victim)
            began = time.monotonic()
            await rig.platform.restart(victim)
            kills[service] = {
                "filed_before": len(stream.answered),
                "outbox_pending_at_kill": pending,
                "back_after_s": round(time.monotonic() - began, 1),
            }
        await stream.wait_answered(len(stream.answered) + ANSWERED_BETWEEN_KILLS)
        return {"killed": kills}

    facts = await run_stream(stream, kill_each)
    assert set(stream.filer.retries) <= {"transport", "503 evidence_unavailable"}, stream.filer.retries
    await settle_and_check(rig, stream, "kill_each_service", facts, *before)


# --- 4. the company's endpoint --------------------------------------------------------------------


async def test_the_company_endpoint_fails_three_ways_and_comes_back(rig: FaultRig):
    before = await baseline(rig)
    stream = rig.stream("webhook")
    receiver = rig.receiver

    def attempts_since(mark: int, answered) -> int:
        return sum(1 for delivery in receiver.received[mark:] if answered(delivery))

    async def endpoint_outage(stream: FilingStream) -> dict[str, Any]:
        await stream.wait_answered(5)
        began = time.monotonic()
        stream.phase = "endpoint answers 500"
        receiver.respond_with = 500
        mark = len(receiver.received)
        await until(lambda: attempts_since(mark, lambda d: d.answered == 500) >= 8, 60, "attempts answered 500")
        answered_500 = attempts_since(mark, lambda d: d.answered == 500)

        stream.phase = "endpoint hangs"
        receiver.respond_with, receiver.hang_s = 204, WEBHOOK_TIMEOUT_S + 1.5
        mark = len(receiver.received)
        await until(lambda: attempts_since(mark, lambda d: True) >= 6, 60, "attempts held past the timeout")
        held = attempts_since(mark, lambda d: True)

        async def held_ones_timed_out() -> bool:  # at the sender, which wrote each into the delivery log
            return (await failed_attempts(rig, stream))["timed out"] >= held

        await until(held_ones_timed_out, 60, f"the {held} held attempts to time out at the sender")
        receiver.hang_s = 0
        hung = attempts_since(mark, lambda d: d.answered is None)

        stream.phase = "endpoint refuses connections"
        refused_before = (await failed_attempts(rig, stream))["connection refused"]
        await rig.endpoint.stop()
        refused_from = time.monotonic()
        await stream.wait_answered(len(stream.answered) + 4)

        async def attempts_refused() -> bool:
            return (await failed_attempts(rig, stream))["connection refused"] > refused_before

        await until(attempts_refused, 60, "an attempt refused a connection")
        refused_s = time.monotonic() - refused_from

        stream.phase = "endpoint back"
        await rig.endpoint.start()
        outage_s = time.monotonic() - began
        await stream.wait_answered(len(stream.answered) + 6)
        return {
            "attempts_answered_500": answered_500,
            "attempts_held_past_timeout": hung,
            "connections_refused_for_s": round(refused_s, 1),
            "endpoint_outage_s": round(outage_s, 1),
        }

    facts = await run_stream(stream, endpoint_outage)
    counts = await settle_and_check(rig, stream, "webhook_endpoint_down", facts, *before)
    # The outage was seen by notification: attempts that failed each way, all in the delivery log.
    failures = await failed_attempts(rig, stream)
    assert failures["answered 500"] >= 8 and failures["timed out"] >= 1 and failures["connection refused"] >= 1, (
        failures
    )
    assert counts["webhook_attempts_received"] > counts["distinct_webhook_ids"]
    rig.report["webhook_endpoint_down"]["failed_attempts_in_delivery_log"] = dict(failures)


async def failed_attempts(rig: FaultRig, stream: FilingStream) -> Counter[str]:
    """The attempts at the stream's webhooks that failed, by how, from notification's delivery log."""
    failures: Counter[str] = Counter()
    async for delivery in rig.stores.dbs["notification"].deliveries.find(
        {"number": {"$in": list(stream.numbers(known=True))}}
    ):
        for attempt in delivery["attempts"]:
            if attempt["status_code"] == 500:
                failures["answered 500"] += 1
            elif attempt["status_code"] is None and "connect" in (attempt["error"] or "").lower():
                failures["connection refused"] += 1
            elif attempt["status_code"] is None:
                failures["timed out"] += 1
    return failures


# --- 5. poison ------------------------------------------------------------------------------------


async def test_poison_messages_end_in_each_consumers_dead_letter_queue_and_change_nothing(rig: FaultRig):
    await rig.stores.wait_quiet()
    census = await rig.stores.census()
    received = len(rig.receiver.received)
    expected = dict.fromkeys(POISON_KEYS, 2)  # one unparseable, one breaking its contract
    for key in sorted(set(POISON_KEYS.values())):
        await rig.tap.publish_raw(b"\x00{not json at all", key)
        # A valid envelope whose data breaks the contract of its type.
        await rig.tap.publish(
            CloudEvent(
                type=key, source="/tests/faults", subject="GC-20260101-999999", data={"number": 42, "unexpected": True}
            ),
            key,
        )

    async def all_dead_lettered() -> bool:
        return await rig.stores.dead_letters() == expected

    await until(all_dead_lettered, 60, f"the poison to reach the dead-letter queues {expected}")
    await rig.stores.wait_quiet()
    assert await rig.stores.census() == census, "a poison message changed what a service stores"
    assert len(rig.receiver.received) == received

    # Operators see each with its reason, and a replay puts it back into that consumer's queue only.
    async with httpx.AsyncClient(base_url=rig.intake_url, timeout=30) as intake:
        token = (await intake.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
        operator = {"Authorization": f"Bearer {token}"}
        listed = {}
        for service in CONSUMERS:
            answer = await intake.get("/v1/ops/dead-letters", params={"service": service}, headers=operator)
            assert answer.status_code == 200, answer.text
            items = answer.json()["items"]
            assert len(items) == expected[service]
            assert all(item["reason"].startswith("contract:") for item in items), items
            listed[service] = items
        replayed = await intake.post(f"/v1/ops/dead-letters/{listed['routing'][0]['id']}/replay", headers=operator)
        assert replayed.status_code == 200, replayed.text

    async def back_in_routing_dlq() -> bool:
        return (await rig.stores.dead_letters())["routing"] == 1

    await until(back_in_routing_dlq, 30, "the replayed poison to be dead-lettered again")
    assert {service: count for service, count in (await rig.stores.dead_letters()).items() if service != "routing"} == {
        service: 0 for service in CONSUMERS if service != "routing"
    }
    rig.report["poison"] = {
        "published": {
            "unparseable": len(set(POISON_KEYS.values())),
            "contract_breaking": len(set(POISON_KEYS.values())),
        },
        "dead_lettered": expected,
        "reasons": {
            service: sorted({item["reason"].removeprefix("contract: ").split(":")[0] for item in items})
            for service, items in listed.items()
        },
        "collections_changed": 0,
        "replayed_and_dead_lettered_again": 1,
    }
