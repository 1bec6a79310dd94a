"""The secrets each service declares in its settings, against what the deployments give it, offline.

Every service's ``Settings.secret_rules`` names its secrets. The compose demo's env files
(deploy/compose/dev-secrets), the compose README and the Kubernetes README (its table of Secrets and the
commands that create them) must hold every required secret of each service and nothing a service does not
read, besides ``AMQP_URL`` (configuration that carries a password). The compose demo says it runs in
development mode; nothing under deploy/k8s does. Every value the repository publishes for development is
refused in production.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values
from pydantic import SecretStr

from devstack import platform as devstack_platform
from devstack import processes, run, standins
from evidence.config import Settings as EvidenceSettings
from greenchannel.secret_rules import InsecureSecrets
from greenchannel.settings import ServiceSettings
from intake.config import Settings as IntakeSettings
from notification.config import Settings as NotificationSettings
from routing.config import Settings as RoutingSettings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DEV_SECRETS = ROOT / "deploy" / "compose" / "dev-secrets"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "evidence": EvidenceSettings,
    "routing": RoutingSettings,
    "notification": NotificationSettings,
}
# Configuration that carries a password (the broker user's), so it is kept with the secrets.
CONNECTION_SETTINGS = {"AMQP_URL"}
MODE = "GREENCHANNEL_ENV"


def declared(service: str) -> set[str]:
    return {name.upper() for name in SETTINGS[service].secret_rules}


def required(service: str) -> set[str]:
    return {name.upper() for name, rule in SETTINGS[service].secret_rules.items() if rule.required}


def check_secret_list(where: str, service: str, keys: set[str]) -> None:
    assert required(service) <= keys, f"{where}: {service} lacks {required(service) - keys}"
    unknown = keys - declared(service) - CONNECTION_SETTINGS
    assert not unknown, f"{where}: {service} does not read {unknown} as a secret"


def dev_secrets(service: str) -> dict[str, str]:
    return {key: value or "" for key, value in dotenv_values(DEV_SECRETS / f"{service}.env").items()}


def markdown_row(text: str, first_cell: str) -> set[str]:
    """The backquoted names in the second cell of the table row whose first cell is ``first_cell``."""
    row = re.search(rf"^\| `{re.escape(first_cell)}` \| ([^|]*) \|", text, re.MULTILINE)
    assert row, f"no table row for {first_cell}"
    return set(re.findall(r"`([A-Z0-9_]+)`", row.group(1)))


@pytest.mark.parametrize("service", SETTINGS)
def test_declared_secrets_are_secret_fields_and_every_secret_field_is_declared(service):
    settings_class = SETTINGS[service]
    secret_fields = {name for name, field in settings_class.model_fields.items() if field.annotation is SecretStr}
    assert set(settings_class.secret_rules) == secret_fields
    for name, rule in settings_class.secret_rules.items():
        if rule.active_key_setting:
            assert rule.key_ring and rule.active_key_setting in settings_class.model_fields, name


@pytest.mark.parametrize("service", SETTINGS)
def test_the_compose_demo_gives_every_secret_and_says_it_is_development(service):
    values = dev_secrets(service)
    assert values.pop(MODE) == "development", "published values: the demo must ask for development mode"
    check_secret_list(f"deploy/compose/dev-secrets/{service}.env", service, set(values))
    readme = (ROOT / "deploy" / "compose" / "README.md").read_text()
    assert markdown_row(readme, f"{service}.env") == set(values) | (declared(service) - required(service)), (
        f"deploy/compose/README.md must list what {service}.env holds, and the optional secrets"
    )
    compose_file = (ROOT / "docker-compose.yml").read_text()
    assert MODE not in compose_file, "the mode comes from SECRETS_DIR: real secrets there mean production"


@pytest.mark.parametrize("service", SETTINGS)
def test_the_kubernetes_secrets_hold_every_secret_and_the_services_run_in_production(service):
    readme = (ROOT / "deploy" / "k8s" / "README.md").read_text()
    documented = markdown_row(readme, f"greenchannel-{service}")
    check_secret_list("deploy/k8s/README.md table", service, documented)
    command = re.search(rf"create secret generic greenchannel-{service} \\\n((?:.*\\\n)*.*\n)", readme)
    assert command, f"deploy/k8s/README.md creates no greenchannel-{service} secret"
    created = set(re.findall(r"--from-literal=([A-Z0-9_]+)=", command.group(1)))
    check_secret_list("deploy/k8s/README.md commands", service, created)
    assert documented - created <= declared(service) - required(service), "only optional secrets may be left out"
    for path in (ROOT / "deploy" / "k8s").rglob("*.yaml"):
        assert MODE not in path.read_text(), f"{path}: Kubernetes runs the services in production mode"


@pytest.mark.parametrize("service", SETTINGS)
def test_the_compose_demo_values_are_refused_in_production(service):
    values: dict[str, Any] = {
        key.lower(): value
        for key, value in dev_secrets(service).items()
        if key.lower() in SETTINGS[service].secret_rules
    }
    with pytest.raises(InsecureSecrets) as caught:
        SETTINGS[service](greenchannel_env="production", **values)
    assert set(caught.value.settings) == required(service)
    for value in values.values():
        assert value not in str(caught.value)


def test_the_development_tools_values_are_refused_in_production():
    tokens = {
        processes.OPERATOR_TOKEN,
        processes.INTERNAL_TOKEN,
        devstack_platform.OPERATOR_TOKEN,
        devstack_platform.INTERNAL_TOKEN,
        run.OPERATOR_TOKEN,
        run.INTERNAL_TOKEN,
    }
    for token in tokens:
        with pytest.raises(InsecureSecrets) as caught:
            RoutingSettings(greenchannel_env="production", operator_token=token, internal_token=token)
        assert set(caught.value.settings) == {"OPERATOR_TOKEN", "INTERNAL_TOKEN"}
        assert "published" in str(caught.value)
    with pytest.raises(InsecureSecrets) as caught:
        EvidenceSettings(
            greenchannel_env="production",
            s3_access_key="evidence-user",
            s3_secret_key=standins.S3_SECRET_KEY,
            operator_token="o" * 40,
            internal_token="i" * 40,
        )
    assert caught.value.settings == ("S3_SECRET_KEY",)


def test_the_configuration_table_marks_every_secret_required_in_production():
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    for service in SETTINGS:
        for name in required(service):
            row = next((line for line in rows if f"`{name}`" in line.split("|")[1]), None)
            assert row and "required in production" in row, f"README.md: mark {name} required in production"
    assert any("`GREENCHANNEL_ENV`" in line.split("|")[1] for line in rows), "README.md: say how the mode is chosen"
