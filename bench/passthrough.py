"""The floor of a two-hop upload gateway on this machine: two bare ASGI hops that pass a body on and do nothing else.

The evidence bench sends the same files through two of these, served like the services (granian, one
worker) and passing the body on like them (httpx, 1 MiB writes from ``greenchannel.streams.gathered``),
the second one hashing it (SHA-256, as evidence does for the receipt) on its way to the presigned
PUT into nanio. No authentication, no limits, no store, no record, no event: whatever the real
gateway spends beyond this is the services' own cost; what this costs is that of two Python hops.

A request names where its body goes in ``X-Forward-To``; ``X-Then-Forward-To`` is handed on as the
next hop's ``X-Forward-To`` (and asks that hop to hash). The answer is the last hop's JSON,
``{"sha256": ...}``, or 502 with what went wrong.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import httpx

from greenchannel.streams import gathered


def create_app():
    """The ASGI app (granian's ``--factory``); its HTTP client lives as long as the app."""
    clients: list[httpx.AsyncClient] = []

    async def app(scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    clients.append(httpx.AsyncClient(timeout=httpx.Timeout(600, connect=10)))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await clients[0].aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        headers = dict(scope["headers"])
        target = headers.get(b"x-forward-to")
        if target is None:  # a readiness probe
            await _answer(send, 200, {})
            return
        then = headers.get(b"x-then-forward-to")
        digest = hashlib.sha256() if b"x-hash" in headers else None
        forward = {"Content-Length": headers[b"content-length"].decode()}
        if then is not None:
            forward.update({"X-Forward-To": then.decode(), "X-Hash": "1"})
        response = await clients[0].put(target.decode(), content=gathered(_body(receive, digest)), headers=forward)
        if response.status_code != 200:
            await _answer(send, 502, {"status": response.status_code, "detail": response.text[:300]})
        elif digest is not None:
            await _answer(send, 200, {"sha256": digest.hexdigest()})
        else:
            await _answer(send, 200, response.json())

    return app


async def _body(receive, digest) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if chunk := message.get("body", b""):
            if digest is not None:
                digest.update(chunk)
            yield chunk
        if not message.get("more_body", False):
            return


async def _answer(send, status: int, document: dict) -> None:
    body = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
