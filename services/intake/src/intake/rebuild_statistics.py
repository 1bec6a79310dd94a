"""Recompute the statistics rollups and the public records from the case file: ``python -m intake.rebuild_statistics``.

For repair: after a bug in the projections, a restore of the case file alone, or a change of what a rollup
counts. Everything is derived from the complaints, so the result is what the live projections would have
built. Run it while intake is stopped (or quiet): a case changed during the rebuild is counted as the
rebuild read it, and the next rebuild corrects it.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from intake.adapters.pii import PiiCipher
from intake.adapters.public_records import PublicRecords, stored
from intake.adapters.publication import complainant_name
from intake.adapters.statistics import Statistics
from intake.commands import run_command
from intake.domain.publication import public_record
from intake.domain.statistics import contributions

BATCH = 1000


async def rebuild(db: AsyncDatabase, cipher: PiiCipher) -> dict[str, int]:
    """Replace every rollup and public record by what the complaints add up to; answers what was written."""
    records, statistics = PublicRecords(db), Statistics(db)
    sums: dict[str, dict[str, tuple[dict[str, Any], Counter]]] = {}
    company_names: dict[str, str] = {}  # rollup document -> the latest name seen, as the live projection keeps it
    pending: list[ReplaceOne] = []
    written = cases = 0
    await records.clear()
    async for case in db["complaints"].find({}, projection={"evidence": 0, "supplements": 0}).batch_size(BATCH):
        cases += 1
        for rollup, documents in contributions(case).items():
            into = sums.setdefault(rollup, {})
            for doc_id, (key, counts) in documents.items():
                into.setdefault(doc_id, (key, Counter()))[1].update(counts)
                if rollup in ("company", "company_year") and case.get("company_name"):
                    company_names[doc_id] = case["company_name"]
        if case.get("published_at"):
            record = stored(public_record(case, complainant_name(case, cipher)))
            pending.append(ReplaceOne({"_id": record["_id"]}, record, upsert=True))
        if len(pending) >= BATCH:
            written += (await records.records.bulk_write(pending, ordered=False)).upserted_count
            pending = []
    if pending:
        written += (await records.records.bulk_write(pending, ordered=False)).upserted_count
    await statistics.clear()
    counts = {"complaints": cases, "public_records": written}
    for rollup, summed in sums.items():
        rows = [
            {
                "_id": doc_id,
                **key,
                **nested(counts_),
                **({"company_name": company_names[doc_id]} if doc_id in company_names else {}),
            }
            for doc_id, (key, counts_) in summed.items()
        ]
        for start in range(0, len(rows), BATCH):
            await statistics.rollups[rollup].insert_many(rows[start : start + BATCH], ordered=False)
        counts[f"statistics_by_{rollup}"] = len(rows)
    return counts


def nested(counts: Counter) -> dict[str, Any]:
    """Dotted counter names (``handling.3``) as the nested documents ``$inc`` builds."""
    document: dict[str, Any] = {}
    for name, value in counts.items():
        *parents, leaf = name.split(".")
        target = document
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return document


if __name__ == "__main__":
    sys.exit(run_command(__doc__, "rebuild-statistics", rebuild))
