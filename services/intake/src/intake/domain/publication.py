"""Publication of handling results (公示): when a case becomes public and what its public record says.

A case is published when the company answers, or when the publication delay after forwarding passed
without an answer (routing's ``sla.publication_due``); a rejected case never is. The public record holds no
personal data: no name, no ID number, no contact, no province. The narrative
and the company's answer are in it only with the complainant's consent given at filing, and only scrubbed,
with the complainant's own name masked too. The complainant may withdraw that consent at any time, for good:
the record is then what it would be had the complaint been filed without consent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from intake.domain.scrubbing import scrub
from intake.domain.statistics import china_day, first_answer

NEVER_PUBLIC = frozenset({"submitted", "under_review", "rejected"})
# Publication of an unanswered case: only while the company has it (not answered, not closed by other means).
AWAITING_ANSWER = frozenset({"forwarded", "info_requested"})
# The timeline entry of a withdrawn consent: no step of the lifecycle, the status stays as it is.
CONSENT_WITHDRAWN = "withdraw_publication_consent"
PUBLIC_STATUSES = ("accepted", "forwarded", "info_requested", "responded", "appealed", "closed", "withdrawn")


def due_on_answer(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> bool:
    """The company's answer publishes a case not yet public."""
    return (
        not after.get("published_at")
        and after["status"] not in NEVER_PUBLIC
        and after.get("response") is not None
        and (before is None or before.get("response") is None)
    )


def due_unanswered(case: Mapping[str, Any]) -> bool:
    """``sla.publication_due`` publishes a case the company still has not answered."""
    return not case.get("published_at") and case["status"] in AWAITING_ANSWER and case.get("response") is None


def _day(value: datetime) -> str:
    return china_day(value).isoformat()


def _day_if(value: datetime | None) -> str | None:
    return _day(value) if value is not None else None


def appeal_outcome(case: Mapping[str, Any]) -> str | None:
    """What came of an appeal: the closing outcome, ``reforwarded`` while the company answers again, else pending."""
    if not case.get("appeal"):
        return None
    if case.get("closure"):
        outcome: str = case["closure"]["outcome"]
        return outcome
    return "reforwarded" if case.get("round", 1) > 1 else "pending"


def first_forwarding(case: Mapping[str, Any]) -> datetime | None:
    """When the case first reached a company: a re-forwarding after an appeal moves ``forwarded_at``."""
    for entry in case.get("timeline", []):
        if entry.get("action") == "forward":
            at: datetime = entry["at"]
            return at
    forwarded_at: datetime | None = case.get("forwarded_at")
    return forwarded_at


def order_key(published_on: str, number: str) -> str:
    """One sortable key for "published_on desc, then number desc": a date and a fixed-width number."""
    return f"{published_on}|{number}"


def public_record(case: Mapping[str, Any], complainant_name: str | None) -> dict[str, Any]:
    """The public record of a published case; ``complainant_name`` (plaintext) is masked in the texts."""
    answer = first_answer(case)
    latest = case.get("response")
    consent = bool(case.get("publication_consent"))
    names = [complainant_name] if complainant_name else []
    published_on = _day(case["published_at"])
    narrative = scrub(f"{case['title']}\n{case['description']}", names=names) if consent else None
    record = {
        "_id": case["_id"],
        "number": case["_id"],
        "company_id": case.get("company_id"),
        "company_name": case.get("company_name"),
        "category": case.get("category"),
        "filed_on": _day(case["submitted_at"]),
        "forwarded_on": _day_if(first_forwarding(case)),
        "responded_on": _day(answer["at"]) if answer else None,
        "published_on": published_on,
        "published_at": case["published_at"],
        "order_key": order_key(published_on, case["_id"]),
        "status": case["status"],
        "response_type": latest["type"] if latest else None,
        "timely": bool(answer.get("timely")) if answer else None,
        "rating": case["rating"]["rating"] if case.get("rating") else None,
        "appeal_outcome": appeal_outcome(case),
        "narrative_public": consent,
        "cluster_id": case.get("cluster_id"),
        "narrative": narrative,
        # What a results list shows of the complaint: the narrative's first line, its scrubbed title.
        "headline": narrative.split("\n", 1)[0] if narrative else None,
        "answer": scrub(latest["text"], names=names) if consent and latest and latest.get("text") else None,
    }
    return record
