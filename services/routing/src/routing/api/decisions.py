"""Screening decisions, read-only: what routing decided for a complaint number and until when the company must answer
(for the other services and operators' tooling, with their bearer tokens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from greenchannel.problems import Problem
from routing.api.dependencies import CaseReader, Decisions
from routing.domain.screening import Decision

router = APIRouter(prefix="/v1", tags=["decisions"])


@router.get("/decisions/{number}", response_model=Decision, summary="The screening decision on a complaint")
async def get_decision(_: CaseReader, decisions: Decisions, number: Annotated[str, Path(max_length=100)]) -> Decision:
    decision = await decisions.get(number)
    if decision is None:
        raise Problem(404, "decision_not_found", f"Complaint {number!r} has not been screened.")
    return decision
