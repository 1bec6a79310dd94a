"""The Chinese working-day calendar that response deadlines are counted on.

Official holidays and the 调休 make-up working days (Saturdays or Sundays worked in exchange for a
longer holiday) come from the ``chinese-calendar`` package, which carries the State Council's
yearly schedules. Its data stops at the last published year; for a later year the calendar falls
back to Monday-Friday plus the holidays and make-up days configured for it, logs a warning once per
year, and never fails. Configured days win over the package in every year, so a late change to the
official schedule can be applied without a release.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

# Deadlines are counted in the platform's (and the complainants') local time.
SHANGHAI = ZoneInfo("Asia/Shanghai")

OfficialCalendar = Callable[[date], bool]


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in Asia/Shanghai; ``moment`` must carry its time zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a time without a time zone has no calendar date")
    return moment.astimezone(SHANGHAI).date()


class WorkingDayCalendar:
    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        *,
        official: OfficialCalendar = chinese_calendar.is_workday,
    ) -> None:
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        both = self.extra_holidays & self.extra_workdays
        if both:
            listed = ", ".join(sorted(day.isoformat() for day in both))
            raise ValueError(f"configured both as holiday and as working day: {listed}")
        self._official = official
        self._fallback_years_warned: set[int] = set()

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        try:
            return self._official(day)
        except NotImplementedError:
            # The package raises this for a year it has no schedule for.
            self._warn_fallback(day.year)
            return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; ``start`` itself never counts (n = 0 gives ``start``)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        remaining = n
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in the interval (a, b]: ``working_days_between(a, add_working_days(a, n)) == n``.

        Negative when ``b`` is before ``a``.
        """
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        day = a
        while day < b:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def _warn_fallback(self, year: int) -> None:
        if year in self._fallback_years_warned:
            return
        self._fallback_years_warned.add(year)
        log.warning(
            "no official holiday schedule for %d in chinese-calendar: counting Monday-Friday plus the configured "
            "holidays (%d) and make-up working days (%d) of that year",
            year,
            sum(1 for day in self.extra_holidays if day.year == year),
            sum(1 for day in self.extra_workdays if day.year == year),
        )
