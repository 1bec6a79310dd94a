"""What erasure looks up: the files whose removal storage refused (an object lock) and is to be tried again, and the
outbox entries of one complaint."""

from pymongo import ASCENDING

from greenchannel.migrations import StepContext, outbox_subject_index


async def up(context: StepContext) -> None:
    await context.db["evidence"].create_index([("erasure_retry_at", ASCENDING)])
    await outbox_subject_index(context.db)
