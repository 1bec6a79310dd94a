"""How a company handles a complaint inside itself (``company_handling``): who of its staff it is assigned to, and
notes only the company sees. Kept beside the case file, never in it: the complainant, the public and the statistics
never read it, and the case file keeps one writer.

One document per company and complaint; a note's text is sealed (it may name the complainant or quote them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession


class CompanyHandlingStore:
    def __init__(self, db) -> None:
        self.handling = db["company_handling"]

    @staticmethod
    def key(company_id: str, number: str) -> str:
        return f"{company_id}:{number}"

    async def get(self, company_id: str, number: str) -> dict[str, Any] | None:
        return await self.handling.find_one({"_id": self.key(company_id, number)})

    async def assign(
        self, company_id: str, number: str, assignee: str | None, by: str, at: datetime, session: AsyncClientSession
    ) -> None:
        await self.handling.update_one(
            {"_id": self.key(company_id, number)},
            {
                "$set": {"assignee": assignee, "assigned_by": by, "assigned_at": at},
                "$setOnInsert": {"company_id": company_id, "number": number, "notes": []},
            },
            upsert=True,
            session=session,
        )

    async def add_note(self, company_id: str, number: str, note: dict[str, Any], session: AsyncClientSession) -> None:
        await self.handling.update_one(
            {"_id": self.key(company_id, number)},
            {
                "$push": {"notes": note},
                "$setOnInsert": {"company_id": company_id, "number": number, "assignee": None},
            },
            upsert=True,
            session=session,
        )
