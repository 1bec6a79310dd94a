"""The indexes notification's queries use, as start-up created them before migrations existed (creating an index
that exists is a no-op, so a store that had them is unchanged)."""

from pymongo import ASCENDING, DESCENDING

from greenchannel.migrations import StepContext, plumbing_indexes


async def up(context: StepContext) -> None:
    db = context.db
    await plumbing_indexes(db)
    # The delivery worker's due attempts, a company's deliveries by status, a complaint's, the log newest first,
    # and the retention of delivery records with their payload.
    deliveries = db["deliveries"]
    await deliveries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
    await deliveries.create_index([("company_id", ASCENDING), ("status", ASCENDING)])
    await deliveries.create_index([("number", ASCENDING)])
    await deliveries.create_index([("created_at", DESCENDING)])
    await deliveries.create_index("body_expires_at", expireAfterSeconds=0)
    # The inbox of complaints newest first, and the retention of messages.
    await db["messages"].create_index([("number", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)])
    await db["messages"].create_index("expires_at", expireAfterSeconds=0)
    # The dispatch job's due sends, a complaint's dispatches, a message's.
    await db["dispatches"].create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
    await db["dispatches"].create_index([("number", ASCENDING)])
    await db["dispatches"].create_index([("message_id", ASCENDING)])
    # One open alert per key; the alerts newest first, by kind, by company.
    alerts = db["operator_alerts"]
    await alerts.create_index([("key", ASCENDING)], unique=True)
    await alerts.create_index([("created_at", DESCENDING), ("_id", DESCENDING)])
    await alerts.create_index([("kind", ASCENDING), ("created_at", DESCENDING)])
    await alerts.create_index([("company_id", ASCENDING), ("created_at", DESCENDING)])
