"""The statistics rollups in MongoDB (one collection per rollup of ``intake.domain.statistics.ROLLUPS``):
counters staged inside the case change's transaction, folded into the rollups with ``$inc``, and read back
summed for a period.

A case change only inserts its staged counters (``statistics_pending``): the rollup documents are shared by
every complaint of a month or a company, and moving them in each change's transaction made concurrent
changes conflict on them, which with a few replicas stalled screening altogether. ``fold`` moves a batch of
staged counters into the rollups and deletes them in one transaction, so each is counted exactly once even
when two replicas fold at once (the second finds its batch gone and gives way). Figures trail the case
file by the fold interval. A fold that moved something is reported (``folded``: the HTTP edge forgets the
figures it keeps).

Every read is a range or a list of ids of the primary key (the id starts with the period): SecantusDB
answers those from its index, where a period given as ``$in`` beside another condition made it scan the
collection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from greenchannel.mongo import in_transaction
from greenchannel.telemetry import record_work
from intake.domain.statistics import ROLLUPS, Delta, add

COLLECTIONS = {rollup: f"statistics_by_{rollup}" for rollup in ROLLUPS}
HIGHEST = "~"  # sorts after every character an id holds (digits, letters, "-", "_", ".", "|")


class FoldTaken(Exception):
    """Another folder moved (some of) this batch first: this one's transaction must not count it again."""


class Statistics:
    def __init__(self, db: AsyncDatabase, folded: Callable[[], object] = lambda: None) -> None:
        self.db = db
        self.folded = folded
        self.rollups = {rollup: db[name] for rollup, name in COLLECTIONS.items()}
        self.pending = db["statistics_pending"]

    async def apply(self, changes: Delta, session: AsyncClientSession | None, company_name: str | None = None) -> None:
        """Stage one change's counters, in the change's own transaction: one insert, no shared document."""
        staged = {
            rollup: [
                {"id": doc_id, "key": key, "inc": sorted(increments.items())}
                for doc_id, (key, increments) in sorted(documents.items())
            ]
            for rollup, documents in changes.items()
        }
        await self.pending.insert_one(
            {"changes": staged, "company_name": company_name, "staged_at": datetime.now(UTC)}, session=session
        )

    async def fold(self, batch: int = 500) -> int:
        """Move up to ``batch`` staged changes into the rollups; answers how many were moved (0 when another
        folder took them first)."""
        staged = await self.pending.find({}).sort("_id", 1).limit(batch).to_list()
        if not staged:
            return 0
        record_work()
        merged: dict[str, dict[str, tuple[dict[str, Any], Counter, str | None]]] = {}
        for change in staged:
            for rollup, documents in change["changes"].items():
                into = merged.setdefault(rollup, {})
                for document in documents:
                    _, counts, name = into.setdefault(document["id"], (document["key"], Counter(), None))
                    counts.update(dict(document["inc"]))
                    into[document["id"]] = (document["key"], counts, change.get("company_name") or name)
        ids = [change["_id"] for change in staged]

        async def move(session: AsyncClientSession) -> None:
            taken = await self.pending.delete_many({"_id": {"$in": ids}}, session=session)
            if taken.deleted_count != len(ids):
                raise FoldTaken
            for rollup, documents in merged.items():
                operations = []
                for doc_id, (key, counts, name) in sorted(documents.items()):
                    update: dict[str, Any] = {
                        "$inc": {field: value for field, value in counts.items() if value},
                        "$setOnInsert": key,
                    }
                    if rollup in ("company", "company_year") and name:
                        update["$set"] = {"company_name": name}
                    if not update["$inc"]:
                        del update["$inc"]
                    operations.append(UpdateOne({"_id": doc_id}, update, upsert=True))
                await self.rollups[rollup].bulk_write(operations, ordered=True, session=session)

        try:
            await in_transaction(self.db.client, move)
        except FoldTaken:
            return 0
        except OperationFailure as error:
            if error.has_error_label("TransientTransactionError"):
                return 0  # a racing folder holds the batch; the next turn takes what is left
            raise
        self.folded()
        return len(ids)

    async def fold_all(self) -> int:
        """Fold until nothing is staged (the periodic job's step, and what tests call to read settled figures)."""
        moved = total = await self.fold()
        while moved:
            moved = await self.fold()
            total += moved
        return total

    async def between(self, rollup: str, first: str, last: str, *, public_only: bool) -> list[dict[str, Any]]:
        """The rollup's documents whose first key lies from ``first`` to ``last`` (months, years or days)."""
        documents = (
            await self.rollups[rollup].find({"_id": {"$gte": f"{first}|", "$lt": f"{last}|{HIGHEST}"}}).to_list()
        )
        return [document for document in documents if document["published"] or not public_only]

    async def of_company(
        self, rollup: str, company_id: str, periods: list[str], *, public_only: bool
    ) -> list[dict[str, Any]]:
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
        """Empty the rollups and what is staged for them (a rebuild recounts the case file itself)."""
        await self.pending.delete_many({})
        for collection in self.rollups.values():
            await collection.delete_many({})
