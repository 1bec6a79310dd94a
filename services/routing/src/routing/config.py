"""Routing's settings: the shared ones plus the working-day calendar's fallback, the SLA clocks and the watchdog.

``CALENDAR_EXTRA_HOLIDAYS`` / ``CALENDAR_EXTRA_WORKDAYS`` are JSON lists of ISO dates, e.g.
``["2027-01-01"]``. They supply the official schedule for years chinese-calendar does not cover yet,
and override it where they name a day of a covered year.
"""

from datetime import date

from greenchannel.settings import ServiceSettings
from pydantic import Field


class Settings(ServiceSettings):
    service_name: str = "routing"
    calendar_extra_holidays: list[date] = Field(default_factory=list)
    calendar_extra_workdays: list[date] = Field(default_factory=list)
    # The company's answer is due this many working days after forwarding (and after a re-forwarding
    # that names no period of its own).
    response_working_days: int = Field(default=10, ge=1, le=60)
    # Platform mediation after an appeal is due this many working days after the appeal.
    appeal_working_days: int = Field(default=10, ge=1, le=60)
    # sla.reminder when a response clock has counted this many working days.
    reminder_working_day: int = Field(default=7, ge=1, le=60)
    # Calendar days after the company's answer without rating or appeal before intake auto-closes.
    quiet_period_days: int = Field(default=15, ge=1, le=365)
    watchdog_interval_s: float = Field(default=60.0, gt=0)
    # How long a watchdog pass holds a clock it claimed; a replica that dies leaves the lease to run out.
    watchdog_lease_s: float = Field(default=30.0, gt=0)
    operator_token: str = Field(default="dev-operator-token", min_length=1)
