"""intake's two listeners: the public port serves the public API and nothing internal; the internal listener serves
``/internal/*`` and ``/metrics``, and a scrape reads only what the periodic gauge refresh left (no store command).
The production server (granian) runs both and stops both on SIGTERM; a taken internal port stops the start."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest
from pymongo import monitoring

from devstack.processes import INTERNAL_TOKEN, service_env, start_service
from devstack.servers import serve
from intake.config import Settings
from intake.main import create_app

pytestmark = pytest.mark.integration

INTERNAL = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
FORM = {
    "complainant": {
        "name": "王五",
        "id_number": "11010519491231002X",
        "phone": "13812345678",
        "email": "wang@example.cn",
    },
    "company": {"name": "迅联"},
    "category": "auto_renewal",
    "title": "会员自动续费未提醒",
    "description": "会员到期前未收到任何提醒即被扣费三十元，客服拒绝退款。",
    "occurred_on": "2026-10-01",
    "desired_outcome": "退还扣费并关闭自动续费",
}
SCRAPES = 20


class RequestCommands(monitoring.CommandListener):
    """Store commands sent to one database from anywhere but the runtime's own background tasks (named
    ``intake:<job>``): what request handlers, a scrape among them, ask the store."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.active = True  # pymongo keeps a registered listener for the life of the process
        self.commands: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.active or event.database_name != self.database:
            return
        task = asyncio.current_task() if _in_loop() else None
        if task is None or not task.get_name().startswith("intake:"):
            self.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture(scope="module")
async def intake(mongo_url, broker_namespace, run_id):
    database = f"t{run_id}_intake_listeners"
    listener = RequestCommands(database)
    monitoring.register(listener)  # before the app's client exists: clients take the listeners registered then
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=database,
        outbox_poll_interval_s=0.1,
        metrics_refresh_interval_s=0.2,
        evidence_url="http://127.0.0.1:9",
        internal_token=INTERNAL_TOKEN,
        **broker_namespace.settings_for("intake"),
    )
    app = create_app(settings)
    try:
        async with (
            serve(app) as base_url,
            httpx.AsyncClient(base_url=base_url, timeout=10) as public,
            httpx.AsyncClient(base_url=app.state.internal_url, timeout=10) as internal,
        ):
            yield public, internal, listener
    finally:
        listener.active = False


def sample(text: str, prefix: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return None


async def test_the_public_port_has_no_internal_route_and_the_internal_listener_has_them(intake):
    public, internal, _ = intake
    filed = (await public.post("/v1/complaints", json=FORM)).json()
    contact = f"/internal/v1/complaints/{filed['number']}/contact"
    for path in (contact, "/metrics", "/internal/v1/complaints", "/internal/"):
        for headers in ({}, INTERNAL, {**INTERNAL, "X-Forwarded-For": "10.0.0.7", "Host": "intake-internal:8100"}):
            answer = await public.get(path, headers=headers)
            assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), (path, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await internal.get(contact)).status_code == 401
    assert (await internal.get(contact, headers=INTERNAL)).json() == {
        "email": "wang@example.cn",
        "phone": "+8613812345678",
    }
    metrics = await internal.get("/metrics")
    assert metrics.status_code == 200 and 'greenchannel_outbox_backlog{service="intake"}' in metrics.text
    # The public API is not on the internal listener.
    assert (await internal.post("/v1/complaints", json=FORM)).status_code == 404
    assert (await internal.get("/readyz")).status_code == 200


async def test_a_scrape_issues_no_store_command_and_the_gauges_follow_the_store(intake):
    public, internal, listener = intake
    before = sample((await internal.get("/metrics")).text, 'greenchannel_cases{state="submitted"}') or 0
    filed = [(await public.post("/v1/complaints", json=FORM)).json() for _ in range(3)]

    # The counter sees what a request asks the store: a complainant's read of the case is counted.
    listener.commands.clear()
    await public.get(f"/v1/complaints/{filed[0]['number']}", headers={"X-Access-Code": filed[0]["access_code"]})
    assert listener.commands, "the command listener saw nothing: it could not see a scrape's query either"

    listener.commands.clear()
    scrapes = await asyncio.gather(*(internal.get("/metrics") for _ in range(SCRAPES)))
    assert [scrape.status_code for scrape in scrapes] == [200] * SCRAPES
    assert listener.commands == [], f"{SCRAPES} scrapes sent store commands: {listener.commands}"

    # The figures still come from the store: the periodic refresh (0.2 s here) brings the three new cases in.
    async def counted() -> Any:
        return (
            sample((await internal.get("/metrics")).text, 'greenchannel_cases{state="submitted"}') or 0
        ) >= before + 3

    deadline = asyncio.get_running_loop().time() + 10
    while not await counted():
        assert asyncio.get_running_loop().time() < deadline, "the cases gauge never followed the store"
        await asyncio.sleep(0.05)
    assert listener.commands == [], "only the runtime's refresh job may read the store for the gauges"


# --- the production server -------------------------------------------------------------------------


def _env(mongo_url: str, broker_namespace, run_id: str, name: str) -> dict[str, str]:
    return service_env(
        "intake",
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_{name}",
        broker=broker_namespace.settings_for("intake"),
        urls={"evidence": "http://127.0.0.1:9", "routing": "http://127.0.0.1:9", "notification": "http://127.0.0.1:9"},
    )


def refused(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) != 0


async def test_the_production_server_serves_both_listeners_and_sigterm_stops_both(
    mongo_url, broker_namespace, run_id, workdir
):
    process = start_service("intake", _env(mongo_url, broker_namespace, run_id, "served"), log_dir=workdir / "served")
    try:
        await process.wait_ready()
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(f"{process.url}/metrics")).status_code == 404
            assert (
                await client.get(f"{process.url}/internal/v1/complaints/GC-X/contact", headers=INTERNAL)
            ).status_code == 404
            metrics = await client.get(f"{process.internal_url}/metrics")
            assert metrics.status_code == 200 and 'greenchannel_outbox_backlog{service="intake"}' in metrics.text
            unknown = await client.get(f"{process.internal_url}/internal/v1/complaints/GC-X/contact", headers=INTERNAL)
            assert (unknown.status_code, unknown.json()["code"]) == (404, "complaint_not_found")
    finally:
        code = await process.aterminate()
    assert code == 0, process.log_tail()  # granian ran the shutdown, which stopped the internal listener too
    assert refused(process.port) and refused(process.internal_port)
    log = process.log_tail(400)
    assert "uvicorn" not in log and "internal listener" not in log, log  # it stopped without a complaint


async def test_a_taken_internal_port_stops_the_start(mongo_url, broker_namespace, run_id, workdir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start_service(
            "intake", _env(mongo_url, broker_namespace, run_id, "taken"), log_dir=workdir / "taken", internal_port=port
        )
        try:
            with pytest.raises(RuntimeError, match="exited"):
                await process.wait_ready(timeout=60)
        finally:
            await process.aterminate()
    assert process.process.returncode != 0
