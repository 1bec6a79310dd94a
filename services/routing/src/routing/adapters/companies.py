"""The ``companies`` collection: the directory routing owns, seeded from the package's data at start-up.

Each document keeps the company's lookup keys (``match_keys``, computed by the domain rules) so a
name or domain is found with one indexed query; the decision which match counts stays in the domain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from routing.domain import directory
from routing.domain.directory import Company

# Candidates read for one search before ranking; the directory's matches for any query stay far below it.
SEARCH_CANDIDATES = 1000


def _to_document(company: Company) -> dict:
    fields = company.model_dump(mode="json", exclude={"id"})
    return {**fields, "match_keys": directory.company_keys(company)}


def _from_document(document: dict) -> Company:
    return Company.model_validate({**document, "id": document["_id"]})


class CompanyRepository:
    def __init__(self, db: AsyncDatabase, collection: str = "companies") -> None:
        self.collection = db[collection]

    async def upsert_seed(self, companies: Iterable[Company]) -> int:
        """Write the seed companies (their seeded fields only): a restart keeps other data and adds no copies.

        A company an operator edited keeps the operator's version: the seed never overwrites it.
        """
        count = 0
        for company in companies:
            query = {"_id": company.id, "edited_at": None}
            update = {
                "$set": {**_to_document(company), "seeded_at": datetime.now(UTC)},
                "$setOnInsert": {"created_at": datetime.now(UTC)},
            }
            try:
                await self.collection.update_one(query, update, upsert=True)
            except DuplicateKeyError:
                # Edited by an operator, or inserted by another replica at this moment: theirs stands.
                continue
            count += 1
        return count

    async def save(self, company: Company) -> bool:
        """Create or replace a company as an operator wrote it; True if it was new."""
        now = datetime.now(UTC)
        result = await self.collection.update_one(
            {"_id": company.id},
            {"$set": {**_to_document(company), "edited_at": now}, "$setOnInsert": {"created_at": now}},
            upsert=True,
        )
        return result.upserted_id is not None

    async def get(self, company_id: str) -> Company | None:
        document = await self.collection.find_one({"_id": company_id})
        return None if document is None else _from_document(document)

    async def find_by_keys(self, keys: list[str]) -> list[Company]:
        if not keys:
            return []
        cursor = self.collection.find({"match_keys": {"$in": keys}})
        return [_from_document(document) async for document in cursor]

    async def search(self, query: str, limit: int) -> list[Company]:
        keys = directory.lookup_keys(query)
        if not keys:
            cursor = self.collection.find({}).sort("_id", 1).limit(limit)
            return [_from_document(document) async for document in cursor]
        contains_any = {"$or": [{"match_keys": {"$regex": re.escape(key)}} for key in keys]}
        cursor = self.collection.find(contains_any).limit(SEARCH_CANDIDATES)
        candidates = [_from_document(document) async for document in cursor]
        return directory.search(candidates, query, limit)
