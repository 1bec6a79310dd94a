"""The shared settings refuse unsafe secrets outside development mode, naming every one and quoting none."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from typing import ClassVar

import pytest
from pydantic import Field, SecretStr, ValidationError

from greenchannel.secret_rules import PUBLISHED_VALUES, InsecureSecrets, SecretRule
from greenchannel.settings import ServiceSettings

pytestmark = pytest.mark.unit

DEFAULT_RING = json.dumps({"dev": base64.b64encode(b"d" * 32).decode()})


class Example(ServiceSettings):
    secret_rules: ClassVar[Mapping[str, SecretRule]] = {
        "api_token": SecretRule(),
        "password": SecretRule(min_length=16),
        "keys": SecretRule(key_ring=True, active_key_setting="active_key"),
        "relay_password": SecretRule(min_length=1, required=False),
    }

    service_name: str = "example"
    api_token: SecretStr = SecretStr("example-development-token-0123456789")
    password: SecretStr = SecretStr("example-development-password")
    keys: SecretStr = SecretStr(DEFAULT_RING)
    active_key: str = "dev"
    relay_password: SecretStr = Field(default=SecretStr(""))


def ring(**keys: bytes) -> str:
    return json.dumps({key_id: base64.b64encode(key).decode() for key_id, key in keys.items()})


GOOD = {
    "api_token": "t" * 40,
    "password": "a-long-admin-password",
    "keys": ring(**{"2026-01": os.urandom(32), "2025-12": os.urandom(32)}),
    "active_key": "2026-01",
}


def refused(**values) -> InsecureSecrets:
    with pytest.raises(InsecureSecrets) as caught:
        Example(greenchannel_env="production", **values)
    return caught.value


def test_production_is_the_default_and_development_is_asked_for(monkeypatch):
    monkeypatch.delenv("GREENCHANNEL_ENV", raising=False)
    assert set(refused().settings) == {"API_TOKEN", "PASSWORD", "KEYS"}
    monkeypatch.setenv("GREENCHANNEL_ENV", "development")
    settings = Example()
    assert settings.is_development
    assert settings.api_token.get_secret_value() == "example-development-token-0123456789"
    for almost in ("dev", "Development", " development", "DEVELOPMENT", ""):
        monkeypatch.setenv("GREENCHANNEL_ENV", almost)
        with pytest.raises(ValidationError):
            Example()
    monkeypatch.setenv("GREENCHANNEL_ENV", "production")
    assert not Example(**GOOD).is_development


def test_secrets_from_the_environment_are_accepted_and_never_shown(monkeypatch):
    monkeypatch.setenv("GREENCHANNEL_ENV", "production")
    for name, value in GOOD.items():
        monkeypatch.setenv(name.upper(), value)
    settings = Example()
    assert settings.api_token.get_secret_value() == GOOD["api_token"]
    shown = f"{settings!r} {settings} {settings.model_dump()} {settings.model_dump_json()}"
    for name in ("api_token", "password", "keys"):
        assert GOOD[name] not in shown


def test_every_missing_secret_is_named_in_one_error():
    error = refused(api_token="", keys="  ")
    assert error.settings == ("API_TOKEN", "PASSWORD", "KEYS")
    assert "API_TOKEN (missing)" in str(error) and "PASSWORD (missing)" in str(error)
    assert not isinstance(error, ValueError), "pydantic would wrap a ValueError with the input, values included"


def test_short_secrets_are_named_without_their_values():
    short = {"api_token": "s3cr3t-but-short", "password": "tiny-pass"}
    error = refused(**{**GOOD, **short})
    assert error.settings == ("API_TOKEN", "PASSWORD")
    assert "shorter than 32 characters" in str(error) and "shorter than 16 characters" in str(error)
    for value in short.values():
        assert value not in str(error)


def test_published_values_and_the_defaults_are_refused():
    published = min(value for value in PUBLISHED_VALUES if len(value) >= 32 and not value.startswith("{"))
    error = refused(**{**GOOD, "api_token": published, "password": "example-development-password"})
    assert error.settings == ("API_TOKEN", "PASSWORD")
    assert "published" in str(error) and published not in str(error)
    # Surrounding blanks do not make a published value another one.
    assert refused(**{**GOOD, "api_token": f" {published}\n"}).settings == ("API_TOKEN",)


@pytest.mark.parametrize(
    ("keys", "active", "named", "reason"),
    [
        ("not json", "a", "KEYS", "not a JSON object"),
        ('["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]', "a", "KEYS", "not a JSON object"),
        (json.dumps({"a": "not base64!" * 4}), "a", "KEYS", "not a JSON object"),
        (json.dumps({"a": 12345678901234567890123456789012}), "a", "KEYS", "not a JSON object"),
        (ring(a=b"k" * 16, b=b"k" * 16), "a", "KEYS", "not base64 of 32 bytes"),
        (ring(a=b"k" * 32, b=b"d" * 32), "a", "KEYS", "published"),
        (ring(a=base64.b64decode("ZGV2LW9ubHktcGlpLWtleS1ub3QtZm9yLXByb2QtMDE=")), "a", "KEYS", "published"),
        (ring(a=os.urandom(32)), "b", "ACTIVE_KEY", "names no key of KEYS"),
        (" {\n} ", "a", "KEYS", "holds no key"),
        (json.dumps({"a": base64.b64encode(os.urandom(32)).decode(), "padding": ""}), "a", "KEYS", "not base64 of 32"),
    ],
)
def test_a_key_ring_must_hold_32_byte_keys_none_published(keys, active, named, reason):
    error = refused(**{**GOOD, "keys": keys, "active_key": active})
    assert error.settings == (named,)
    assert reason in str(error)


def test_an_optional_secret_may_be_absent_but_not_published():
    assert Example(greenchannel_env="production", **GOOD).relay_password.get_secret_value() == ""
    assert Example(greenchannel_env="production", **GOOD, relay_password="x").relay_password.get_secret_value() == "x"
    assert refused(**GOOD, relay_password="dev-only-admin-password").settings == ("RELAY_PASSWORD",)


def test_development_mode_keeps_the_published_defaults():
    settings = Example(greenchannel_env="development")
    assert settings.keys.get_secret_value() == DEFAULT_RING
    assert Example(greenchannel_env="development", api_token="short").api_token.get_secret_value() == "short"


def test_settings_without_secrets_need_nothing():
    assert not ServiceSettings(service_name="plain", greenchannel_env="production").is_development


def test_validation_errors_do_not_quote_the_settings():
    class Strict(Example):
        port: int = 1

    secret = "a-secret-that-must-not-appear-0123456789"
    with pytest.raises(ValidationError) as caught:
        Strict(greenchannel_env="development", api_token=secret, port="not a number")
    assert secret not in str(caught.value) and "not a number" not in str(caught.value)
