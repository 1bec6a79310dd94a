"""``ended_at`` on every case that ended before the field was recorded: the retention job finds cases by it.

The moment a case ended is its last timeline entry's (the transition into its final state is the last thing that
happens to it). Each case is one conditional update (final, still without the field); a case that has it is left
alone, so the step is idempotent and resumes where it stopped."""

from __future__ import annotations

from greenchannel.migrations import StepContext, batches
from intake.domain.lifecycle import FINAL

WITHOUT_END = {"status": {"$in": sorted(status.value for status in FINAL)}, "ended_at": {"$exists": False}}


async def up(context: StepContext) -> None:
    complaints = context.db["complaints"]
    async for batch in batches(complaints, WITHOUT_END, context.progress, projection={"timeline.at": 1}):
        for case in batch:
            timeline = case.get("timeline") or []
            result = await complaints.update_one(
                {"_id": case["_id"], **WITHOUT_END},
                {"$set": {"ended_at": timeline[-1]["at"] if timeline else None}},
            )
            context.progress.count("backfilled", result.modified_count)
