"""The secrets among a service's settings, and what production asks of them.

Each service's ``Settings`` names its secrets in ``secret_rules`` (setting -> :class:`SecretRule`); the
fields are ``SecretStr``, so they are never logged nor echoed. Outside development mode a service refuses
to start when a secret is missing, shorter than its rule asks, or a value this repository publishes
(anyone can read it here): the settings' own defaults, the compose demo's env files, the development
tools' tokens. A key ring must decode to 32-byte keys, none of them published. :func:`refuse_unsafe_secrets`
names every offending setting in one error, by its variable name only, never its value.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from greenchannel.sealing import parse_key_ring

# AES-256: every key of a key ring.
KEY_BYTES = 32

# Values published in this repository for development and tests. The settings' own defaults are added per
# service; these are the others: the compose demo's (deploy/compose/dev-secrets), the test harnesses' tokens
# (libs/devstack) and the object storage stand-in's secret key.
PUBLISHED_VALUES = frozenset(
    {
        "dev-operator-token",
        "dev-internal-token",
        "test-operator-token",
        "test-internal-token",
        "test-admin-token",
        "dev-admin-token",
        "dev-only-admin-token",
        "greenchannel-dev-secret",
        "dev-only-operator-token",
        "dev-only-internal-token",
        "dev-only-evidence-access",
        "dev-only-evidence-secret-key",
        "dev-only-jwt-secret-not-for-production-0123456789",
        "dev-only-admin-password",
        "ZGV2LW9ubHktYmxpbmQtaW5kZXgtbm90LTQtcHJvZCE=",
        "ZGV2LW9ubHktYWNjZXNzLWNvZGUtbm90LTQtcHJvZCE=",
        '{"dev-2026-01":"ZGV2LW9ubHktcGlpLWtleS1ub3QtZm9yLXByb2QtMDE="}',
        '{"dev-2026-01":"ZGV2LW9ubHktd2ViaG9vay1zZWNyZXRzLWtleS0wMDE="}',
        '{"dev-2026-01":"ZGV2LW9ubHktY29kZS10cmFuc3BvcnQtbm90LTQtcHI="}',
    }
)


@dataclass(frozen=True)
class SecretRule:
    """What production asks of one secret setting."""

    # Characters at least (32: 24 random bytes in base64); a key ring's keys are 32 bytes each instead.
    min_length: int = 32
    # An optional secret (e.g. a relay's password) may be empty; when set, it must not be published.
    required: bool = True
    # A JSON object of key id -> base64 of a 32-byte key.
    key_ring: bool = False
    # The setting that names the ring's key for new data: it must be one of the ring's ids.
    active_key_setting: str | None = None


class InsecureSecrets(RuntimeError):
    """A service outside development mode was given secrets it must not run with. Not a ``ValueError``:
    pydantic would wrap that in a validation error that repeats the input, values included."""

    def __init__(self, service: str, reasons: Mapping[str, str]) -> None:
        self.settings = tuple(reasons)
        listed = "; ".join(f"{name} ({reason})" for name, reason in reasons.items())
        super().__init__(
            f"{service} refuses to start in production, these secrets are unsafe: {listed}. Give each a value of "
            "its own from the deployment's secrets, or set GREENCHANNEL_ENV=development to run with the published "
            "development values."
        )


def refuse_unsafe_secrets(settings: Any) -> None:
    """Raise :class:`InsecureSecrets` naming every secret of ``settings`` that production must not run with."""
    rules: Mapping[str, SecretRule] = type(settings).secret_rules
    reasons = unsafe_secrets(settings, rules, published_values(type(settings), rules))
    if reasons:
        raise InsecureSecrets(settings.service_name, reasons)


def published_values(settings_class: Any, rules: Iterable[str]) -> frozenset[str]:
    """:data:`PUBLISHED_VALUES` and the defaults the settings class gives its secrets."""
    defaults = {_plain(settings_class.model_fields[name].default) for name in rules}
    return PUBLISHED_VALUES | {value for value in defaults if value}


def unsafe_secrets(settings: Any, rules: Mapping[str, SecretRule], published: frozenset[str]) -> dict[str, str]:
    """Variable name -> why, for every secret of ``settings`` that breaks its rule (no value is ever quoted)."""
    published_keys = _keys_in(published)
    reasons: dict[str, str] = {}
    for name, rule in rules.items():
        value = _plain(getattr(settings, name)).strip()
        # A secret left at its default is missing: every default is a published development value.
        if not value or name not in settings.model_fields_set:
            if rule.required:
                reasons[name.upper()] = "missing"
        elif value in published:
            reasons[name.upper()] = "a development value published in the repository"
        elif rule.key_ring:
            reasons.update(_key_ring_reasons(settings, name, rule, value, published_keys))
        elif len(value) < rule.min_length:
            reasons[name.upper()] = f"shorter than {rule.min_length} characters"
    return reasons


def _key_ring_reasons(
    settings: Any, name: str, rule: SecretRule, value: str, published_keys: set[bytes]
) -> dict[str, str]:
    try:
        ring = parse_key_ring(value)
    except ValueError:
        return {name.upper(): "not a JSON object of key id -> base64 key"}
    if not ring:
        return {name.upper(): "holds no key"}
    if any(len(key) != KEY_BYTES for key in ring.values()):
        return {name.upper(): f"a key is not base64 of {KEY_BYTES} bytes"}
    if any(key in published_keys for key in ring.values()):
        return {name.upper(): "holds a development key published in the repository"}
    if rule.active_key_setting and getattr(settings, rule.active_key_setting) not in ring:
        return {rule.active_key_setting.upper(): f"names no key of {name.upper()}"}
    return {}


def _keys_in(published: Iterable[str]) -> set[bytes]:
    """The 32-byte keys among published values: plain base64 keys and the keys of published key rings."""
    keys: set[bytes] = set()
    for value in published:
        try:
            keys |= set(parse_key_ring(value).values())
        except ValueError:
            try:
                keys.add(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                continue
    return {key for key in keys if len(key) == KEY_BYTES}


def _plain(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value if isinstance(value, str) else ""
