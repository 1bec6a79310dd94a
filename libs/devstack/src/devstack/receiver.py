"""A webhook receiver standing in for a company's endpoint: verifies Standard Webhooks signatures and keeps what it got.

Used by the dev runner (it logs each delivery) and by tests (which read ``received`` and can make
it fail on purpose with ``respond_with``).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

log = logging.getLogger("devstack.receiver")


@dataclass
class Delivery:
    webhook_id: str
    headers: dict[str, str]
    raw: bytes
    body: dict[str, Any]
    verified: bool
    received_at: float = field(default_factory=time.monotonic)


@dataclass
class WebhookReceiver:
    secret: str
    received: list[Delivery] = field(default_factory=list)
    respond_with: int = 204

    def app(self) -> FastAPI:
        app = FastAPI(title="Company webhook receiver (development)")

        @app.post("/webhooks/{company_id}")
        async def receive(company_id: str, request: Request) -> Response:
            raw = await request.body()
            headers = {key.lower(): value for key, value in request.headers.items()}
            try:
                Webhook(self.secret).verify(raw, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
            body = json.loads(raw) if raw else {}
            self.received.append(Delivery(headers.get("webhook-id", ""), headers, raw, body, verified))
            log.info(
                "webhook for %s: %s %s (signature %s)",
                company_id, body.get("type"), (body.get("data") or {}).get("number"), "valid" if verified else "INVALID",
            )
            if not verified:
                return Response(status_code=401)
            return Response(status_code=self.respond_with)

        return app
