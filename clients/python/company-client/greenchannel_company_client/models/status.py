from enum import StrEnum


class Status(StrEnum):
    ACCEPTED = "accepted"
    APPEALED = "appealed"
    CLOSED = "closed"
    FORWARDED = "forwarded"
    INFO_REQUESTED = "info_requested"
    REJECTED = "rejected"
    RESPONDED = "responded"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    WITHDRAWN = "withdrawn"

    def __str__(self) -> str:
        return str(self.value)
