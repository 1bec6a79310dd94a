"""The notification service's settings (environment variable = field name upper-cased)."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator

from greenchannel.secret_rules import SecretRule
from greenchannel.settings import AdminTokenSettings, CodeTransportSettings

# Development-only key of the webhook secrets at rest; production injects WEBHOOK_SECRET_KEYS from a Secret.
DEV_WEBHOOK_SECRET_KEYS = '{"dev-1": "ZGV2ZWxvcG1lbnQtb25seS13ZWJob29rLXNlY3JldHM="}'  # noqa: S105

# The delay before each attempt, as in the design (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
DEFAULT_RETRY_SCHEDULE_S: list[float] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
# E-mail and SMS to the complainant: a shorter span, the news is stale after a day.
DEFAULT_DISPATCH_RETRY_SCHEDULE_S: list[float] = [0, 30, 300, 1800, 7200, 21600]


class Settings(AdminTokenSettings, CodeTransportSettings):
    # Required outside development mode, none of them a published value (with the shared tokens and the code
    # transport keys of the bases); the SMTP relay's password only when it is given.
    secret_rules: ClassVar[Mapping[str, SecretRule]] = {
        "webhook_secret_keys": SecretRule(key_ring=True, active_key_setting="webhook_secret_active_key_id"),
        "smtp_password": SecretRule(min_length=1, required=False),
    }

    service_name: str = "notification"
    internal_port: int = Field(default=8103, ge=0, le=65535)
    webhook_allow_private_targets: bool = Field(
        default=False, description="Allow loopback/private webhook targets: development and tests only."
    )
    webhook_private_networks_allowed: list[IPv4Network | IPv6Network] = Field(
        default_factory=list,
        description="Private networks a webhook target may resolve into all the same (env: a JSON list of CIDRs, "
        "e.g. a partner's endpoint reached over a private link); every other private, loopback or link-local "
        "address stays refused.",
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_secret_keys: SecretStr = Field(
        default=SecretStr(DEV_WEBHOOK_SECRET_KEYS),
        description="AES-256-GCM key ring of the signing secrets at rest (JSON: key id -> base64 of 32 bytes).",
    )
    webhook_secret_active_key_id: str = Field(
        default="dev-1", description="The key new and rotated secrets are sealed with."
    )
    webhook_retry_schedule_s: list[float] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE_S),
        description="Delay in seconds before attempt n (env: a JSON list); its length is the number of attempts.",
    )
    delivery_body_retention_days: int = Field(
        default=180,
        ge=1,
        description="Days a delivery record (with the webhook payload, sealed) is kept after it was written.",
    )
    message_retention_days: int = Field(
        default=365, ge=1, description="Days a complainant's inbox message (its texts sealed) is kept."
    )
    delivery_poll_interval_s: float = Field(default=1.0, gt=0)
    delivery_lease_s: float = Field(default=60.0, gt=0, description="How long a claimed attempt is reserved.")
    delivery_concurrency: int = Field(default=8, ge=1, le=256)
    dead_letter_alert_threshold: int = Field(default=10, ge=1, description="Dead letters in one queue that alert.")
    dead_letter_check_interval_s: float = Field(default=60.0, gt=0)
    alert_failure_threshold: int = Field(
        default=5,
        ge=1,
        description="Consecutive failed attempts to one company's endpoint (across deliveries) that raise an "
        "endpoint_failing alert for operators; one alert per streak, a successful attempt ends it.",
    )

    intake_url: str = Field(
        default="http://127.0.0.1:8100", description="intake's internal listener, where it answers the contact lookup."
    )
    intake_timeout_s: float = Field(default=5.0, gt=0)
    smtp_host: str = Field(default="", description="SMTP server for e-mail to complainants; empty switches e-mail off.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = Field(default="Green Channel <noreply@greenchannel.example>", min_length=3)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    dispatch_retry_schedule_s: list[float] = Field(
        default_factory=lambda: list(DEFAULT_DISPATCH_RETRY_SCHEDULE_S),
        description="Delay in seconds before e-mail/SMS attempt n (env: a JSON list); its length is the number of attempts.",
    )
    dispatch_poll_interval_s: float = Field(default=1.0, gt=0)
    dispatch_lease_s: float = Field(
        default=60.0, gt=0, description="How long a claimed e-mail/SMS attempt is reserved."
    )
    dispatch_concurrency: int = Field(default=4, ge=1, le=64)

    @field_validator("webhook_retry_schedule_s", "dispatch_retry_schedule_s")
    @classmethod
    def _schedule_is_usable(cls, schedule: list[float]) -> list[float]:
        if not schedule or any(delay < 0 for delay in schedule):
            raise ValueError("the retry schedule needs at least one delay, none negative")
        return schedule

    @model_validator(mode="after")
    def _leases_outlast_an_attempt(self) -> Settings:
        # A lease shorter than the request timeout would let another replica re-send an attempt in flight.
        if self.delivery_lease_s <= self.webhook_timeout_s:
            raise ValueError("delivery_lease_s must be longer than webhook_timeout_s")
        if self.dispatch_lease_s <= self.intake_timeout_s + self.smtp_timeout_s:
            raise ValueError("dispatch_lease_s must be longer than intake_timeout_s + smtp_timeout_s")
        return self
