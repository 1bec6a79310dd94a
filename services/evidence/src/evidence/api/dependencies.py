"""FastAPI dependencies: the collaborators the app built at start-up (read from ``app.state``), the operator's token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from greenchannel.problems import Problem

from evidence.domain.records import COMPLAINT_NUMBER_PATTERN
from evidence.service import EvidenceService


def get_evidence_service(request: Request) -> EvidenceService:
    return request.app.state.evidence


def require_operator(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Operator-only endpoints take ``Authorization: Bearer <OPERATOR_TOKEN>`` (operator accounts come later)."""
    expected = request.app.state.settings.operator_token.get_secret_value()
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise Problem(401, "unauthorized", "This endpoint needs the operator's bearer token.",
                      headers={"WWW-Authenticate": "Bearer"})


Evidence = Annotated[EvidenceService, Depends(get_evidence_service)]
Operator = Depends(require_operator)
ComplaintNumber = Annotated[str, Path(pattern=COMPLAINT_NUMBER_PATTERN, description="The complaint number.")]
