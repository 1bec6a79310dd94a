"""Company staff in intake's store: the accounts (``company_staff``), the invitations (``company_invitations``) and
each company's settings (``company_settings``).

A staff member's e-mail address is found by its keyed hash and kept encrypted, like every login; their name is
encrypted too. An invitation keeps the keyed hash of its secret, never the secret, and a TTL index removes it once it
expired. Every change of a company's staff writes that company's settings document (``changes``) in its
transaction, so two changes at once conflict and the one retried sees the other's effect: two administrators
disabling each other cannot both pass the last-administrator check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from intake.domain.company_staff import CompanyRole

STAFF_VIEW = {"password_hash": 0, "totp_secret": 0, "totp_pending": 0}


class EmailTaken(Exception):
    """A staff account with this e-mail address exists (logins are unique on the platform)."""


class CompanyStaffStore:
    def __init__(self, db) -> None:
        self.staff = db["company_staff"]
        self.invitations = db["company_invitations"]
        self.settings = db["company_settings"]

    # --- invitations --------------------------------------------------------------------------------

    async def add_invitation(self, invitation: dict[str, Any], session: AsyncClientSession) -> None:
        await self.invitations.insert_one(invitation, session=session)

    async def invitation(self, invitation_id: str) -> dict[str, Any] | None:
        return await self.invitations.find_one({"_id": invitation_id})

    async def use_invitation(self, invitation_id: str, now: datetime, session: AsyncClientSession) -> bool:
        """Mark the invitation used, once: of two acceptances at once only one finds it unused."""
        result = await self.invitations.update_one(
            {"_id": invitation_id, "used_at": None, "expires_at": {"$gt": now}},
            {"$set": {"used_at": now}},
            session=session,
        )
        return result.modified_count == 1

    async def pending_invitations(self, company_id: str, now: datetime) -> list[dict[str, Any]]:
        return await self.invitations.find(
            {"company_id": company_id, "used_at": None, "expires_at": {"$gt": now}},
            projection={"secret_hash": 0},
            sort=[("created_at", 1)],
        ).to_list()

    # --- accounts -----------------------------------------------------------------------------------

    async def email_in_use(self, email_key: str) -> bool:
        return await self.staff.find_one({"email_key": email_key}, projection={"_id": 1}) is not None

    async def add_account(self, account: dict[str, Any], session: AsyncClientSession) -> None:
        try:
            await self.staff.insert_one(account, session=session)
        except DuplicateKeyError:
            raise EmailTaken() from None

    async def account_by_email(self, email_key: str) -> dict[str, Any] | None:
        return await self.staff.find_one({"email_key": email_key})

    async def account(self, company_id: str, staff_id: str, session: AsyncClientSession | None = None) -> dict | None:
        return await self.staff.find_one({"_id": staff_id, "company_id": company_id}, session=session)

    async def accounts(self, company_id: str) -> list[dict[str, Any]]:
        return await self.staff.find(
            {"company_id": company_id}, projection=STAFF_VIEW, sort=[("created_at", 1), ("_id", 1)]
        ).to_list()

    async def change_account(
        self, company_id: str, staff_id: str, change: dict[str, Any], session: AsyncClientSession
    ) -> dict[str, Any] | None:
        return await self.staff.find_one_and_update(
            {"_id": staff_id, "company_id": company_id},
            change,
            projection=STAFF_VIEW,
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    async def enabled_administrators(self, company_id: str, session: AsyncClientSession) -> int:
        return await self.staff.count_documents(
            {"company_id": company_id, "role": CompanyRole.ADMINISTRATOR.value, "disabled": False}, session=session
        )

    async def set_pending_totp(self, staff_id: str, sealed: dict[str, str]) -> None:
        await self.staff.update_one({"_id": staff_id}, {"$set": {"totp_pending": sealed}})

    async def use_totp_step(self, staff_id: str, step: int, enrol: dict[str, str] | None = None) -> bool:
        """Record ``step`` as the last time step used by the account, once: a code seen already is refused, so a
        code read over a shoulder does not sign in a second time. ``enrol`` makes the pending secret the account's."""
        change: dict[str, Any] = {"$set": {"totp_last_step": step}}
        if enrol is not None:
            change["$set"] |= {"totp_secret": enrol, "totp_pending": None}
        result = await self.staff.update_one(
            {"_id": staff_id, "$or": [{"totp_last_step": None}, {"totp_last_step": {"$lt": step}}]}, change
        )
        return result.modified_count == 1

    # --- the company's settings ---------------------------------------------------------------------

    async def company_settings(self, company_id: str) -> dict[str, Any]:
        found = await self.settings.find_one({"_id": company_id})
        return found or {"_id": company_id, "totp_required": False}

    async def ensure_company(self, company_id: str) -> None:
        """The settings document exists before a transaction writes it (two first upserts at once would collide)."""
        await self.settings.update_one(
            {"_id": company_id}, {"$setOnInsert": {"totp_required": False, "changes": 0}}, upsert=True
        )

    async def count_change(self, company_id: str, session: AsyncClientSession, **fields: Any) -> None:
        """Write the company's settings document in the change's transaction (see the module's docstring)."""
        change: dict[str, Any] = {"$inc": {"changes": 1}}
        if fields:
            change["$set"] = fields
        await self.settings.update_one({"_id": company_id}, change, upsert=True, session=session)

    async def end_sessions_without_totp(self, company_id: str, session: AsyncClientSession) -> list[str]:
        """Every session of the company's staff who have no second factor ends; their ids."""
        ids = [
            account["_id"]
            async for account in self.staff.find(
                {"company_id": company_id, "totp_secret": None}, projection={"_id": 1}, session=session
            )
        ]
        if ids:
            await self.staff.update_many({"_id": {"$in": ids}}, {"$inc": {"token_version": 1}}, session=session)
        return ids
