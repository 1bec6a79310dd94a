"""The audit log searched by action (the console's audit page): every operator action is an entry now, not only
disclosures."""

from greenchannel.migrations import StepContext


async def up(context: StepContext) -> None:
    await context.db["audit_log"].create_index([("action", 1), ("at", -1), ("_id", -1)])
