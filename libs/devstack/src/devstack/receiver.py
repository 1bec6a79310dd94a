"""A webhook receiver standing in for a company's endpoint: verifies Standard Webhooks signatures and keeps what it got.

Used by the dev runner (it logs each delivery) and by tests (which read ``received`` and can make
it fail on purpose: ``respond_with`` another status, or ``hang_s`` to hold each request that long,
past the sender's timeout). Each delivery records what the receiver answered, so a test tells the
attempts a company accepted from those it failed.
"""

from __future__ import annotations

import asyncio
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
    # The status the receiver answered; None while it holds the request (``hang_s``), and for good when
    # the sender gave up waiting and went away.
    answered: int | None = None

    @property
    def accepted(self) -> bool:
        """The company took this attempt: signature valid and a 2xx answer."""
        return self.verified and self.answered is not None and 200 <= self.answered < 300


@dataclass
class WebhookReceiver:
    secret: str
    received: list[Delivery] = field(default_factory=list)
    respond_with: int = 204
    hang_s: float = 0.0

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
            delivery = Delivery(headers.get("webhook-id", ""), headers, raw, body, verified)
            self.received.append(delivery)
            log.info(
                "webhook for %s: %s %s (signature %s)",
                company_id,
                body.get("type"),
                (body.get("data") or {}).get("number"),
                "valid" if verified else "INVALID",
            )
            if self.hang_s and verified:
                await asyncio.sleep(self.hang_s)
                if await request.is_disconnected():
                    return Response(status_code=499)  # nobody reads it; the attempt stays unanswered
            delivery.answered = self.respond_with if verified else 401
            return Response(status_code=delivery.answered)

        return app
