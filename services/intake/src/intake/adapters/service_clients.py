"""HTTP clients of routing (the directory) and notification (complainant messages), with httpx."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from greenchannel.problems import Problem


class RoutingClient:
    def __init__(self, base_url: str, internal_token: str, operator_token: str) -> None:
        # The directory reads are public data and need no token; the internal one goes with them anyway, as
        # with every call between services, so a read that later needs it does not break.
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(10.0, connect=3.0),
            headers={"Authorization": f"Bearer {internal_token}"},
        )
        self._operator = {"Authorization": f"Bearer {operator_token}"}

    async def close(self) -> None:
        await self._client.aclose()

    async def company(self, company_id: str) -> dict[str, Any] | None:
        return await self._read(f"/v1/companies/{quote(company_id, safe='')}")

    async def search_companies(self, text: str, limit: int) -> list[dict[str, Any]]:
        return (await self._read("/v1/companies", params={"q": text, "limit": limit}) or {}).get("items", [])

    async def categories(self) -> list[dict[str, Any]]:
        return (await self._read("/v1/categories") or {}).get("items", [])

    async def working_days(self, start: str, end: str) -> list[str] | None:
        """The working days (ISO dates, China) from ``start`` to ``end``, both included, on routing's calendar; None
        while routing cannot answer (what only counts days goes on without them)."""
        try:
            answer = await self._read("/v1/calendar/working-days", params={"start": start, "end": end})
        except Problem:
            return None
        return list((answer or {}).get("working_days", []))

    async def _read(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """A directory read; None for 404, 503 problem when routing cannot answer."""
        try:
            response = await self._client.get(path, params=params)
        except httpx.HTTPError:
            raise Problem(
                503, "directory_unavailable", "The company directory is not reachable; try again shortly."
            ) from None
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise Problem(503, "directory_unavailable", "The company directory could not answer; try again shortly.")
        return response.json()

    async def save_company(self, company_id: str, fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Add or correct a directory entry; routing's own 4xx (validation) is passed on."""
        try:
            response = await self._client.put(
                f"/v1/companies/{quote(company_id, safe='')}", json=fields, headers=self._operator
            )
        except httpx.HTTPError:
            raise Problem(
                503, "directory_unavailable", "The company directory is not reachable; try again shortly."
            ) from None
        body = response.json()
        if 400 <= response.status_code < 500 and response.status_code != 401:
            raise Problem(
                response.status_code,
                body.get("code", "directory_refused"),
                body.get("detail", ""),
                **{key: body[key] for key in ("errors",) if key in body},
            )
        if not response.is_success:
            raise Problem(503, "directory_unavailable", "The company directory could not take the change.")
        return response.status_code, body


class NotificationClient:
    def __init__(self, base_url: str, internal_token: str, operator_token: str, admin_token: str) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(10.0, connect=3.0),
            headers={"Authorization": f"Bearer {internal_token}"},
        )
        self._operator = {"Authorization": f"Bearer {operator_token}"}
        self._admin = {"Authorization": f"Bearer {admin_token}"} if admin_token else None

    async def operator_call(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        body: bytes | None,
        *,
        as_admin: bool = False,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Pass a staff request on to notification's operator API (deliveries, endpoints, alerts); ``as_admin``
        (an admin's request) with the admin token, which alone sets endpoints and rotates secrets; the caller's
        ``Idempotency-Key``, when notification keys the request's effect by it."""
        headers = self._admin if as_admin else self._operator
        if headers is None:
            raise Problem(
                503,
                "admin_token_missing",
                "Webhook endpoints and secrets cannot be managed here: "
                "this gateway has no admin token for the delivery service.",
            )
        try:
            return await self._client.request(
                method,
                path,
                params=tuple(params),
                content=body,
                headers={
                    **headers,
                    "Content-Type": "application/json",
                    **({"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}),
                },
            )
        except (httpx.HTTPError, httpx.InvalidURL):
            raise Problem(
                503, "notification_unavailable", "The delivery service is not reachable; try again shortly."
            ) from None

    async def close(self) -> None:
        await self._client.aclose()

    async def messages(self, numbers: list[str], limit: int, cursor: str | None) -> dict[str, Any]:
        if not numbers:
            return {"items": [], "next_cursor": None, "unread": 0}  # the shape notification answers
        params: list[tuple[str, str | int]] = [("number", number) for number in numbers] + [("limit", limit)]
        if cursor:
            params.append(("cursor", cursor))
        try:
            response = await self._client.get("/v1/messages", params=tuple(params))
        except httpx.HTTPError:
            raise Problem(503, "messages_unavailable", "Messages are not reachable; try again shortly.") from None
        if not response.is_success:
            raise Problem(503, "messages_unavailable", "Messages could not be read; try again shortly.")
        return response.json()

    async def mark_read(self, message_id: str, numbers: list[str]) -> dict[str, Any]:
        """Mark a message of one of ``numbers`` (the caller's complaints) read; 404 when it is not one of theirs."""
        if not numbers:
            raise Problem(404, "message_not_found", f"No message {message_id}.")
        try:
            response = await self._client.post(
                f"/v1/messages/{quote(message_id, safe='')}/read", params=[("number", number) for number in numbers]
            )
        except httpx.HTTPError:
            raise Problem(503, "messages_unavailable", "Messages are not reachable; try again shortly.") from None
        if response.status_code in (404, 422):
            raise Problem(404, "message_not_found", f"No message {message_id}.")
        if not response.is_success:
            raise Problem(503, "messages_unavailable", "Messages could not be marked read; try again shortly.")
        return response.json()
