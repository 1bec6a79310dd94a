"""The delivery record: one per integration event and company, kept for the whole retry schedule.

The webhook id is derived from the event id, so a redelivered event, every retry and any replica
use the same ``webhook-id`` and the company can deduplicate (Standard Webhooks, "webhook-id").

A test webhook (``webhook.test``, asked for through the API) comes from no event and concerns no complaint: its
record has no ``number`` (``None``), and its id comes from the company and the request's ``Idempotency-Key``
(random without one), so a retried request finds the delivery it made.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

_EVENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    NO_ENDPOINT = "no_endpoint"
    DELIVERED = "delivered"
    FAILED = "failed"


class UnusableEventId(ValueError):
    """An event id that cannot become a webhook-id header value."""


def webhook_id_for(event_id: str) -> str:
    if not _EVENT_ID.match(event_id):
        raise UnusableEventId(f"event id {event_id[:60]!r} cannot be used as a webhook id")
    return "msg_" + event_id.replace("-", "")


def webhook_id_of_test(company_id: str, idempotency_key: str) -> str:
    """The id of a test webhook: the same for the same company and key, so a retried request makes no second one
    (a request without a key is given a random one). A name-based UUID (version 5) never equals the random one
    (version 4) event ids are made as, so a test's id is never an event's webhook id."""
    return "msg_" + uuid.uuid5(uuid.NAMESPACE_URL, f"greenchannel-webhook-test:{company_id}:{idempotency_key}").hex


def data_of_test(company_id: str) -> dict[str, Any]:
    """What a test webhook carries: the company it was sent for, and a note saying so; no complaint, no person."""
    return {
        "company_id": company_id,
        "note": "平台发送的测试事件，无需处理。 A test event sent by the platform; nothing to handle.",
    }


def concerns_complaint(delivery: dict[str, Any]) -> bool:
    """Whether the delivery carries a complaint's webhook: only those report their outcome (``webhook.delivered``
    moves the case on, ``webhook.failed`` is a dead letter of the complaint); a test webhook concerns none."""
    return delivery.get("number") is not None


def webhook_payload(event_type: str, timestamp: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body the company receives, in the Standard Webhooks payload structure (type, timestamp, data)."""
    return {"type": event_type, "timestamp": timestamp.isoformat(), "data": data}


def attempt_record(
    at: datetime, url: str, duration_ms: int, status_code: int | None = None, error: str | None = None
) -> dict[str, Any]:
    return {"at": at, "url": url, "status_code": status_code, "error": error, "duration_ms": duration_ms}


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300


GONE = 410
