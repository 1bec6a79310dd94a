"""POSTing one signed webhook with httpx, to the address the SSRF guard checked.

Signing follows the Standard Webhooks spec with its reference library: the signature covers
``webhook-id.webhook-timestamp.body`` and is computed anew for every attempt (fresh timestamp),
while the ``webhook-id`` stays the same across attempts. During a secret rotation's overlap the
header carries one signature per valid secret, space-separated ("v1,<sig1> v1,<sig2>"), and a
receiver holding either secret accepts it.
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md

The connection goes to the resolved IP address, with the original ``Host`` header and TLS server
name, so DNS cannot answer differently between the check and the connection. Keep-alive is off:
a pooled connection is keyed by address, and reusing one opened (and TLS-verified) for another
company's host that shares the address would send this company's webhook over it.
Redirects are not followed (a redirect could point anywhere, the guard would not see it) and the
response body is never read, so a hostile endpoint cannot make the worker hold a large answer.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from notification.adapters.resolver import ResolvedTarget

USER_AGENT = "greenchannel-notification/0.1 (+Standard Webhooks)"


def make_http_client(timeout_s: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def encode_body(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def signed_headers(secrets: Sequence[str], webhook_id: str, body: str, now: datetime) -> dict[str, str]:
    if not secrets:
        raise ValueError("a webhook is signed with at least one secret")
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(math.floor(now.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(webhook_id, now, body) for secret in secrets),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str | None
    duration_ms: int
    refused: str | None = None
    """Why no request was made: ``not_https``, ``forbidden`` (the SSRF guard) or ``unresolvable``; ``None`` when one
    was."""


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, timeout_s: float) -> None:
        self.client = client
        # httpx's timeout bounds each phase (connect, each read); this bounds the whole attempt,
        # so a server that answers byte by byte cannot outlast the worker's lease.
        self.timeout_s = timeout_s

    async def send(
        self, resolved: ResolvedTarget, secrets: Sequence[str], webhook_id: str, payload: dict[str, Any], now: datetime
    ) -> SendResult:
        target = resolved.target
        url = httpx.URL(target.url)
        body = encode_body(payload)
        headers = signed_headers(secrets, webhook_id, body, now)
        headers["host"] = url.netloc.decode("ascii")
        request = self.client.build_request(
            "POST",
            url.copy_with(host=str(resolved.address)),
            content=body.encode("utf-8"),
            headers=headers,
            extensions={"sni_hostname": target.host},
        )
        started = time.perf_counter()
        try:
            status_code = await asyncio.wait_for(self._status_of(request), timeout=self.timeout_s)
        except (TimeoutError, httpx.HTTPError) as error:
            return SendResult(None, _describe(error), _elapsed_ms(started))
        return SendResult(status_code, None, _elapsed_ms(started))

    async def _status_of(self, request: httpx.Request) -> int:
        response = await self.client.send(request, stream=True)
        await response.aclose()
        return response.status_code


def _describe(error: BaseException) -> str:
    if isinstance(error, asyncio.TimeoutError):
        return "timeout: no answer in time"
    message = str(error)[:300]
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
