"""An erasure removes the outbox entries of its complaint: found by the event's subject."""

from greenchannel.migrations import StepContext, outbox_subject_index


async def up(context: StepContext) -> None:
    await outbox_subject_index(context.db)
