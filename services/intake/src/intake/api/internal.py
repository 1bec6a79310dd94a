"""Internal API for the other services (``Authorization: Bearer INTERNAL_TOKEN``), served only on the internal
listener (``main.py`` gives it to ``make_app(internal=...)``), never on the public port.

notification asks for a complainant's contact details at the moment it sends an e-mail or SMS, so
that no event and no other service's store ever holds them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from greenchannel.bearer import require_bearer
from greenchannel.problems import Problem
from intake.api.dependencies import IntakeDep
from intake.api.schemas import ContactDetails

router = APIRouter(prefix="/internal/v1", tags=["internal"])


internal_caller = require_bearer(lambda request: request.app.state.intake.settings.internal_token, "internal")


@router.get("/complaints/{number}/contact", response_model=ContactDetails, dependencies=[Depends(internal_caller)])
async def contact(number: str, intake: IntakeDep) -> dict[str, Any]:
    case = await intake.cases.get(number) if len(number) <= 40 else None
    # An erased complaint has no contact left to give.
    if case is None or case.get("complainant") is None:
        raise Problem(404, "complaint_not_found", "No such complaint.")
    sealed = case["complainant"]
    return {
        "email": intake.cipher.decrypt("email", sealed["email"]) if sealed.get("email") else None,
        "phone": intake.cipher.decrypt("phone", sealed["phone"]),
    }
