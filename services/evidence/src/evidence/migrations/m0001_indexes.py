"""The indexes evidence's queries use, as start-up created them before migrations existed (creating an index that
exists is a no-op, so a store that had them is unchanged)."""

from pymongo import ASCENDING

from greenchannel.migrations import StepContext, plumbing_indexes


async def up(context: StepContext) -> None:
    db = context.db
    await plumbing_indexes(db)
    # Evidence of a complaint in the order received; the clean-up's scan of unattached files by age.
    await db["evidence"].create_index([("number", ASCENDING), ("received_at", ASCENDING)])
    await db["evidence"].create_index([("status", ASCENDING), ("received_at", ASCENDING)])
    # Presigned uploads: those to expire, those whose quarantined object is still to remove, and the record's own end.
    await db["uploads"].create_index([("status", ASCENDING), ("complete_by", ASCENDING)])
    await db["uploads"].create_index([("quarantine_present", ASCENDING), ("status", ASCENDING)])
    await db["uploads"].create_index("purge_at", expireAfterSeconds=0)
