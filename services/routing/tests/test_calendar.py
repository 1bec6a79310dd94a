"""The working-day calendar: official 2026 holidays with their make-up days (from chinese-calendar) and the configured fallback."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from routing.domain.calendar import WorkingDayCalendar, local_date

pytestmark = pytest.mark.unit

calendar = WorkingDayCalendar()


def test_spring_festival_2026_holidays_and_make_up_saturdays():
    assert all(not calendar.is_working_day(date(2026, 2, 15) + timedelta(days=i)) for i in range(9))  # 15..23
    assert calendar.is_working_day(date(2026, 2, 14))  # Saturday worked (调休)
    assert calendar.is_working_day(date(2026, 2, 28))  # Saturday worked (调休)
    assert calendar.is_working_day(date(2026, 2, 24))
    assert not calendar.is_working_day(date(2026, 3, 1))  # an ordinary Sunday


def test_deadline_across_spring_festival_2026():
    # Thu 12 Feb: 13, 14 (Sat), 24, 25, 26, 27, 28 (Sat), 2 Mar, 3 Mar, 4 Mar.
    assert calendar.add_working_days(date(2026, 2, 12), 10) == date(2026, 3, 4)
    assert calendar.working_days_between(date(2026, 2, 12), date(2026, 3, 4)) == 10


def test_deadline_starting_the_day_before_the_holiday():
    # Sat 14 Feb is the last working day before the holiday; the screening day itself does not count.
    assert calendar.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert calendar.add_working_days(date(2026, 2, 14), 10) == date(2026, 3, 6)
    assert calendar.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2


def test_national_day_2026_with_make_up_days():
    assert all(not calendar.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert calendar.is_working_day(date(2026, 9, 20))  # Sunday worked
    assert calendar.is_working_day(date(2026, 10, 10))  # Saturday worked
    assert not calendar.is_working_day(date(2026, 9, 25))  # Mid-Autumn Festival, a Friday
    assert calendar.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    assert calendar.add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)
    # Wed 30 Sep: 8, 9, 10 (Sat), 12, 13, 14, 15, 16, 19, 20 Oct.
    assert calendar.add_working_days(date(2026, 9, 30), 10) == date(2026, 10, 20)
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1


def test_counting_is_consistent_both_ways():
    start = date(2026, 1, 1)
    for offset in range(0, 365, 7):
        day = start + timedelta(days=offset)
        for n in (0, 1, 10):
            assert calendar.working_days_between(day, calendar.add_working_days(day, n)) == n
    assert calendar.working_days_between(date(2026, 3, 4), date(2026, 2, 12)) == -10
    with pytest.raises(ValueError, match="must not be negative"):
        calendar.add_working_days(date(2026, 1, 5), -1)


def test_uncovered_year_falls_back_to_weekends_and_configured_days(caplog):
    fallback = WorkingDayCalendar(extra_holidays=[date(2027, 1, 1)], extra_workdays=[date(2027, 1, 9)])
    caplog.set_level(logging.WARNING, logger="routing.domain.calendar")
    # Thu 31 Dec 2026 (covered) -> Fri 1 Jan 2027 configured holiday, weekend -> Mon 4 Jan.
    assert fallback.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert fallback.is_working_day(date(2027, 1, 9))  # a configured make-up Saturday
    assert not fallback.is_working_day(date(2027, 1, 10))  # an ordinary Sunday
    # Mon 4 Jan: 5, 6, 7, 8, 9 (Sat), 11, 12, 13, 14, 15.
    assert fallback.add_working_days(date(2027, 1, 4), 10) == date(2027, 1, 15)
    warnings = [r for r in caplog.records if r.name == "routing.domain.calendar" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, "warned once per year"
    assert "2027" in warnings[0].getMessage()
    # Without configuration the fallback is plain Monday-Friday, not an error.
    assert WorkingDayCalendar().add_working_days(date(2027, 12, 30), 2) == date(2028, 1, 3)


def test_configured_days_override_the_official_schedule():
    overridden = WorkingDayCalendar(extra_holidays=[date(2026, 3, 2)], extra_workdays=[date(2026, 3, 1)])
    assert not overridden.is_working_day(date(2026, 3, 2))
    assert overridden.is_working_day(date(2026, 3, 1))
    with pytest.raises(ValueError, match="2026-03-02"):
        WorkingDayCalendar(extra_holidays=[date(2026, 3, 2)], extra_workdays=[date(2026, 3, 2)])


def test_local_date_is_the_date_in_shanghai():
    assert local_date(datetime(2026, 2, 13, 17, 30, tzinfo=UTC)) == date(2026, 2, 14)
    assert local_date(datetime(2026, 2, 13, 15, 59, tzinfo=UTC)) == date(2026, 2, 13)
    with pytest.raises(ValueError, match="without a time zone"):
        local_date(datetime(2026, 2, 13, 12, 0))  # noqa: DTZ001 - a naive time is what is refused
