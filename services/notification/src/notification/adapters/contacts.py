"""Asking intake, the one holder of the complainant's personal data, where to reach the complainant.

``GET {intake_url}/internal/v1/complaints/{number}/contact`` on intake's internal listener (``intake_url`` is its
address, never the public one), with the internal bearer token, answers
``{"email": str | null, "phone": str}``, or 404 when intake knows no contact for the complaint.
The answer is used for one dispatch and never stored or logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError


class ContactUnavailable(Exception):
    """intake could not answer now (network, timeout, 5xx, an answer that does not parse): try again later."""


class _ContactAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, repr=False)
class Contact:
    email: str | None
    phone: str | None

    def __repr__(self) -> str:  # never print an address by accident
        return "Contact(<redacted>)"


class IntakeContacts:
    def __init__(self, client: httpx.AsyncClient, base_url: str, token: str) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.token = token

    async def lookup(self, number: str) -> Contact | None:
        """The complainant's contact, or ``None`` when intake has none (404); raises :class:`ContactUnavailable`."""
        url = f"{self.base_url}/internal/v1/complaints/{quote(number, safe='')}/contact"
        try:
            response = await self.client.get(url, headers={"Authorization": f"Bearer {self.token}"})
        except httpx.HTTPError as error:
            raise ContactUnavailable(f"intake unreachable: {type(error).__name__}") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ContactUnavailable(f"intake answered HTTP {response.status_code}")
        try:
            answer = _ContactAnswer.model_validate_json(response.content)
        except ValidationError:
            raise ContactUnavailable("intake's contact answer does not parse") from None
        return Contact(email=answer.email or None, phone=answer.phone or None)


def make_intake_client(timeout_s: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), follow_redirects=False, trust_env=False)
