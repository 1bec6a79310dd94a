"""What retention and erasure look up: cases ended before the cutoff and erasures due (complaints), accounts whose
erasure is due, the dead letters and outbox entries of one complaint (by the event's subject, its number)."""

from pymongo import ASCENDING

from greenchannel.migrations import StepContext, outbox_subject_index


async def up(context: StepContext) -> None:
    db = context.db
    await db["complaints"].create_index([("ended_at", ASCENDING)])
    await db["complaints"].create_index([("erasure_due_at", ASCENDING)])
    await db["accounts"].create_index("erasure_due_at")
    await db["dead_letters"].create_index("subject")
    await outbox_subject_index(db)
