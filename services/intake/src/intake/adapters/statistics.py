"""The statistics rollups in MongoDB (one collection per rollup of ``intake.domain.statistics.ROLLUPS``):
counters moved with ``$inc`` inside the case change's transaction, and read back summed for a period.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from intake.domain.statistics import ROLLUPS, UNKNOWN, Delta, add

COLLECTIONS = {rollup: f"statistics_by_{rollup}" for rollup in ROLLUPS}


class Statistics:
    def __init__(self, db: AsyncDatabase) -> None:
        self.rollups = {rollup: db[name] for rollup, name in COLLECTIONS.items()}

    async def ensure_indexes(self) -> None:
        await self.rollups["category"].create_index([("published", ASCENDING), ("month", ASCENDING)])
        await self.rollups["region"].create_index([("published", ASCENDING), ("month", ASCENDING)])
        await self.rollups["company"].create_index([("published", ASCENDING), ("period", ASCENDING)])
        await self.rollups["company"].create_index([("company_id", ASCENDING), ("period", ASCENDING)])

    async def apply(self, changes: Delta, session: AsyncClientSession | None, company_name: str | None = None) -> None:
        for rollup, documents in changes.items():
            operations = []
            for doc_id, (key, increments) in sorted(documents.items()):
                update: dict[str, Any] = {"$inc": increments, "$setOnInsert": key}
                if rollup == "company" and company_name:
                    update["$set"] = {"company_name": company_name}
                operations.append(UpdateOne({"_id": doc_id}, update, upsert=True))
            await self.rollups[rollup].bulk_write(operations, ordered=True, session=session)

    async def documents(self, rollup: str, *, months: Iterable[str], public_only: bool,
                        company_id: str | None = None) -> list[dict[str, Any]]:
        """The rollup's documents of the given months (the company rollup: periods), published only or all."""
        periods = sorted(set(months))
        query: dict[str, Any] = {"period" if rollup == "company" else "month": {"$in": periods}}
        if public_only:
            query["published"] = True
        if company_id is not None:
            query["company_id"] = company_id
        return await self.rollups[rollup].find(query).to_list()

    async def totals(self, *, public_only: bool) -> dict[str, Any]:
        """All-time totals (the home page's headline figures), from the smallest rollup."""
        query = {"published": True} if public_only else {}
        total: dict[str, Any] = {}
        async for document in self.rollups["category"].find(query):
            add(total, document)
        return total

    async def companies_with(self, *, public_only: bool) -> int:
        query: dict[str, Any] = {"company_id": {"$ne": UNKNOWN}, **({"published": True} if public_only else {})}
        return len(await self.rollups["company"].distinct("company_id", query))

    async def clear(self) -> None:
        for collection in self.rollups.values():
            await collection.delete_many({})
