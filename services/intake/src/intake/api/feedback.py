"""The feedback form (意见建议): anyone may send a suggestion about the website, the process or the policy;
operators read it, newest first, and mark it handled with a note.

Sending is open to everyone, so it is limited per client address (``FEEDBACK_PER_IP_PER_HOUR``)
and takes an ``Idempotency-Key`` like the other public POSTs. The text follows the complaint
form's free-text rules; a contact e-mail or mobile is validated as on the complaint form, stored
encrypted, shown masked in lists and in full only to operators reading one entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from greenchannel.problems import Problem
from intake.adapters.feedback import FeedbackStore
from intake.api.dependencies import ClientDep, FeedbackDep, IdempotencyKey, IntakeDep, OperatorDep
from intake.api.paging import decode_cursor, encode_cursor
from intake.api.schemas import FeedbackEntry, FeedbackPage, FeedbackReceipt
from intake.domain.filing import EmailAddress, MobileNumber, free_text

router = APIRouter()

TOPICS = ("website", "process", "policy", "other")
STATUSES = ("new", "handled")


class FeedbackForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Literal[TOPICS]  # type: ignore[valid-type]
    text: free_text(min_length=10, max_length=2000)  # type: ignore[valid-type]
    email: EmailAddress | None = None
    phone: MobileNumber | None = None


class Handling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: free_text(min_length=2, max_length=2000)  # type: ignore[valid-type]


def _store(request: Request) -> FeedbackStore:
    return request.app.state.feedback


StoreDep = Annotated[FeedbackStore, Depends(_store)]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _view(entry: dict[str, Any], contact: dict[str, Any]) -> dict[str, Any]:
    handled = entry.get("handled")
    return {
        "id": entry["_id"],
        "topic": entry["topic"],
        "text": entry["text"],
        "status": entry["status"],
        "contact": contact,
        "submitted_at": _iso(entry["submitted_at"]),
        "handled": {**handled, "at": _iso(handled["at"])} if handled else None,
    }


@router.post(
    "/v1/public/feedback",
    response_model=FeedbackReceipt,
    status_code=201,
    tags=["public"],
    summary="Send feedback about the platform (意见建议)",
)
async def send_feedback(
    form: FeedbackForm,
    intake: IntakeDep,
    feedback: FeedbackDep,
    client: ClientDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    await intake.limits.hit(intake.rules.feedback, client)
    return await feedback.send(form.topic, form.text, form.email, form.phone, idempotency_key)


@router.get(
    "/v1/ops/feedback",
    response_model=FeedbackPage,
    tags=["operators"],
    summary="Feedback, newest first (contact details masked)",
)
async def list_feedback(
    store: StoreDep,
    _: OperatorDep,
    status: Literal[STATUSES] | None = None,  # type: ignore[valid-type]
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    rows = await store.page(status, limit=limit + 1, after=decode_cursor(cursor))
    return {
        "items": [_view(entry, entry["contact_masked"]) for entry in rows[:limit]],
        "next_cursor": encode_cursor(rows[limit - 1]) if len(rows) > limit else None,
    }


@router.get(
    "/v1/ops/feedback/{feedback_id}",
    response_model=FeedbackEntry,
    tags=["operators"],
    summary="One feedback entry, contact details in full",
)
async def read_feedback(feedback_id: str, store: StoreDep, _: OperatorDep) -> dict[str, Any]:
    entry = await store.get(feedback_id)
    if entry is None:
        raise Problem(404, "feedback_not_found", "No feedback with this id.")
    return _view(entry, store.contact(entry))


@router.post(
    "/v1/ops/feedback/{feedback_id}/handle",
    response_model=FeedbackEntry,
    tags=["operators"],
    summary="Mark feedback handled, with a note",
)
async def handle_feedback(
    feedback_id: str,
    body: Handling,
    feedback: FeedbackDep,
    operator: OperatorDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await feedback.handle(
        feedback_id, operator, body.note, idempotency_key, view=lambda entry: _view(entry, entry["contact_masked"])
    )
