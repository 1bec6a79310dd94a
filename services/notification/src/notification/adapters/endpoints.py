"""The ``endpoints`` collection: one webhook endpoint per company (``_id`` = company id).

Besides the URL and secret, an endpoint keeps the previous secret during a rotation's overlap
window and the company's current streak of failed attempts (for the ``endpoint_failing`` alert).

Signing secrets are sealed at rest with the service's key ring (``WEBHOOK_SECRET_KEYS``): a copy of
the database alone cannot forge a company's webhooks. Every endpoint this repository answers carries
them opened; ``secret_sealed`` keeps the stored form for conditional updates.
An endpoint stored before sealing held its secrets as text; the migration ``m0004_seal_endpoint_secrets`` seals
them, and such an endpoint is still read until then.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, overload

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from greenchannel.sealing import KeyRingCipher

ENABLED = "enabled"
DISABLED = "disabled"
#: The sealing context of signing secrets (bound into every sealed value), not a secret itself.
SECRET_FIELD = "webhook-secret"  # noqa: S105
#: Why an endpoint was disabled when its URL is plain http outside development.
NOT_HTTPS = "not_https"


class RotationRaced(Exception):
    """Another rotation or change of the secret committed between reading and replacing it."""


class EndpointRepository:
    def __init__(self, db: AsyncDatabase, cipher: KeyRingCipher) -> None:
        self.collection = db["endpoints"]
        self.cipher = cipher

    def _seal(self, secret: str | None) -> dict[str, str] | None:
        return self.cipher.encrypt(SECRET_FIELD, secret) if secret is not None else None

    @overload
    def _open(self, stored: dict[str, Any]) -> dict[str, Any]: ...
    @overload
    def _open(self, stored: dict[str, Any] | None) -> dict[str, Any] | None: ...
    def _open(self, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        """The endpoint with its secrets in the clear (an endpoint stored before sealing holds them as text)."""
        if stored is None:
            return None
        opened = {**stored, "secret_sealed": stored.get("secret")}
        for field in ("secret", "previous_secret"):
            if isinstance(stored.get(field), dict):
                opened[field] = self.cipher.decrypt(SECRET_FIELD, stored[field])
        return opened

    async def get(self, company_id: str) -> dict[str, Any] | None:
        return self._open(await self.collection.find_one({"_id": company_id}))

    async def get_enabled(self, company_id: str, session: AsyncClientSession | None = None) -> dict[str, Any] | None:
        return self._open(await self.collection.find_one({"_id": company_id, "status": ENABLED}, session=session))

    async def upsert(self, company_id: str, url: str, secret: str | None) -> tuple[dict[str, Any], bool]:
        """Create or replace the endpoint and enable it. ``secret`` ``None`` keeps the stored one.

        Returns the stored endpoint and whether it was created. The caller passes a secret when
        the endpoint may be new (``$setOnInsert`` cannot leave it out), so creation always stores one.
        A secret given here replaces the stored one at once: a rotation's previous secret ends too.
        """
        now = datetime.now(UTC)
        update: dict[str, Any] = {
            "$set": {"url": url, "status": ENABLED, "disabled_reason": None, "disabled_at": None, "updated_at": now},
            "$setOnInsert": {"created_at": now},
        }
        if secret is not None:
            update["$set"].update({"secret": self._seal(secret), "previous_secret": None, "previous_expires_at": None})
        before = await self.collection.find_one_and_update(
            {"_id": company_id}, update, upsert=True, return_document=ReturnDocument.BEFORE
        )
        stored = await self.get(company_id)
        if stored is None:
            raise RuntimeError(f"the endpoint of {company_id} is gone right after its upsert")
        return stored, before is None

    async def disable(self, company_id: str, reason: str) -> dict[str, Any] | None:
        """Disable the endpoint (an operator's decision); ``None`` when the company has none."""
        now = datetime.now(UTC)
        return self._open(
            await self.collection.find_one_and_update(
                {"_id": company_id},
                {"$set": {"status": DISABLED, "disabled_reason": reason, "disabled_at": now, "updated_at": now}},
                return_document=ReturnDocument.AFTER,
            )
        )

    async def disable_gone(self, company_id: str, url: str, session: AsyncClientSession) -> bool:
        """Disable the endpoint after 410 Gone, if it is still enabled and still points at ``url``.

        ``True`` when this call disabled it: an endpoint changed meanwhile stays as it is, and a
        second 410 from a concurrent attempt disables (and alerts) nothing more.
        """
        return await self._disable_unchanged(company_id, url, "gone", session)

    async def disable_not_https(self, company_id: str, url: str, session: AsyncClientSession) -> bool:
        """Disable the endpoint whose plain-http ``url`` production does not deliver to, as :meth:`disable_gone`."""
        return await self._disable_unchanged(company_id, url, NOT_HTTPS, session)

    async def _disable_unchanged(self, company_id: str, url: str, reason: str, session: AsyncClientSession) -> bool:
        now = datetime.now(UTC)
        result = await self.collection.update_one(
            {"_id": company_id, "url": url, "status": ENABLED},
            {"$set": {"status": DISABLED, "disabled_reason": reason, "disabled_at": now, "updated_at": now}},
            session=session,
        )
        return result.modified_count == 1

    async def enable(self, company_id: str) -> dict[str, Any] | None:
        now = datetime.now(UTC)
        return self._open(
            await self.collection.find_one_and_update(
                {"_id": company_id},
                {"$set": {"status": ENABLED, "disabled_reason": None, "disabled_at": None, "updated_at": now}},
                return_document=ReturnDocument.AFTER,
            )
        )

    async def rotate_secret(self, endpoint: dict[str, Any], new_secret: str, overlap_s: float) -> dict[str, Any]:
        """Make ``new_secret`` current and keep the one it replaces for ``overlap_s`` seconds (none when 0).

        Conditional on the secret read into ``endpoint``: two rotations at once cannot both keep
        the same previous secret (raises :class:`RotationRaced` for the later one).
        """
        now = datetime.now(UTC)
        keep = overlap_s > 0
        rotated = await self.collection.find_one_and_update(
            {"_id": endpoint["_id"], "secret": endpoint["secret_sealed"]},
            {
                "$set": {
                    "secret": self._seal(new_secret),
                    "previous_secret": self._seal(endpoint["secret"]) if keep else None,
                    "previous_expires_at": now + timedelta(seconds=overlap_s) if keep else None,
                    "secret_rotated_at": now,
                    "updated_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if rotated is None:
            raise RotationRaced(endpoint["_id"])
        return self._open(rotated)

    async def count_failed_attempt(self, company_id: str, session: AsyncClientSession) -> dict[str, Any] | None:
        """Lengthen the company's streak of failed attempts by one; the endpoint's streak fields after it."""
        return await self.collection.find_one_and_update(
            {"_id": company_id},
            {"$inc": {"failure_streak": 1}},
            projection={"failure_streak": 1, "failure_streak_alerted": 1},
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    async def mark_streak_alerted(self, company_id: str, session: AsyncClientSession) -> bool:
        """``True`` for the one caller that flags the current streak as alerted."""
        result = await self.collection.update_one(
            {"_id": company_id, "failure_streak_alerted": {"$ne": True}},
            {"$set": {"failure_streak_alerted": True}},
            session=session,
        )
        return result.modified_count == 1

    async def end_failure_streak(self, company_id: str, session: AsyncClientSession) -> None:
        """A successful attempt ends the streak (no write when there is none)."""
        await self.collection.update_one(
            {"_id": company_id, "$or": [{"failure_streak": {"$gt": 0}}, {"failure_streak_alerted": True}]},
            {"$set": {"failure_streak": 0, "failure_streak_alerted": False}},
            session=session,
        )
