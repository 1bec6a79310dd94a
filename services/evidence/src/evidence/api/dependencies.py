"""FastAPI dependencies: the collaborators the app built at start-up (read from ``app.state``), the operator's token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from greenchannel.bearer import require_bearer, settings_token

from evidence.domain.records import COMPLAINT_NUMBER_PATTERN
from evidence.service import EvidenceService


def get_evidence_service(request: Request) -> EvidenceService:
    return request.app.state.evidence


# Operator-only endpoints take ``Authorization: Bearer <OPERATOR_TOKEN>``.
require_operator = require_bearer(settings_token("operator_token"), "operator's")


Evidence = Annotated[EvidenceService, Depends(get_evidence_service)]
Operator = Depends(require_operator)
ComplaintNumber = Annotated[str, Path(pattern=COMPLAINT_NUMBER_PATTERN, description="The complaint number.")]
