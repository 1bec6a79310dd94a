"""The statistics rollups in MongoDB (one collection per rollup of ``intake.domain.statistics.ROLLUPS``):
counters moved with ``$inc`` inside the case change's transaction, and read back summed for a period.

Every read is a range or a list of ids of the primary key (the id starts with the period): SecantusDB
answers those from its index, where a period given as ``$in`` beside another condition made it scan the
collection.
"""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from intake.domain.statistics import ROLLUPS, Delta, add

COLLECTIONS = {rollup: f"statistics_by_{rollup}" for rollup in ROLLUPS}
HIGHEST = "~"  # sorts after every character an id holds (digits, letters, "-", "_", ".", "|")


class Statistics:
    def __init__(self, db: AsyncDatabase) -> None:
        self.rollups = {rollup: db[name] for rollup, name in COLLECTIONS.items()}

    async def ensure_indexes(self) -> None:
        """Nothing beyond the primary key: every read is a range or a list of ids."""

    async def apply(self, changes: Delta, session: AsyncClientSession | None, company_name: str | None = None) -> None:
        for rollup, documents in changes.items():
            operations = []
            for doc_id, (key, increments) in sorted(documents.items()):
                update: dict[str, Any] = {"$inc": increments, "$setOnInsert": key}
                if rollup in ("company", "company_year") and company_name:
                    update["$set"] = {"company_name": company_name}
                operations.append(UpdateOne({"_id": doc_id}, update, upsert=True))
            await self.rollups[rollup].bulk_write(operations, ordered=True, session=session)

    async def between(self, rollup: str, first: str, last: str, *, public_only: bool) -> list[dict[str, Any]]:
        """The rollup's documents whose first key lies from ``first`` to ``last`` (months, years or days)."""
        documents = await self.rollups[rollup].find({"_id": {"$gte": f"{first}|", "$lt": f"{last}|{HIGHEST}"}}).to_list()
        return [document for document in documents if document["published"] or not public_only]

    async def of_company(self, rollup: str, company_id: str, periods: list[str], *, public_only: bool) -> list[dict[str, Any]]:
        """One company's documents of the given periods, found by id."""
        flags = ("p",) if public_only else ("p", "a")
        ids = [f"{period}|{company_id}|{flag}" for period in periods for flag in flags]
        return await self.rollups[rollup].find({"_id": {"$in": ids}}).to_list()

    async def totals(self, *, public_only: bool) -> tuple[dict[str, Any], int]:
        """All-time totals and the number of companies with a complaint (the home page's headline figures)."""
        total: dict[str, Any] = {}
        companies: set[str] = set()
        async for document in self.rollups["company_year"].find({}):
            if document["published"] or not public_only:
                add(total, document)
                if document.get("accepted"):
                    companies.add(document["company_id"])
        return total, len(companies)

    async def clear(self) -> None:
        for collection in self.rollups.values():
            await collection.delete_many({})
