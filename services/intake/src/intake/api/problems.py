"""The problem document (application/problem+json) of every refusal of intake's use cases, the case store and
the lifecycle: one table, registered on the app, so a router calls a use case and nothing it raises becomes
a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from greenchannel.problems import problem_response
from intake.adapters.case_store import AlreadyClaimed, CaseErased, CaseNotFound, EvidenceRefused, StateChanged
from intake.core.disclosure import FieldNotRecorded
from intake.core.errors import (
    AlreadyRated,
    CompanyUnknown,
    EvidenceAlreadyAttached,
    EvidenceUnknown,
    FeedbackAlreadyHandled,
    FeedbackNotFound,
    NotRejected,
    SameCompany,
)
from intake.core.retention import AccountErasureRefused
from intake.domain.filing import MAX_EVIDENCE_PER_COMPLAINT
from intake.domain.lifecycle import EVIDENCE_ACCEPTED_IN, IllegalTransition, WindowClosed
from intake.domain.retention import ErasureRefused, Refusal

NOT_FOUND = ("complaint_not_found", "No complaint matches this number and access.")


def evidence_refused(refusal: EvidenceRefused) -> JSONResponse:
    if refusal.status not in EVIDENCE_ACCEPTED_IN:
        return problem_response(
            409,
            "complaint_not_open_for_evidence",
            f"Evidence cannot be added while the complaint is {refusal.status.value}.",
            status_now=refusal.status.value,
        )
    return problem_response(
        409, "too_many_evidence_files", f"A complaint holds at most {MAX_EVIDENCE_PER_COMPLAINT} files."
    )


def state_changed(error: StateChanged) -> JSONResponse:
    extra: dict[str, Any] = {"status_now": error.status.value} if error.status is not None else {}
    return problem_response(409, "state_changed", "The complaint changed meanwhile; read it again.", **extra)


ERASURE_REFUSALS = {
    Refusal.OPEN: "The complaint is still being handled: its personal data can be erased once it is closed.",
    Refusal.LEGAL_HOLD: "The complaint is under a legal hold: its personal data cannot be erased until the hold is "
    "lifted.",
    Refusal.ERASED: "The complaint's personal data has been erased already.",
}


def erasure_refused(error: ErasureRefused) -> JSONResponse:
    return problem_response(409, "erasure_refused", ERASURE_REFUSALS[error.refusal], reason=error.refusal.value)


def account_erasure_refused(error: AccountErasureRefused) -> JSONResponse:
    return problem_response(
        409,
        "erasure_refused",
        "Some of the account's complaints are still being handled or under a legal hold: the account can be erased "
        "once none is.",
        reason="complaints_not_erasable",
        complaints={number: refusal.value for number, refusal in sorted(error.refusals.items())},
    )


# Each answer takes an instance of its key's type (its own attributes), which one annotation cannot say: Any.
PROBLEMS: dict[type[Exception], Callable[[Any], JSONResponse]] = {
    CaseNotFound: lambda _: problem_response(404, *NOT_FOUND),
    IllegalTransition: lambda error: problem_response(
        409, "illegal_transition", str(error), status_now=error.current.value, action=error.action.value
    ),
    WindowClosed: lambda error: problem_response(409, "window_closed", str(error), window_days=error.days),
    StateChanged: state_changed,
    EvidenceRefused: evidence_refused,
    EvidenceUnknown: lambda error: problem_response(422, "evidence_unknown", str(error)),
    EvidenceAlreadyAttached: lambda error: problem_response(409, "evidence_already_attached", str(error)),
    AlreadyRated: lambda _: problem_response(
        409, "already_rated", "This complaint has been rated already; a rating is given once."
    ),
    AlreadyClaimed: lambda _: problem_response(
        409, "complaint_already_claimed", "This complaint belongs to another account."
    ),
    CompanyUnknown: lambda error: problem_response(422, "company_unknown", str(error)),
    SameCompany: lambda _: problem_response(422, "same_company", "The complaint is already addressed to this company."),
    # Operators see every complaint, so a complaint in another state is a conflict, not a secret.
    NotRejected: lambda error: problem_response(
        409, "not_rejected", "Only a rejected complaint can be reviewed.", status_now=error.status
    ),
    FieldNotRecorded: lambda error: problem_response(404, "field_not_recorded", str(error)),
    ErasureRefused: erasure_refused,
    CaseErased: lambda _: problem_response(
        410, "complaint_erased", "The complaint's personal data has been erased; its public record stays."
    ),
    AccountErasureRefused: account_erasure_refused,
    FeedbackNotFound: lambda _: problem_response(404, "feedback_not_found", "No feedback with this id."),
    FeedbackAlreadyHandled: lambda _: problem_response(
        409, "feedback_already_handled", "This feedback was handled already."
    ),
}


def register(app: FastAPI) -> None:
    """Answer each refusal above with its problem document."""
    for error_type, answer in PROBLEMS.items():

        async def handler(_: Request, error: Exception, answer=answer) -> JSONResponse:
            return answer(error)

        app.add_exception_handler(error_type, handler)
