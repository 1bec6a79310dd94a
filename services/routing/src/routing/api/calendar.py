"""The working-day calendar routing counts deadlines by, for the other services: which days in a range are working
days (the official schedule with its make-up days and the configured overrides). Public data, like the directory:
intake counts a company's days left on the same calendar the deadlines were set by."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from greenchannel.problems import Problem
from routing.api.dependencies import WorkingCalendar

router = APIRouter(prefix="/v1", tags=["calendar"])

# A year and a little: what a client may ask at once (each day is one lookup).
MAX_RANGE_DAYS = 400


class WorkingDays(BaseModel):
    start: date
    end: date
    working_days: list[date]


@router.get("/calendar/working-days", response_model=WorkingDays, summary="The working days from start to end")
async def working_days(
    calendar: WorkingCalendar,
    start: Annotated[date, Query(description="The first day (China), included.")],
    end: Annotated[date, Query(description="The last day (China), included.")],
) -> WorkingDays:
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise Problem(422, "invalid_range", f"Ask for a range of at most {MAX_RANGE_DAYS} days, end not before start.")
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return WorkingDays(start=start, end=end, working_days=[day for day in days if calendar.is_working_day(day)])
