"""Checks of docker-compose.yml, offline (no Docker engine needed).

The file is read the way Compose reads it (YAML merge keys resolved, ``${VAR:-default}`` replaced
by its default) and checked against the platform's rules: every service built from its Dockerfile,
hardened (non-root, read-only, no capabilities), health-checked on /readyz, started only after what
it depends on is healthy, given all its settings, with development-only secrets in env files and
only intake and object storage (where the presigned links point) published, the demo profile
(a webhook receiver as every company's endpoint, allowed by its one address), Prometheus and Grafana
provisioned from deploy/. The file is validated against the Compose specification's JSON schema
(tests/deploy/schemas/compose-spec.json) and parsed by the strict parser of the ``compose-spec`` package.
"""

from __future__ import annotations

import base64
import importlib
import ipaddress
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from dotenv import dotenv_values

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"
DEMO_ENV = ROOT / "deploy" / "compose" / "demo.env"
SERVICES = {"intake": 8000, "evidence": 8001, "routing": 8002, "notification": 8003}
# Each service's internal listener (/internal/*, /metrics), as its Settings default it (INTERNAL_PORT).
INTERNAL = {
    name: importlib.import_module(f"{name}.config").Settings.model_fields["internal_port"].default for name in SERVICES
}
ENGINES = {"mongo", "rabbitmq", "minio"}
COMMON_ENV = {
    "MONGO_URL",
    "MONGO_DB",
    "AMQP_URL",
    "EVENT_EXCHANGE",
    "QUEUE_PREFIX",
    "QUEUE_TYPE",
    "LOG_LEVEL",
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
    "OPERATOR_TOKEN",
    "INTERNAL_TOKEN",
}
SERVICE_ENV = {
    "intake": {
        "EVIDENCE_URL",
        "ROUTING_URL",
        "NOTIFICATION_URL",
        "PII_KEYS",
        "PII_ACTIVE_KEY_ID",
        "BLIND_INDEX_KEY",
        "ACCESS_CODE_KEY",
        "PUBLIC_BASE_URL",
    },
    "evidence": {"S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_SECURE", "S3_BUCKET"},
    "routing": {"CALENDAR_EXTRA_HOLIDAYS", "CALENDAR_EXTRA_WORKDAYS"},
    "notification": {"WEBHOOK_RETRY_SCHEDULE_S", "WEBHOOK_ALLOW_PRIVATE_TARGETS"},
}
SECRET_ENV = {
    "AMQP_URL",
    "OPERATOR_TOKEN",
    "INTERNAL_TOKEN",
    "PII_KEYS",
    "BLIND_INDEX_KEY",
    "ACCESS_CODE_KEY",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
}
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?-([^}]*))?\}")


def interpolate(value):
    """Compose interpolation with no variable set: every ``${VAR:-default}`` becomes its default."""
    if isinstance(value, str):
        return VARIABLE.sub(lambda m: m.group(3) or "", value).replace("$$", "$")
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def compose() -> dict:
    return interpolate(yaml.safe_load(COMPOSE_FILE.read_text()))


def strings(value):
    """Every string in a loaded YAML document (keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


def env_files(service: dict) -> list[Path]:
    entries = service.get("env_file", [])
    entries = [entries] if isinstance(entries, str) else entries
    return [ROOT / (e if isinstance(e, str) else e["path"]) for e in entries]


def environment(service: dict) -> dict[str, str]:
    """What the container sees: the env files, then ``environment`` over them."""
    values: dict[str, str] = {}
    for path in env_files(service):
        # A name without a value in an env file sets nothing.
        values.update({name: value for name, value in dotenv_values(path).items() if value is not None})
    values.update({k: str(v) for k, v in service.get("environment", {}).items()})
    return values


def test_compose_file_follows_the_specification(compose) -> None:
    assert "version" not in compose, "the version key is obsolete in the Compose specification"
    assert set(SERVICES) | ENGINES | {"jaeger"} <= set(compose["services"])
    values = list(strings(yaml.safe_load(COMPOSE_FILE.read_text())))
    every_variable = [m for value in values for m in VARIABLE.findall(value.replace("$$", ""))]
    assert every_variable
    without_default = [name for name, default, _ in every_variable if not default]
    assert not without_default, f"give {without_default} a default so `docker compose up` works as is"
    assert not any(re.search(r"\$\{[^}]*[{\"]", v) for v in values), (
        "JSON in a default breaks interpolation: use an env file"
    )


def test_compose_file_matches_the_compose_specification_schema(compose) -> None:
    validator = jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text()))
    for document in (yaml.safe_load(COMPOSE_FILE.read_text()), compose):  # as written, and interpolated
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
        assert not errors, "docker-compose.yml breaks the Compose specification:\n" + "\n".join(errors)


def test_the_schema_refuses_what_compose_refuses(compose) -> None:
    """The schema bites: a misspelt key or a wrong type in a service fails."""
    validator = jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text()))
    for mistake in (
        {"restart_policy": "always"},
        {"ports": "8000:8000"},
        {"depends_on": {"mongo": {"condition": "up"}}},
    ):
        broken = json.loads(json.dumps(compose))
        broken["services"]["intake"].update(mistake)
        assert list(validator.iter_errors(broken)), f"{mistake} passed the schema"


def test_compose_file_parses_with_a_strict_compose_spec_parser(compose) -> None:
    import compose_spec

    document = {k: v for k, v in compose.items() if not k.startswith("x-")}
    parsed = compose_spec.PyCompose.from_yaml(yaml.safe_dump(document))
    parsed.validate()
    assert set(parsed.service_names()) == set(compose["services"])


def test_services_are_built_hardened_and_health_checked(compose) -> None:
    for name, port in SERVICES.items():
        service = compose["services"][name]
        assert service["build"] == {"context": ".", "dockerfile": f"services/{name}/Dockerfile"}
        assert service["user"] == "10001:10001"
        assert service["read_only"] is True
        assert any(t.split(":")[0] == "/tmp" for t in service["tmpfs"]), f"{name}: no tmpfs /tmp"
        assert service["cap_drop"] == ["ALL"] and not service.get("cap_add")
        assert "no-new-privileges:true" in service["security_opt"]
        assert not service.get("privileged")
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD" and test[1] == "python", f"{name}: the images have python, not curl"
        assert f"http://127.0.0.1:{port}/readyz" in test[-1]
        compile(test[-1], f"{name}-healthcheck", "exec")
        assert service["restart"] == "unless-stopped"


def test_engines_are_health_checked(compose) -> None:
    services = compose["services"]
    mongo = services["mongo"]
    assert mongo["image"].startswith("mongo:8")
    assert mongo["command"] == ["--replSet", "rs0", "--bind_ip_all"]
    script = mongo["healthcheck"]["test"][-1]
    assert "mongosh" in mongo["healthcheck"]["test"]
    assert "rs.initiate" in script and "catch" in script, "the replica set must be initiated once, idempotently"
    assert "isWritablePrimary" in script and "quit(1)" in script, "healthy only when primary"
    assert re.match(r"rabbitmq:(3\.13|4\.\d+)(\.\d+)?-management", services["rabbitmq"]["image"])
    assert services["rabbitmq"]["healthcheck"]["test"] == ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
    assert services["minio"]["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    assert services["jaeger"]["environment"]["JAEGER_LISTEN_HOST"] == "0.0.0.0"


def test_services_start_after_what_they_need_is_healthy(compose) -> None:
    services = compose["services"]
    for name in SERVICES:
        assert {"mongo", "rabbitmq"} <= set(services[name]["depends_on"]), name
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency, spec in depends_on.items():
            target = services[dependency]
            if "healthcheck" in target:
                assert spec["condition"] == "service_healthy", f"{name} -> {dependency}"
            elif target.get("restart") == "no":
                assert spec["condition"] == "service_completed_successfully", f"{name} -> {dependency}"
            else:
                assert dependency == "jaeger" and spec["condition"] == "service_started", f"{name} -> {dependency}"
    assert {"minio", "minio-setup"} <= set(services["evidence"]["depends_on"])
    assert {"evidence", "routing", "notification"} <= set(services["intake"]["depends_on"])


def test_services_get_all_their_settings(compose) -> None:
    for name in SERVICES:
        service = compose["services"][name]
        env = environment(service)
        missing = (COMMON_ENV | SERVICE_ENV[name]) - env.keys()
        assert not missing, f"{name} lacks {missing}"
        assert env["MONGO_DB"] == name, "each service owns its own database"
        assert env["OTEL_SERVICE_NAME"] == name
        assert env["QUEUE_TYPE"] == "quorum"
        assert env["MONGO_URL"] == "mongodb://mongo:27017/?replicaSet=rs0"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
        assert env["AMQP_URL"].startswith("amqp://") and env["AMQP_URL"].split("@")[1] == "rabbitmq:5672/"
        secrets_inline = SECRET_ENV & set(service.get("environment", {}))
        assert not secrets_inline, (
            f"{name}: secrets belong in the env file, not in docker-compose.yml: {secrets_inline}"
        )
    intake = environment(compose["services"]["intake"])
    for other in ("evidence", "routing", "notification"):
        assert intake[f"{other.upper()}_URL"] == f"http://{other}:{SERVICES[other]}"
    # X-Forwarded-For is believed from the compose network only.
    [subnet] = [pool["subnet"] for pool in compose["networks"]["default"]["ipam"]["config"]]
    assert intake["TRUSTED_PROXIES"] == subnet
    evidence = environment(compose["services"]["evidence"])
    assert (evidence["S3_ENDPOINT"], evidence["S3_SECURE"], evidence["S3_BUCKET"]) == (
        "minio:9000",
        "false",
        "greenchannel-evidence",
    )
    notification = environment(compose["services"]["notification"])
    assert notification["INTAKE_URL"] == f"http://intake:{INTERNAL['intake']}", "the contact lookup is internal"
    assert notification["WEBHOOK_ALLOW_PRIVATE_TARGETS"] == "false"
    assert json.loads(notification["WEBHOOK_RETRY_SCHEDULE_S"]) == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    routing = environment(compose["services"]["routing"])
    assert json.loads(routing["CALENDAR_EXTRA_HOLIDAYS"]) == [] and json.loads(routing["CALENDAR_EXTRA_WORKDAYS"]) == []


def test_default_secrets_are_visibly_development_only_and_consistent(compose) -> None:
    services = compose["services"]
    rabbit = environment(services["rabbitmq"])
    minio = environment(services["minio"])
    for values in (rabbit, minio):
        assert all("dev-only" in v for k, v in values.items() if "PASS" in k), values
    intake = environment(services["intake"])
    keys = json.loads(intake["PII_KEYS"])
    assert intake["PII_ACTIVE_KEY_ID"] in keys, "the active PII key must be one of PII_KEYS"
    notification = environment(services["notification"])
    webhook_keys = json.loads(notification["WEBHOOK_SECRET_KEYS"])
    assert notification["WEBHOOK_SECRET_ACTIVE_KEY_ID"] in webhook_keys, "the active webhook key must be in the ring"
    for key in [*keys.values(), *webhook_keys.values(), intake["BLIND_INDEX_KEY"], intake["ACCESS_CODE_KEY"]]:
        raw = base64.b64decode(key, validate=True)
        assert len(raw) == 32 and raw.startswith(b"dev-only"), "a 32-byte key that says it is for development"
    # The services call each other with one internal token: every one of them must hold the same.
    assert len({environment(services[name])["INTERNAL_TOKEN"] for name in SERVICES}) == 1
    for name in SERVICES:
        env = environment(services[name])
        assert "dev-only" in env["OPERATOR_TOKEN"] and "dev-only" in env["INTERNAL_TOKEN"]
        assert (
            env["AMQP_URL"]
            == f"amqp://{rabbit['RABBITMQ_DEFAULT_USER']}:{rabbit['RABBITMQ_DEFAULT_PASS']}@rabbitmq:5672/"
        )
        for path in env_files(services[name]):
            assert path.is_relative_to(ROOT / "deploy" / "compose" / "dev-secrets")
            assert "DEVELOPMENT-ONLY" in path.read_text()
    evidence = environment(services["evidence"])
    assert "dev-only" in evidence["S3_SECRET_KEY"]
    setup = environment(services["minio-setup"])
    assert (setup["S3_ACCESS_KEY"], setup["S3_SECRET_KEY"]) == (evidence["S3_ACCESS_KEY"], evidence["S3_SECRET_KEY"])
    assert "MINIO_ROOT_PASSWORD" not in evidence, "the evidence service never holds MinIO's root credentials"


def test_only_intake_storage_and_the_operator_uis_are_published(compose) -> None:
    published = {name: s.get("ports", []) for name, s in compose["services"].items() if s.get("ports")}
    assert [p.split(":")[-1] for p in published.pop("intake")] == ["8000"]  # never its internal listener
    # Object storage's S3 API, where the presigned links point; its console stays on loopback.
    storage, console = published.pop("minio")
    assert storage == "9000:9000" and console == "127.0.0.1:9001:9001"
    operator_uis = {"jaeger": "16686", "rabbitmq": "15672", "prometheus": "9090", "grafana": "3000"}
    assert set(published) == set(operator_uis)
    for name, ports in published.items():
        assert ports == [f"127.0.0.1:{operator_uis[name]}:{operator_uis[name]}"], f"{name} must bind to loopback only"


def test_presigned_links_name_the_published_storage_port(compose) -> None:
    evidence = environment(compose["services"]["evidence"])
    host, port = evidence["S3_PUBLIC_ENDPOINT"].rsplit(":", 1)
    assert host == "localhost"
    assert f"{port}:9000" in compose["services"]["minio"]["ports"]


def test_the_demo_delivers_to_its_receiver_and_nowhere_else_private(compose) -> None:
    services = compose["services"]
    demo = {name for name, service in services.items() if "demo" in service.get("profiles", [])}
    assert demo == {"webhook-receiver", "demo-endpoints"}
    assert not [name for name in set(services) - demo if services[name].get("profiles")], "the platform has no profile"
    receiver = services["webhook-receiver"]
    address = ipaddress.ip_address(receiver["networks"]["default"]["ipv4_address"])
    [pool] = compose["networks"]["default"]["ipam"]["config"]
    assert address in ipaddress.ip_network(pool["subnet"])
    assert address not in ipaddress.ip_network(pool["ip_range"]), "another container could be given its address"
    # demo.env turns the profile on and allows exactly the receiver's address, nothing else private.
    settings = dotenv_values(DEMO_ENV)
    assert settings["COMPOSE_PROFILES"] == "demo"
    allowed = settings["WEBHOOK_PRIVATE_NETWORKS_ALLOWED"]
    assert allowed is not None
    assert [ipaddress.ip_network(n) for n in json.loads(allowed)] == [ipaddress.ip_network(f"{address}/32")]
    notification = environment(services["notification"])
    assert json.loads(notification["WEBHOOK_PRIVATE_NETWORKS_ALLOWED"]) == [], "nothing private allowed by default"
    assert notification["WEBHOOK_ALLOW_PRIVATE_TARGETS"] == "false"
    # Every company gets the receiver through notification's admin API, once notification and routing are up.
    seeding = services["demo-endpoints"]
    assert seeding["restart"] == "no"
    assert set(seeding["depends_on"]) == {"routing", "notification", "webhook-receiver"}
    script = seeding["command"][0]
    compile(script, "demo-endpoints", "exec")
    assert "/webhook-endpoint" in script and "ADMIN_TOKEN" in script
    assert seeding["environment"]["RECEIVER_URL"] == f"http://{address}:8080"
    compile(receiver["command"][0], "webhook-receiver", "exec")
    assert "8080" in receiver["command"][0] and "8080" in receiver["expose"]


def test_prometheus_scrapes_the_internal_listeners_and_grafana_gets_the_dashboards(compose) -> None:
    services = compose["services"]
    prometheus = services["prometheus"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in prometheus["volumes"]}
    config = yaml.safe_load((ROOT / mounts["/etc/prometheus/prometheus.yml"]).read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert sorted(job["static_configs"][0]["targets"]) == sorted(f"{name}:{port}" for name, port in INTERNAL.items())
    assert [mounts[path] for path in config["rule_files"]] == ["./deploy/grafana/alerts.yaml"]
    grafana = services["grafana"]
    grafana_mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"]}
    provisioning = ROOT / grafana_mounts["/etc/grafana/provisioning"]
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090" and source["isDefault"] is True
    [provider] = yaml.safe_load((provisioning / "dashboards" / "greenchannel.yml").read_text())["providers"]
    dashboards = ROOT / grafana_mounts[provider["options"]["path"]]
    assert (dashboards / "greenchannel-overview.json").exists()
    assert (
        "GF_SECURITY_ADMIN_PASSWORD" in environment(grafana)
        and "dev-only" in environment(grafana)["GF_SECURITY_ADMIN_PASSWORD"]
    )


def test_images_are_pinned_to_a_release_and_kept_current_by_renovate(compose) -> None:
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if image.startswith("greenchannel/"):
            continue
        assert re.search(r":[^:]+$", image) and not image.endswith(":latest"), f"{name}: {image} is not pinned"
    renovate = json.loads((ROOT / "renovate.json").read_text())
    managers = set(renovate["enabledManagers"])
    assert {"docker-compose", "kubernetes", "kustomize", "dockerfile", "pep621", "pip_requirements"} <= managers
    assert any("deploy/k8s" in pattern for pattern in renovate["kubernetes"]["managerFilePatterns"])
    # MinIO's date-named releases are read as versions by the rule's pattern (JavaScript's named groups).
    [minio_rule] = [
        rule
        for rule in renovate["packageRules"]
        if "quay.io/minio/minio" in rule.get("matchPackageNames", []) and "versioning" in rule
    ]
    pattern = re.compile(minio_rule["versioning"].removeprefix("regex:").replace("(?<", "(?P<"))
    tag = compose["services"]["minio"]["image"].split(":", 1)[1]
    assert pattern.match(tag), f"Renovate would not read {tag} as a version"


def test_internal_listeners_are_on_the_compose_network_only(compose) -> None:
    for name, port in INTERNAL.items():
        service = compose["services"][name]
        assert str(port) in [str(exposed) for exposed in service.get("expose", [])], (
            f"{name}: internal port not exposed"
        )
        assert not any(str(published).split(":")[-1] == str(port) for published in service.get("ports", [])), (
            f"{name} publishes its internal listener to the host"
        )
        assert "INTERNAL_PORT" not in environment(service), f"{name}: the image's default is the Dockerfile's EXPOSE"
        dockerfile = (ROOT / "services" / name / "Dockerfile").read_text()
        assert re.search(rf"^EXPOSE {SERVICES[name]} {port}$", dockerfile, re.MULTILINE), f"{name}: Dockerfile EXPOSE"


def test_data_lives_in_named_volumes(compose) -> None:
    declared = set(compose["volumes"])
    used = {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if isinstance(volume, str) and not volume.startswith((".", "/"))
    }
    assert (
        used
        == declared
        == {"mongo-data", "mongo-config", "rabbitmq-data", "minio-data", "prometheus-data", "grafana-data"}
    )
    for name in [*SERVICES, "webhook-receiver", "demo-endpoints"]:
        assert not compose["services"][name].get("volumes"), f"{name} is stateless"


def test_the_evidence_bucket_holds_files_unaltered(compose) -> None:
    """minio-setup makes the bucket with object lock and the default retention the evidence service checks."""
    services = compose["services"]
    setup, evidence = environment(services["minio-setup"]), environment(services["evidence"])
    assert int(evidence["EVIDENCE_OBJECT_LOCK_DAYS"]) == int(setup["EVIDENCE_OBJECT_LOCK_DAYS"]) > 0
    script = services["minio-setup"]["command"][0]
    assert '--with-lock "platform/$S3_BUCKET"' in script
    assert 'mc retention set --default GOVERNANCE "$EVIDENCE_OBJECT_LOCK_DAYS"d' in script
    assert "NoncurrentVersionExpiration" in script and "mc ilm import" in script
    assert "s3:GetBucketObjectLockConfiguration" in script and "s3:BypassGovernanceRetention" not in script
