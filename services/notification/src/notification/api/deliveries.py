"""Operator API for the delivery log: every webhook with its attempts; ``failed`` ones are the dead letters.

``POST /v1/deliveries/{webhook_id}/redeliver`` sends a finished (failed or delivered) webhook again,
now, with the same ``webhook-id`` (the company deduplicates by it) and a fresh retry schedule; its
earlier attempts stay in the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from greenchannel.problems import Problem
from notification.api.dependencies import Deliveries, RedeliveryDep, require_operator
from notification.domain.deliveries import DeliveryStatus

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"], dependencies=[Depends(require_operator)])


class AttemptView(BaseModel):
    at: datetime
    url: str
    status_code: int | None = Field(description="The endpoint's HTTP status; null when no answer came.")
    error: str | None = Field(description="Why no answer came (network, timeout, refused target).")
    duration_ms: int


class DeliveryView(BaseModel):
    webhook_id: str
    company_id: str
    number: str | None = Field(description="The complaint the webhook is about; null for a test webhook.")
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    attempts: list[AttemptView]
    next_attempt_at: datetime | None = Field(description="When the next attempt is due; null once finished.")
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    redeliveries: int = Field(default=0, description="How often an operator sent it again.")
    redelivered_at: datetime | None = None


class DeliveryDetail(DeliveryView):
    payload: dict[str, Any] = Field(description="The body the company receives.")


class DeliveryPage(BaseModel):
    items: list[DeliveryView]


def delivery_detail(delivery: dict[str, Any]) -> DeliveryDetail:
    return DeliveryDetail(**_fields(delivery), payload=delivery["payload"])


def _fields(delivery: dict[str, Any]) -> dict[str, Any]:
    finished = delivery["status"] in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)
    return {
        "webhook_id": delivery["_id"],
        "company_id": delivery["company_id"],
        "number": delivery.get("number"),
        "event_type": delivery["event_type"],
        "status": delivery["status"],
        "attempt_count": len(delivery["attempts"]),
        "attempts": delivery["attempts"],
        "next_attempt_at": None if finished else delivery.get("next_attempt_at"),
        "last_error": delivery.get("last_error"),
        "created_at": delivery["created_at"],
        "updated_at": delivery["updated_at"],
        "finished_at": delivery.get("finished_at"),
        "redeliveries": delivery.get("redeliveries", 0),
        "redelivered_at": delivery.get("redelivered_at"),
    }


@router.get("", response_model=DeliveryPage)
async def list_deliveries(
    deliveries: Deliveries,
    company_id: Annotated[str | None, Query(max_length=100)] = None,
    status: DeliveryStatus | None = None,
    number: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    found = await deliveries.search(company_id=company_id, status=status, number=number, limit=limit)
    return DeliveryPage(items=[DeliveryView(**_fields(delivery)) for delivery in found])


@router.get("/{webhook_id}", response_model=DeliveryDetail)
async def get_delivery(webhook_id: str, deliveries: Deliveries) -> DeliveryDetail:
    delivery = await deliveries.get(webhook_id)
    if delivery is None:
        raise Problem(404, "delivery_not_found", f"No delivery {webhook_id}.")
    return delivery_detail(delivery)


@router.post("/{webhook_id}/redeliver", response_model=DeliveryDetail)
async def redeliver(webhook_id: str, redelivery: RedeliveryDep) -> DeliveryDetail:
    return delivery_detail(await redelivery.redeliver(webhook_id))
