"""The four services in one event loop, on real ports, wired over HTTP and RabbitMQ, with a webhook
receiver registered as every directory company's endpoint. Used by the end-to-end tests and the
benchmarks, which need the whole platform but want to read its state directly.

Each service listens twice, as in production: its public port (:attr:`Platform.intake` and the other clients)
and its internal listener (``/internal/*``, ``/metrics``; :attr:`Platform.internal`), each on a free port."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx

from devstack import standins
from devstack.receiver import WebhookReceiver
from devstack.servers import serve
from devstack.standins import free_port

WEBHOOK_SECRET = "whsec_Z3JlZW5jaGFubmVsLWUyZS13ZWJob29rLXNlY3JldCE="
OPERATOR_TOKEN = "test-operator-token"
ADMIN_TOKEN = "test-admin-token"  # notification's: setting webhook endpoints and rotating their secrets
INTERNAL_TOKEN = "test-internal-token"
# What the harness changes in routing's defaults (see ``running_platform``).
ROUTING_TEST_SETTINGS: dict[str, Any] = {"duplicate_window_days": 0}
# With `fast`: short polls and retries, so a test waits for the platform in tenths of a second.
FAST_NOTIFICATION: dict[str, Any] = {"webhook_retry_schedule_s": [0, 0.2, 0.5, 1, 2], "delivery_poll_interval_s": 0.2}
FAST_INTAKE: dict[str, Any] = {"statistics_fold_interval_s": 0.2}


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[list[EmailMessage], int]]:
    """A real SMTP server (aiosmtpd) on a free port that keeps every message it accepts."""
    from aiosmtpd.controller import Controller

    mailbox: list[EmailMessage] = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            mailbox.append(message_from_bytes(envelope.content, _class=EmailMessage, policy=policy.default))
            return "250 OK"

    controller = Controller(Keep(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


@dataclass
class Platform:
    intake: httpx.AsyncClient
    routing: httpx.AsyncClient
    notification: httpx.AsyncClient
    evidence: httpx.AsyncClient
    receiver: WebhookReceiver
    apps: dict[str, Any]
    mailbox: list[EmailMessage]
    receiver_url: str
    # Clients of each service's internal listener, by service name.
    internal: dict[str, httpx.AsyncClient]

    def internal_url(self, service: str) -> str:
        return str(self.internal[service].base_url).rstrip("/")


@contextlib.asynccontextmanager
async def running_platform(
    *,
    mongo_url: str,
    s3_endpoint: str,
    broker: dict[str, str],
    db_prefix: str,
    bucket: str,
    fast: bool = True,
    log_level: str = "WARNING",
    intake_settings: dict[str, Any] | None = None,
    routing_settings: dict[str, Any] | None = None,
    notification_settings: dict[str, Any] | None = None,
    register_receiver: bool = True,
) -> AsyncIterator[Platform]:
    """``broker`` holds amqp_url, event_exchange and queue_prefix; each service gets ``<db_prefix>_<service>``.

    One test identity files every complaint of a test, often the same example text again and again:
    routing's duplicate check would refuse all but the first, so it is off here (``routing_settings``
    turns it back on, e.g. ``{"duplicate_window_days": 30}``, for a test of duplicates).

    ``register_receiver=False`` leaves the companies' webhook endpoints as the store has them (a platform started
    again on restored stores, whose endpoints name the receivers of the test's own).
    """
    from evidence.config import Settings as EvidenceSettings
    from evidence.main import create_app as evidence_app
    from intake.config import Settings as IntakeSettings
    from intake.main import create_app as intake_app
    from notification.config import Settings as NotificationSettings
    from notification.main import create_app as notification_app
    from routing.config import Settings as RoutingSettings
    from routing.main import create_app as routing_app

    # The test tokens and the services' default keys are published: development mode.
    common: dict[str, Any] = {
        "mongo_url": mongo_url,
        "internal_host": "127.0.0.1",
        "operator_token": OPERATOR_TOKEN,
        "admin_token": ADMIN_TOKEN,
        "internal_token": INTERNAL_TOKEN,
        "log_level": log_level,
        "greenchannel_env": "development",
        **broker,
    }
    if fast:
        common["outbox_poll_interval_s"] = 0.2
        common["metrics_refresh_interval_s"] = 0.5
    receiver = WebhookReceiver(WEBHOOK_SECRET)
    async with contextlib.AsyncExitStack() as stack:
        receiver_url = await stack.enter_async_context(serve(receiver.app()))
        mailbox, smtp_port = stack.enter_context(smtp_server())
        intake_port = free_port()  # notification asks intake for contact details, intake calls the others
        internal_ports = {name: free_port() for name in ("intake", "evidence", "routing", "notification")}
        apps: dict[str, Any] = {
            "evidence": evidence_app(
                EvidenceSettings(
                    **common,
                    internal_port=internal_ports["evidence"],
                    mongo_db=f"{db_prefix}_evidence",
                    s3_endpoint=s3_endpoint,
                    s3_access_key=standins.S3_ACCESS_KEY,
                    s3_secret_key=standins.S3_SECRET_KEY,
                    s3_bucket=bucket,
                )
            ),
            "routing": routing_app(
                RoutingSettings(
                    **common,
                    internal_port=internal_ports["routing"],
                    mongo_db=f"{db_prefix}_routing",
                    **{**ROUTING_TEST_SETTINGS, **(routing_settings or {})},
                )
            ),
            "notification": notification_app(
                NotificationSettings(
                    **common,
                    internal_port=internal_ports["notification"],
                    mongo_db=f"{db_prefix}_notification",
                    webhook_allow_private_targets=True,
                    intake_url=f"http://127.0.0.1:{internal_ports['intake']}",
                    smtp_host="127.0.0.1",
                    smtp_port=smtp_port,
                    **{**(FAST_NOTIFICATION if fast else {}), **(notification_settings or {})},
                )
            ),
        }
        urls = {name: await stack.enter_async_context(serve(app)) for name, app in apps.items()}
        apps["intake"] = intake_app(
            IntakeSettings(
                **common,
                internal_port=internal_ports["intake"],
                mongo_db=f"{db_prefix}_intake",
                evidence_url=urls["evidence"],
                routing_url=urls["routing"],
                notification_url=urls["notification"],
                **{**(FAST_INTAKE if fast else {}), **(intake_settings or {})},
            )
        )
        urls["intake"] = await stack.enter_async_context(serve(apps["intake"], port=intake_port))
        clients = {
            name: await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
            for name, url in urls.items()
        }
        internal = {
            name: await stack.enter_async_context(httpx.AsyncClient(base_url=app.state.internal_url, timeout=30))
            for name, app in apps.items()
        }
        if register_receiver:
            await register_endpoints(clients["routing"], clients["notification"], receiver_url)
        yield Platform(
            clients["intake"],
            clients["routing"],
            clients["notification"],
            clients["evidence"],
            receiver,
            apps,
            mailbox,
            receiver_url,
            internal,
        )


async def register_endpoints(routing: httpx.AsyncClient, notification: httpx.AsyncClient, receiver_url: str) -> None:
    listing = (await routing.get("/v1/companies", params={"limit": 100})).json()
    for company in listing["items"] if isinstance(listing, dict) else listing:
        response = await notification.put(
            f"/v1/companies/{company['id']}/webhook-endpoint",
            json={"url": f"{receiver_url}/webhooks/{company['id']}", "secret": WEBHOOK_SECRET},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        response.raise_for_status()
