"""HTTP client of the evidence service: streams uploads through, starts and completes presigned uploads, reads
receipts (httpx)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from greenchannel.problems import Problem
from greenchannel.streams import gathered

#: How long the published limits are trusted before they are asked for again.
LIMITS_TTL_S = 60.0
#: Declared types that say nothing (evidence decides by content, under its largest limit).
_UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class EvidenceClient:
    def __init__(self, base_url: str, timeout_s: float, internal_token: str, operator_token: str) -> None:
        # Every call is intake's, with the internal token; an operator's re-verification alone takes theirs.
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            headers={"Authorization": f"Bearer {internal_token}"},
        )
        self._operator = {"Authorization": f"Bearer {operator_token}"}
        self._limits: tuple[float, dict[str, Any]] | None = None

    async def _published(self) -> dict[str, Any] | None:
        """The limits evidence publishes, asked for again after ``LIMITS_TTL_S``; ``None`` when not at hand."""
        now = time.monotonic()
        if self._limits is None or now - self._limits[0] > LIMITS_TTL_S:
            try:
                self._limits = now, await self.limits()
            except Problem:
                return None
        return self._limits[1]

    async def unattached_removed_after_s(self) -> float | None:
        """How long evidence may keep a file uploaded before filing and never attached; ``None`` when not at hand."""
        published = await self._published()
        return published.get("unattached_removed_after_s") if published is not None else None

    async def check_declared(self, media_type: str, length: int | None) -> int | None:
        """Refuse a file whose declared type evidence does not accept (415) or whose announced length is above
        its kind's limit (413), from the limits evidence publishes; answers that limit, ``None`` when the limits
        are not at hand.

        Evidence would refuse such a file before reading a byte of it, and an answer given while this
        client is still sending the body is lost with the connection; so the gateway answers it at once."""
        published = await self._published()
        if published is None:
            return None
        essence = media_type.split(";", 1)[0].strip().lower()
        essence = published["aliases"].get(essence, essence)
        if essence in _UNDECLARED:
            limit = max(published["max_bytes"].values())
        else:
            limit = next(
                (accepted["max_bytes"] for accepted in published["types"] if accepted["media_type"] == essence), None
            )
            if limit is None:
                raise Problem(415, "unsupported_media_type", f"Files of type {essence!r} are not accepted as evidence.")
        if length is not None and length > limit:
            raise Problem(
                413,
                "evidence_too_large",
                f"The file is announced as {length} bytes; the limit for its type is {limit} bytes.",
                limit_bytes=limit,
            )
        return limit

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
        return await self._call("POST", path, content=gathered(chunks), headers=headers)

    async def receipt(self, evidence_id: str) -> dict[str, Any] | None:
        return await self._get_or_none(f"/v1/evidence/{evidence_id}")

    async def limits(self) -> dict[str, Any]:
        """The accepted types and the size limit of each kind, as the evidence service enforces them."""
        try:
            response = await self._client.get("/v1/limits")
        except httpx.HTTPError:
            raise Problem(
                503, "evidence_unavailable", "The evidence store is not reachable; try again shortly."
            ) from None
        return self._answer(response)

    async def link(self, evidence_id: str, *, for_company: bool = False) -> dict[str, Any]:
        """A short-lived download link; for a company, evidence refuses a held file (409 ``evidence_held``)."""
        params = {"audience": "company"} if for_company else None
        return await self._call("POST", f"/v1/evidence/{evidence_id}/link", params=params)

    async def held_of(self, number: str) -> set[str]:
        """The ids of the complaint's files held from the company."""
        listed = await self._call("GET", f"/v1/complaints/{number}/evidence")
        return {receipt["evidence_id"] for receipt in listed["items"] if receipt.get("held")}

    async def release(self, evidence_id: str, by: str, note: str) -> dict[str, Any]:
        """An operator's release of a held file: ``{"receipt", "released_now"}``."""
        return await self._call(
            "POST", f"/v1/evidence/{evidence_id}/release", json={"by": by, "note": note}, headers=self._operator
        )

    async def held(self, limit: int, after: str | None) -> dict[str, Any]:
        """The held files attached to complaints, oldest first: ``{"items", "next_after"}``."""
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        return await self._call("GET", "/v1/held-evidence", params=params, headers=self._operator)

    async def start_upload(self, declaration: dict[str, Any]) -> dict[str, Any]:
        """A presigned PUT into quarantine for the declared file (its size, type and SHA-256 checked later)."""
        return await self._call("POST", "/v1/uploads", json=declaration)

    async def upload_parts(self, upload_id: str) -> dict[str, Any]:
        """What storage holds of a multipart upload, and a presigned PUT for each part it does not."""
        return await self._call("GET", f"/v1/uploads/{upload_id}/parts")

    async def upload_state(self, upload_id: str) -> dict[str, Any] | None:
        return await self._get_or_none(f"/v1/uploads/{upload_id}")

    async def complete_upload(self, upload_id: str) -> tuple[dict[str, Any], bool]:
        """Verify and store a presigned upload: its receipt, and whether it was stored by this call."""
        response = await self._send("POST", f"/v1/uploads/{upload_id}/complete")
        return self._answer(response), response.status_code == 201

    async def verify(self, evidence_id: str) -> dict[str, Any] | None:
        """An operator's re-verification: evidence reads the stored object back and compares it with the receipt."""
        response = await self._send("POST", f"/v1/evidence/{evidence_id}/verify", headers=self._operator)
        return None if response.status_code == 404 else self._answer(response)

    async def _get_or_none(self, path: str) -> dict[str, Any] | None:
        response = await self._send("GET", path)
        return None if response.status_code == 404 else self._answer(response)

    async def _call(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        return self._answer(await self._send(method, path, **options))

    async def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            return await self._client.request(method, path, **options)
        except httpx.HTTPError:
            raise Problem(
                503, "evidence_unavailable", "The evidence store is not reachable; try again shortly."
            ) from None

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
                **{
                    key: value
                    for key, value in body.items()
                    if key in ("errors", "limit_bytes", "limit_files", "upload_id", "evidence_id", "missing_parts")
                },
            )
        raise Problem(503, "evidence_unavailable", "The evidence store could not take the file; try again shortly.")
