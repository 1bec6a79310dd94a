"""Unit tests of the delivery rules: SSRF classification, URL shape, secrets, retry schedule, webhook ids, signing."""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notification.adapters.sender import encode_body, signed_headers
from notification.config import DEFAULT_RETRY_SCHEDULE_S, Settings
from notification.domain.deliveries import UnusableEventId, webhook_id_for, webhook_payload
from notification.domain.schedule import delay_before_next, next_attempt_at, total_span_s
from notification.domain.secrets import InvalidSecret, generate_secret, mask_secret, validate_secret
from notification.domain.targets import InvalidWebhookUrl, first_forbidden, forbidden_reason, parse_target

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.10", "private"),
        ("169.254.169.254", "cloud_metadata"),
        ("169.254.1.1", "link_local"),
        ("fe80::1", "link_local"),
        ("fd00::1", "private"),
        ("fd00:ec2::254", "cloud_metadata"),
        ("100.100.100.200", "cloud_metadata"),
        ("100.64.0.1", "shared_address_space"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),  # reserved (class E), which the stdlib also lists as private
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6 judged by its IPv4
        ("::ffff:169.254.169.254", "cloud_metadata"),
        ("2002:a00:1::", "private"),  # 6to4 carrying 10.0.0.1
        ("192.0.2.10", "private"),  # documentation range
    ],
)
def test_internal_addresses_are_refused_with_their_reason(address, reason):
    assert forbidden_reason(address) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "172.32.0.1"])
def test_public_addresses_are_allowed(address):
    assert forbidden_reason(address) is None


def test_a_host_is_refused_when_any_of_its_addresses_is_internal():
    import ipaddress

    addresses = [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.5")]
    assert first_forbidden(addresses) == (addresses[1], "private")
    assert first_forbidden(addresses[:1]) is None


def test_webhook_url_shape():
    target = parse_target("https://hooks.example.com/complaints?x=1")
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 443)
    assert parse_target("http://[::1]:8080/h").host == "::1"
    assert parse_target("http://example.com/h").port == 80
    for bad in [
        "ftp://example.com/",
        "file:///etc/passwd",
        "example.com/h",
        "https://",
        "http://user:pw@example.com/",
        "https://example.com/#frag",
        "https://exa mple.com/",
        "http://example.com:99999/",
        "",
        "https://example.com/" + "a" * 2100,
    ]:
        with pytest.raises(InvalidWebhookUrl):
            parse_target(bad)


def test_generated_secret_is_a_standard_webhooks_secret_of_24_bytes():
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
    assert validate_secret(secret) == secret
    assert generate_secret() != secret


def test_given_secrets_are_validated():
    assert validate_secret("whsec_" + base64.b64encode(b"k" * 64).decode())
    for bad in [
        "",
        "secret",
        "whsec_",
        "whsec_not*base64!",
        "whsec_" + base64.b64encode(b"short").decode(),
        "whsec_" + base64.b64encode(b"k" * 65).decode(),
        base64.b64encode(b"k" * 32).decode(),
    ]:
        with pytest.raises(InvalidSecret):
            validate_secret(bad)


def test_masked_secret_hides_the_key():
    secret = generate_secret()
    masked = mask_secret(secret)
    assert masked.startswith("whsec_") and masked.endswith(secret[-4:])
    assert secret.removeprefix("whsec_")[:-4] not in masked


def test_retry_schedule_gives_the_delay_before_each_next_attempt():
    schedule = [0, 5, 300]
    assert delay_before_next(schedule, 0) == 0
    assert delay_before_next(schedule, 1) == 5
    assert delay_before_next(schedule, 2) == 300
    assert delay_before_next(schedule, 3) is None
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_attempt_at(schedule, 2, now) == now + timedelta(minutes=5)
    assert next_attempt_at(schedule, 3, now) is None
    with pytest.raises(ValueError, match="cannot be negative"):
        delay_before_next(schedule, -1)


def test_default_schedule_is_the_designed_one_spanning_about_27_hours():
    assert Settings().webhook_retry_schedule_s == DEFAULT_RETRY_SCHEDULE_S
    assert len(DEFAULT_RETRY_SCHEDULE_S) == 8
    assert total_span_s(DEFAULT_RETRY_SCHEDULE_S) == 5 + 300 + 1800 + 7200 + 18000 + 36000 + 36000


def test_schedule_from_the_environment_is_a_json_list(monkeypatch):
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE_S", "[0, 0.5, 2]")
    assert Settings().webhook_retry_schedule_s == [0, 0.5, 2]
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE_S", "[]")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE_S", "[0, -1]")
    with pytest.raises(ValidationError):
        Settings()


def test_lease_must_outlast_the_request_timeout():
    with pytest.raises(ValidationError):
        Settings(webhook_timeout_s=30, delivery_lease_s=10)


def test_webhook_id_comes_from_the_event_id():
    assert webhook_id_for("6f1c2f4e-8a2b-4c3d-9e5f-0a1b2c3d4e5f") == "msg_6f1c2f4e8a2b4c3d9e5f0a1b2c3d4e5f"
    with pytest.raises(UnusableEventId):
        webhook_id_for("has space")
    with pytest.raises(UnusableEventId):
        webhook_id_for("line\nbreak")


def test_signed_headers_verify_with_the_standard_webhooks_library():
    secret = generate_secret()
    now = datetime.now(UTC)
    payload = webhook_payload("complaint.forwarded", now, {"number": "GC-1", "title": "退款"})
    body = encode_body(payload)
    headers = signed_headers([secret], "msg_abc", body, now)
    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"] == str(math.floor(now.timestamp()))
    assert Webhook(secret).verify(body.encode(), headers) == payload
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body.encode(), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("GC-1", "GC-2").encode(), headers)
