"""The public statistics as a snapshot taken once per refresh period, so the public figures do not move with
each publication (a reader comparing two reads around one publication would learn its category, company and
province). Regulators read the live rollups (:class:`intake.adapters.statistics.Statistics`).

A snapshot is a copy of the published rollup documents under the start of its period (periods are aligned
to midnight, China time: a daily refresh turns at 00:00). One replica takes it: it claims the period by
inserting its mark (a duplicate key tells the others it is taken), copies the documents and marks it complete;
readers serve the latest complete snapshot, the one before it until then. A claim left incomplete for
:data:`STALE_CLAIM` (its replica died) is taken over. Older snapshots are removed once a newer one is
complete. Before the first snapshot exists, the first read takes it.

The snapshot answers the public reads of :class:`~intake.adapters.statistics.Statistics` (``between``, ``totals``)
with ``public_only`` true only: a public scorecard reads its period's whole table of companies, as the rankings do,
so that it hides what that table hides (:mod:`intake.domain.disclosure`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from greenchannel.telemetry import record_work
from intake.adapters.statistics import HIGHEST, Statistics
from intake.domain.statistics import add

#: China is UTC+8 all year: periods turn at its midnight.
CHINA_OFFSET_S = 8 * 3600
#: A claim not completed in this long is taken over (its replica died while copying).
STALE_CLAIM = timedelta(minutes=10)
#: How long a replica trusts the id of the latest complete snapshot it read before asking again.
LATEST_CACHE_S = 5.0
COPY_BATCH = 500
#: How often each replica checks whether the period turned (taking the snapshot when it did).
SNAPSHOT_CHECK_S = 60.0


def period_start(now: datetime, refresh: timedelta) -> datetime:
    """The start of the refresh period ``now`` falls in, periods aligned to midnight in China."""
    length = refresh.total_seconds()
    shifted = now.timestamp() + CHINA_OFFSET_S
    return datetime.fromtimestamp(shifted - shifted % length - CHINA_OFFSET_S, UTC)


class StatisticsSnapshot:
    def __init__(
        self, db: AsyncDatabase, live: Statistics, refresh: timedelta, taken: Callable[[], object] = lambda: None
    ) -> None:
        self.live = live
        self.taken = taken
        self.refresh = refresh
        self.documents = db["statistics_public_snapshot"]
        self.marks = db["statistics_public_snapshot_marks"]
        self._latest: tuple[float, str] | None = None

    async def refresh_if_due(self, now: datetime | None = None) -> bool:
        """Take this period's snapshot unless it is taken or being taken (the periodic job's step)."""
        start = period_start(now or datetime.now(UTC), self.refresh)
        snapshot = start.strftime("%Y%m%dT%H%M%S")
        mark = await self.marks.find_one({"_id": snapshot})
        if mark is not None and (mark.get("complete") or datetime.now(UTC) - _aware(mark["claimed_at"]) < STALE_CLAIM):
            return False
        if mark is not None:
            await self.marks.delete_one({"_id": snapshot, "complete": False, "claimed_at": mark["claimed_at"]})
        try:
            await self.marks.insert_one(
                {"_id": snapshot, "complete": False, "claimed_at": datetime.now(UTC), "period_start": start}
            )
        except DuplicateKeyError:
            return False  # another replica claimed it first
        copied = await self._copy(snapshot)
        await self.marks.update_one({"_id": snapshot}, {"$set": {"complete": True, "taken_at": datetime.now(UTC)}})
        await self._remove_older(snapshot)
        self._latest = None
        self.taken()  # the HTTP edge forgets the figures it keeps
        if copied:
            record_work()  # a snapshot of nothing (a platform with nothing published yet) is no trace worth keeping
        return True

    async def _copy(self, snapshot: str) -> int:
        """Copy the published rollups under ``snapshot``; how many documents were copied."""
        copied = 0
        await self.documents.delete_many({"_id": {"$gte": f"{snapshot}|", "$lt": f"{snapshot}|{HIGHEST}"}})
        for rollup, collection in self.live.rollups.items():
            batch: list[dict[str, Any]] = []
            async for document in collection.find({}):
                if not document.get("published"):
                    continue
                batch.append({**document, "_id": f"{snapshot}|{rollup}|{document['_id']}"})
                copied += 1
                if len(batch) >= COPY_BATCH:
                    await self.documents.insert_many(batch)
                    batch = []
            if batch:
                await self.documents.insert_many(batch)
        return copied

    async def _remove_older(self, snapshot: str) -> None:
        async for mark in self.marks.find({"_id": {"$lt": snapshot}}):
            await self.documents.delete_many({"_id": {"$gte": f"{mark['_id']}|", "$lt": f"{mark['_id']}|{HIGHEST}"}})
            await self.marks.delete_one({"_id": mark["_id"]})

    async def latest(self) -> str:
        """The id of the latest complete snapshot; the first one is taken here if there is none yet."""
        if self._latest is not None and time.monotonic() - self._latest[0] < LATEST_CACHE_S:
            return self._latest[1]
        marks = await self.marks.find({"complete": True}).sort("_id", -1).limit(1).to_list()
        if not marks:
            await self.refresh_if_due()
            marks = await self.marks.find({"complete": True}).sort("_id", -1).limit(1).to_list()
            if not marks:
                # Another replica is taking the first one: read live until it is complete.
                return ""
        self._latest = (time.monotonic(), marks[0]["_id"])
        return marks[0]["_id"]

    async def taken_at(self) -> datetime | None:
        snapshot = await self.latest()
        mark = await self.marks.find_one({"_id": snapshot}) if snapshot else None
        return _aware(mark["period_start"]) if mark else None

    # --- the public reads of Statistics ------------------------------------------------------------------------

    async def _range(self, rollup: str, first: str, last: str) -> list[dict[str, Any]]:
        snapshot = await self.latest()
        if not snapshot:
            return await self.live.between(rollup, first, last, public_only=True)
        prefix = f"{snapshot}|{rollup}|"
        documents = await self.documents.find(
            {"_id": {"$gte": f"{prefix}{first}|", "$lt": f"{prefix}{last}|{HIGHEST}"}}
        ).to_list()
        return [{**document, "_id": document["_id"][len(prefix) :]} for document in documents]

    async def between(self, rollup: str, first: str, last: str, *, public_only: bool = True) -> list[dict[str, Any]]:
        assert public_only, "the snapshot holds published figures only"
        return await self._range(rollup, first, last)

    async def totals(self, *, public_only: bool = True) -> tuple[dict[str, Any], int]:
        assert public_only, "the snapshot holds published figures only"
        snapshot = await self.latest()
        if not snapshot:
            return await self.live.totals(public_only=True)
        total: dict[str, Any] = {}
        companies: set[str] = set()
        prefix = f"{snapshot}|company_year|"
        for document in await self.documents.find({"_id": {"$gte": prefix, "$lt": f"{prefix}{HIGHEST}"}}).to_list():
            add(total, document)
            if document.get("accepted"):
                companies.add(document["company_id"])
        return total, len(companies)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
