"""The settings every service shares: where its store and broker are, and how it names its queues.

Each service subclasses :class:`ServiceSettings` in its own ``config.py`` (one Settings class per
service); values come from environment variables of the same name, upper-cased. A subclass names its
secrets in ``secret_rules``: outside development mode (``GREENCHANNEL_ENV=development``) the settings
refuse to exist with an unsafe one (``greenchannel.secret_rules``), so the service stops before it
touches its store or broker.
"""

from collections.abc import Mapping
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from greenchannel.secret_rules import SecretRule, refuse_unsafe_secrets


class ServiceSettings(BaseSettings):
    # A validation error would otherwise quote its input: the settings, secrets included.
    model_config = SettingsConfigDict(env_file=None, extra="ignore", hide_input_in_errors=True)

    service_name: str
    mongo_url: str = "mongodb://127.0.0.1:27017/?retryWrites=false"
    mongo_db: str = ""
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    event_exchange: str = "greenchannel.events"
    queue_prefix: str = "greenchannel"
    queue_type: str = Field(default="classic", pattern="^(classic|quorum)$")
    consumer_prefetch: int = 32
    consumer_max_retries: int = 5
    consumer_retry_delay_ms: int = 2000
    outbox_poll_interval_s: float = 0.5
    outbox_lease_s: float = 30.0
    log_level: str = "INFO"
    log_json: bool = True
    # Production is the default; development (published keys, private webhook targets) is asked for.
    greenchannel_env: Literal["production", "development"] = "production"

    @property
    def is_development(self) -> bool:
        return self.greenchannel_env == "development"

    # The service's secrets and what production asks of each (its subclass names them).
    secret_rules: ClassVar[Mapping[str, SecretRule]] = {}

    @property
    def database_name(self) -> str:
        return self.mongo_db or self.service_name

    @model_validator(mode="after")
    def _refuse_unsafe_secrets_in_production(self) -> Self:
        if not self.is_development:
            refuse_unsafe_secrets(self)
        return self
