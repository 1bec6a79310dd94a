"""Operator alerts: what went wrong with a company's webhooks or a case's deadline, once per occurrence.

Each alert has a key naming its occurrence (the 410 of one delivery, one failure streak, one
exhausted round of a delivery, one missed response deadline), so repeating the write that raises
it (a redelivered event, a transaction retried by the driver) raises nothing new. Alerts name the
company, the complaint number and the webhook id, never a person.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

MAX_DETAIL_LENGTH = 300


class AlertKind(StrEnum):
    ENDPOINT_GONE = "endpoint_gone"
    ENDPOINT_NOT_HTTPS = "endpoint_not_https"
    ENDPOINT_FAILING = "endpoint_failing"
    DELIVERY_FAILED = "delivery_failed"
    CASE_OVERDUE = "case_overdue"
    DEAD_LETTERS_GROWING = "dead_letters_growing"
    ACCESS_GUESSING = "access_guessing"


def _alert(
    kind: AlertKind,
    key: str,
    now: datetime,
    detail: str,
    *,
    company_id: str | None,
    number: str | None = None,
    webhook_id: str | None = None,
) -> dict[str, Any]:
    return {
        "_id": uuid.uuid4().hex,
        "key": f"{kind}:{key}",
        "kind": kind,
        "company_id": company_id,
        "number": number,
        "webhook_id": webhook_id,
        "detail": detail[:MAX_DETAIL_LENGTH],
        "created_at": now,
        "acked_at": None,
    }


def endpoint_gone(company_id: str, webhook_id: str, number: str | None, now: datetime) -> dict[str, Any]:
    return _alert(
        AlertKind.ENDPOINT_GONE,
        f"{company_id}:{webhook_id}",
        now,
        "The endpoint answered 410 Gone and was disabled; deliveries wait until it is enabled again.",
        company_id=company_id,
        number=number,
        webhook_id=webhook_id,
    )


def endpoint_not_https(company_id: str, webhook_id: str, number: str | None, now: datetime) -> dict[str, Any]:
    return _alert(
        AlertKind.ENDPOINT_NOT_HTTPS,
        f"{company_id}:{webhook_id}",
        now,
        "The endpoint's URL is plain http, which is never delivered to outside development; it was disabled "
        "and deliveries wait until an https URL is registered.",
        company_id=company_id,
        number=number,
        webhook_id=webhook_id,
    )


def endpoint_failing(
    company_id: str, webhook_id: str, attempt_number: int, streak: int, last_error: str, now: datetime
) -> dict[str, Any]:
    # The attempt that reached the threshold names the streak; the endpoint's flag keeps it to one alert.
    return _alert(
        AlertKind.ENDPOINT_FAILING,
        f"{company_id}:{webhook_id}:{attempt_number}",
        now,
        f"{streak} consecutive failed attempts; last: {last_error}",
        company_id=company_id,
        webhook_id=webhook_id,
    )


def delivery_failed(
    company_id: str, webhook_id: str, number: str, round_number: int, attempts: int, last_error: str, now: datetime
) -> dict[str, Any]:
    return _alert(
        AlertKind.DELIVERY_FAILED,
        f"{webhook_id}:{round_number}",
        now,
        f"Retry schedule exhausted after {attempts} attempt(s); last: {last_error}",
        company_id=company_id,
        number=number,
        webhook_id=webhook_id,
    )


def case_overdue(number: str, company_id: str | None, due: date, now: datetime) -> dict[str, Any]:
    return _alert(
        AlertKind.CASE_OVERDUE,
        f"{number}:{due.isoformat()}",
        now,
        f"The company's response was due {due.isoformat()}.",
        company_id=company_id,
        number=number,
    )


def failure_streak_alerts(streak: int, threshold: int, already_alerted: bool) -> bool:
    """Whether a failed attempt that made the company's streak ``streak`` long raises the streak's alert."""
    return streak >= threshold and not already_alerted


def dead_letters_alert_due(depth: int, threshold: int, last_alerted_depth: int) -> bool:
    """A dead-letter queue at or above the threshold alerts, and again each time it has doubled since."""
    return depth >= threshold and depth >= 2 * last_alerted_depth if last_alerted_depth else depth >= threshold


def dead_letters_growing(queue: str, depth: int, now: datetime) -> dict[str, Any]:
    return _alert(
        AlertKind.DEAD_LETTERS_GROWING,
        f"{queue}:{depth}",
        now,
        f"{depth} message(s) wait in the dead-letter queue {queue}; list and replay them from the operator API.",
        company_id=None,
    )


def access_guessing(
    secret: str,
    target: str,
    number: str | None,
    sources: int,
    failures: int,
    window_started_at: datetime,
    now: datetime,
) -> dict[str, Any]:
    """Many addresses failing at one secret within an hour: one alert per target and hour. Nobody was locked
    out; the operator may look at the complaint or account, or at the traffic."""
    what = f"the access code of complaint {number}" if number else f"the password of login {target}"
    return _alert(
        AlertKind.ACCESS_GUESSING,
        f"{secret}:{target}:{window_started_at.isoformat()}",
        now,
        f"{sources} distinct addresses failed {failures} times at {what} within the hour from "
        f"{window_started_at.isoformat()}; someone may be guessing it.",
        company_id=None,
        number=number,
    )
