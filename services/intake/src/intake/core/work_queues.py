"""The operators' work queues, counted for the console's dashboard and listed page by page: appeals to
mediate, overdue complaints, rule rejections to review, complaints routing has not screened, those waiting for
a company to be chosen, open members of collective complaints, and today's breaches of the response deadline.

Each queue is one query of the case file; the collective one first asks which clusters count as collective
complaints (the public records keep that), today's breaches start at midnight China time.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from intake.adapters.case_store import CaseStore
from intake.adapters.public_records import PublicRecords
from intake.domain.lifecycle import OPEN, TRANSITIONS, Action, Status
from intake.domain.statistics import CHINA

OPEN_STATES = sorted(status.value for status in OPEN)
QUEUES: dict[str, dict[str, Any]] = {
    "appeals": {"status": Status.APPEALED.value},
    "overdue": {"overdue": True, "status": {"$in": [Status.FORWARDED.value, Status.INFO_REQUESTED.value]}},
    # An erased rejection has nothing left to review (nor a title to list).
    "rejected": {
        "status": Status.REJECTED.value,
        "rejection.reason": {"$ne": None},
        "reviewed": {"$ne": True},
        "erased_at": None,
    },
    "unscreened": {"status": Status.SUBMITTED.value},
    "company_review": {"status": Status.UNDER_REVIEW.value},
}
# Queues whose query is made at the time of asking.
COMPUTED = ("collective", "breached_today")
KINDS = (*QUEUES, *COMPUTED)
# The actions an operator takes on a case (the operator API's routes), by the lifecycle action they apply.
OPERATOR_ACTIONS = {
    "reforward": Action.REFORWARD,
    "close": Action.CLOSE,
    "redirect": Action.REDIRECT,
    "accept": Action.OVERRIDE_ACCEPT,
    "reject": Action.REJECT,
    "resolve_company": Action.RESOLVE_COMPANY,
}


def allowed_actions(case: dict[str, Any]) -> list[str]:
    """What an operator may do to ``case`` in its state, as the lifecycle allows it: the console offers these."""
    status = Status(case["status"])
    allowed = [name for name, action in OPERATOR_ACTIONS.items() if status in TRANSITIONS[action][0]]
    if status is Status.REJECTED and (case.get("rejection") or {}).get("reason") and not case.get("reviewed"):
        allowed.append("review")
    return allowed


def start_of_today() -> datetime:
    """Midnight of today in China, as a UTC time."""
    return datetime.combine(datetime.now(CHINA).date(), time(), tzinfo=CHINA).astimezone(UTC)


class WorkQueues:
    def __init__(self, cases: CaseStore, records: PublicRecords) -> None:
        self.cases = cases
        self.records = records

    async def query(self, kind: str) -> dict[str, Any]:
        if kind in QUEUES:
            return QUEUES[kind]
        if kind == "collective":
            return {"cluster_id": {"$in": await self.records.collective_cluster_ids()}, "status": {"$in": OPEN_STATES}}
        if kind == "breached_today":
            # The overdue queue narrowed to the cases whose flag routing's watchdog raised today (its timeline
            # entry): the status index and the flag keep the timelines read to the overdue cases.
            return {
                **QUEUES["overdue"],
                "timeline": {"$elemMatch": {"action": "overdue", "at": {"$gte": start_of_today()}}},
            }
        raise KeyError(kind)

    async def page(self, kind: str, *, limit: int, after: tuple[datetime, str] | None) -> list[dict[str, Any]]:
        return await self.cases.page(await self.query(kind), limit=limit, after=after)

    async def counts(self) -> dict[str, int]:
        return {kind: await self.cases.count(await self.query(kind)) for kind in KINDS}
