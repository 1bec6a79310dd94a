"""Oversized requests are refused before a route reads them, with a problem document like every other 4xx.

Headers over ``max_header_bytes`` answer 431. A body over ``max_body_bytes`` answers 413: at once from
its Content-Length, or as soon as that many bytes arrived. Routes that stream files (``streamed``:
regular expressions over "METHOD /path") keep their own, larger limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenchannel.problems import problem_response


class RequestLimits:
    def __init__(
        self, app: ASGIApp, *, max_header_bytes: int, max_body_bytes: int | None, streamed: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self.streamed = [re.compile(pattern) for pattern in streamed]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(name) + len(value) for name, value in scope["headers"]) > self.max_header_bytes:
            refusal = problem_response(
                431, "request_headers_too_large", f"The request headers are larger than {self.max_header_bytes} bytes."
            )
            await refusal(scope, receive, send)
            return
        limit = self.max_body_bytes
        if limit is None or any(pattern.fullmatch(f"{scope['method']} {scope['path']}") for pattern in self.streamed):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            refusal = problem_response(413, "payload_too_large", f"The request body is larger than {limit} bytes.")
            await refusal(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # raised where the route reads its body; the problem handlers answer it
                    raise HTTPException(413, f"The request body is larger than {limit} bytes.")
            return message

        await self.app(scope, receive_within_limit, send)
