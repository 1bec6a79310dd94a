"""Routing's settings: the shared ones plus the working-day calendar's fallback and the response period.

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
    response_working_days: int = Field(default=10, ge=1, le=60)
