"""The SLA clocks of a complaint, and the operator's handle on the watchdog (run one pass now)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from greenchannel.contracts import CloudEvent
from greenchannel.problems import Problem
from routing.api.dependencies import CaseReader, Clocks, Operator, WatchdogDependency
from routing.domain.clock import Clock

router = APIRouter(prefix="/v1", tags=["sla"])


class ComplaintClocks(BaseModel):
    number: str
    clocks: list[Clock] = Field(description="The response clock and, after an appeal, the appeal clock.")


class WatchdogPassAnswer(BaseModel):
    checked_at: datetime = Field(description="The time the pass decided at.")
    published: list[CloudEvent] = Field(description="The events the pass raised (published through the outbox).")


@router.get("/clocks/{number}", response_model=ComplaintClocks, summary="The SLA clocks of a complaint")
async def get_clocks(_: CaseReader, clocks: Clocks, number: Annotated[str, Path(max_length=100)]) -> ComplaintClocks:
    found = await clocks.for_complaint(number)
    if not found:
        raise Problem(404, "clocks_not_found", f"Complaint {number!r} has no SLA clock (it was not forwarded).")
    return ComplaintClocks(number=number, clocks=found)


@router.post("/watchdog/run", response_model=WatchdogPassAnswer, summary="Run one watchdog pass now (operators)")
async def run_watchdog(_: Operator, watchdog: WatchdogDependency) -> WatchdogPassAnswer:
    outcome = await watchdog.run_once()
    return WatchdogPassAnswer(checked_at=outcome.checked_at, published=outcome.published)
