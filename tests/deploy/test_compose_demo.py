"""The compose demo's two programs, run for real against the platform of this module: the webhook receiver
(docker-compose.yml, ``webhook-receiver``) as a process of its own, and the one-shot that sets it as every
company's endpoint (``demo-endpoints``) against the running routing and notification. Then a complaint goes
the way the demo promises: filed, accepted, delivered to the receiver, forwarded.

Only the addresses differ from compose: the services' host names and the receiver's port are the ones this
module's platform and a free port give.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from devstack.filing import complaint_form
from devstack.platform import ADMIN_TOKEN
from devstack.standins import free_port
from devstack.waiting import until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICES = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
RECEIVER_ADDRESS = '("0.0.0.0", 8080)'


def program(service: str) -> str:
    return SERVICES[service]["command"][0]


class Receiver:
    """The receiver's program on a free loopback port."""

    def __init__(self) -> None:
        port = free_port()
        code = program("webhook-receiver")
        assert RECEIVER_ADDRESS in code, "the receiver listens where compose's healthcheck and RECEIVER_URL expect it"
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code.replace(RECEIVER_ADDRESS, f'("127.0.0.1", {port})')],
            stdout=subprocess.PIPE,
            text=True,
        )

    async def answers(self) -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(self.url + "/")).status_code == 200  # compose's healthcheck
        except httpx.TransportError:
            return False

    def stop(self) -> list[str]:
        """Stop it; what it printed, one line per delivery."""
        if self.process.returncode is None:
            self.process.terminate()
        return self.process.communicate(timeout=10)[0].splitlines()


@pytest.fixture
async def receiver():
    running = Receiver()
    await until(running.answers, timeout=20, what="the demo receiver")
    yield running
    if running.process.returncode is None:
        running.stop()


async def test_the_receiver_takes_every_delivery_and_prints_it(receiver):
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            receiver.url + "/webhooks/c1", json={"type": "complaint.forwarded"}, headers={"webhook-id": "msg_demo_1"}
        )
    assert answer.status_code == 204
    [line] = receiver.stop()
    assert line.startswith("/webhooks/c1 msg_demo_1 ") and "complaint.forwarded" in line


async def test_the_demo_sets_the_receiver_for_every_company_and_a_complaint_is_forwarded(platform, receiver):
    seeding = (
        program("demo-endpoints")
        .replace("http://routing:8002", str(platform.routing.base_url).rstrip("/"))
        .replace("http://notification:8003", str(platform.notification.base_url).rstrip("/"))
    )
    environment = {**os.environ, "ADMIN_TOKEN": ADMIN_TOKEN, "RECEIVER_URL": receiver.url}
    seeded = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", seeding], env=environment, capture_output=True, text=True, timeout=60
    )
    assert seeded.returncode == 0, seeded.stderr

    companies = (await platform.routing.get("/v1/companies", params={"limit": 100})).json()["items"]
    assert companies and len(seeded.stdout.splitlines()) == len(companies)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for company in companies:
        endpoint = await platform.notification.get(f"/v1/companies/{company['id']}/webhook-endpoint", headers=admin)
        assert endpoint.json()["url"] == f"{receiver.url}/webhooks/{company['id']}", company["id"]

    company = companies[0]
    filed = await platform.intake.post(
        "/v1/complaints",
        json=complaint_form("demo", 1, company["name"]),
        headers={"Idempotency-Key": "compose-demo-1"},
    )
    assert filed.status_code == 201, filed.text
    number, code = filed.json()["number"], filed.json()["access_code"]

    async def forwarded():
        case = (await platform.intake.get(f"/v1/complaints/{number}", headers={"X-Access-Code": code})).json()
        return case if case["status"] == "forwarded" else None

    case = await until(forwarded, timeout=60, what=f"{number} forwarded to the demo receiver")
    assert case["company"]["id"] == company["id"]
    # The receiver took the delivery, at the company's path.
    deliveries = [line for line in receiver.stop() if line.startswith(f"/webhooks/{company['id']} ")]
    assert any(number in line for line in deliveries), deliveries
