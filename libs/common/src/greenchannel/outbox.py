"""Transactional outbox and its relay.

A service writes its state change and the event it implies in one MongoDB transaction
(:meth:`Outbox.add` takes the session); the relay then publishes pending entries to RabbitMQ with
publisher confirms and marks them sent. The broker being down delays events, never loses them; a
failed write never invents one. Entries are claimed with a lease, so several relays (replicas) can
run at once and an entry whose relay died is picked up again when its lease runs out.

The W3C trace context of the writing request is stored with the entry and restored around the
publish, so the trace of an HTTP request continues through the broker. A relay pass is a job run
(``outbox relay``): a trace of its own, with its store commands and a link from each publish, only
when it claimed entries; a pass that found none exports nothing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from greenchannel.contracts import CloudEvent, EventData
from greenchannel.messaging import Broker
from greenchannel.mongo import after_commit
from greenchannel.telemetry import job_run, record_work

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SENT_RETENTION_S = 7 * 24 * 3600
#: Entries claimed, published and marked sent together in one pass.
RELAY_BATCH = 100


class Outbox:
    def __init__(self, db: AsyncDatabase, *, source: str, collection: str = "outbox") -> None:
        self.collection = db[collection]
        self.source = source
        # The relay of this process, told after each commit that staged an entry (set by OutboxRelay).
        self._on_commit: list[Callable[[], None]] = []

    def notify_on_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every transaction that staged an entry commits."""
        self._on_commit.append(callback)

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("sent_at", ASCENDING), ("created_at", ASCENDING)])
        await self.collection.create_index("claim")
        await self.collection.create_index("sent_expires_at", expireAfterSeconds=0)

    async def add(self, data: EventData, *, subject: str, session: AsyncClientSession) -> CloudEvent:
        """Stage ``data`` as an event inside the caller's transaction; the relay is woken once it commits, so no
        caller has to remember to."""
        event = CloudEvent.wrap(data, source=self.source, subject=subject)
        headers: dict[str, str] = {}
        propagate.inject(headers)
        await self.collection.insert_one(
            {
                "_id": event.id,
                "routing_key": event.type,
                "event": event.model_dump(mode="json"),
                "headers": headers,
                "created_at": event.time,
                "sent_at": None,
                "lease_until": EPOCH,
                "attempts": 0,
            },
            session=session,
        )
        for callback in self._on_commit:
            after_commit(session, callback)
        return event

    async def pending_count(self) -> int:
        return await self.collection.count_documents({"sent_at": None})


class OutboxRelay:
    """Publishes pending outbox entries; one per process, any number of processes."""

    def __init__(self, outbox: Outbox, broker: Broker, *, poll_interval_s: float, lease_s: float) -> None:
        self.outbox = outbox
        self.broker = broker
        self.poll_interval_s = poll_interval_s
        self.lease = timedelta(seconds=lease_s)
        self.relay_id = uuid.uuid4().hex
        self._wakeup = asyncio.Event()
        outbox.notify_on_commit(self.wake)

    def wake(self) -> None:
        """Tell the relay a transaction just committed an entry, so it need not wait for its poll."""
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            # Cleared before the pass, so a wake-up that arrives during it is not lost.
            self._wakeup.clear()
            try:
                with job_run("outbox relay"):
                    published = await self.relay_pending()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the store is away: try again after the poll interval
                log.exception("outbox relay pass failed")
                published = 0
            if published < RELAY_BATCH:
                # Everything pending when the pass began was taken (or the broker is away): wait for
                # the next commit's wake-up, which returns at once if one came during the pass, or
                # for the poll. Only a full batch suggests more is waiting right now.
                try:
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_interval_s)
                except TimeoutError:
                    pass

    async def relay_pending(self, batch_size: int = RELAY_BATCH) -> int:
        """Claim a batch of pending entries, publish them in order, mark the published ones sent."""
        batch = await self._claim_batch(batch_size)
        if batch:
            record_work()
        published: list[str] = []
        for entry in batch:
            if not await self._publish(entry):
                break
            published.append(entry["_id"])
        if published:
            now = datetime.now(timezone.utc)
            await self.outbox.collection.update_many(
                {"_id": {"$in": published}},
                {"$set": {"sent_at": now, "sent_expires_at": now + timedelta(seconds=SENT_RETENTION_S)}},
            )
        unpublished = [entry["_id"] for entry in batch[len(published):]]
        if unpublished:
            # The broker is away: hand the rest back soon rather than when the lease runs out.
            await self.outbox.collection.update_many(
                {"_id": {"$in": unpublished}, "claimed_by": self.relay_id},
                {"$set": {"lease_until": datetime.now(timezone.utc) + timedelta(seconds=1)}},
            )
        return len(published)

    async def _claim_batch(self, batch_size: int) -> list[dict]:
        """Two round trips for a whole batch: read candidates, then lease those still free to this relay.

        The lease filter is repeated in the update, so two relays that read the same candidates
        split them: each entry is leased to exactly one of them. When the update leased every
        candidate (one relay, or no overlap) the entries read are the batch: an entry's event never
        changes once written. Otherwise a third round trip reads back the ones this relay won.
        """
        now = datetime.now(timezone.utc)
        free = {"sent_at": None, "lease_until": {"$lte": now}}
        candidates = await self.outbox.collection.find(free).sort("created_at", ASCENDING).limit(batch_size).to_list()
        if not candidates:
            return []
        claim = f"{self.relay_id}:{uuid.uuid4().hex}"
        leased = await self.outbox.collection.update_many(
            {**free, "_id": {"$in": [entry["_id"] for entry in candidates]}},
            {"$set": {"lease_until": now + self.lease, "claimed_by": self.relay_id, "claim": claim}, "$inc": {"attempts": 1}},
        )
        if leased.modified_count == len(candidates):
            return candidates
        return await self.outbox.collection.find({"claim": claim}).sort("created_at", ASCENDING).to_list()

    async def _publish(self, entry: dict) -> bool:
        event = CloudEvent.model_validate(entry["event"])
        record_work(event.subject)
        # The trace of the change that staged the event goes on (an entry staged outside any trace is
        # published in the relay pass's trace); the relay pass that published it is a link away.
        stored = entry.get("headers") or {}
        parent = propagate.extract(stored) if stored else None
        relay_pass = trace.get_current_span().get_span_context()
        links = [Link(relay_pass)] if relay_pass.is_valid and stored else None
        with tracer.start_as_current_span(f"{event.type} publish", context=parent, kind=SpanKind.PRODUCER,
                                          links=links) as span:
            span.set_attribute("complaint.number", event.subject or "")
            span.set_attribute("event.type", event.type)
            headers: dict[str, str] = {}
            propagate.inject(headers)
            try:
                await self.broker.publish(event, headers=headers)
            except Exception as error:  # noqa: BLE001 - broker away or refusing: the caller releases the lease
                log.warning("outbox publish of %s failed: %s", event.id, error)
                return False
        return True
