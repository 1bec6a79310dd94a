"""HTTP client of the evidence service: streams uploads through and reads receipts (httpx)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
from greenchannel.problems import Problem


class EvidenceClient:
    def __init__(self, base_url: str, timeout_s: float) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(timeout_s, connect=5.0))

    async def close(self) -> None:
        await self._client.aclose()

    async def upload(
        self, path: str, chunks: AsyncIterator[bytes], media_type: str, filename: str | None, length: int | None
    ) -> dict[str, Any]:
        """Stream ``chunks`` to evidence; its 4xx answers (type, size) are passed on to the client unchanged."""
        headers = {"Content-Type": media_type}
        if filename:
            headers["X-Filename"] = quote(filename, safe="")
        if length is not None:
            headers["Content-Length"] = str(length)
        try:
            response = await self._client.post(path, content=chunks, headers=headers)
        except httpx.HTTPError:
            raise Problem(503, "evidence_unavailable", "The evidence store is not reachable; try again shortly.") from None
        return self._answer(response)

    async def receipt(self, evidence_id: str) -> dict[str, Any] | None:
        try:
            response = await self._client.get(f"/v1/evidence/{evidence_id}")
        except httpx.HTTPError:
            raise Problem(503, "evidence_unavailable", "The evidence store is not reachable; try again shortly.") from None
        if response.status_code == 404:
            return None
        return self._answer(response)

    async def limits(self) -> dict[str, Any]:
        """The accepted types and the size limit of each kind, as the evidence service enforces them."""
        try:
            response = await self._client.get("/v1/limits")
        except httpx.HTTPError:
            raise Problem(503, "evidence_unavailable", "The evidence store is not reachable; try again shortly.") from None
        return self._answer(response)

    async def link(self, evidence_id: str) -> dict[str, Any]:
        try:
            response = await self._client.post(f"/v1/evidence/{evidence_id}/link")
        except httpx.HTTPError:
            raise Problem(503, "evidence_unavailable", "The evidence store is not reachable; try again shortly.") from None
        return self._answer(response)

    @staticmethod
    def _answer(response: httpx.Response) -> dict[str, Any]:
        if response.is_success:
            return response.json()
        if 400 <= response.status_code < 500:
            body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
            raise Problem(
                response.status_code,
                body.get("code", "evidence_refused"),
                body.get("detail", "The evidence file was refused."),
                **{key: value for key, value in body.items() if key in ("errors", "limit_bytes", "limit_files", "upload_id")},
            )
        raise Problem(503, "evidence_unavailable", "The evidence store could not take the file; try again shortly.")
