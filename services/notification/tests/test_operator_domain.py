"""Unit tests of the operator tooling's rules: signing with both secrets during a rotation, the secrets in use
over time, the failure-streak rule and the alerts' keys and contents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notification.adapters.sender import encode_body, signed_headers
from notification.domain.alerts import (
    AlertKind,
    case_overdue,
    delivery_failed,
    endpoint_failing,
    endpoint_gone,
    failure_streak_alerts,
)
from notification.domain.secrets import generate_secret, signing_secrets

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)


def test_a_webhook_signed_with_two_secrets_verifies_with_either():
    old, new = generate_secret(), generate_secret()
    now = datetime.now(UTC)
    body = encode_body({"type": "complaint.forwarded", "timestamp": now.isoformat(), "data": {"number": "GC-1"}})
    headers = signed_headers([new, old], "msg_rot", body, now)
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(part.startswith("v1,") for part in signatures)
    assert Webhook(old).verify(body.encode(), headers)["data"]["number"] == "GC-1"
    assert Webhook(new).verify(body.encode(), headers)["data"]["number"] == "GC-1"
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body.encode(), headers)
    with pytest.raises(ValueError, match="at least one secret"):
        signed_headers([], "msg_rot", body, now)


def test_the_previous_secret_signs_only_within_its_window():
    assert signing_secrets("new", "old", NOW + timedelta(seconds=1), NOW) == ["new", "old"]
    assert signing_secrets("new", "old", NOW, NOW) == ["new"]
    assert signing_secrets("new", "old", NOW - timedelta(days=1), NOW) == ["new"]
    assert signing_secrets("new", None, None, NOW) == ["new"]
    assert signing_secrets("new", "old", None, NOW) == ["new"]


def test_a_failure_streak_alerts_once_it_reaches_the_threshold_and_only_once():
    assert not failure_streak_alerts(4, 5, already_alerted=False)
    assert failure_streak_alerts(5, 5, already_alerted=False)
    assert failure_streak_alerts(9, 5, already_alerted=False)  # a threshold lowered meanwhile still alerts
    assert not failure_streak_alerts(6, 5, already_alerted=True)
    assert failure_streak_alerts(1, 1, already_alerted=False)


def test_alert_keys_name_one_occurrence_each():
    gone = endpoint_gone("co-1", "msg_a", "GC-1", NOW)
    assert gone["kind"] == AlertKind.ENDPOINT_GONE and gone["key"] == "endpoint_gone:co-1:msg_a"
    assert gone["acked_at"] is None and gone["number"] == "GC-1"
    first_round = delivery_failed("co-1", "msg_a", "GC-1", 0, 8, "HTTP 503", NOW)
    second_round = delivery_failed("co-1", "msg_a", "GC-1", 1, 12, "HTTP 503", NOW)
    assert first_round["key"] != second_round["key"]
    assert delivery_failed("co-1", "msg_a", "GC-1", 0, 8, "timeout", NOW)["key"] == first_round["key"]
    assert first_round["_id"] != delivery_failed("co-1", "msg_a", "GC-1", 0, 8, "x", NOW)["_id"]
    failing = endpoint_failing("co-1", "msg_b", 3, 5, "HTTP 500 " + "x" * 1000, NOW)
    assert failing["kind"] == AlertKind.ENDPOINT_FAILING and len(failing["detail"]) == 300
    assert failing["detail"].startswith("5 consecutive failed attempts")
    overdue = case_overdue("GC-7", None, date(2026, 3, 16), NOW)
    assert overdue["key"] == "case_overdue:GC-7:2026-03-16" and overdue["company_id"] is None
    assert "2026-03-16" in overdue["detail"]
