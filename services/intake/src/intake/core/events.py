"""Every integration event intake publishes, built here and nowhere else: from the case file as it stands
after the change (``case``) and what the change recorded. Use cases and handlers pass these builders to the
case store, which stages the events in the outbox inside the change's transaction.

Every text an event carries to a company (the narrative, supplements, the reasons of an appeal or a withdrawal,
operators' notes) passes :func:`intake.domain.company_view.for_company` here, where the payload is built: the
complainant's own phone (``own_phone``, see :func:`complainant_phone`) stays, other personal data is masked, and
notification never receives, stores or delivers the raw text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from greenchannel.contracts import (
    AccessGuessingDetected,
    AccountCodeIssued,
    CodePurpose,
    ComplainantContact,
    ComplaintAccepted,
    ComplaintAppealed,
    ComplaintClosed,
    ComplaintErased,
    ComplaintForwarded,
    ComplaintInfoRequested,
    ComplaintPublished,
    ComplaintRated,
    ComplaintRedirected,
    ComplaintRejected,
    ComplaintResponded,
    ComplaintSubmitted,
    ComplaintSupplemented,
    ComplaintWithdrawn,
    EvidenceRef,
)
from greenchannel.sealing import KeyRingCipher
from intake.domain.company_view import for_company
from intake.domain.guessing import SecretKind

Case = dict[str, Any]


def complainant_phone(case: Case, cipher: KeyRingCipher | None) -> str | None:
    """The complainant's phone in plaintext, for :func:`for_company` to keep; None without the key ring."""
    sealed = (case.get("complainant") or {}).get("phone")
    return cipher.decrypt("phone", sealed) if cipher is not None and sealed else None


def submitted(case: Case, *, company_id: str | None, company_name: str | None) -> ComplaintSubmitted:
    """A new complaint, for routing to screen: the company as the complainant named it, no identity data."""
    return ComplaintSubmitted(
        number=case["number"],
        company_id=company_id,
        company_name=company_name,
        category=case["category"],
        title=case["title"],
        description=case["description"],
        occurred_on=date.fromisoformat(case["occurred_on"]),
        desired_outcome=case["desired_outcome"],
        complainant_key=case["complainant_key"],
        region_code=case["region_code"],
        evidence_ids=[ref["evidence_id"] for ref in case["evidence"]],
        submitted_at=case["submitted_at"],
    )


def accepted(
    case: Case,
    *,
    accepted_at: datetime,
    response_due: date | None = None,
    redirected_from: str | None = None,
    own_phone: str | None = None,
) -> ComplaintAccepted:
    """What the company receives when the complaint is forwarded to it: no full identity data, the texts as a
    company may see them."""
    return ComplaintAccepted(
        number=case["number"],
        company_id=case["company_id"],
        company_name=case["company_name"],
        category=case["category"],
        title=for_company(case["title"], complainant_phone=own_phone),
        description=for_company(case["description"], complainant_phone=own_phone),
        occurred_on=date.fromisoformat(case["occurred_on"]),
        desired_outcome=for_company(case["desired_outcome"], complainant_phone=own_phone),
        complainant=ComplainantContact(
            name=case["complainant_masked"]["name"], phone=case["complainant_masked"]["phone"]
        ),
        evidence=[EvidenceRef(**ref) for ref in case["evidence"]],
        response_due=response_due,
        accepted_at=accepted_at,
        redirected_from=redirected_from,
    )


def rejected(case: Case, *, reason: str, detail: str, rejected_at: datetime) -> ComplaintRejected:
    return ComplaintRejected(number=case["number"], reason=reason, detail=detail, rejected_at=rejected_at)


def forwarded(
    case: Case,
    *,
    forwarded_at: datetime,
    webhook_id: str | None = None,
    note: str = "",
    deadline_working_days: int | None = None,
    own_phone: str | None = None,
) -> ComplaintForwarded:
    """Forwarded to the company: by its webhook's delivery (round 1), or again by an operator after an appeal."""
    return ComplaintForwarded(
        number=case["number"],
        company_id=case["company_id"],
        forwarded_at=forwarded_at,
        webhook_id=webhook_id,
        round=case.get("round", 1),
        note=for_company(note, complainant_phone=own_phone),
        deadline_working_days=deadline_working_days,
    )


def redirected(
    case: Case, *, from_company_id: str | None, note: str, redirected_at: datetime, own_phone: str | None = None
) -> ComplaintRedirected:
    return ComplaintRedirected(
        number=case["number"],
        from_company_id=from_company_id,
        to_company_id=case["company_id"],
        note=for_company(note, complainant_phone=own_phone),
        redirected_at=redirected_at,
    )


def info_requested(case: Case, *, question: str, requested_at: datetime) -> ComplaintInfoRequested:
    return ComplaintInfoRequested(
        number=case["number"], company_id=case["company_id"], question=question, requested_at=requested_at
    )


def supplemented(
    case: Case,
    *,
    text: str,
    evidence: list[dict[str, Any]],
    supplemented_at: datetime,
    own_phone: str | None = None,
) -> ComplaintSupplemented:
    return ComplaintSupplemented(
        number=case["number"],
        company_id=case["company_id"],
        text=for_company(text, complainant_phone=own_phone),
        evidence=[EvidenceRef(**ref) for ref in evidence],
        supplemented_at=supplemented_at,
    )


def responded(case: Case, response: dict[str, Any]) -> ComplaintResponded:
    return ComplaintResponded(
        number=case["number"],
        company_id=case["company_id"],
        response_type=response["type"],
        text=response["text"],
        timely=response["timely"],
        responded_at=response["at"],
    )


def rated(case: Case, rating: dict[str, Any]) -> ComplaintRated:
    return ComplaintRated(
        number=case["number"],
        company_id=case["company_id"],
        rating=rating["rating"],
        comment=rating["comment"],
        rated_at=rating["at"],
    )


def appealed(case: Case, *, reason: str, appealed_at: datetime, own_phone: str | None = None) -> ComplaintAppealed:
    return ComplaintAppealed(
        number=case["number"],
        company_id=case["company_id"],
        reason=for_company(reason, complainant_phone=own_phone),
        appealed_at=appealed_at,
    )


def closed(case: Case, *, outcome: str, closed_at: datetime) -> ComplaintClosed:
    return ComplaintClosed(number=case["number"], company_id=case["company_id"], outcome=outcome, closed_at=closed_at)


def withdrawn(case: Case, *, reason: str, withdrawn_at: datetime, own_phone: str | None = None) -> ComplaintWithdrawn:
    return ComplaintWithdrawn(
        number=case["number"],
        company_id=case["company_id"],
        reason=for_company(reason, complainant_phone=own_phone),
        withdrawn_at=withdrawn_at,
    )


def published(
    case: Case, *, trigger: Literal["responded", "publication_due"], published_at: datetime
) -> ComplaintPublished:
    return ComplaintPublished(
        number=case["_id"],
        company_id=case["company_id"],
        trigger=trigger,
        narrative_public=bool(case.get("publication_consent")),
        published_at=published_at,
    )


def account_code_issued(
    *,
    issue_id: str,
    purpose: CodePurpose,
    channel: str,
    expires_at: datetime,
    issued_at: datetime,
    sealed: dict[str, str],
) -> AccountCodeIssued:
    return AccountCodeIssued(
        issue_id=issue_id, purpose=purpose, channel=channel, expires_at=expires_at, issued_at=issued_at, sealed=sealed
    )


def guessing_detected(
    kind: SecretKind, target: str, *, sources: int, failures: int, window_started_at: datetime, detected_at: datetime
) -> AccessGuessingDetected:
    return AccessGuessingDetected(
        secret=kind.value,
        target=target,
        number=target if kind is SecretKind.ACCESS_CODE else None,
        distinct_sources=sources,
        failures=failures,
        window_started_at=window_started_at,
        detected_at=detected_at,
    )


def erased(
    number: str, *, reason: Literal["retention", "request"], evidence_ids: list[str], erased_at: datetime
) -> ComplaintErased:
    return ComplaintErased(
        number=number,
        reason=reason,
        evidence_ids=evidence_ids,
        erased_at=erased_at,
    )
