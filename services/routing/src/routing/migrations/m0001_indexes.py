"""The indexes routing's queries use, as start-up created them before migrations existed (creating an index that
exists is a no-op, so a store that had them is unchanged)."""

from pymongo import ASCENDING, DESCENDING

from greenchannel.migrations import StepContext, plumbing_indexes


async def up(context: StepContext) -> None:
    db = context.db
    await plumbing_indexes(db)
    # The directory's resolution by name, alias, app or domain.
    await db["companies"].create_index("match_keys")
    # The watchdog's due clocks; a complaint's clocks.
    await db["clocks"].create_index([("next_check_at", ASCENDING), ("lease_until", ASCENDING)])
    await db["clocks"].create_index([("number", ASCENDING), ("kind", ASCENDING)])
    # Duplicates (same complainant and company in the window), LSH candidates by band, a cluster's members, pruning.
    signatures = db["signatures"]
    await signatures.create_index(
        [("complainant_key", ASCENDING), ("company_id", ASCENDING), ("submitted_at", ASCENDING)]
    )
    await signatures.create_index([("company_id", ASCENDING), ("bands", ASCENDING), ("submitted_at", ASCENDING)])
    await signatures.create_index([("cluster_id", ASCENDING), ("submitted_at", ASCENDING)])
    await signatures.create_index([("submitted_at", ASCENDING)])
    await db["clusters"].create_index([("company_id", ASCENDING), ("formed_at", DESCENDING)])
