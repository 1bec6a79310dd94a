"""The screening decision on a submitted complaint: accepted for a known company with a response deadline, or rejected.

The company has ``response_working_days`` (``RESPONSE_WORKING_DAYS``, 10, by default) to answer, counted from the
day after screening on the Chinese working-day calendar (the screening day itself does not count). A complaint that
nearly repeats one the same complainant filed against the same company shortly before (``domain/similarity.py``)
is rejected as a ``duplicate`` with the original's number. A company named only by a name the directory
does not resolve (no match, or more than one) goes to the operators' review (``company_unresolved``)
rather than being rejected: the filing form promises that; a company id the directory does not know is a
wrong reference, rejected as before.
"""

from __future__ import annotations

from datetime import datetime

from greenchannel.contracts import ComplaintScreened
from routing.domain.calendar import WorkingDayCalendar, local_date
from routing.domain.clock import RESPONSE_WORKING_DAYS
from routing.domain.directory import Resolution

REJECT_COMPANY_UNKNOWN = "company_unknown"
REJECT_DUPLICATE = "duplicate"
UNRESOLVED = "company_unresolved"


# The decision is exactly what the published contract carries: one model serves both.
Decision = ComplaintScreened


def decide(
    number: str,
    resolution: Resolution,
    category: str,
    *,
    screened_at: datetime,
    calendar: WorkingDayCalendar,
    response_working_days: int = RESPONSE_WORKING_DAYS,
    review_unresolved: bool = False,
) -> Decision:
    """``review_unresolved``: an unresolved company goes to operators instead of being rejected."""
    company = resolution.company
    if company is None:
        return Decision(
            number=number,
            decision=UNRESOLVED if review_unresolved else "rejected",
            reason=REJECT_COMPANY_UNKNOWN,
            detail=resolution.detail,
            screened_at=screened_at,
        )
    due = calendar.add_working_days(local_date(screened_at), response_working_days)
    return Decision(
        number=number,
        decision="accepted",
        company_id=company.id,
        company_name=company.name,
        category=category,
        response_due=due,
        screened_at=screened_at,
    )


def duplicate(accepted: Decision, original: str, window_days: int) -> Decision:
    """``accepted`` turned into the rejection of a duplicate of complaint ``original`` (company and category kept)."""
    return accepted.model_copy(
        update={
            "decision": "rejected",
            "reason": REJECT_DUPLICATE,
            "duplicate_of": original,
            "response_due": None,
            "detail": (
                f"Nearly the same as complaint {original}, which the same complainant filed against "
                f"{accepted.company_name} within the last {window_days} days."
            ),
        }
    )
