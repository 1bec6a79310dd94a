"""RabbitMQ plumbing with aio-pika: topology, confirmed publishing, and consuming with retry and dead letters.

Topology (per consumer, e.g. ``greenchannel.routing``):

* one durable topic exchange shared by all services (``event_exchange``);
* ``<prefix>.<service>``: the consumer's durable queue, bound to the routing keys it subscribes to;
* ``<prefix>.<service>.retry``: a delay queue without consumers; a failed message waits there
  ``consumer_retry_delay_ms`` and is dead-lettered back to the consumer's own queue (and only
  there, through the default exchange), so a retry never reaches the other subscribers;
* ``<prefix>.<service>.dlq``: where messages go after ``consumer_max_retries`` failures, or at
  once when they cannot be parsed or violate their contract. Operators list and replay them. A
  handler that failed because the store did not answer is retried until it does, without counting
  against ``consumer_max_retries``: the message is not at fault.

Subscriptions are typed: ``Subscriptions().on(ComplaintScreened, handler)`` binds the queue to the model's
``EVENT_TYPE`` and calls ``handler(event, data)`` with ``event.data`` parsed and validated by the model, once,
here. A payload that breaks its model is a contract violation like an envelope that does not parse: no handler
sees it. A message is acknowledged after the handler's own write has committed, so a crash before that
redelivers it (at-least-once; the inbox makes the effect idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustChannel, AbstractRobustConnection
from pydantic import ValidationError

from greenchannel.contracts import CloudEvent, EventData
from greenchannel.locks import SubjectLocks
from greenchannel.metrics import EVENTS_CONSUMED, EVENTS_PUBLISHED
from greenchannel.mongo import is_unavailable
from greenchannel.settings import ServiceSettings

log = logging.getLogger(__name__)

#: The services that consume events, each with its queues (:func:`queue_names`) and so its dead letters.
CONSUMERS = ("intake", "routing", "notification", "evidence")

RETRY_COUNT_HEADER = "x-retry-count"
DEAD_LETTER_REASON_HEADER = "x-dead-letter-reason"
DEAD_LETTER_QUEUE_HEADER = "x-original-queue"

Data = TypeVar("Data", bound=EventData)
#: A handler gets the envelope (id, subject, time: for the inbox and the logs) and its payload, already validated.
EventHandler = Callable[[CloudEvent, Data], Awaitable[None]]


class ContractViolation(Exception):
    """The message parsed but breaks its contract: retrying cannot help, it goes to the dead letters."""


@dataclass(frozen=True)
class Subscription(Generic[Data]):
    """One consumed event type: the model its payload must satisfy and the handler that receives it."""

    model: type[Data]
    handler: EventHandler[Data]

    async def deliver(self, event: CloudEvent) -> None:
        """Validate ``event.data`` with the model (``pydantic.ValidationError`` if it breaks it), then handle it."""
        await self.handler(event, self.model.model_validate(event.data))


@dataclass
class Subscriptions:
    """The event types a service consumes and the handler of each, registered in one place per service."""

    by_type: dict[str, Subscription[Any]] = field(default_factory=dict)

    def on(self, model: type[Data], handler: EventHandler[Data]) -> Subscriptions:
        if model.EVENT_TYPE in self.by_type:
            # Two handlers for one type would leave one of them silently unused.
            raise ValueError(f"{model.EVENT_TYPE} has a handler already")
        self.by_type[model.EVENT_TYPE] = Subscription(model, handler)
        return self

    @property
    def routing_keys(self) -> Iterable[str]:
        return self.by_type.keys()


def queue_names(settings: ServiceSettings) -> tuple[str, str, str]:
    base = f"{settings.queue_prefix}.{settings.service_name}"
    return base, f"{base}.retry", f"{base}.dlq"


class Broker:
    """One robust connection per process, a confirmed publishing channel and a consuming channel."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractRobustChannel | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self._consume_channel: AbstractRobustChannel | None = None
        self._subject_locks = SubjectLocks()

    async def connect(self) -> None:
        connection = await aio_pika.connect_robust(
            self.settings.amqp_url, client_properties={"connection_name": self.settings.service_name}
        )
        try:
            self._publish_channel = await connection.channel(publisher_confirms=True)
            self._exchange = await self._publish_channel.declare_exchange(
                self.settings.event_exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
        except BaseException:
            await asyncio.shield(connection.close())
            raise
        self._connection = connection

    def _connected(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise ConnectionError("broker not connected")
        return self._connection

    def _publishing(self) -> AbstractRobustChannel:
        if self._publish_channel is None:
            raise ConnectionError("broker not connected")
        return self._publish_channel

    @property
    def is_connected(self) -> bool:
        """Connected now. A robust connection that lost the broker is not closed: it is reconnecting,
        and only its ``connected`` event tells the broker is away."""
        return self._connection is not None and self._connection.connected.is_set()

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        self._exchange = None
        if connection is not None:
            await connection.close()

    async def publish(self, event: CloudEvent, headers: dict[str, Any] | None = None) -> None:
        """Publish and wait for the broker's confirm; raises if the broker refuses or is away."""
        if self._exchange is None:
            raise ConnectionError("broker not connected")
        message = aio_pika.Message(
            body=event.model_dump_json().encode(),
            content_type="application/cloudevents+json",
            message_id=event.id,
            type=event.type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers=dict(headers or {}),
        )
        await self._exchange.publish(message, routing_key=event.type, timeout=10)
        EVENTS_PUBLISHED.labels(self.settings.service_name, event.type).inc()

    async def declare_consumer_queues(self, routing_keys: Iterable[str]) -> aio_pika.abc.AbstractQueue:
        main_name, retry_name, dlq_name = queue_names(self.settings)
        channel = self._consume_channel = await self._connected().channel()
        await channel.set_qos(prefetch_count=self.settings.consumer_prefetch)
        exchange = await channel.declare_exchange(
            self.settings.event_exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue_type = {"x-queue-type": self.settings.queue_type}
        queue = await channel.declare_queue(main_name, durable=True, arguments=queue_type)
        await channel.declare_queue(
            retry_name,
            durable=True,
            arguments={
                **queue_type,
                "x-message-ttl": self.settings.consumer_retry_delay_ms,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": main_name,
            },
        )
        await channel.declare_queue(dlq_name, durable=True, arguments=queue_type)
        for key in routing_keys:
            await queue.bind(exchange, routing_key=key)
        return queue

    async def consume(self, subscriptions: Subscriptions) -> None:
        queue = await self.declare_consumer_queues(subscriptions.routing_keys)

        async def on_message(message: AbstractIncomingMessage) -> None:
            await self._on_message(message, subscriptions)

        await queue.consume(on_message)

    async def _on_message(self, message: AbstractIncomingMessage, subscriptions: Subscriptions) -> None:
        try:
            event = CloudEvent.model_validate_json(message.body)
            # Dispatch on the event type, not the routing key: a retried message comes back through
            # the default exchange with the queue's name as its routing key.
            subscription = subscriptions.by_type.get(event.type)
            if subscription is None:
                raise ContractViolation(f"no handler for event type {event.type!r}")
            # Messages are handled concurrently (up to the prefetch), but those about one complaint
            # one after the other, in the order the queue delivered them.
            async with self._subject_locks.hold(event.subject):
                await subscription.deliver(event)
            self._count(event.type, "handled")
        except (ValidationError, json.JSONDecodeError, UnicodeDecodeError, ContractViolation) as error:
            log.warning("dead-lettering unusable message %s: %s", message.message_id, _short(error))
            await self._dead_letter(message, f"contract: {_short(error)}")
            self._count(message.type or "unparseable", "dead_lettered")
            await message.ack()
        except asyncio.CancelledError:
            # A closed channel returns its unacknowledged messages to the queue by itself.
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)
            raise
        except Exception as error:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
            # The count is an int this module wrote into the copy it republished.
            retries = int(cast("int | str", (message.headers or {}).get(RETRY_COUNT_HEADER, 0)))
            if is_unavailable(error):
                # The store away is no fault of the message: it waits for the store without spending its
                # budget, so an outage longer than the retries dead-letters nothing.
                log.warning("retrying %s while the store is away: %s", message.message_id, _short(error))
                await self._republish(message, queue_names(self.settings)[1], {RETRY_COUNT_HEADER: retries})
                self._count(message.type or "unknown", "retried")
            elif retries >= self.settings.consumer_max_retries:
                log.error("dead-lettering %s after %d retries: %s", message.message_id, retries, _short(error))
                await self._dead_letter(message, f"retries exhausted: {_short(error)}")
                self._count(message.type or "unknown", "dead_lettered")
            else:
                log.warning("retrying %s (attempt %d): %s", message.message_id, retries + 1, _short(error))
                await self._republish(message, queue_names(self.settings)[1], {RETRY_COUNT_HEADER: retries + 1})
                self._count(message.type or "unknown", "retried")
            await message.ack()
        else:
            await message.ack()

    async def take_dead_letters(
        self, service: str, limit: int, keep: Callable[[AbstractIncomingMessage], Awaitable[None]]
    ) -> int:
        """Move up to ``limit`` messages out of ``service``'s dead-letter queue: each is acknowledged
        only after ``keep`` stored it, so a failure leaves it in the queue."""
        name = f"{self.settings.queue_prefix}.{service}.dlq"
        channel = await self._connected().channel()
        try:
            queue = await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return 0  # that service never declared its queues
        taken = 0
        try:
            while taken < limit and (message := await queue.get(no_ack=False, fail=False)) is not None:
                try:
                    await keep(message)
                except BaseException:
                    await message.nack(requeue=True)
                    raise
                await message.ack()
                taken += 1
        finally:
            await channel.close()
        return taken

    async def queue_depth(self, name: str) -> int | None:
        """Messages waiting in a queue, None if it does not exist (yet)."""
        channel = await self._connected().channel()
        try:
            queue = await channel.declare_queue(name, passive=True)
            return queue.declaration_result.message_count
        except aio_pika.exceptions.ChannelClosed:
            return None
        finally:
            if not channel.is_closed:
                await channel.close()

    async def send_to_queue(
        self, queue: str, body: bytes, *, message_id: str | None, message_type: str | None, headers: dict[str, Any]
    ) -> None:
        """Put a message straight into one consumer's queue (a replayed dead letter), confirmed."""
        message = aio_pika.Message(
            body=body,
            content_type="application/cloudevents+json",
            message_id=message_id,
            type=message_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers=headers,
        )
        await self._publishing().default_exchange.publish(message, routing_key=queue, timeout=10)

    def _count(self, event_type: str, outcome: str) -> None:
        EVENTS_CONSUMED.labels(self.settings.service_name, event_type[:100], outcome).inc()

    async def _dead_letter(self, message: AbstractIncomingMessage, reason: str) -> None:
        main_name, _, dlq_name = queue_names(self.settings)
        await self._republish(
            message, dlq_name, {DEAD_LETTER_REASON_HEADER: reason[:500], DEAD_LETTER_QUEUE_HEADER: main_name}
        )

    async def _republish(self, message: AbstractIncomingMessage, queue: str, extra: dict[str, Any]) -> None:
        """Copy ``message`` to ``queue`` through the default exchange, confirmed, before the original is acked."""
        copy = aio_pika.Message(
            body=message.body,
            content_type=message.content_type,
            message_id=message.message_id,
            type=message.type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={**(message.headers or {}), "x-routing-key": message.routing_key, **extra},
        )
        await self._publishing().default_exchange.publish(copy, routing_key=queue, timeout=10)


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}"
