"""Typed subscriptions against the real broker: a handler receives its event's payload parsed by the contract's model,
and a payload that breaks the model never reaches it: it is dead-lettered as a contract violation."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

import aio_pika
import pytest

from greenchannel.contracts import CloudEvent, ComplaintScreened, EvidenceStored
from greenchannel.messaging import DEAD_LETTER_REASON_HEADER, Subscriptions, queue_names
from greenchannel.runtime import ServiceRuntime
from greenchannel.settings import ServiceSettings

pytestmark = pytest.mark.integration

SCREENED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def screened(number: str) -> ComplaintScreened:
    return ComplaintScreened(
        number=number,
        decision="accepted",
        company_id="c-1",
        company_name="示例科技",
        category="billing",
        response_due=date(2026, 3, 16),
        screened_at=SCREENED_AT,
    )


@pytest.fixture
async def consumer(mongo_url, broker_namespace, run_id):
    settings = ServiceSettings(
        service_name="typed-subscriber",
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_typed_subscriber",
        consumer_retry_delay_ms=100,
        consumer_max_retries=2,
        **broker_namespace.settings_for("typed-subscriber"),
    )
    runtime = ServiceRuntime(settings)
    yield runtime
    await runtime.stop()


async def until(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_one_handler_per_event_type():
    async def handler(event: CloudEvent, data: ComplaintScreened) -> None: ...

    subscriptions = Subscriptions().on(ComplaintScreened, handler).on(EvidenceStored, handler)
    assert sorted(subscriptions.routing_keys) == ["complaint.screened", "evidence.stored"]
    with pytest.raises(ValueError, match=r"complaint\.screened"):
        subscriptions.on(ComplaintScreened, handler)


async def test_a_handler_gets_the_typed_payload_and_a_payload_breaking_the_model_is_dead_lettered(consumer):
    received: list[tuple[CloudEvent, ComplaintScreened]] = []

    async def on_screened(event: CloudEvent, data: ComplaintScreened) -> None:
        received.append((event, data))

    await consumer.start(Subscriptions().on(ComplaintScreened, on_screened))
    main_queue, _, dead_letter_queue = queue_names(consumer.settings)
    connection = await aio_pika.connect(consumer.settings.amqp_url)
    async with connection:
        channel = await connection.channel()

        async def consuming() -> bool:
            # A channel of its own: a passive declaration of a queue not there yet closes the channel.
            probe = await connection.channel()
            try:
                queue = await probe.declare_queue(main_queue, durable=True, passive=True)
                return queue.declaration_result.consumer_count > 0
            except aio_pika.exceptions.ChannelClosed:
                return False
            finally:
                if not probe.is_closed:
                    await probe.close()

        await until(consuming)
        exchange = await channel.get_exchange(consumer.settings.event_exchange)

        async def publish(event: CloudEvent) -> None:
            # Through the shared exchange with the event type as routing key, as every producer's relay does.
            await exchange.publish(
                aio_pika.Message(event.model_dump_json().encode(), message_id=event.id, type=event.type),
                routing_key=event.type,
            )

        good = CloudEvent.wrap(screened("GC-TYPED-1"), source="/test", subject="GC-TYPED-1")
        # The envelope is fine, the payload breaks ComplaintScreened: a decision it does not know, no screened_at.
        broken = CloudEvent(
            type=ComplaintScreened.EVENT_TYPE,
            source="/test",
            subject="GC-TYPED-2",
            data={"number": "GC-TYPED-2", "decision": "maybe"},
        )
        await publish(broken)
        await publish(good)

        async def delivered() -> bool:
            return bool(received)

        await until(delivered)
        event, data = received[0]
        assert event.id == good.id
        # Parsed by the model, not handed over as JSON: the date is a date, the time an aware datetime.
        assert isinstance(data, ComplaintScreened) and data == screened("GC-TYPED-1")
        assert data.response_due == date(2026, 3, 16) and data.screened_at == SCREENED_AT

        async def dead_lettered() -> bool:
            queue = await channel.declare_queue(dead_letter_queue, durable=True, passive=True)
            return queue.declaration_result.message_count >= 1

        await until(dead_lettered)
        queue = await channel.declare_queue(dead_letter_queue, durable=True, passive=True)
        message = await queue.get(no_ack=True)
        assert json.loads(message.body)["id"] == broken.id
        reason = message.headers[DEAD_LETTER_REASON_HEADER]
        assert reason.startswith("contract:") and "ValidationError" in reason
        await asyncio.sleep(0.3)  # time for a wrongful redelivery to reach the handler
        assert [event.id for event, _ in received] == [good.id]
