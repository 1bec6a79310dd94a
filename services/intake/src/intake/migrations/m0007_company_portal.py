"""The company portal's collections: staff accounts (one per e-mail address, listed per company), invitations
(removed once expired), a complaint's handling within its company (by assignee) and the profile changes operators
approve (a company's own, and the queue of those waiting)."""

from greenchannel.migrations import StepContext


async def up(context: StepContext) -> None:
    db = context.db
    await db["company_staff"].create_index("email_key", unique=True)
    await db["company_staff"].create_index([("company_id", 1), ("created_at", 1)])
    await db["company_invitations"].create_index("expires_at", expireAfterSeconds=0)
    await db["company_invitations"].create_index([("company_id", 1), ("created_at", 1)])
    await db["company_handling"].create_index([("company_id", 1), ("assignee", 1)])
    await db["company_profile_changes"].create_index([("company_id", 1), ("requested_at", -1)])
    await db["company_profile_changes"].create_index([("status", 1), ("requested_at", 1)])
