"""``ended_at`` on every case that ended before the field was recorded: the retention job finds cases by it.

The moment a case ended is its last timeline entry's (the transition into its final state is the last thing that
happens to it). Each case is one conditional update (final, still without the field), a batch's updates sent as one
bulk write; a case that has it is left alone, so the step is idempotent and resumes where it stopped."""

from __future__ import annotations

from pymongo import UpdateOne

from greenchannel.migrations import StepContext, batches, rewrite
from intake.domain.lifecycle import FINAL

WITHOUT_END = {"status": {"$in": sorted(status.value for status in FINAL)}, "ended_at": {"$exists": False}}


async def up(context: StepContext) -> None:
    complaints = context.db["complaints"]
    async for batch in batches(complaints, WITHOUT_END, context.progress, projection={"timeline.at": 1}):
        writes = []
        for case in batch:
            timeline = case.get("timeline") or []
            writes.append(
                UpdateOne(
                    {"_id": case["_id"], **WITHOUT_END},
                    {"$set": {"ended_at": timeline[-1]["at"] if timeline else None}},
                )
            )
        await rewrite(complaints, writes, context.progress, "backfilled")
