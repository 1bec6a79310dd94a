"""Retention and erasure of a complaint's personal data: when a case is due, when it may not be erased, and what its
case file keeps afterwards.

A case's personal data (identity, contact, every free text, its files) is erased a retention period after it ended
(closed, withdrawn or rejected), or a hold after the complainant asked, whichever comes first; never while the case
is open or under a legal hold. What the case file keeps is what the public record and the statistics are made of:
states, dates, company, category, province, rating, outcome codes. Nothing a person wrote stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from intake.domain.lifecycle import FINAL, Status


class ErasureReason(StrEnum):
    RETENTION = "retention"
    REQUEST = "request"


class Refusal(StrEnum):
    """Why a complaint's personal data may not be erased (yet)."""

    OPEN = "complaint_open"
    LEGAL_HOLD = "legal_hold"
    ERASED = "already_erased"


class ErasureRefused(Exception):
    def __init__(self, number: str, refusal: Refusal) -> None:
        super().__init__(f"complaint {number} may not be erased: {refusal.value}")
        self.number = number
        self.refusal = refusal


#: Top-level string fields the case keeps: identifiers and codes, never anything a person wrote. Every other string
#: (the narrative, the desired outcome, the date it happened, the access code's hash, the keyed hashes of the ID
#: number and phone) goes.
KEPT_TEXT = frozenset(
    {
        "_id",
        "number",
        "status",
        "company_id",
        "company_name",
        "category",
        "region_code",
        "publication_trigger",
        "cluster_id",
        "erasure_reason",
    }
)
#: Structured fields the case keeps in part: only these of their keys (codes, dates, flags), never a note or a text.
KEPT_PARTS: Mapping[str, frozenset[str]] = {
    "closure": frozenset({"outcome", "at"}),
    "rejection": frozenset({"reason", "at"}),
    "appeal": frozenset({"at"}),
    "response": frozenset({"type", "at", "timely"}),
}
#: A timeline entry keeps who (a role or a staff id, never the complainant's name), when, what and the trace.
KEPT_TIMELINE = frozenset({"at", "actor", "action", "status", "trace_id"})


def is_erased(case: Mapping[str, Any]) -> bool:
    return case.get("erased_at") is not None


def check_erasable(case: Mapping[str, Any]) -> None:
    """:class:`ErasureRefused` unless the case may be erased now: ended, not under a legal hold, not erased yet."""
    number = str(case["_id"])
    if is_erased(case):
        raise ErasureRefused(number, Refusal.ERASED)
    if Status(case["status"]) not in FINAL:
        raise ErasureRefused(number, Refusal.OPEN)
    if case.get("legal_hold") is not None:
        raise ErasureRefused(number, Refusal.LEGAL_HOLD)


def erased_case(case: Mapping[str, Any], reason: ErasureReason, now: datetime) -> dict[str, Any]:
    """The case file as it is kept after its personal data was erased (a whole document, to replace it with).

    Kept: identifiers and codes (``KEPT_TEXT``), every value that is no text (dates, flags, counts, the rating),
    the parts of the structured fields that are codes and dates (``KEPT_PARTS``), the company's answers' types and
    times, and the timeline without its details. Gone: everything else, lists of texts and files included."""
    kept: dict[str, Any] = {}
    for name, value in case.items():
        if name in KEPT_PARTS:
            if isinstance(value, Mapping):
                kept[name] = {key: value[key] for key in KEPT_PARTS[name] if key in value}
            else:
                kept[name] = value
        elif name == "timeline":
            kept[name] = [{key: entry[key] for key in KEPT_TIMELINE if key in entry} for entry in value]
        elif name == "responses":
            kept[name] = [{key: item[key] for key in KEPT_PARTS["response"] if key in item} for item in value]
        elif name in KEPT_TEXT or _no_text(value):
            kept[name] = value
    kept["evidence_count"] = len(case.get("evidence") or [])
    kept["erased_at"] = now
    kept["erasure_reason"] = reason.value
    # The request, if any, was carried out: nothing stays due.
    kept["erasure_due_at"] = None
    return kept


def _no_text(value: Any) -> bool:
    """A value that cannot hold words: None, a flag, a number, a time."""
    return value is None or isinstance(value, bool | int | float | datetime)


def ended_at(case: Mapping[str, Any]) -> datetime | None:
    """When the case reached the final state it is in; None while it is open (or for a case that ended before the
    field was recorded, which the timeline still tells)."""
    if Status(case["status"]) not in FINAL:
        return None
    if (at := case.get("ended_at")) is not None:
        return at  # type: ignore[no-any-return]
    timeline = case.get("timeline") or []
    return timeline[-1]["at"] if timeline else None
