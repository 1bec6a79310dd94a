"""A test's own view of the event exchange: it sees what the services publish and publishes as another service would.

An exclusive queue bound to the routing keys a test cares about collects every event into a list
(and what is no CloudEvent at all into ``unusable``); ``wait_for`` answers the first one that
matches, or fails after a timeout. ``publish`` sends a CloudEvent exactly as a service's outbox relay
does (persistent, ``message_id`` = event id). A tap given a ``queue_name`` outlives a broker restart:
its queue is durable and its connection reconnects, so it sees every publication of a fault test.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractExchange, AbstractIncomingMessage

from greenchannel.contracts import CloudEvent


@dataclass
class TappedEvent:
    event: CloudEvent
    routing_key: str
    headers: dict


@dataclass
class EventTap:
    connection: AbstractConnection
    exchange: AbstractExchange
    seen: list[TappedEvent] = field(default_factory=list)
    unusable: list[bytes] = field(default_factory=list)

    async def wait_for_consumer(self, queue_name: str, timeout: float = 20.0) -> None:
        """Wait until a service consumes ``queue_name``: services connect to the broker in the
        background, and an event published before their queue exists would reach nobody."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            channel = await self.connection.channel()
            try:
                queue = await channel.declare_queue(queue_name, passive=True)
                if (queue.declaration_result.consumer_count or 0) >= 1:
                    await channel.close()
                    return
                await channel.close()
            except aio_pika.exceptions.ChannelClosed:
                pass  # not declared yet
            await asyncio.sleep(0.05)
        raise AssertionError(f"nobody consumes {queue_name} after {timeout:.0f} s")

    async def publish(self, event: CloudEvent, routing_key: str | None = None) -> CloudEvent:
        await self.exchange.publish(
            aio_pika.Message(
                event.model_dump_json().encode(),
                content_type="application/cloudevents+json",
                message_id=event.id,
                type=event.type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key or event.type,
        )
        return event

    async def publish_raw(self, body: bytes, routing_key: str) -> None:
        await self.exchange.publish(aio_pika.Message(body), routing_key=routing_key)

    def events(
        self, event_type: str, *, subject: str | None = None, where: Callable[[CloudEvent], bool] | None = None
    ) -> list[TappedEvent]:
        return [
            tapped
            for tapped in self.seen
            if tapped.event.type == event_type
            and (subject is None or tapped.event.subject == subject)
            and (where is None or where(tapped.event))
        ]

    async def wait_for(
        self,
        event_type: str,
        *,
        subject: str | None = None,
        where: Callable[[CloudEvent], bool] | None = None,
        timeout: float = 15.0,
    ) -> TappedEvent:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if found := self.events(event_type, subject=subject, where=where):
                return found[0]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {event_type} event (subject={subject}) within {timeout:.0f} s")


@contextlib.asynccontextmanager
async def event_tap(
    amqp_url: str, exchange_name: str, routing_keys: Iterable[str], *, queue_name: str | None = None
) -> AsyncIterator[EventTap]:
    connection = await (aio_pika.connect_robust if queue_name else aio_pika.connect)(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
        if queue_name:
            queue = await channel.declare_queue(queue_name, durable=True)
        else:
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in routing_keys:
            await queue.bind(exchange, routing_key=key)
        tap = EventTap(connection, exchange)

        async def collect(message: AbstractIncomingMessage) -> None:
            async with message.process():
                try:
                    event = CloudEvent.model_validate_json(message.body)
                except ValueError:  # a poison message of a test: kept, not raised into the consumer
                    tap.unusable.append(message.body)
                    return
                tap.seen.append(TappedEvent(event, message.routing_key or "", dict(message.headers or {})))

        await queue.consume(collect)
        try:
            yield tap
        finally:
            if queue_name:
                # Best effort, bounded: the broker may be the thing a failed test left stopped.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(queue.delete(if_unused=False, if_empty=False), timeout=10)
