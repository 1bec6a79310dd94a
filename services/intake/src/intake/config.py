"""intake's settings (environment variables of the same name, upper-cased)."""

from collections.abc import Mapping
from typing import ClassVar

from greenchannel.contracts import DEV_CODE_TRANSPORT_KEYS
from greenchannel.secret_rules import SecretRule
from greenchannel.settings import ServiceSettings
from pydantic import Field, SecretStr

# Development-only keys: production injects its own through PII_KEYS, BLIND_INDEX_KEY and
# ACCESS_CODE_KEY (Kubernetes Secrets / compose secrets).
DEV_PII_KEYS = '{"dev-1": "ZGV2ZWxvcG1lbnQtb25seS1waWkta2V5LTMyYnl0ZXM="}'


class Settings(ServiceSettings):
    # Required outside development mode, none of them a published value.
    secret_rules: ClassVar[Mapping[str, SecretRule]] = {
        "jwt_secret": SecretRule(),
        "internal_token": SecretRule(),
        "operator_token": SecretRule(),
        "pii_keys": SecretRule(key_ring=True, active_key_setting="pii_active_key_id"),
        "blind_index_key": SecretRule(),
        "access_code_key": SecretRule(),
        "operator_bootstrap_password": SecretRule(min_length=16),
        "code_transport_keys": SecretRule(key_ring=True, active_key_setting="code_transport_active_key_id"),
    }

    service_name: str = "intake"
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
    internal_token: SecretStr = SecretStr("dev-internal-token")
    # Bearer token of the other services' operator endpoints (routing's directory), used on behalf of admins.
    operator_token: SecretStr = SecretStr("dev-operator-token")
    # The first operator account, created at start-up when there is none (an admin).
    operator_bootstrap_login: str = "admin"
    operator_bootstrap_password: SecretStr = SecretStr("development-only-admin-password")
    # Where operators open a trace: Jaeger's UI (``{trace_ui_url}/trace/{trace_id}``).
    trace_ui_url: str = "http://localhost:16686"
    rating_window_days: int = Field(default=60, ge=1)
    appeal_window_days: int = Field(default=30, ge=1)
    # One-time codes that prove a login (registration, password reset); sealed to notification in their event.
    code_transport_keys: SecretStr = Field(default=SecretStr(DEV_CODE_TRANSPORT_KEYS), description="AES-256-GCM key ring shared with "
                                     "notification (JSON: key id -> base64 of 32 bytes).")
    code_transport_active_key_id: str = "dev-1"
    account_code_ttl_s: int = Field(default=600, ge=60, le=3600)
    account_code_max_attempts: int = Field(default=5, ge=1, le=10)
    account_codes_per_login_per_hour: int = Field(default=5, ge=1)
    account_codes_per_ip_per_hour: int = Field(default=20, ge=1)
    account_code_failures_per_ip_per_hour: int = Field(default=50, ge=1)
    # Complainants may also sign in with a code sent to their login instead of the password.
    sign_in_by_code: bool = False
    # Rate limits at the public edge (counted in MongoDB, shared by every replica).
    rate_limits_enabled: bool = True
    client_ip_header: str = Field(default="", description="Header the ingress puts the client address in, e.g. X-Real-IP.")
    filings_per_ip_per_hour: int = Field(default=60, ge=1)
    uploads_per_ip_per_hour: int = Field(default=300, ge=1)
    access_code_failures_per_number_per_hour: int = Field(default=10, ge=1)
    access_code_failures_per_ip_per_hour: int = Field(default=100, ge=1)
    login_failures_per_login_per_15_min: int = Field(default=10, ge=1)
    login_failures_per_ip_per_15_min: int = Field(default=100, ge=1)
    feedback_per_ip_per_hour: int = Field(default=20, ge=1)
    registrations_per_ip_per_hour: int = Field(default=20, ge=1)
    # How often staged statistics are folded into the rollups: how far public figures trail the case file.
    statistics_fold_interval_s: float = Field(default=1.0, gt=0, le=3600)
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=60)
    max_request_body_bytes: int = 64 * 1024
    evidence_upload_timeout_s: float = 120.0
    # The largest evidence file (video, 200 MiB) plus room for the multipart framing.
    max_upload_request_bytes: int = 201 * 1024 * 1024
