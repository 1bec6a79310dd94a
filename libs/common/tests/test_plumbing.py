"""The shared plumbing against the real stand-ins: outbox -> relay -> RabbitMQ -> consumer with inbox, retries, dead letters."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import aio_pika
import pytest
from pymongo.errors import PyMongoError

from greenchannel.contracts import CloudEvent, EvidenceStored
from greenchannel.messaging import DEAD_LETTER_REASON_HEADER, Subscriptions, queue_names
from greenchannel.migrations import plumbing_indexes
from greenchannel.mongo import in_transaction, make_client
from greenchannel.runtime import ServiceRuntime
from greenchannel.settings import ServiceSettings

pytestmark = pytest.mark.integration


def stored_event(number: str) -> EvidenceStored:
    return EvidenceStored(
        evidence_id="ev-1",
        number=number,
        filename="a.png",
        media_type="image/png",
        size=3,
        sha256="00" * 32,
        stored_at=datetime.now(UTC),
    )


@pytest.fixture
async def runtime_pair(mongo_url, broker_namespace, run_id, request):
    """A producer and a consumer runtime, each with its own database, as two services would be."""
    suffix = request.node.name[-20:].replace("[", "").replace("]", "")
    made = []

    def make(name: str, **overrides) -> ServiceRuntime:
        settings = ServiceSettings(
            service_name=f"{name}-{suffix}",
            mongo_url=mongo_url,
            mongo_db=f"t{run_id}_{name}_{suffix}",
            consumer_retry_delay_ms=100,
            consumer_max_retries=2,
            outbox_poll_interval_s=0.1,
            **broker_namespace.settings_for(f"{name}-{suffix}"),
            **overrides,
        )
        runtime = ServiceRuntime(settings)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        await runtime.stop()


async def wait_until(predicate, timeout=15.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_outbox_event_reaches_consumer_once_even_when_redelivered(runtime_pair):
    producer, consumer = runtime_pair("producer"), runtime_pair("consumer")
    applied: list[str] = []

    async def on_stored(event: CloudEvent, stored: EvidenceStored) -> None:
        async def work(session):
            await consumer.db.effects.insert_one({"event": event.id}, session=session)
            applied.append(event.id)

        await consumer.inbox.handle_once(event, work)

    await consumer.start(Subscriptions().on(EvidenceStored, on_stored))
    await producer.start()
    await wait_until(lambda: _true(consumer.broker.is_connected and producer.broker.is_connected))
    await asyncio.sleep(0.3)

    async def write(session):
        return await producer.outbox.add(stored_event("GC-1"), subject="GC-1", session=session)

    event = await in_transaction(producer.mongo, write)
    producer.relay.wake()
    await wait_until(lambda: _count(consumer.db.effects, {}, 1))
    # The relay marked it sent (in its next batched mark).
    await wait_until(lambda: _count(producer.outbox.collection, {"_id": event.id, "sent_at": {"$ne": None}}, 1))
    entry = await producer.outbox.collection.find_one({"_id": event.id})
    assert entry["headers"] is not None
    # Publishing the same event again (a relay that died before marking it sent) changes nothing.
    await producer.broker.publish(event)
    await asyncio.sleep(0.5)
    assert await consumer.db.effects.count_documents({}) == 1
    assert applied == [event.id]


async def test_failed_outbox_write_publishes_nothing(runtime_pair):
    producer = runtime_pair("rollback")
    await producer.start()

    async def write_then_fail(session):
        await producer.outbox.add(stored_event("GC-2"), subject="GC-2", session=session)
        raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        await in_transaction(producer.mongo, write_then_fail)
    assert await producer.outbox.collection.count_documents({}) == 0


async def test_failing_handler_is_retried_then_dead_lettered_and_poison_goes_straight_there(runtime_pair):
    producer, consumer = runtime_pair("p2"), runtime_pair("c2")
    attempts: list[str] = []

    async def always_fails(event: CloudEvent, stored: EvidenceStored) -> None:
        attempts.append(event.id)
        raise RuntimeError("downstream is broken")

    await consumer.start(Subscriptions().on(EvidenceStored, always_fails))
    await producer.start()
    await wait_until(lambda: _true(consumer.broker.is_connected and producer.broker.is_connected))
    await asyncio.sleep(0.3)
    event = CloudEvent.wrap(stored_event("GC-3"), source="/test", subject="GC-3")
    await producer.broker.publish(event)

    _, _, dlq = queue_names(consumer.settings)
    connection = await aio_pika.connect(consumer.settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(dlq, durable=True, passive=True)

        async def dead_letters():
            return (await channel.declare_queue(dlq, durable=True, passive=True)).declaration_result.message_count

        await wait_until(lambda: _ge(dead_letters(), 1))
        assert attempts == [event.id] * 3  # first try + 2 retries
        message = await queue.get(no_ack=True)
        assert json.loads(message.body)["id"] == event.id
        assert message.headers[DEAD_LETTER_REASON_HEADER].startswith("retries exhausted")

        # A poison message: not JSON at all, and JSON that breaks the envelope contract.
        exchange = await channel.get_exchange(consumer.settings.event_exchange)
        await exchange.publish(aio_pika.Message(b"\xff\xfe not json"), routing_key="evidence.stored")
        await exchange.publish(aio_pika.Message(b'{"type": "evidence.stored"}'), routing_key="evidence.stored")
        await wait_until(lambda: _ge(dead_letters(), 2))
        reasons = []
        for _ in range(2):
            poison = await queue.get(no_ack=True)
            reasons.append(poison.headers[DEAD_LETTER_REASON_HEADER])
        assert all(reason.startswith("contract:") for reason in reasons)
    assert attempts == [event.id] * 3


async def test_two_relays_on_one_outbox_publish_each_entry_once(runtime_pair):
    from greenchannel.outbox import OutboxRelay

    producer = runtime_pair("relays")
    await plumbing_indexes(producer.db)
    await producer.broker.connect()
    connection = await aio_pika.connect(producer.settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            producer.settings.event_exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, "evidence.stored")
        for i in range(60):
            await in_transaction(
                producer.mongo,
                lambda session, i=i: producer.outbox.add(stored_event(f"GC-R{i}"), subject=f"GC-R{i}", session=session),
            )
        relays = [OutboxRelay(producer.outbox, producer.broker, poll_interval_s=0.1, lease_s=30) for _ in range(2)]
        published = 0
        for _ in range(20):  # rounds in which both relays race for the same entries
            published += sum(await asyncio.gather(*(relay.relay_pending(batch_size=25) for relay in relays)))
            if published >= 60:
                break
        assert published == 60
        assert await producer.outbox.collection.count_documents({"sent_at": None}) == 0
        subjects = []
        while (message := await queue.get(no_ack=True, fail=False, timeout=2)) is not None:
            subjects.append(json.loads(message.body)["subject"])
        assert sorted(subjects) == sorted(f"GC-R{i}" for i in range(60))


async def test_running_relay_publishes_only_committed_entries_without_claiming_them(runtime_pair, mongo_url):
    """Entries staged while the relay runs are leased to it at insert and handed over after the commit: the
    relay publishes them without a claim write, marks them in a batch, and marks what is left when it stops.
    A transaction the driver retried hands over only the attempt that committed: the aborted attempt's
    event never existed and must never be published."""
    producer = runtime_pair("handover")
    await plumbing_indexes(producer.db)
    connection = await aio_pika.connect(producer.settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            producer.settings.event_exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, "evidence.stored")
        await producer.start()
        await wait_until(lambda: _true(producer.broker.is_connected and producer.outbox.running_relay is not None))
        attempts: list[str] = []

        async def conflicting_once(session):
            event = await producer.outbox.add(stored_event("GC-T1"), subject="GC-T1", session=session)
            attempts.append(event.id)
            if len(attempts) == 1:  # what a write conflict does: the driver aborts and runs the work again
                raise PyMongoError("write conflict", error_labels=["TransientTransactionError"])

        await in_transaction(producer.mongo, conflicting_once)
        together = await asyncio.gather(
            *(
                in_transaction(
                    producer.mongo,
                    lambda session, i=i: producer.outbox.add(
                        stored_event(f"GC-T{i}"), subject=f"GC-T{i}", session=session
                    ),
                )
                for i in range(2, 12)
            )
        )
        committed = [attempts[1], *(event.id for event in together)]
        received = await _drain(queue, len(committed))
        assert sorted(received) == sorted(committed)
        await asyncio.sleep(0.5)
        assert await queue.get(no_ack=True, fail=False) is None, "an event was published twice"
        assert await producer.outbox.collection.count_documents({"_id": attempts[0]}) == 0
        # Leased at insert to the running relay, and never claimed again.
        relay_id = producer.relay.relay_id
        assert await producer.outbox.collection.count_documents({"claimed_by": relay_id, "attempts": 1}) == len(
            committed
        )
        await wait_until(lambda: _count(producer.outbox.collection, {"sent_at": None}, 0))

        late = await in_transaction(
            producer.mongo,
            lambda session: producer.outbox.add(stored_event("GC-T99"), subject="GC-T99", session=session),
        )
        assert await _drain(queue, 1) == [late.id]
        await wait_until(lambda: _true(late.id in producer.relay._unmarked))  # its confirm came back
        await producer.stop()  # well within the mark delay: stopping marks it
    reader = make_client(mongo_url, "handover-check")
    try:
        entry = await reader[producer.settings.mongo_db].outbox.find_one({"_id": late.id})
        assert entry["sent_at"] is not None
    finally:
        await reader.close()


async def _drain(queue, expected: int, timeout: float = 10.0) -> list[str]:
    """The ids of the next ``expected`` events on ``queue`` (a get answers at once, empty or not)."""
    received: list[str] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(received) < expected:
        message = await queue.get(no_ack=True, fail=False)
        if message is None:
            assert asyncio.get_running_loop().time() < deadline, f"only {len(received)} of {expected} published"
            await asyncio.sleep(0.05)
            continue
        received.append(json.loads(message.body)["id"])
    return received


async def _true(value):
    return value


async def _ge(awaitable, n):
    return (await awaitable) >= n


async def _count(collection, query, n):
    return await collection.count_documents(query) == n
