"""Operator API: resolve a complaint whose company routing could not find (the ``company_review`` queue)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StringConstraints

from intake.api.deps import IdempotencyKey, IntakeDep, OperatorDep
from intake.core.company_review import resolve_company
from intake.domain.filing import free_text

router = APIRouter(prefix="/v1/ops", tags=["operators"])


class CompanyResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    note: free_text(max_length=2000) = ""  # type: ignore[valid-type]


@router.post(
    "/complaints/{number}/resolve-company",
    summary="Resolve a complaint under review to a directory company: it is accepted and forwarded to it",
)
async def resolve(
    number: str,
    body: CompanyResolution,
    intake: IntakeDep,
    operator: OperatorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await resolve_company(intake, number, body.company_id, body.note, operator, idempotency_key)
