"""The company's own handling of a complaint forwarded to it: whom of its staff it is assigned to, and internal notes
only the company sees (never the complainant, the public or the statistics). Another company's complaint answers 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from greenchannel.problems import Problem
from intake.api.dependencies import (
    CompanyActorDep,
    CompanyDep,
    CompanyHandlingDep,
    IdempotencyKey,
    IntakeDep,
    case_for,
)
from intake.core.company_handling import AssigneeRefused
from intake.domain.filing import free_text

router = APIRouter(prefix="/v1/company/complaints/{number}", tags=["company"])


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: Annotated[str | None, Field(pattern=r"^[0-9a-f]{32}$", description="Null: assigned to nobody.")]


class NewNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: free_text(min_length=1, max_length=2000)  # type: ignore[valid-type]


class Person(BaseModel):
    staff_id: str
    name: str | None


class Note(BaseModel):
    note_id: str
    at: str
    by: Person | None = Field(description="Null for a note written with an API key.")
    text: str


class Handling(BaseModel):
    assignee: Person | None
    notes: list[Note]


class NoteAdded(BaseModel):
    note_id: str


@router.get(
    "/handling",
    response_model=Handling,
    operation_id="company.complaints.handling",
    summary="Whom the complaint is assigned to, and the company's internal notes",
)
async def read_handling(number: str, intake: IntakeDep, handling: CompanyHandlingDep, company: CompanyDep) -> dict:
    await case_for(intake, number, company, None)
    return await handling.read(company.id, number)


@router.put(
    "/assignee",
    response_model=Handling,
    operation_id="company.complaints.assign",
    summary="Assign the complaint to a colleague who handles complaints (or to nobody)",
)
async def assign(
    number: str, body: Assignment, intake: IntakeDep, handling: CompanyHandlingDep, company: CompanyActorDep
) -> dict[str, Any]:
    await case_for(intake, number, company, None)
    try:
        return await handling.assign(company, number, body.staff_id)
    except AssigneeRefused:
        raise Problem(
            422, "assignee_refused", "Assign the complaint to an enabled administrator or handler of your company."
        ) from None


@router.post(
    "/notes",
    response_model=NoteAdded,
    status_code=201,
    operation_id="company.complaints.add_note",
    summary="Add an internal note only the company sees",
)
async def add_note(
    number: str,
    body: NewNote,
    intake: IntakeDep,
    handling: CompanyHandlingDep,
    company: CompanyActorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    await case_for(intake, number, company, None)
    return await handling.add_note(company, number, body.text, idempotency_key)
