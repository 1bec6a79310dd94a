"""Changes a company asks for in its directory profile (``company_profile_changes``): aliases, apps, domains, user
base. routing owns the directory; a change waits here until an operator admin approves it, and only then is passed on.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

PENDING, APPROVED, REJECTED, SUPERSEDED = "pending", "approved", "rejected", "superseded"
# Claimed by an approval while routing is asked: no second approval or a rejection meanwhile.
APPLYING = "applying"


class CompanyProfileStore:
    def __init__(self, db) -> None:
        self.changes = db["company_profile_changes"]

    async def propose(self, change: dict[str, Any], session: AsyncClientSession) -> None:
        """The company's new request; its earlier one still waiting is superseded (one pending change a company)."""
        await self.changes.update_many(
            {"company_id": change["company_id"], "status": PENDING}, {"$set": {"status": SUPERSEDED}}, session=session
        )
        await self.changes.insert_one(change, session=session)

    async def of_company(self, company_id: str, limit: int = 10) -> list[dict[str, Any]]:
        return await self.changes.find({"company_id": company_id}, sort=[("requested_at", -1)], limit=limit).to_list()

    async def waiting(self, limit: int) -> list[dict[str, Any]]:
        return await self.changes.find({"status": PENDING}, sort=[("requested_at", 1)], limit=limit).to_list()

    async def move(self, change_id: str, from_status: str, to_status: str, **fields: Any) -> dict[str, Any] | None:
        """Move a change from one status to another, once: None when it is not (or no longer) in ``from_status``."""
        return await self.changes.find_one_and_update(
            {"_id": change_id, "status": from_status},
            {"$set": {"status": to_status, **fields}},
            return_document=ReturnDocument.AFTER,
        )
