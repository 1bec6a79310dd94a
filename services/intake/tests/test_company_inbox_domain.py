"""The inbox's rules without a store: working days left (after today up to the due day, negative once late), the
last due day of "due within N working days", and the queries of the filters."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from intake.domain.company_inbox import InboxFilter, inbox_query, last_due_day, working_days_left

pytestmark = pytest.mark.unit

# Monday 2026-12-07 to Friday 2026-12-18, weekends off, Wednesday 2026-12-09 a holiday.
WORKING = frozenset(
    day
    for day in (date(2026, 12, 7) + timedelta(days=offset) for offset in range(12))
    if day.weekday() < 5 and day != date(2026, 12, 9)
)
MONDAY = date(2026, 12, 7)


def test_working_days_left_count_the_days_after_today_and_go_negative_when_late():
    assert working_days_left(MONDAY, MONDAY, WORKING) == 0  # due today: still timely
    assert working_days_left(MONDAY, date(2026, 12, 10), WORKING) == 2  # Tue, (holiday), Thu
    assert working_days_left(MONDAY, date(2026, 12, 13), WORKING) == 3  # the weekend adds nothing
    assert working_days_left(date(2026, 12, 14), date(2026, 12, 10), WORKING) == -2  # Fri and Mon since


def test_due_within_n_working_days_ends_on_the_nth_working_day_from_today():
    assert last_due_day(MONDAY, 1, WORKING) == MONDAY
    assert last_due_day(MONDAY, 3, WORKING) == date(2026, 12, 10)
    assert last_due_day(date(2026, 12, 12), 1, WORKING) == date(2026, 12, 14)  # a Saturday: Monday is the first
    assert last_due_day(MONDAY, 99, WORKING) == date(2026, 12, 18)  # as far as the calendar read reaches


def test_the_filters_query_only_the_company_s_forwarded_complaints():
    plain = inbox_query("c-x", InboxFilter(), today=MONDAY, due_by=None, collective_clusters=None)
    # Forwarded to this company, and not erased (an erased complaint is no longer the company's to see).
    assert plain == {"company_id": "c-x", "forwarded_at": {"$ne": None}, "erased_at": None}
    chosen = InboxFilter(
        status="forwarded",
        category="refund",
        overdue=False,
        appealed=True,
        collective=True,
        due_within=3,
        number="gc-2026",
    )
    query = inbox_query("c-x", chosen, today=MONDAY, due_by=date(2026, 12, 10), collective_clusters=["k2", "k1"])
    conditions = query["$and"]
    assert conditions[0] == {"company_id": "c-x", "forwarded_at": {"$ne": None}, "erased_at": None}
    assert {"overdue": {"$ne": True}} in conditions and {"appeal": {"$ne": None}} in conditions
    assert {"cluster_id": {"$in": ["k1", "k2"]}} in conditions
    assert {
        "status": {"$in": ["forwarded", "info_requested"]},
        "response_due": {"$gte": "2026-12-07", "$lte": "2026-12-10"},
    } in conditions
    assert {"_id": {"$regex": "^GC\\-2026"}} in conditions
