"""Redelivering a finished webhook: now, with the same ``webhook-id`` and a fresh retry schedule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from greenchannel.problems import Problem
from notification.adapters.deliveries import DeliveryRepository, NotFinished


class Redelivery:
    def __init__(self, *, deliveries: DeliveryRepository, wake_delivery_worker: Callable[[], None]) -> None:
        self.deliveries = deliveries
        self.wake_delivery_worker = wake_delivery_worker

    async def redeliver(self, webhook_id: str) -> dict[str, Any]:
        try:
            delivery = await self.deliveries.redeliver(webhook_id)
        except NotFinished as error:
            raise Problem(
                409,
                "delivery_pending",
                f"Delivery {webhook_id} is {error.status} already: only a delivered or failed one can be sent again.",
                delivery_status=error.status,
            ) from None
        if delivery is None:
            raise Problem(404, "delivery_not_found", f"No delivery {webhook_id}.")
        self.wake_delivery_worker()
        return delivery
