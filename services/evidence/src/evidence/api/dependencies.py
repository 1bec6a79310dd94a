"""FastAPI dependencies: the collaborators the app built at start-up (read from ``app.state``), the internal and the
operator's tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Request

from evidence.core.service import EvidenceService
from evidence.domain.records import COMPLAINT_NUMBER_PATTERN
from greenchannel.bearer import require_bearer, settings_token
from greenchannel.problems import Problem


def get_evidence_service(request: Request) -> EvidenceService:
    return request.app.state.evidence


# Operator-only endpoints take ``Authorization: Bearer <OPERATOR_TOKEN>``; the rest of the API, which only
# intake calls, ``Bearer <INTERNAL_TOKEN>`` (network policies keep others out too: this is the second wall).
require_operator = require_bearer(settings_token("operator_token"), "operator's")
require_internal = require_bearer(settings_token("internal_token"), "internal")


Evidence = Annotated[EvidenceService, Depends(get_evidence_service)]
Operator = Depends(require_operator)
Internal = Depends(require_internal)
ComplaintNumber = Annotated[str, Path(pattern=COMPLAINT_NUMBER_PATTERN, description="The complaint number.")]


def known_format(pattern: str, code: str, what: str) -> Callable[[str], str]:
    """A check of an id in a path: one that cannot exist answers the same 404 as an unknown one."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise Problem(404, code, f"No {what} {value}.")
        return value

    return check
