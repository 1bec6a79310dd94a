"""The integration events a case publishes, built from the case file in one place."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from greenchannel.contracts import ComplainantContact, ComplaintAccepted, EvidenceRef


def accepted(case: dict[str, Any], *, accepted_at: datetime, response_due: date | None = None,
             redirected_from: str | None = None) -> ComplaintAccepted:
    """What the company receives when the complaint is forwarded to it: no full identity data."""
    return ComplaintAccepted(
        number=case["number"], company_id=case["company_id"], company_name=case["company_name"],
        category=case["category"], title=case["title"], description=case["description"],
        occurred_on=date.fromisoformat(case["occurred_on"]), desired_outcome=case["desired_outcome"],
        complainant=ComplainantContact(name=case["complainant_masked"]["name"], phone=case["complainant_masked"]["phone"]),
        evidence=[EvidenceRef(**ref) for ref in case["evidence"]],
        response_due=response_due, accepted_at=accepted_at, redirected_from=redirected_from,
    )
