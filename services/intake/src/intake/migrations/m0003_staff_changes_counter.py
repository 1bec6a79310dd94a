"""The one document every change of a staff account increments (``Identities.staff_changes``): two changes at once
then conflict, and the retried one sees the other's effect. Start-up created it before migrations existed; an
increment of a missing document matches nothing and would conflict with nothing."""

from greenchannel.migrations import StepContext
from intake.adapters.identities import STAFF_CHANGES


async def up(context: StepContext) -> None:
    await context.db["staff_changes"].update_one({"_id": STAFF_CHANGES}, {"$setOnInsert": {"count": 0}}, upsert=True)
