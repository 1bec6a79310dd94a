"""A company's inbox: which complaints a filter selects, and how many working days each has left to answer.

Working days are routing's (the Chinese calendar with its make-up days), handed in as the set of working days
around today; the count of days left is what routing's deadline means: ten on the day of forwarding, none on the due
day (the answer is still timely that day), negative once it passed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from intake.domain.statistics import CHINA

# The states in which the company's clock runs or waits on the complainant: the deadline still means something.
ANSWER_PENDING = ("forwarded", "info_requested")
# How far around today the calendar is read: due dates of open complaints lie within it (10 working days from
# forwarding, paused while waiting, 10 more for a re-forwarded appeal), overdue ones within their publication delay.
CALENDAR_BEHIND_DAYS = 90
CALENDAR_AHEAD_DAYS = 120
# A company can ask for complaints due within this many working days at most (a month and a half).
MAX_DUE_WITHIN = 30
NUMBER_PREFIX = re.compile(r"^[A-Za-z0-9-]{1,40}$")
# The columns of the inbox's CSV export, in order.
CSV_COLUMNS = (
    "number",
    "status",
    "category",
    "title",
    "submitted_at",
    "forwarded_at",
    "response_due",
    "working_days_left",
    "overdue",
    "appealed",
    "collective",
)


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None
    category: str | None = None
    overdue: bool | None = None
    appealed: bool | None = None
    collective: bool | None = None
    due_within: int | None = None  # working days from today, today included
    number: str | None = None  # the start of a complaint number
    submitted_from: date | None = None  # China's calendar days, both included
    submitted_to: date | None = None


def calendar_window(today: date) -> tuple[date, date]:
    return today - timedelta(days=CALENDAR_BEHIND_DAYS), today + timedelta(days=CALENDAR_AHEAD_DAYS)


def working_days_left(today: date, due: date, working_days: Collection[date]) -> int:
    """Working days after today up to the due day, as routing counts a deadline (10 on the day of forwarding, 0 on
    the due day itself); after the due day, the negative count of working days it is late by."""
    if due >= today:
        return sum(1 for day in working_days if today < day <= due)
    return -sum(1 for day in working_days if due < day <= today)


def last_due_day(today: date, within: int, working_days: Collection[date]) -> date:
    """The last due day among complaints due within ``within`` working days, today counting as the first."""
    ahead = sorted(day for day in working_days if day >= today)
    if not ahead:
        return today
    return ahead[min(within, len(ahead)) - 1] if within > 0 else today - timedelta(days=1)


def inbox_query(
    company_id: str,
    chosen: InboxFilter,
    *,
    today: date,
    due_by: date | None,
    collective_clusters: Collection[str] | None,
) -> dict[str, Any]:
    """The store query of a filter. ``due_by`` is :func:`last_due_day` for ``due_within``; ``collective_clusters``
    the company's collective clusters, for ``collective``."""
    # An erased complaint is the company's no more: its public record says what stays.
    conditions: list[dict[str, Any]] = [{"company_id": company_id, "forwarded_at": {"$ne": None}, "erased_at": None}]
    if chosen.status is not None:
        conditions.append({"status": chosen.status})
    if chosen.category is not None:
        conditions.append({"category": chosen.category})
    if chosen.overdue is not None:
        conditions.append({"overdue": True} if chosen.overdue else {"overdue": {"$ne": True}})
    if chosen.appealed is not None:
        conditions.append({"appeal": {"$ne": None}} if chosen.appealed else {"appeal": None})
    if chosen.collective is not None:
        clusters = sorted(collective_clusters or ())
        conditions.append(
            {"cluster_id": {"$in": clusters}} if chosen.collective else {"cluster_id": {"$nin": clusters}}
        )
    if chosen.due_within is not None and due_by is not None:
        conditions.append(
            {
                "status": {"$in": list(ANSWER_PENDING)},
                "response_due": {"$gte": today.isoformat(), "$lte": due_by.isoformat()},
            }
        )
    window: dict[str, datetime] = {}
    if chosen.submitted_from is not None:
        window["$gte"] = datetime.combine(chosen.submitted_from, time.min, CHINA)
    if chosen.submitted_to is not None:
        window["$lt"] = datetime.combine(chosen.submitted_to + timedelta(days=1), time.min, CHINA)
    if window:
        conditions.append({"submitted_at": window})
    if chosen.number is not None:
        conditions.append({"_id": {"$regex": f"^{re.escape(chosen.number.upper())}"}})
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}
