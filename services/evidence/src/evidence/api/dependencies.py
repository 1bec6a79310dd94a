"""FastAPI dependencies: the collaborators the app built at start-up, read from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from evidence.domain.records import COMPLAINT_NUMBER_PATTERN
from evidence.service import EvidenceService


def get_evidence_service(request: Request) -> EvidenceService:
    return request.app.state.evidence


Evidence = Annotated[EvidenceService, Depends(get_evidence_service)]
ComplaintNumber = Annotated[str, Path(pattern=COMPLAINT_NUMBER_PATTERN, description="The complaint number.")]
