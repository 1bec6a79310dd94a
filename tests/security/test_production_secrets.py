"""Production is the default: each service, started as a real process (its production server command) without
``GREENCHANNEL_ENV=development``, refuses to run with secrets that are missing, too short or published in this
repository. It exits non-zero within seconds, names every offending setting in one error, prints none of the
values, and leaves nothing in its fresh database nor on the broker. With secrets of its own it becomes ready,
and the published development tokens and password open nothing."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aio_pika
import httpx
import pytest
from dotenv import dotenv_values
from pymongo import AsyncMongoClient

from devstack import processes, standins
from evidence.config import Settings as EvidenceSettings
from greenchannel.settings import ServiceSettings
from intake.config import Settings as IntakeSettings
from notification.config import Settings as NotificationSettings
from routing.config import Settings as RoutingSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "evidence": EvidenceSettings,
    "routing": RoutingSettings,
    "notification": NotificationSettings,
}
# A process that refuses to start must be gone long before this (it takes about a second and a half, most of
# it importing the service); generous for a machine shared with other test runs.
EXIT_WITHIN_S = 60.0
REFUSAL = "refuses to start in production"
# An endpoint of each service behind the internal token (shared by every service); intake's is on its internal
# listener.
INTERNAL_PROBES = {
    "intake": "/internal/v1/complaints/none/contact",
    "evidence": "/v1/limits",
    "routing": "/v1/decisions/none",
    "notification": "/v1/messages",
}


def declared(service: str) -> dict:
    return dict(SETTINGS[service].secret_rules)


def required(service: str) -> set[str]:
    return {name.upper() for name, rule in declared(service).items() if rule.required}


def key_ring(*key_ids: str, size: int = 32) -> str:
    return json.dumps({key_id: base64.b64encode(os.urandom(size)).decode() for key_id in key_ids})


def own_secrets(service: str) -> dict[str, str]:
    """Values of its own for every required secret of ``service`` (key rings with their active key)."""
    values = {}
    for name, rule in declared(service).items():
        if not rule.required:
            continue
        if rule.key_ring:
            values[name.upper()] = key_ring("2026-01")
            values[rule.active_key_setting.upper()] = "2026-01"
        else:
            values[name.upper()] = secrets.token_urlsafe(48)
    return values


def short_secrets(service: str) -> dict[str, str]:
    """Every required secret one character shorter than its minimum; key rings with 16-byte keys."""
    values = {}
    for name, rule in declared(service).items():
        if not rule.required:
            continue
        if rule.key_ring:
            values[name.upper()] = key_ring("2026-01", size=16)
            values[rule.active_key_setting.upper()] = "2026-01"
        else:
            values[name.upper()] = secrets.token_urlsafe(48)[: rule.min_length - 1]
    return values


def published_secrets(service: str) -> dict[str, str]:
    """The compose demo's values (published in deploy/compose/dev-secrets)."""
    values = dotenv_values(ROOT / "deploy" / "compose" / "dev-secrets" / f"{service}.env")
    return {key: value for key, value in values.items() if value is not None and key.lower() in declared(service)}


CASES = {"missing": lambda service: {}, "too-short": short_secrets, "published": published_secrets}


def production_env(
    service: str, secret_values: dict[str, str], *, mongo_url: str, mongo_db: str, broker: dict, s3_endpoint: str
) -> dict[str, str]:
    """The service's environment as the test harness builds it, in production mode, with only ``secret_values``
    as its secrets (none inherited, none of the harness's test tokens)."""
    env = processes.service_env(
        service,
        mongo_url=mongo_url,
        mongo_db=mongo_db,
        broker=broker,
        s3_endpoint=s3_endpoint,
        extra={"GREENCHANNEL_ENV": "production"},
    )
    for name in declared(service):
        env.pop(name.upper(), None)
    env.update(secret_values)
    return env


def refusal_names(log: str) -> set[str]:
    """The variables named by the one refusal in ``log``."""
    assert log.count(REFUSAL) == 1, f"one error expected:\n{log}"
    refusal = next(line for line in log.splitlines() if REFUSAL in line)
    return {
        name
        for name in refusal.replace("(", " ").replace(",", " ").replace(";", " ").split()
        if name.isupper() and len(name) > 3
    }


async def database_names(mongo_url: str) -> set[str]:
    client: AsyncMongoClient[dict] = AsyncMongoClient(mongo_url)
    try:
        return set(await client.list_database_names())
    finally:
        await client.close()


async def wait_exit(replica: processes.ServiceProcess, timeout: float) -> float:
    """Seconds until ``replica`` exits (bounded by ``timeout``)."""
    began = time.monotonic()
    # A child's exit sets no event to await: it is polled.
    while replica.running and time.monotonic() - began < timeout:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return time.monotonic() - began


async def broker_has(amqp_url: str, exchange: str, queue: str) -> list[str]:
    """Which of ``exchange`` and ``queue`` exist on the broker."""
    found = []
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for kind, name in (("exchange", exchange), ("queue", queue)):
            channel = await connection.channel()
            try:
                if kind == "exchange":
                    await channel.declare_exchange(name, passive=True)
                else:
                    await channel.declare_queue(name, passive=True)
                found.append(name)
                await channel.close()
            except aio_pika.exceptions.ChannelClosed:
                pass
    return found


@pytest.mark.parametrize("service", SETTINGS)
async def test_a_service_with_unsafe_secrets_exits_at_once_naming_them(
    service, mongo_url, s3_endpoint, broker_namespace, run_id, workdir
):
    started = {}
    for case, make in CASES.items():
        namespace = broker_namespace.isolated(f"refused-{service}-{case}")
        values = make(service)
        env = production_env(
            service,
            values,
            mongo_url=mongo_url,
            mongo_db=f"t{run_id}_refused_{service}_{case}",
            broker=namespace.broker_settings(),
            s3_endpoint=s3_endpoint,
        )
        replica = processes.start_service(service, env, log_dir=workdir / "refused", name=f"{service}-{case}")
        started[case] = (replica, values, namespace, time.monotonic())
    try:
        exits = await asyncio.gather(*(wait_exit(replica, EXIT_WITHIN_S) for replica, *_ in started.values()))
    finally:
        for replica, *_ in started.values():
            replica.kill()

    databases = await database_names(mongo_url)
    for (case, (replica, values, namespace, _)), seconds in zip(started.items(), exits, strict=True):
        log = replica.log_path.read_text(errors="replace")
        assert replica.process.returncode not in (None, 0), f"{service} ({case}) did not exit: {replica.log_tail()}"
        assert seconds < EXIT_WITHIN_S
        assert refusal_names(log) == required(service), f"{service} ({case}):\n{log}"
        for value in values.values():
            if len(value) >= 8:
                assert value not in log, f"{service} ({case}) printed a secret"
        assert f"t{run_id}_refused_{service}_{case}" not in databases, f"{service} ({case}) touched its store"
        assert not await broker_has(namespace.amqp_url, namespace.exchange, f"{namespace.queue_prefix}.{service}")
        print(f"{service} ({case}): exited with {replica.process.returncode} after {seconds:.2f} s")


@pytest.mark.parametrize("service", SETTINGS)
async def test_a_service_with_secrets_of_its_own_starts_in_production(
    service, mongo_url, broker_namespace, run_id, workdir
):
    values = own_secrets(service)
    storage = None
    s3_endpoint = ""
    if service == "evidence":
        # Object storage with credentials of its own: the stand-in's usual ones are published.
        values.update(S3_ACCESS_KEY=f"evidence-{uuid.uuid4().hex[:8]}", S3_SECRET_KEY=secrets.token_urlsafe(32))
        storage = standins.start_nanio(
            workdir / f"nanio-production-{run_id}",
            log_dir=workdir,
            access_key=values["S3_ACCESS_KEY"],
            secret_key=values["S3_SECRET_KEY"],
        )
        s3_endpoint = f"127.0.0.1:{storage.port}"
    namespace = broker_namespace.isolated(f"production-{service}")
    env = production_env(
        service,
        values,
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_production_{service}",
        broker=namespace.settings_for(service),
        s3_endpoint=s3_endpoint,
    )
    if service == "evidence":
        env["S3_BUCKET"] = f"t-{run_id}-production"
    replica = processes.start_service(service, env, log_dir=workdir / "production")
    try:
        await replica.wait_ready(timeout=120)
        async with httpx.AsyncClient(base_url=replica.url, timeout=30) as client:
            probe = INTERNAL_PROBES[service]
            if probe.startswith("/internal/"):
                probe = f"{replica.internal_url}{probe}"
            own = await client.get(probe, headers={"Authorization": f"Bearer {values['INTERNAL_TOKEN']}"})
            assert own.status_code != 401, own.text
            for published in (processes.INTERNAL_TOKEN, "dev-internal-token", "dev-only-internal-token"):
                refused = await client.get(probe, headers={"Authorization": f"Bearer {published}"})
                assert refused.status_code == 401, refused.text
            if service == "intake":
                own_admin = {"login": "admin", "password": values["OPERATOR_BOOTSTRAP_PASSWORD"]}
                assert (await client.post("/v1/ops/auth/token", json=own_admin)).status_code == 200
                for password in ("development-only-admin-password", "dev-only-admin-password"):
                    signed_in = await client.post("/v1/ops/auth/token", json={"login": "admin", "password": password})
                    assert signed_in.status_code == 401, signed_in.text
    finally:
        replica.terminate()
        if storage is not None:
            storage.stop()
    log = replica.log_path.read_text(errors="replace")
    assert REFUSAL not in log
    for value in values.values():
        if len(value) >= 8:
            assert value not in log, f"{service} printed a secret"


@pytest.mark.parametrize("command", ["intake.rotate_keys", "intake.rebuild_statistics"])
async def test_the_maintenance_commands_refuse_unsafe_secrets_too(
    command, mongo_url, s3_endpoint, broker_namespace, run_id
):
    database = f"t{run_id}_refused_{command.replace('.', '_')}"
    env = production_env(
        "intake",
        published_secrets("intake"),
        mongo_url=mongo_url,
        mongo_db=database,
        broker=broker_namespace.broker_settings(),
        s3_endpoint=s3_endpoint,
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", command],
        env=env,
        capture_output=True,
        text=True,
        timeout=EXIT_WITHIN_S,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert refusal_names(output) == required("intake"), output
    assert "dev-only-jwt-secret-not-for-production-0123456789" not in output
    assert database not in await database_names(mongo_url)
