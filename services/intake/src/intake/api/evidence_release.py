"""Operator API for held evidence: files whose metadata could not be removed reach the company only once an
operator released them (:mod:`intake.core.evidence_release`); the queue of those still held."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict

from intake.api.dependencies import IntakeDep, OperatorDep
from intake.api.schemas import EvidenceReleased, HeldEvidencePage
from intake.core.evidence_release import EvidenceRelease
from intake.domain.filing import free_text

router = APIRouter(prefix="/v1/ops", tags=["operators"])

EVIDENCE_ID = r"^[0-9a-f]{32}$"


def evidence_release(intake: IntakeDep) -> EvidenceRelease:
    return EvidenceRelease(intake.evidence, intake.cases, intake.transactions, intake.audit)


EvidenceReleaseDep = Annotated[EvidenceRelease, Depends(evidence_release)]


class ReleaseNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: free_text(min_length=2, max_length=2000)  # type: ignore[valid-type]


@router.post(
    "/complaints/{number}/evidence/{evidence_id}/release",
    response_model=EvidenceReleased,
    summary="Let a held file (its metadata could not be removed) go to the company, with a note; idempotent",
    responses={
        404: {"description": "No such complaint or no such file on it."},
        409: {"description": "The file is not held (evidence_not_held)."},
    },
)
async def release_evidence(
    number: str,
    evidence_id: Annotated[str, Path(pattern=EVIDENCE_ID)],
    body: ReleaseNote,
    operator: OperatorDep,
    release: EvidenceReleaseDep,
) -> dict[str, Any]:
    return await release.release(number, evidence_id, operator, body.note)


@router.get(
    "/evidence/held",
    response_model=HeldEvidencePage,
    summary="Files held from the companies until an operator releases them, oldest first",
)
async def held_evidence(
    _: OperatorDep,
    release: EvidenceReleaseDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(pattern=EVIDENCE_ID)] = None,
) -> dict[str, Any]:
    return await release.held(limit, cursor)
