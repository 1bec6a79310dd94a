"""What a platform test checks after complaints went through it, read straight from each service's database,
the broker's queues and the company's webhook receiver, never through the services' own answers.

* :class:`PlatformStores`: the four databases and the broker namespace of one platform. It waits
  until every complaint reached a final state and nothing is left to publish or to consume, and
  counts what must never happen (a filing stored twice, an event applied twice), what at-least-once
  delivery allows (an event published again), and what sits in the dead-letter queues.
* :func:`census`: the document count of every collection of every service.
* :func:`tally_webhooks`: which webhook ids each complaint's company received, how often each was
  received and how often accepted.
* :func:`until`: poll a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from devstack.processes import SERVICES, queue_counts
from devstack.receiver import Delivery
from greenchannel.contracts import FORWARDING_WEBHOOK_TYPE

# Where a filing's walk through the platform ends without a person: forwarded, rejected, or (a company name
# the directory does not know) waiting in the operators' review.
FINAL_STATES = ("forwarded", "rejected", "under_review")
# The transitions of a filing's walk; other timeline entries are notes (deadlines) that change no state.
TRANSITIONS = frozenset({"submit", "accept", "reject", "forward", "refer_for_review"})
# Bookkeeping that changes without anything being stored for a complaint: rate-limit counters and failed guesses
# of secrets (a refused request still counts against its sender), the leases of background jobs, the dead-letter
# watch's last depths.
BOOKKEEPING = frozenset({"rate_limits", "guesses", "leases", "job_leases", "locks", "dead_letter_watch"})


async def until(check: Callable[[], Awaitable[Any] | Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    """Poll ``check`` (a coroutine function or a plain one) until it answers something true, which is
    answered; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


async def census(dbs: Mapping[str, AsyncDatabase]) -> dict[str, int]:
    """The number of documents in every collection of every service (``service.collection``), bookkeeping aside:
    what a refused request or a poison message must leave unchanged."""
    collections = []
    for service, db in dbs.items():
        collections += [
            (f"{service}.{name}", db[name]) for name in await db.list_collection_names() if name not in BOOKKEEPING
        ]
    counts = await asyncio.gather(*(collection.count_documents({}) for _, collection in collections))
    return dict(zip((key for key, _ in collections), counts, strict=True))


@dataclass
class PlatformStores:
    dbs: Mapping[str, AsyncDatabase]
    amqp_url: str
    queue_prefix: str
    consumers: tuple[str, ...] = SERVICES

    def queue(self, service: str, suffix: str = "") -> str:
        return f"{self.queue_prefix}.{service}{suffix}"

    # --- settling ------------------------------------------------------------------------------

    async def final_count(self, numbers: Iterable[str]) -> int:
        return await self.dbs["intake"].complaints.count_documents(
            {"_id": {"$in": list(numbers)}, "status": {"$in": list(FINAL_STATES)}}
        )

    async def wait_final(self, numbers: Iterable[str], timeout: float, hint: str = "") -> None:
        """Wait until every complaint in ``numbers`` is forwarded, rejected or under review; fail with what is stuck where."""
        numbers = list(numbers)

        async def all_final() -> bool:
            return await self.final_count(numbers) == len(numbers)

        try:
            await until(all_final, timeout, "every complaint to reach forwarded, rejected or review")
        except AssertionError:
            raise AssertionError(f"not every complaint is final: {await self.stuck_report(numbers)} {hint}") from None

    async def stuck_report(self, numbers: Iterable[str]) -> dict[str, Any]:
        open_cases = [
            case
            async for case in self.dbs["intake"].complaints.find(
                {"_id": {"$in": list(numbers)}, "status": {"$nin": list(FINAL_STATES)}},
                projection={"status": 1, "timeline.action": 1, "timeline.at": 1},
            )
        ]
        return {
            "open_cases": len(open_cases),
            "statuses": dict(Counter(case["status"] for case in open_cases)),
            "example": open_cases[:2],
            "unsent_outbox": await self.outbox_pending(),
            "queues": await queue_counts(
                self.amqp_url, [self.queue(s, x) for s in self.consumers for x in ("", ".retry", ".dlq")]
            ),
            "deliveries": {
                d["_id"]: d["n"]
                async for d in await self.dbs["notification"].deliveries.aggregate(
                    [{"$group": {"_id": "$status", "n": {"$sum": 1}}}]
                )
            },
        }

    async def outbox_pending(self) -> dict[str, int]:
        return {service: await db.outbox.count_documents({"sent_at": None}) for service, db in self.dbs.items()}

    async def quiet(self) -> bool:
        """Nothing left to publish, nothing waiting in a consumer's queue or its retry queue."""
        if any((await self.outbox_pending()).values()):
            return False
        names = [self.queue(s, x) for s in self.consumers for x in ("", ".retry")]
        return all(ready == 0 for ready, _ in (await queue_counts(self.amqp_url, names)).values())

    async def wait_quiet(self, timeout: float = 60.0, settle_s: float = 1.0) -> None:
        """Wait until the platform is quiet, twice: messages delivered but not yet acknowledged finish their
        handling in between (``settle_s``), and what they publish is waited for too."""
        await until(self.quiet, timeout, "every outbox entry to be published and consumed")
        await asyncio.sleep(settle_s)
        await until(self.quiet, timeout, "every outbox entry to be published and consumed")

    # --- counting ------------------------------------------------------------------------------

    async def dead_letters(self) -> dict[str, int]:
        counts = await queue_counts(self.amqp_url, [self.queue(s, ".dlq") for s in self.consumers])
        return {service: counts[self.queue(service, ".dlq")][0] for service in self.consumers}

    async def census(self) -> dict[str, int]:
        return await census(self.dbs)

    async def stored_twice(self, numbers: Iterable[str]) -> dict[str, Any]:
        """What must be zero after any fault: filings stored as two complaints, and effects applied twice.

        * ``complaints_filed_twice``: titles (unique per filing) held by more than one complaint;
        * ``transitions_applied_twice``: complaints whose timeline has one transition more than once;
        * ``events_applied_twice``: per service, (event type, complaint) pairs with more than one inbox entry
          (one event applied twice under two ids; the same id twice is impossible, it is the inbox's key);
        * ``forwarding_deliveries_twice``: complaints with more than one forwarding delivery;
        * ``evidence_counted_wrong``: complaints whose file count differs from the files attached to them.
        """
        numbers = list(numbers)
        intake, notification, evidence = self.dbs["intake"], self.dbs["notification"], self.dbs["evidence"]
        titles = await intake.complaints.aggregate(
            [{"$group": {"_id": "$title", "n": {"$sum": 1}}}, {"$match": {"n": {"$gt": 1}}}]
        )
        transitions_twice = 0
        async for case in intake.complaints.find({"_id": {"$in": numbers}}, projection={"timeline.action": 1}):
            actions = Counter(entry["action"] for entry in case["timeline"] if entry["action"] in TRANSITIONS)
            transitions_twice += any(count > 1 for count in actions.values())
        events_twice = {}
        for service, db in self.dbs.items():
            pairs = await db.inbox.aggregate(
                [
                    {"$match": {"subject": {"$in": numbers}}},
                    {"$group": {"_id": {"type": "$type", "subject": "$subject"}, "n": {"$sum": 1}}},
                    {"$match": {"n": {"$gt": 1}}},
                ]
            )
            events_twice[service] = len(await pairs.to_list())
        deliveries = await notification.deliveries.aggregate(
            [
                {"$match": {"number": {"$in": numbers}, "event_type": FORWARDING_WEBHOOK_TYPE}},
                {"$group": {"_id": "$number", "n": {"$sum": 1}}},
                {"$match": {"n": {"$gt": 1}}},
            ]
        )
        attached: Counter[str] = Counter()
        async for record in evidence.evidence.find({"number": {"$in": numbers}}, projection={"number": 1}):
            attached[record["number"]] += 1
        counted = {row["_id"]: row["files"] async for row in evidence.complaint_files.find({"_id": {"$in": numbers}})}
        return {
            "complaints_filed_twice": len(await titles.to_list()),
            "transitions_applied_twice": transitions_twice,
            "events_applied_twice": events_twice,
            "forwarding_deliveries_twice": len(await deliveries.to_list()),
            "evidence_counted_wrong": sum(
                1 for number in set(attached) | set(counted) if attached[number] != counted.get(number, 0)
            ),
        }

    async def outbox_claimed_more_than_once(self) -> dict[str, int]:
        """Outbox entries a relay claimed more than once (a failed or unconfirmed publish, a relay killed
        holding them): each may have reached the broker twice, which consumers' inboxes absorb."""
        return {service: await db.outbox.count_documents({"attempts": {"$gt": 1}}) for service, db in self.dbs.items()}


@dataclass
class WebhookTally:
    ids_by_number: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    received_per_id: Counter = field(default_factory=Counter)
    accepted_per_id: Counter = field(default_factory=Counter)
    unverified: int = 0

    @property
    def numbers_with_several_ids(self) -> dict[str, set[str]]:
        return {number: ids for number, ids in self.ids_by_number.items() if len(ids) > 1}

    @property
    def ids_accepted_more_than_once(self) -> int:
        return sum(1 for count in self.accepted_per_id.values() if count > 1)


def tally_webhooks(received: Iterable[Delivery], event_type: str | None = FORWARDING_WEBHOOK_TYPE) -> WebhookTally:
    """Count the webhooks of ``event_type`` (of every type: ``None``) a receiver got, per complaint and per id."""
    tally = WebhookTally()
    for delivery in received:
        if event_type is not None and delivery.body.get("type") != event_type:
            continue
        tally.unverified += not delivery.verified
        tally.ids_by_number[delivery.body["data"]["number"]].add(delivery.webhook_id)
        tally.received_per_id[delivery.webhook_id] += 1
        if delivery.accepted:
            tally.accepted_per_id[delivery.webhook_id] += 1
    return tally
