"""A company's directory profile (aliases, apps, domains, user base): the company's administrators propose a change,
an operator admin approves it (then routing's directory has it) or rejects it with a note."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from greenchannel.problems import Problem
from intake.api.dependencies import AdminDep, CompanyAdminDep, CompanyDep, IdempotencyKey
from intake.core.company_profile import ChangeNotWaiting, CompanyProfile, DirectoryRefused

router = APIRouter(prefix="/v1", tags=["company staff"])

Name = Annotated[str, Field(min_length=1, max_length=100)]


class ProfileChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    aliases: list[Name] = Field(default_factory=list, max_length=50)
    apps: list[Name] = Field(default_factory=list, max_length=50)
    domains: list[Annotated[str, Field(min_length=3, max_length=253)]] = Field(default_factory=list, max_length=50)
    user_base_millions: float | None = Field(default=None, ge=0)


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=500)


class ChangeView(BaseModel):
    change_id: str
    company_id: str
    proposed: ProfileChange
    status: str = Field(description="pending, approved, rejected, or superseded by a later request.")
    requested_at: str
    decided_at: str | None
    note: str | None


class Profile(BaseModel):
    company: dict[str, Any] = Field(description="The company as the directory has it now.")
    changes: list[ChangeView]


class Changes(BaseModel):
    items: list[ChangeView]


def company_profile(request: Request) -> CompanyProfile:
    return request.app.state.company_profile


ProfileDep = Annotated[CompanyProfile, Depends(company_profile)]


def _not_waiting() -> Problem:
    return Problem(409, "change_not_waiting", "This change is not waiting for a decision (decided or superseded).")


@router.get("/company/profile", response_model=Profile, operation_id="company.profile.read", summary="Your profile")
async def read_profile(profile: ProfileDep, company: CompanyDep) -> dict[str, Any]:
    return await profile.profile(company.id)


@router.post(
    "/company/profile-changes",
    response_model=ChangeView,
    status_code=201,
    operation_id="company.profile.propose",
    summary="Propose aliases, apps, domains and user base; an operator approves (company administrator)",
)
async def propose(
    body: ProfileChange, profile: ProfileDep, administrator: CompanyAdminDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    return await profile.propose(administrator, body.model_dump(), idempotency_key)


@router.get(
    "/ops/company-profile-changes",
    response_model=Changes,
    tags=["operators"],
    summary="Companies' profile changes waiting for a decision, oldest first (admin)",
)
async def waiting(profile: ProfileDep, _: AdminDep, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    return {"items": await profile.waiting(limit)}


@router.post(
    "/ops/company-profile-changes/{change_id}/approve",
    response_model=ChangeView,
    tags=["operators"],
    summary="Approve a profile change: the directory takes it (admin)",
)
async def approve(change_id: str, profile: ProfileDep, admin: AdminDep) -> dict[str, Any]:
    try:
        return await profile.approve(change_id, admin)
    except ChangeNotWaiting:
        raise _not_waiting() from None
    except DirectoryRefused as refused:
        raise Problem(
            422, "directory_refused", "The directory refused the change; reject it with a note.", answer=refused.answer
        ) from None


@router.post(
    "/ops/company-profile-changes/{change_id}/reject",
    response_model=ChangeView,
    tags=["operators"],
    summary="Reject a profile change with a note the company reads (admin)",
)
async def reject(change_id: str, body: Rejection, profile: ProfileDep, admin: AdminDep) -> dict[str, Any]:
    try:
        return await profile.reject(change_id, admin, body.note)
    except ChangeNotWaiting:
        raise _not_waiting() from None
