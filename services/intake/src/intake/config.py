"""intake's settings (environment variables of the same name, upper-cased)."""

from collections.abc import Mapping
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated, ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from greenchannel.secret_rules import SecretRule
from greenchannel.settings import AdminTokenSettings, CodeTransportSettings

# Development-only keys: production injects its own through PII_KEYS, BLIND_INDEX_KEY and
# ACCESS_CODE_KEY (Kubernetes Secrets / compose secrets).
DEV_PII_KEYS = '{"dev-1": "ZGV2ZWxvcG1lbnQtb25seS1waWkta2V5LTMyYnl0ZXM="}'


class Settings(AdminTokenSettings, CodeTransportSettings):
    # Required outside development mode, none of them a published value (with the shared tokens and the code
    # transport keys of the bases).
    secret_rules: ClassVar[Mapping[str, SecretRule]] = {
        "jwt_secret": SecretRule(),
        "pii_keys": SecretRule(key_ring=True, active_key_setting="pii_active_key_id"),
        "blind_index_key": SecretRule(),
        "access_code_key": SecretRule(),
        "operator_bootstrap_password": SecretRule(min_length=16),
    }

    service_name: str = "intake"
    internal_port: int = Field(default=8100, ge=0, le=65535)
    evidence_url: str = "http://127.0.0.1:8001"
    routing_url: str = "http://127.0.0.1:8002"
    public_base_url: str = "http://127.0.0.1:8000"
    pii_keys: SecretStr = SecretStr(DEV_PII_KEYS)
    pii_active_key_id: str = "dev-1"
    blind_index_key: SecretStr = SecretStr("development-only-blind-index-key")
    access_code_key: SecretStr = SecretStr("development-only-access-code-key")
    notification_url: str = "http://127.0.0.1:8003"
    jwt_secret: SecretStr = SecretStr("development-only-jwt-secret-change-me-0123456789")
    token_ttl_s: int = Field(default=3600, ge=60)
    # How long a replica trusts its copy of an account (token version, disabled, roles) before reading it
    # again: the bound within which signing out, a password change, disabling or a role change holds everywhere.
    account_cache_ttl_s: float = Field(default=30.0, gt=0, le=30)
    # The first operator account, created at start-up when there is none (an admin).
    operator_bootstrap_login: str = "admin"
    operator_bootstrap_password: SecretStr = SecretStr("development-only-admin-password")
    # Where operators open a trace: Jaeger's UI (``{trace_ui_url}/trace/{trace_id}``).
    trace_ui_url: str = "http://localhost:16686"
    # Dead letters (each an event, often with a complainant's words, kept sealed) go after this many days.
    dead_letter_retention_days: int = Field(default=90, ge=1)
    # Personal data of a complaint (identity, contact, every text never published, its files) is erased this many
    # days after the complaint ended (closed, withdrawn, rejected); its public record and statistics stay.
    retention_days: int = Field(default=3 * 365, ge=0)
    # A complainant's request to erase their complaint's data (or their account) is carried out after this hold.
    erasure_hold_days: float = Field(default=7, ge=0)
    # How often the retention job looks for complaints due, and how many one pass erases at most.
    retention_interval_s: float = Field(default=3600, gt=0)
    retention_batch: int = Field(default=100, ge=1, le=1000)
    rating_window_days: int = Field(default=60, ge=1)
    appeal_window_days: int = Field(default=30, ge=1)
    account_code_ttl_s: int = Field(default=600, ge=60, le=3600)
    account_code_max_attempts: int = Field(default=5, ge=1, le=10)
    account_codes_per_login_per_hour: int = Field(default=5, ge=1)
    account_codes_per_ip_per_hour: int = Field(default=20, ge=1)
    account_code_failures_per_ip_per_hour: int = Field(default=50, ge=1)
    # How long the link inviting a company's staff member works (default 72 hours).
    company_invitation_ttl_s: int = Field(default=72 * 3600, ge=3600, le=14 * 24 * 3600)
    # Complainants may also sign in with a code sent to their login instead of the password.
    sign_in_by_code: bool = False
    # Rate limits at the public edge (counted in MongoDB, shared by every replica).
    rate_limits_enabled: bool = True
    # The proxies in front of intake (ingress, gateway): X-Forwarded-For is believed only from these, read
    # from the right up to the first address that is not one of them. Empty: the peer is the client.
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(default_factory=list)
    # Filing is counted per source address (its /64 for IPv6) with a high ceiling, since many complainants share
    # one address behind a carrier's NAT, and per complainant (ID number, and phone) with a low one.
    filings_per_ip_per_hour: int = Field(default=600, ge=1)
    filings_per_complainant_per_hour: int = Field(default=20, ge=1)
    uploads_per_ip_per_hour: int = Field(default=300, ge=1)
    # Guessing a secret (access code, password): failures per (target, address) pair and per address
    # make the next attempt wait, doubling from the base; never refused for failures of other addresses.
    guess_free_failures_per_pair: int = Field(default=5, ge=0)
    guess_free_failures_per_ip: int = Field(default=30, ge=0)
    guess_backoff_base_s: float = Field(default=2.0, gt=0)
    guess_backoff_max_s: float = Field(default=3600.0, gt=0)
    # Failures on one target per hour from all addresses above which its pairs lose their free failures.
    guess_target_ceiling_per_hour: int = Field(default=100, ge=1)
    # Distinct addresses failing on one target within an hour that alert operators.
    guess_alert_sources_per_hour: int = Field(default=10, ge=2)
    # Public reads (status lookup, results, statistics, open data) per address: a token bucket in each replica's
    # memory. Generous: many people share one address behind a carrier's NAT.
    public_reads_per_ip_per_minute: int = Field(default=600, ge=1)
    public_read_burst: int = Field(default=120, ge=1)
    anonymous_upload_bytes_per_ip_per_day: int = Field(
        default=1024 * 1024 * 1024,
        ge=1,
        description="Bytes one address may upload before filing in a day; a file never attached counts until evidence "
        "removes it. Reserved before anything is stored; over it, 429 with Retry-After.",
    )
    feedback_per_ip_per_hour: int = Field(default=20, ge=1)
    registrations_per_ip_per_hour: int = Field(default=20, ge=1)
    # How often staged statistics are folded into the rollups: how far public figures trail the case file.
    # Each fold costs a transaction and a write per rollup whatever it moves: at a few complaints a second,
    # every five seconds is a third of the writes of every second.
    statistics_fold_interval_s: float = Field(default=5.0, gt=0, le=3600)
    # Disclosure control on the public statistics (intake.domain.disclosure): cells counting fewer complaints are
    # published suppressed, with their complements.
    public_statistics_min_count: int = Field(default=5, ge=1)
    # How often the public figures are refreshed (a snapshot per period, periods turning at midnight China time;
    # seconds or an ISO 8601 duration). 0 publishes them as they change, which lets a reader compare two reads
    # around one publication: for tests only.
    public_statistics_refresh: timedelta = Field(default=timedelta(days=1), ge=timedelta(0))
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=60)
    max_request_body_bytes: int = 64 * 1024
    evidence_upload_timeout_s: float = 120.0
    # The largest evidence file (video, 200 MiB) plus room for the multipart framing.
    max_upload_request_bytes: int = 201 * 1024 * 1024
    # The origin browsers reach object storage by (the scheme and host of evidence's S3_PUBLIC_ENDPOINT, e.g.
    # https://files.example.org). Set, the pages may connect to it and the web client sends large files straight to
    # storage through presigned uploads; empty, every file goes through the gateway.
    storage_public_origin: str = Field(default="", pattern=r"^(https?://[^/\s]+)?$")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """TRUSTED_PROXIES is a comma-separated list of networks (CIDRs) or single addresses."""
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
