"""The indexes intake's queries use, as start-up created them before migrations existed (creating an index that
exists is a no-op, so a store that had them is unchanged)."""

from pymongo import ASCENDING

from greenchannel.migrations import StepContext, plumbing_indexes

# The public list's keys as they were when this step was written (intake.adapters.public_records.LIST_KEYS): each
# indexed alone and ascending, since SecantusDB misreads two-sided ranges on a descending index and reads either
# backwards; no index on filing dates, whose ranges SecantusDB would read whole.
PUBLIC_LIST_KEYS = ("order_key", "by_cluster", "by_company_category", "by_company", "by_category", "by_status")
# Collections whose documents carry their own end (``expires_at``), removed by a TTL index.
EXPIRING = ("idempotency_keys", "dead_letters", "rate_limits", "guesses", "upload_budgets", "account_codes")


async def up(context: StepContext) -> None:
    db = context.db
    await plumbing_indexes(db)
    complaints = db["complaints"]
    await complaints.create_index("number", unique=True)
    await complaints.create_index([("status", ASCENDING), ("submitted_at", ASCENDING)])
    await complaints.create_index([("company_id", ASCENDING), ("status", ASCENDING)])
    await complaints.create_index("complainant_key")
    await complaints.create_index([("account_id", ASCENDING), ("submitted_at", ASCENDING)])
    await complaints.create_index([("company_id", ASCENDING), ("submitted_at", ASCENDING)])
    for key in PUBLIC_LIST_KEYS:
        await db["public_records"].create_index([(key, ASCENDING)])
    await db["accounts"].create_index("login_key", unique=True)
    await db["operators"].create_index("login", unique=True)
    await db["api_keys"].create_index("company_id")
    await db["dead_letters"].create_index([("service", 1), ("status", 1), ("taken_at", -1)])
    for name in EXPIRING:
        await db[name].create_index("expires_at", expireAfterSeconds=0)
    await db["feedback"].create_index([("submitted_at", -1), ("_id", -1)])
    await db["feedback"].create_index([("status", 1), ("submitted_at", -1), ("_id", -1)])
    await db["audit_log"].create_index([("at", -1), ("_id", -1)])
    await db["audit_log"].create_index([("complaint", 1), ("at", -1), ("_id", -1)])
    await db["audit_log"].create_index([("operator_id", 1), ("at", -1), ("_id", -1)])
