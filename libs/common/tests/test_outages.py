"""The shared plumbing while the broker or the store is away.

* The broker (the run's own RabbitMQ node, stopped and started again): the runtime says so in its
  readiness, keeps what services write in the outbox, and publishes it once the broker is back.
* The store (a SecantusDB process of the test's own): a consumer whose handler cannot reach it
  retries the message until the store is back, without spending its retry budget, so an outage
  longer than the budget dead-letters nothing.
"""

from __future__ import annotations

import asyncio

import aio_pika
import pytest

from devstack import standins
from greenchannel.contracts import CloudEvent, EvidenceStored, utc_now
from greenchannel.messaging import Subscriptions, queue_names
from greenchannel.mongo import in_transaction
from greenchannel.runtime import ServiceRuntime
from greenchannel.settings import ServiceSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def stored_event(number: str) -> EvidenceStored:
    return EvidenceStored(
        evidence_id=f"ev-{number}",
        number=number,
        filename="a.png",
        media_type="image/png",
        size=3,
        sha256="00" * 32,
        stored_at=utc_now(),
    )


async def until(predicate, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def test_a_broker_away_is_reported_and_what_was_written_meanwhile_is_published_after(
    rabbit_node, mongo_url, run_id
):
    prefix = f"test-{run_id}-outage"
    runtime = ServiceRuntime(
        ServiceSettings(
            service_name="outage",
            mongo_url=mongo_url,
            mongo_db=f"t{run_id}_broker_outage",
            amqp_url=rabbit_node.amqp_url,
            event_exchange=f"{prefix}.events",
            queue_prefix=prefix,
            outbox_poll_interval_s=0.1,
        )
    )
    broker_ready = runtime.readiness_checks()["broker"]
    connection = await aio_pika.connect_robust(rabbit_node.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(f"{prefix}.events", aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(f"{prefix}.watch", durable=True)
        await queue.bind(exchange, "evidence.stored")
        await runtime.start()
        await until(broker_ready)

        await asyncio.to_thread(rabbit_node.stop)
        await until(lambda: _not(broker_ready()), timeout=20)
        event = await in_transaction(
            runtime.mongo,
            lambda session: runtime.outbox.add(stored_event("GC-OUTAGE"), subject="GC-OUTAGE", session=session),
        )
        runtime.relay.wake()
        await asyncio.sleep(1.0)
        assert await runtime.outbox.pending_count() == 1, "kept while the broker is away"
        assert not await broker_ready()

        await asyncio.to_thread(rabbit_node.start)
        await until(broker_ready)
        await until(lambda: _equals(runtime.outbox.pending_count(), 0))
        queue = await channel.declare_queue(f"{prefix}.watch", durable=True, passive=True)
        message = await queue.get(no_ack=True, timeout=10)
        assert message.message_id == event.id
    finally:
        if not rabbit_node.running:
            await asyncio.to_thread(rabbit_node.start)
        await runtime.stop()
        await connection.close()


async def _not(awaitable) -> bool:
    return not await awaitable


async def _equals(awaitable, value) -> bool:
    return await awaitable == value


async def test_a_store_outage_longer_than_the_retry_budget_dead_letters_nothing(workdir, broker_namespace, run_id):
    store = standins.start_secantus(workdir / "consumer-store", log_dir=workdir)
    # Two attempts with the store away take about 10 s (5 s of server selection each): the budget of a
    # handler that fails for a reason of its own.
    consumer = ServiceRuntime(
        ServiceSettings(
            service_name="store-outage",
            mongo_url=standins.mongo_url(store.port),
            mongo_db=f"t{run_id}_store_outage",
            consumer_max_retries=1,
            consumer_retry_delay_ms=200,
            **broker_namespace.settings_for("store-outage"),
        )
    )

    async def on_stored(event: CloudEvent, stored: EvidenceStored) -> None:
        async def work(session) -> None:
            await consumer.db.effects.insert_one({"event": event.id}, session=session)

        await consumer.inbox.handle_once(event, work)

    _, _, dead_letter_queue = queue_names(consumer.settings)
    connection = await aio_pika.connect(consumer.settings.amqp_url)
    try:
        await consumer.start(Subscriptions().on(EvidenceStored, on_stored))
        await until(lambda: _is(consumer.broker.is_connected))
        channel = await connection.channel()
        await until(lambda: _has_consumer(channel, queue_names(consumer.settings)[0]))
        await asyncio.to_thread(store.stop)
        event = CloudEvent.wrap(stored_event("GC-STORE-OUTAGE"), source="/test", subject="GC-STORE-OUTAGE")
        await consumer.broker.publish(event)
        await asyncio.sleep(15)  # longer than the budget
        dead = await channel.declare_queue(dead_letter_queue, durable=True, passive=True)
        assert dead.declaration_result.message_count == 0, "dead-lettered because the store was away"

        store = standins.start_secantus(workdir / "consumer-store", port=store.port, log_dir=workdir)
        await until(lambda: _equals(consumer.db.effects.count_documents({}), 1), timeout=60)
        await asyncio.sleep(1.0)
        assert await consumer.db.effects.count_documents({}) == 1
        dead = await channel.declare_queue(dead_letter_queue, durable=True, passive=True)
        assert dead.declaration_result.message_count == 0
    finally:
        await consumer.stop()
        await connection.close()
        store.stop()


async def _is(value) -> bool:
    return bool(value)


async def _has_consumer(channel, queue_name: str) -> bool:
    queue = await channel.declare_queue(queue_name, durable=True, passive=True)
    return queue.declaration_result.consumer_count >= 1
