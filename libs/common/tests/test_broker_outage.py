"""The shared plumbing while the broker is away: the runtime says so (readiness), keeps what services write
in the outbox, and publishes it once the broker is back. Against the run's own RabbitMQ node, which the
test stops and starts again."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from greenchannel.contracts import EvidenceStored, utc_now
from greenchannel.mongo import in_transaction
from greenchannel.runtime import ServiceRuntime
from greenchannel.settings import ServiceSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


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
    runtime = ServiceRuntime(ServiceSettings(
        service_name="outage", mongo_url=mongo_url, mongo_db=f"t{run_id}_broker_outage", amqp_url=rabbit_node.amqp_url,
        event_exchange=f"{prefix}.events", queue_prefix=prefix, outbox_poll_interval_s=0.1))
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
        stored = EvidenceStored(evidence_id="ev-outage", number="GC-OUTAGE", filename="a.png", media_type="image/png",
                                size=3, sha256="00" * 32, stored_at=utc_now())
        event = await in_transaction(runtime.mongo, lambda session: runtime.outbox.add(
            stored, subject="GC-OUTAGE", session=session))
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
