"""The admins' TOTP secrets, in intake's ``second_factors`` collection, one document per operator account:
the secret sealed under the PII key ring, when it was confirmed, and the time step of the last code used.

A secret is pending until its holder confirms a code from it; only then does sign-in ask for codes. Taking a
code's step is one conditional update (``last_step`` below it), so two sign-ins racing with one code cannot
both pass.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from intake.adapters.pii import PiiCipher

SEALED_FIELD = "totp_secret"  # the associated data the secret is sealed with


class AlreadyEnrolled(Exception):
    """The account has a confirmed second factor: an admin resets it before a new one is enrolled."""


class SecondFactors:
    def __init__(self, db, cipher: PiiCipher) -> None:
        self._factors = db["second_factors"]
        self._cipher = cipher

    async def begin(self, operator_id: str, secret: str) -> None:
        """Keep ``secret`` as the account's pending one (replacing an earlier pending one); ``AlreadyEnrolled``
        when a confirmed one exists."""
        try:
            await self._factors.update_one(
                {"_id": operator_id, "confirmed_at": None},
                {
                    "$set": {
                        "secret": self._cipher.encrypt(SEALED_FIELD, secret),
                        "started_at": datetime.now(UTC),
                        "confirmed_at": None,
                        "last_step": -1,
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:  # the document exists, confirmed: the filter missed and the upsert collided
            raise AlreadyEnrolled(operator_id) from None

    async def secret(self, operator_id: str, *, confirmed: bool) -> str | None:
        """The account's confirmed (or pending) secret, None without one."""
        condition: dict[str, Any] | None = {"$ne": None} if confirmed else None
        found = await self._factors.find_one({"_id": operator_id, "confirmed_at": condition})
        return self._cipher.decrypt(SEALED_FIELD, found["secret"]) if found else None

    async def enrolled(self, operator_id: str) -> bool:
        return await self._factors.count_documents({"_id": operator_id, "confirmed_at": {"$ne": None}}, limit=1) > 0

    async def confirm(self, operator_id: str, step: int) -> bool:
        """Confirm the pending secret with the step of a right code; False when it was confirmed meanwhile."""
        result = await self._factors.update_one(
            {"_id": operator_id, "confirmed_at": None},
            {"$set": {"confirmed_at": datetime.now(UTC), "last_step": step}},
        )
        return result.modified_count == 1

    async def take_step(self, operator_id: str, step: int) -> bool:
        """Use the step of a right code: True once per step and account, never for a step at or before the last."""
        result = await self._factors.update_one(
            {"_id": operator_id, "confirmed_at": {"$ne": None}, "last_step": {"$lt": step}},
            {"$set": {"last_step": step}},
        )
        return result.modified_count == 1

    async def remove(self, operator_id: str) -> bool:
        """Forget the account's second factor (an admin's reset: the holder lost the device)."""
        result = await self._factors.delete_one({"_id": operator_id})
        return result.deleted_count == 1
