"""The public records (公示) and the clusters they belong to: projections of the case file, written in the
same transaction as the case change they follow, read by the public API.

The list's order, "published_on desc, then number desc", is one string field (``order_key``), so a page
is one index range in every filter combination and the cursor is a single comparison: each filter the
list offers has an index that ends in ``order_key``.
"""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

# The filter combinations the public list serves from one index each; other combinations (status or dates
# with a company) are served from the company's index, which is already narrow.
LIST_INDEXES = (
    (),
    ("company_id",),
    ("company_id", "category"),
    ("category",),
    ("status",),
    ("cluster_id",),
)
PUBLIC_FIELDS = {"_id": 0, "published_at": 0, "order_key": 0}


class PublicRecords:
    def __init__(self, db: AsyncDatabase) -> None:
        self.records = db["public_records"]
        self.clusters = db["public_clusters"]

    async def ensure_indexes(self) -> None:
        for fields in LIST_INDEXES:
            await self.records.create_index([*((field, 1) for field in fields), ("order_key", DESCENDING)])
        await self.records.create_index("published_at")

    async def save(self, record: dict[str, Any], session: AsyncClientSession | None) -> None:
        await self.records.replace_one({"_id": record["_id"]}, record, upsert=True, session=session)

    async def get(self, number: str) -> dict[str, Any] | None:
        return await self.records.find_one({"_id": number}, projection=PUBLIC_FIELDS)

    async def page(self, filters: dict[str, Any], *, limit: int, after: str | None) -> list[dict[str, Any]]:
        """Newest publication first; ``after`` is the ``order_key`` of the last row of the previous page.
        ``filters`` hold plain strings only (the API's validated parameters)."""
        query = dict(filters)
        if after is not None:
            query["order_key"] = {"$lt": after}
        cursor = self.records.find(query, projection={"narrative": 0, "answer": 0, "published_at": 0})
        return await cursor.sort("order_key", DESCENDING).limit(limit).to_list()

    async def published_since(self, moment) -> int:
        return await self.records.count_documents({"published_at": {"$gte": moment}})

    async def stream(self, filters: dict[str, Any], batch_size: int = 500):
        """Every public record matching ``filters`` (open data), oldest publication first."""
        cursor = self.records.find(filters, projection=PUBLIC_FIELDS).sort("order_key", 1).batch_size(batch_size)
        async for record in cursor:
            yield record

    async def join_cluster(self, cluster_id: str, company_id: str, company_name: str | None, size: int, number: str,
                           opened_on: str, session: AsyncClientSession) -> None:
        """Keep the cluster's largest size seen (joins may arrive out of order) and its earliest member."""
        await self.clusters.update_one(
            {"_id": cluster_id},
            {"$max": {"size": size}, "$min": {"first_number": number, "opened_on": opened_on},
             "$set": {"company_id": company_id, **({"company_name": company_name} if company_name else {})}},
            upsert=True, session=session,
        )

    async def cluster(self, cluster_id: str) -> dict[str, Any] | None:
        found = await self.clusters.find_one({"_id": cluster_id})
        if found is None:
            return None
        return {"id": found["_id"], "company_id": found["company_id"], "company_name": found.get("company_name"),
                "size": found["size"], "first_number": found["first_number"], "opened_on": found["opened_on"]}

    async def cluster_sizes(self, cluster_ids: set[str]) -> dict[str, int]:
        if not cluster_ids:
            return {}
        found = await self.clusters.find({"_id": {"$in": sorted(cluster_ids)}}, projection={"size": 1}).to_list()
        return {cluster["_id"]: cluster["size"] for cluster in found}

    async def clear(self) -> None:
        await self.records.delete_many({})
