"""Staged statistics reach the rollups exactly once: case changes only insert what they count, and folders
move it, however many changes and folders run at once (real SecantusDB)."""

from __future__ import annotations

import asyncio

import pytest

from greenchannel.mongo import in_transaction, make_client
from intake.adapters.statistics import Statistics

pytestmark = pytest.mark.integration


def change(month: str, company: str, **counters: int):
    return {
        "company": {f"{month}|{company}|a": ({"month": month, "company_id": company, "published": False}, counters)}
    }


@pytest.fixture
async def statistics(mongo_url, run_id):
    client = make_client(mongo_url, "test-statistics-fold")
    db = client[f"t{run_id}_intake_statistics_fold"]
    stats = Statistics(db)
    await stats.clear()
    yield stats
    await client.close()


async def test_concurrent_changes_and_folders_count_each_change_once(statistics):
    async def staged(n: int) -> None:
        # As a case change does: in its own transaction, beside whatever else it writes.
        await in_transaction(
            statistics.db.client,
            lambda session: statistics.apply(
                change(
                    "2026-11", "c-a", received=1, accepted=1, **{"handling.3": 1, "rejected_by_reason.duplicate": n % 2}
                ),
                session,
                company_name="甲公司",
            ),
        )

    # Sixty changes at once, then three folders at once, then more changes while they fold.
    await asyncio.gather(*(staged(n) for n in range(60)))
    moved = await asyncio.gather(
        statistics.fold_all(), statistics.fold_all(), statistics.fold_all(), *(staged(n) for n in range(60, 90))
    )
    moved_total = sum(moved[:3]) + await statistics.fold_all()
    assert moved_total == 90
    assert await statistics.pending.count_documents({}) == 0
    [document] = await statistics.rollups["company"].find({}).to_list()
    assert document["_id"] == "2026-11|c-a|a" and document["company_name"] == "甲公司"
    assert (document["received"], document["accepted"]) == (90, 90)
    assert document["handling"] == {"3": 90} and document["rejected_by_reason"] == {"duplicate": 45}


async def test_a_change_that_takes_back_what_another_counted_nets_out(statistics):
    await statistics.apply(change("2026-11", "c-b", answered=1, timely=1), None)
    await statistics.apply(change("2026-11", "c-b", answered=-1, timely=-1, appealed=1), None)
    assert await statistics.fold_all() == 2
    [document] = await statistics.rollups["company"].find({}).to_list()
    assert (document.get("answered", 0), document.get("timely", 0), document["appealed"]) == (0, 0, 1)
    assert await statistics.fold_all() == 0  # nothing left: folding again counts nothing twice
