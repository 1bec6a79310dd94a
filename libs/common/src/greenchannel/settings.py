"""The settings every service shares: where its store and broker are, how it names its queues, and the tokens and
keys several services hold alike.

Each service subclasses :class:`PlatformSettings` (and :class:`AdminTokenSettings`, :class:`CodeTransportSettings`
when it holds those) in its own ``config.py`` (one Settings class per service); values come from environment
variables of the same name, upper-cased. A class names the secrets it declares in ``secret_rules``; a subclass's
``secret_rules`` holds its bases' as well (merged when the class is made), so a shared secret is declared once, here,
with its rule. Outside development mode (``GREENCHANNEL_ENV=development``) the settings refuse to exist with an
unsafe secret (``greenchannel.secret_rules``), so the service stops before it touches its store or broker.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from greenchannel.contracts import DEV_CODE_TRANSPORT_KEYS
from greenchannel.secret_rules import SecretRule, refuse_unsafe_secrets


class ServiceSettings(BaseSettings):
    # A validation error would otherwise quote its input: the settings, secrets included.
    model_config = SettingsConfigDict(env_file=None, extra="ignore", hide_input_in_errors=True)

    service_name: str
    # The internal listener (``/internal/*``, ``/metrics``): a port of its own, never the public one. Each
    # service's Settings gives its own default, its public port plus 100 (intake 8000 -> 8100 ... notification
    # 8003 -> 8103), so all four run side by side on one host (``make run``) without meeting MinIO's 9000/9001
    # or Prometheus' 9090; 0 lets the system pick a free port (tests).
    # In a pod, every interface; the network policies say who may connect.
    internal_host: str = "0.0.0.0"
    internal_port: int = Field(default=8100, ge=0, le=65535)
    # How often the service-specific gauges (open cases, outbox backlog, ...) are read from the store: a
    # scrape only reads what the last refresh left, so scraping costs no query.
    metrics_refresh_interval_s: float = Field(default=15.0, gt=0)
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
    # Data migrations at start-up (greenchannel.migrations): ``run`` applies the pending steps (one replica at a time,
    # under a lease), ``wait`` only waits until the store is at the level the code knows (where a Job migrates
    # before the rollout, as in the Kubernetes manifests). Either way at most ``migration_wait_s``, then the
    # process stops instead of serving a store it does not know.
    migrations_on_start: Literal["run", "wait"] = "run"
    migration_wait_s: float = Field(default=600.0, gt=0)
    # How long the migrator's lease lasts without renewal (renewed three times a lease): how soon another process
    # takes over from one that died.
    migration_lease_s: float = Field(default=30.0, gt=0)
    log_level: str = "INFO"
    log_json: bool = True
    # Production is the default; development (published keys, private webhook targets) is asked for.
    greenchannel_env: Literal["production", "development"] = "production"

    @property
    def is_development(self) -> bool:
        return self.greenchannel_env == "development"

    # The secrets a class declares and what production asks of each; a subclass's holds its bases' too.
    secret_rules: ClassVar[Mapping[str, SecretRule]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        merged: dict[str, SecretRule] = {}
        for klass in reversed(cls.__mro__):
            merged.update(vars(klass).get("secret_rules", {}))
        cls.secret_rules = MappingProxyType(merged)

    @property
    def database_name(self) -> str:
        return self.mongo_db or self.service_name

    @model_validator(mode="after")
    def _refuse_unsafe_secrets_in_production(self) -> Self:
        if not self.is_development:
            refuse_unsafe_secrets(self)
        return self


class PlatformSettings(ServiceSettings):
    """A Green Channel service: the bearer tokens every one of them checks, declared once. Each service gets the same
    values (one Secret per token in a deployment)."""

    secret_rules: ClassVar[Mapping[str, SecretRule]] = {"operator_token": SecretRule(), "internal_token": SecretRule()}

    operator_token: SecretStr = Field(
        default=SecretStr("dev-operator-token"),
        min_length=1,
        description="Bearer token of the operators' endpoints of every service (intake sends it on behalf of its "
        "operators, e.g. to routing's directory).",
    )
    internal_token: SecretStr = Field(
        default=SecretStr("dev-internal-token"),
        min_length=1,
        description="Bearer token between services, on each service's internal API (intake's, evidence's, "
        "routing's and notification's routes the others call).",
    )


class AdminTokenSettings(PlatformSettings):
    """A service that holds the admin token: notification checks it, intake sends it for admins."""

    secret_rules: ClassVar[Mapping[str, SecretRule]] = {"admin_token": SecretRule()}

    admin_token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token of what decides where webhooks go and what signs them (a company's webhook "
        "endpoint and its signing secret, at notification); it also opens every operator endpoint there. intake "
        "sends it for admins only. Empty (development only) closes those endpoints to everyone.",
    )


class CodeTransportSettings(PlatformSettings):
    """A service that seals or opens the one-time codes of ``account.code_issued`` (intake seals, notification opens)."""

    secret_rules: ClassVar[Mapping[str, SecretRule]] = {
        "code_transport_keys": SecretRule(key_ring=True, active_key_setting="code_transport_active_key_id"),
    }

    code_transport_keys: SecretStr = Field(
        default=SecretStr(DEV_CODE_TRANSPORT_KEYS),
        description="AES-256-GCM key ring of the one-time codes intake seals into account.code_issued and "
        "notification opens (JSON: key id -> base64 of 32 bytes), the same in both.",
    )
    code_transport_active_key_id: str = "dev-1"
