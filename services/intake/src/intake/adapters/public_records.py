"""The public records (公示) and the clusters they belong to: projections of the case file, written in the
same transaction as the case change they follow, read by the public API.

The list's order, "published_on desc, then number desc", is one string (``order_key``). Each filter the
list offers has its own key field, the filter's values in front of ``order_key`` (``by_company_category``
is ``company_id|category|published_on|number``), indexed alone: a page is then one range of one index, read
in order and cut at the limit, and the cursor is a bound of that range. SecantusDB sorts every match when an
equality on a compound index's first fields is combined with a sort on the next one, which for a large
company meant sorting all its records for each page.

A first page remembers, for a minute, the window of days that filled it: the next request for the same
first page starts there. Without that, a sparse range (a small company, a rare category, a young platform)
walked every doubling window back to its floor, some fifteen queries per request.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from intake.domain.statistics import CHINA

# The filters that have a key of their own, the most selective first: a request uses the first whose
# fields it gives all of, and checks its other filters on the records that range reads.
LIST_KEYS: dict[str, tuple[str, ...]] = {
    "by_cluster": ("cluster_id",),
    "by_company_category": ("company_id", "category"),
    "by_company": ("company_id",),
    "by_category": ("category",),
    "by_status": ("status",),
}
LAST = "~"  # sorts after every character a key holds (digits, letters, "-", "_", ".", "|")
MAX_WINDOW_DAYS = 2**14  # beyond some 45 years back, the window is everything left
# How long a first page's window is remembered: it only says where to start reading (the page is read until
# full either way), so it is kept just long enough to follow a change in how densely a range fills.
WINDOW_MEMORY_S = 60.0
WINDOW_MEMORY_SIZE = 10_000
LISTED = {"narrative": 0, "answer": 0, "published_at": 0}
HIDDEN = {"_id": 0, "published_at": 0, "order_key": 0, **dict.fromkeys(LIST_KEYS, 0)}
EXPORTED = {name: hidden for name, hidden in HIDDEN.items() if name != "order_key"}  # the next page starts after it


def stored(record: dict[str, Any]) -> dict[str, Any]:
    """The public record as stored: with the key of every filter it can be found by."""
    keys = {
        name: "|".join([*(str(record[field]) for field in fields), record["order_key"]])
        for name, fields in LIST_KEYS.items()
        if all(record.get(field) for field in fields)
    }
    return {**record, **keys}


class PublicRecords:
    def __init__(self, db: AsyncDatabase) -> None:
        self.records = db["public_records"]
        self.clusters = db["public_clusters"]
        # First page -> (until when, the window of days that filled it last time).
        self.windows: dict[tuple[Any, ...], tuple[float, int]] = {}

    async def save(self, record: dict[str, Any], session: AsyncClientSession | None) -> None:
        await self.records.replace_one({"_id": record["_id"]}, stored(record), upsert=True, session=session)

    async def get(self, number: str) -> dict[str, Any] | None:
        return await self.records.find_one({"_id": number}, projection=HIDDEN)

    async def page(
        self,
        filters: dict[str, Any],
        *,
        limit: int,
        after: str | None,
        published_from: date | None = None,
        published_to: date | None = None,
    ) -> list[dict[str, Any]]:
        """Newest publication first; ``after`` is the ``order_key`` of the last row of the previous page.
        ``filters`` hold plain values only (the API's validated parameters); the publication period bounds
        the key's range itself.

        The key's range is read in windows of publication days going back from the newest possible one
        (that day alone, then back to 1, 2, 4, 8... days before it) until the page is full: SecantusDB
        reads every match of a range before it applies the limit, so a window keeps what it reads near the
        size of a page."""
        query = dict(filters)
        key, prefix = "order_key", ""
        for name, fields in LIST_KEYS.items():
            if all(field in query for field in fields):
                key, prefix = name, "".join(f"{query.pop(field)}|" for field in fields)
                break
        floor = prefix + (published_from.isoformat() if published_from else "")
        upper = prefix + (published_to.isoformat() + LAST if published_to else LAST)
        newest = min(published_to or date.max, datetime.now(CHINA).date())
        if after is not None:
            upper, newest = min(upper, prefix + after), min(newest, date.fromisoformat(after[:10]))
        rows: list[dict[str, Any]] = []
        first_page = (key, floor, upper, newest, *sorted(query.items())) if after is None else None
        remembered = self.windows.get(first_page) if first_page else None
        # The newest day alone first, unless this first page was filled by a wider window a moment ago.
        days = remembered[1] if remembered and remembered[0] > time.monotonic() else 0
        widest = days  # a page of no rows (limit 0) reads no window
        while len(rows) < limit:
            lower = (
                max(prefix + (newest - timedelta(days=days)).isoformat(), floor) if days < MAX_WINDOW_DAYS else floor
            )
            cursor = self.records.find({**query, key: {"$gte": lower, "$lt": upper}}, projection=LISTED)
            rows += await cursor.sort(key, DESCENDING).limit(limit - len(rows)).to_list()
            widest = MAX_WINDOW_DAYS if lower == floor else days
            if lower == floor:
                break
            upper, days = lower, max(1, days * 2)
        if first_page:
            if len(self.windows) >= WINDOW_MEMORY_SIZE:
                self.windows.clear()  # anyone can ask for any filter: the memory must stay bounded
            self.windows[first_page] = (time.monotonic() + WINDOW_MEMORY_S, widest)
        return rows

    async def export_page(
        self, published_from: date | None, published_to: date | None, *, after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` records published in the period (open data), oldest publication first, after
        ``after`` (the ``order_key`` of the previous page's last row). Like :meth:`page`, the list's own key is
        read in windows of publication days, going forward from the first day (1, 2, 4, 8... days) until the
        page is full: what a request reads stays near the size of its page, whatever the size of the record."""
        ceiling = published_to.isoformat() + LAST if published_to else LAST
        last_day = min(published_to or date.max, datetime.now(CHINA).date())
        if after is not None:
            bound, lower, first_day = "$gt", after, date.fromisoformat(after[:10])
        elif published_from is not None:
            bound, lower, first_day = "$gte", published_from.isoformat(), published_from
        else:
            oldest = (
                await self.records.find({}, projection={"order_key": 1}).sort("order_key", ASCENDING).limit(1).to_list()
            )
            if not oldest:
                return []
            bound, lower, first_day = "$gte", "", date.fromisoformat(oldest[0]["order_key"][:10])
        rows: list[dict[str, Any]] = []
        start, days = first_day, 1
        while len(rows) < limit and start <= last_day:
            end = start + timedelta(days=days)
            upper = min(end.isoformat(), ceiling)
            cursor = self.records.find({"order_key": {bound: lower, "$lt": upper}}, projection=EXPORTED)
            rows += await cursor.sort("order_key", ASCENDING).limit(limit - len(rows)).to_list()
            if upper == ceiling:
                break
            bound, lower, start, days = "$gte", upper, end, min(days * 2, MAX_WINDOW_DAYS)
        return rows

    async def join_cluster(
        self,
        cluster_id: str,
        company_id: str,
        company_name: str | None,
        size: int,
        collective: bool,
        number: str,
        opened_on: str,
        session: AsyncClientSession,
    ) -> None:
        """Keep the cluster's largest size seen (joins may arrive out of order), whether it ever counted as a
        collective complaint (clusters only grow), and its earliest member."""
        await self.clusters.update_one(
            {"_id": cluster_id},
            {
                "$max": {"size": size, "collective": collective},
                "$min": {"first_number": number, "opened_on": opened_on},
                "$set": {"company_id": company_id, **({"company_name": company_name} if company_name else {})},
            },
            upsert=True,
            session=session,
        )

    async def cluster(self, cluster_id: str) -> dict[str, Any] | None:
        found = await self.clusters.find_one({"_id": cluster_id})
        if found is None:
            return None
        return {
            "id": found["_id"],
            "company_id": found["company_id"],
            "company_name": found.get("company_name"),
            "size": found["size"],
            "collective": found.get("collective", False),
            "first_number": found["first_number"],
            "opened_on": found["opened_on"],
        }

    async def collective_cluster_ids(self) -> list[str]:
        """Every cluster that counts as a collective complaint."""
        return sorted(await self.clusters.distinct("_id", {"collective": True}))

    async def cluster_sizes(self, cluster_ids: set[str]) -> dict[str, dict[str, Any]]:
        """Each cluster's ``size`` and ``collective``, by id."""
        if not cluster_ids:
            return {}
        found = await self.clusters.find(
            {"_id": {"$in": sorted(cluster_ids)}}, projection={"size": 1, "collective": 1}
        ).to_list()
        return {
            cluster["_id"]: {"size": cluster["size"], "collective": cluster.get("collective", False)}
            for cluster in found
        }

    async def collective_clusters(self, company_id: str) -> list[str]:
        """The ids of the company's clusters that count as a collective complaint."""
        found = self.clusters.find({"company_id": company_id, "collective": True}, projection={"_id": 1})
        return [cluster["_id"] async for cluster in found]

    async def clear(self) -> None:
        await self.records.delete_many({})
