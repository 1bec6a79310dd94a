"""The whole platform in one event loop: the four services on real ports, wired to each other over
HTTP and RabbitMQ, with a real webhook receiver standing in for the companies."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import httpx
import pytest

from devstack import standins
from devstack.receiver import WebhookReceiver
from devstack.servers import serve

WEBHOOK_SECRET = "whsec_Z3JlZW5jaGFubmVsLWUyZS13ZWJob29rLXNlY3JldCE="
OPERATOR_TOKEN = "e2e-operator-token"


@dataclass
class Platform:
    intake: httpx.AsyncClient
    routing: httpx.AsyncClient
    notification: httpx.AsyncClient
    evidence: httpx.AsyncClient
    receiver: WebhookReceiver
    apps: dict


@pytest.fixture(scope="module")
async def platform(mongo_url, s3_endpoint, broker_namespace, run_id, request):
    from evidence.config import Settings as EvidenceSettings
    from evidence.main import create_app as evidence_app
    from intake.config import Settings as IntakeSettings
    from intake.main import create_app as intake_app
    from notification.config import Settings as NotificationSettings
    from notification.main import create_app as notification_app
    from routing.config import Settings as RoutingSettings
    from routing.main import create_app as routing_app

    module = request.module.__name__.rsplit(".", 1)[-1]
    common = {"mongo_url": mongo_url, "outbox_poll_interval_s": 0.2, "operator_token": OPERATOR_TOKEN}

    def db(name: str) -> str:
        return f"t{run_id}_{module}_{name}"

    receiver = WebhookReceiver(WEBHOOK_SECRET)
    async with contextlib.AsyncExitStack() as stack:
        receiver_url = await stack.enter_async_context(serve(receiver.app()))
        apps = {
            "evidence": evidence_app(EvidenceSettings(
                **common, mongo_db=db("evidence"), s3_endpoint=s3_endpoint, s3_access_key=standins.S3_ACCESS_KEY,
                s3_secret_key=standins.S3_SECRET_KEY, s3_bucket=f"e2e-{run_id}-{module}".replace("_", "-")[:60],
                **broker_namespace.settings_for("evidence"))),
            "routing": routing_app(RoutingSettings(**common, mongo_db=db("routing"), **broker_namespace.settings_for("routing"))),
            "notification": notification_app(NotificationSettings(
                **common, mongo_db=db("notification"), webhook_allow_private_targets=True,
                webhook_retry_schedule_s=[0, 0.2, 0.5, 1, 2], delivery_poll_interval_s=0.2,
                **broker_namespace.settings_for("notification"))),
        }
        urls = {name: await stack.enter_async_context(serve(app)) for name, app in apps.items()}
        apps["intake"] = intake_app(IntakeSettings(
            **common, mongo_db=db("intake"), evidence_url=urls["evidence"], routing_url=urls["routing"],
            **broker_namespace.settings_for("intake")))
        urls["intake"] = await stack.enter_async_context(serve(apps["intake"]))
        clients = {name: await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=20)) for name, url in urls.items()}

        companies = (await clients["routing"].get("/v1/companies", params={"limit": 100})).json()
        for company in companies["items"] if isinstance(companies, dict) else companies:
            response = await clients["notification"].put(
                f"/v1/companies/{company['id']}/webhook-endpoint",
                json={"url": f"{receiver_url}/webhooks/{company['id']}", "secret": WEBHOOK_SECRET},
                headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
            )
            assert response.status_code in (200, 201), response.text
        yield Platform(clients["intake"], clients["routing"], clients["notification"], clients["evidence"], receiver, apps)
