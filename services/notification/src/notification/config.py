"""The notification service's settings (environment variable = field name upper-cased)."""

from __future__ import annotations

from greenchannel.settings import ServiceSettings
from pydantic import Field, field_validator, model_validator

# The delay before each attempt, as in the design (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
DEFAULT_RETRY_SCHEDULE_S = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]


class Settings(ServiceSettings):
    service_name: str = "notification"
    operator_token: str = Field(default="dev-operator-token", min_length=1)
    webhook_allow_private_targets: bool = Field(
        default=False, description="Allow loopback/private webhook targets: development and tests only."
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_retry_schedule_s: list[float] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE_S),
        description="Delay in seconds before attempt n (env: a JSON list); its length is the number of attempts.",
    )
    delivery_poll_interval_s: float = Field(default=1.0, gt=0)
    delivery_lease_s: float = Field(default=60.0, gt=0, description="How long a claimed attempt is reserved.")
    delivery_concurrency: int = Field(default=8, ge=1, le=256)

    @field_validator("webhook_retry_schedule_s")
    @classmethod
    def _schedule_is_usable(cls, schedule: list[float]) -> list[float]:
        if not schedule or any(delay < 0 for delay in schedule):
            raise ValueError("the retry schedule needs at least one delay, none negative")
        return schedule

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> "Settings":
        # A lease shorter than the request timeout would let another replica re-send an attempt in flight.
        if self.delivery_lease_s <= self.webhook_timeout_s:
            raise ValueError("delivery_lease_s must be longer than webhook_timeout_s")
        return self
