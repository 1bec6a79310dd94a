"""Transactional outbox and its relay.

A service writes its state change and the event it implies in one MongoDB transaction
(:meth:`Outbox.add` takes the session); the relay then publishes pending entries to RabbitMQ with
publisher confirms and marks them sent. The broker being down delays events, never loses them; a
failed write never invents one. Entries are claimed with a lease, so several relays (replicas) can
run at once and an entry whose relay died is picked up again when its lease runs out.

An entry costs two writes: its insert, in the caller's transaction, and its share of one batched mark.
While this process's relay runs, :meth:`Outbox.add` inserts the entry already leased to it, and the
committed entry is handed to the relay in memory (:func:`greenchannel.mongo.after_commit` runs for the
attempt that committed only), so the relay neither claims it with a write of its own nor reads it back.
Other relays skip it while the lease holds; if this process dies, the lease runs out and any relay
claims it from the store as before. Marks are written in batches, at most ``MARK_DELAY_S`` after the
publish (or at once for a full batch, and when the relay stops): a relay killed in between leaves entries
that were published but not marked, which another relay publishes again once their lease runs out, and
the consumers' inboxes skip the repeat (at least once, as everywhere).

The W3C trace context of the writing request is stored with the entry and restored around the
publish, so the trace of an HTTP request continues through the broker. A relay pass is a job run
(``outbox relay``): a trace of its own, with its store commands and a link from each publish, only
when it published entries; a pass that found none exports nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SENT_RETENTION_S = 7 * 24 * 3600
#: Entries claimed, published and marked sent together in one pass.
RELAY_BATCH = 100
#: How long a published entry may wait for its batched mark: far below any lease, so no other relay
#: takes an entry whose mark is merely late.
MARK_DELAY_S = 2.0


class Outbox:
    def __init__(self, db: AsyncDatabase, *, source: str, collection: str = "outbox") -> None:
        self.collection = db[collection]
        self.source = source
        # Told after each commit that staged an entry.
        self._on_commit: list[Callable[[], None]] = []
        # The relay running in this process, if any: new entries are leased to it and handed over in memory.
        self.running_relay: OutboxRelay | None = None

    def notify_on_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every transaction that staged an entry commits."""
        self._on_commit.append(callback)

    async def add(self, data: EventData, *, subject: str, session: AsyncClientSession) -> CloudEvent:
        """Stage ``data`` as an event inside the caller's transaction; the relay is woken once it commits, so no
        caller has to remember to."""
        event = CloudEvent.wrap(data, source=self.source, subject=subject)
        headers: dict[str, str] = {}
        propagate.inject(headers)
        relay = self.running_relay
        entry = {
            "_id": event.id,
            "routing_key": event.type,
            "event": event.model_dump(mode="json"),
            "headers": headers,
            "created_at": event.time,
            "sent_at": None,
            # Claimed by this process's relay from the start: the claim costs no write of its own.
            "lease_until": datetime.now(UTC) + relay.lease if relay else EPOCH,
            "claimed_by": relay.relay_id if relay else None,
            "attempts": 1 if relay else 0,
        }
        await self.collection.insert_one(entry, session=session)
        if relay is not None:
            after_commit(session, lambda: relay.take(entry))
        for callback in self._on_commit:
            after_commit(session, callback)
        return event

    async def forget(self, subject: str, *, session: AsyncClientSession | None = None) -> int:
        """Delete every entry about ``subject``, sent or not, inside the caller's transaction; how many. For the
        erasure of a complaint's personal data: an entry holds its event whole until the TTL after sending, and an
        event not sent yet about data erased meanwhile has nothing left to say. Entries staged after this call (in
        the same transaction too) stay."""
        result = await self.collection.delete_many({"event.subject": subject}, session=session)
        return result.deleted_count

    async def pending_count(self) -> int:
        return await self.collection.count_documents({"sent_at": None})


async def reopen_after_restore(db: AsyncDatabase, since: datetime, collection: str = "outbox") -> dict[str, int]:
    """After a restore of ``db`` from a backup: publish again every entry marked sent at or after ``since`` and
    free the leases of the pending ones.

    Each service's backup is its own point in time, and the broker's queues are not in any backup. An event the
    copy marks sent may have been consumed by another service only after that service's copy was taken (or not
    at all, its message lost with a broker): published again, it reaches every consumer, and those that applied
    it already find it in their inbox (or under their event-derived key) and skip it. ``since`` reaches back
    far enough to cover the time between the services' backups and an event's time in flight. Leases held by
    relays of processes that no longer exist would delay the pending entries until they run out: they go now
    (on a platform already running again, an entry a live relay holds may then go out twice; consumers skip it).
    """
    entries = db[collection]
    reopened = await entries.update_many(
        {"sent_at": {"$gte": since}},
        {"$set": {"sent_at": None, "lease_until": EPOCH, "claimed_by": None}, "$unset": {"sent_expires_at": ""}},
    )
    freed = await entries.update_many({"sent_at": None}, {"$set": {"lease_until": EPOCH, "claimed_by": None}})
    return {"republished": reopened.modified_count, "pending": freed.matched_count}


class OutboxRelay:
    """Publishes pending outbox entries; one per process, any number of processes."""

    def __init__(self, outbox: Outbox, broker: Broker, *, poll_interval_s: float, lease_s: float) -> None:
        self.outbox = outbox
        self.broker = broker
        self.poll_interval_s = poll_interval_s
        self.lease = timedelta(seconds=lease_s)
        self.relay_id = uuid.uuid4().hex
        self._wakeup = asyncio.Event()
        # Entries this process staged, leased to this relay and committed: published without a claim.
        self._handed: list[dict] = []
        # The batch being published now (a relay stopped during a publish cannot know whether it went out).
        self._publishing: list[dict] = []
        # Published, not yet marked sent, and since when the oldest of them waits.
        self._unmarked: list[str] = []
        self._unmarked_since = 0.0
        self._looked_at = 0.0
        self._look = True

    def wake(self) -> None:
        """Look at the store now rather than at the next poll (entries may be waiting that no relay holds)."""
        self._look = True
        self._wakeup.set()

    def take(self, entry: dict) -> None:
        """An entry leased to this relay was committed: publish it in the next pass."""
        self._handed.append(entry)
        self._wakeup.set()

    async def run(self) -> None:
        self.outbox.running_relay = self
        try:
            while True:
                # Cleared before the pass, so a wake-up that arrives during it is not lost.
                self._wakeup.clear()
                try:
                    with job_run("outbox relay"):
                        published = await self._pass()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox relay pass failed")
                    published = 0
                if published < RELAY_BATCH:
                    # Everything pending when the pass began was taken (or the broker is away): wait for
                    # the next commit's hand-over, which returns at once if one came during the pass, for
                    # the poll, or for the marks falling due. Only a full batch suggests more is waiting.
                    timeout = self.poll_interval_s
                    if self._unmarked:
                        timeout = min(timeout, max(0.0, self._unmarked_since + MARK_DELAY_S - time.monotonic()))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), timeout=timeout)
        finally:
            if self.outbox.running_relay is self:
                self.outbox.running_relay = None
            await self._stop()

    async def _stop(self) -> None:
        """Mark what was published and hand back what was not, so no other relay waits for a lease."""
        unmarked = set(self._unmarked)
        handed = [entry["_id"] for entry in [*self._publishing, *self._handed] if entry["_id"] not in unmarked]
        self._handed = self._publishing = []
        try:
            await self._mark_published()
            if handed:
                await self._release(handed, datetime.now(UTC))
        except Exception as error:  # noqa: BLE001 - the store is away: the leases run out instead
            log.warning("outbox relay stopped without marking or releasing its entries: %s", error)

    async def _pass(self) -> int:
        """Publish what was handed over, and what the store holds unclaimed at every poll or wake-up; the
        marks wait until one is due."""
        now = time.monotonic()
        published = 0
        if self._handed:
            batch, self._handed = self._handed[:RELAY_BATCH], self._handed[RELAY_BATCH:]
            published += await self._publish_batch(batch)
        if self._look or now - self._looked_at >= self.poll_interval_s:
            self._look = False
            self._looked_at = now
            published += await self._publish_batch(await self._claim_batch(RELAY_BATCH))
        if self._unmarked and (
            len(self._unmarked) >= RELAY_BATCH or time.monotonic() - self._unmarked_since >= MARK_DELAY_S
        ):
            await self._mark_published()
        return published

    async def relay_pending(self, batch_size: int = RELAY_BATCH) -> int:
        """Claim a batch of pending entries from the store, publish them in order, mark the published ones sent."""
        published = await self._publish_batch(await self._claim_batch(batch_size))
        await self._mark_published()
        return published

    async def _publish_batch(self, batch: list[dict]) -> int:
        if batch:
            record_work()
        published = 0
        self._publishing = batch
        for entry in batch:
            if not await self._publish(entry):
                break
            published += 1
            if not self._unmarked:
                self._unmarked_since = time.monotonic()
            self._unmarked.append(entry["_id"])
        self._publishing = []
        unpublished = [entry["_id"] for entry in batch[published:]]
        if unpublished:
            # The broker is away: hand the rest back soon rather than when the lease runs out.
            await self._release(unpublished, datetime.now(UTC) + timedelta(seconds=1))
        return published

    async def _release(self, ids: list[str], until: datetime) -> None:
        await self.outbox.collection.update_many(
            {"_id": {"$in": ids}, "claimed_by": self.relay_id},
            {"$set": {"lease_until": until}},
        )

    async def _mark_published(self) -> None:
        """One write marks every entry published since the last mark."""
        if not self._unmarked:
            return
        marking = self._unmarked[:]
        now = datetime.now(UTC)
        await self.outbox.collection.update_many(
            {"_id": {"$in": marking}},
            {"$set": {"sent_at": now, "sent_expires_at": now + timedelta(seconds=SENT_RETENTION_S)}},
        )
        # Only what this write covered: entries published while it was under way wait for the next mark.
        del self._unmarked[: len(marking)]
        self._unmarked_since = time.monotonic()

    async def _claim_batch(self, batch_size: int) -> list[dict]:
        """Two round trips for a whole batch: read candidates, then lease those still free to this relay.

        The lease filter is repeated in the update, so two relays that read the same candidates
        split them: each entry is leased to exactly one of them. When the update leased every
        candidate (one relay, or no overlap) the entries read are the batch: an entry's event never
        changes once written. Otherwise a third round trip reads back the ones this relay won.
        """
        now = datetime.now(UTC)
        free = {"sent_at": None, "lease_until": {"$lte": now}}
        candidates = await self.outbox.collection.find(free).sort("created_at", ASCENDING).limit(batch_size).to_list()
        if not candidates:
            return []
        claim = f"{self.relay_id}:{uuid.uuid4().hex}"
        leased = await self.outbox.collection.update_many(
            {**free, "_id": {"$in": [entry["_id"] for entry in candidates]}},
            {
                "$set": {"lease_until": now + self.lease, "claimed_by": self.relay_id, "claim": claim},
                "$inc": {"attempts": 1},
            },
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
        with tracer.start_as_current_span(
            f"{event.type} publish", context=parent, kind=SpanKind.PRODUCER, links=links
        ) as span:
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
