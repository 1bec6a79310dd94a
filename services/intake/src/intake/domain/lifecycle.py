"""The complaint lifecycle: one table of legal transitions.

submitted -> accepted | rejected | under_review (routing found no directory company for the name given: an
operator resolves it to a company, accepting it, or rejects it) -> forwarded -> (info_requested <-> forwarded) -> responded ->
closed | appealed (-> forwarded again, or closed); withdrawn from any open step. "Overdue" is a flag
raised by the SLA watchdog, not a state. A satisfied rating closes the answered complaint; an unsatisfied
one is recorded and leaves it ``responded``, so the appeal stays open until the quiet period closes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FORWARDED = "forwarded"
    INFO_REQUESTED = "info_requested"
    RESPONDED = "responded"
    APPEALED = "appealed"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


FINAL = frozenset({Status.REJECTED, Status.CLOSED, Status.WITHDRAWN})
OPEN = frozenset(Status) - FINAL
# A file may be added until the company has answered: after that it would change what was answered.
EVIDENCE_ACCEPTED_IN = frozenset(
    {Status.SUBMITTED, Status.UNDER_REVIEW, Status.ACCEPTED, Status.FORWARDED, Status.INFO_REQUESTED}
)


class Action(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    REFER_FOR_REVIEW = "refer_for_review"
    RESOLVE_COMPANY = "resolve_company"
    FORWARD = "forward"
    REQUEST_INFO = "request_info"
    SUPPLEMENT = "supplement"
    RESPOND = "respond"
    RATE = "rate"
    RATE_UNSATISFIED = "rate_unsatisfied"
    APPEAL = "appeal"
    REFORWARD = "reforward"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    REDIRECT = "redirect"
    OVERRIDE_ACCEPT = "override_accept"
    AUTO_CLOSE = "auto_close"


# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.ACCEPT: (frozenset({Status.SUBMITTED}), Status.ACCEPTED),
    Action.REJECT: (frozenset({Status.SUBMITTED, Status.UNDER_REVIEW}), Status.REJECTED),
    # Routing could not tell which directory company the name given means: operators decide.
    Action.REFER_FOR_REVIEW: (frozenset({Status.SUBMITTED}), Status.UNDER_REVIEW),
    Action.RESOLVE_COMPANY: (frozenset({Status.UNDER_REVIEW}), Status.ACCEPTED),
    Action.FORWARD: (frozenset({Status.ACCEPTED}), Status.FORWARDED),
    Action.REQUEST_INFO: (frozenset({Status.FORWARDED}), Status.INFO_REQUESTED),
    Action.SUPPLEMENT: (frozenset({Status.INFO_REQUESTED}), Status.FORWARDED),
    Action.RESPOND: (frozenset({Status.FORWARDED}), Status.RESPONDED),
    Action.RATE: (frozenset({Status.RESPONDED}), Status.CLOSED),
    # Rating and appealing go together: an unsatisfied rating does not forfeit the appeal. The case
    # stays answered with the rating recorded; a second rating is refused by the record, not the state.
    Action.RATE_UNSATISFIED: (frozenset({Status.RESPONDED}), Status.RESPONDED),
    Action.APPEAL: (frozenset({Status.RESPONDED}), Status.APPEALED),
    Action.REFORWARD: (frozenset({Status.APPEALED}), Status.FORWARDED),
    Action.CLOSE: (frozenset({Status.RESPONDED, Status.APPEALED}), Status.CLOSED),
    # The quiet period after an answer ended with no appeal (and no rating, or an unsatisfied one);
    # never closes an appeal.
    Action.AUTO_CLOSE: (frozenset({Status.RESPONDED}), Status.CLOSED),
    Action.WITHDRAW: (OPEN, Status.WITHDRAWN),
    # An operator sends a complaint addressed to the wrong company to the right one: it is accepted
    # for the new company and forwarded to it afresh.
    Action.REDIRECT: (frozenset({Status.ACCEPTED, Status.FORWARDED, Status.INFO_REQUESTED}), Status.ACCEPTED),
    # An operator accepts by hand, also a complaint a rule rejected wrongly. Routing's own ACCEPT
    # cannot reopen a rejection: a late decision must never undo an operator's.
    Action.OVERRIDE_ACCEPT: (frozenset({Status.SUBMITTED, Status.UNDER_REVIEW, Status.REJECTED}), Status.ACCEPTED),
}


# Ratings from this score up mean the complainant is content with the answer: the complaint closes.
SATISFIED_FROM = 3


def rating_action(rating: int) -> Action:
    """A satisfied rating closes the complaint; an unsatisfied one keeps the appeal open."""
    return Action.RATE if rating >= SATISFIED_FROM else Action.RATE_UNSATISFIED


class IllegalTransition(Exception):
    def __init__(self, action: Action, current: Status) -> None:
        super().__init__(f"'{action}' is not allowed while the complaint is '{current}'.")
        self.action = action
        self.current = current


def transition(action: Action, current: Status) -> Status:
    """The state ``action`` leads to from ``current``; raises :class:`IllegalTransition` when not allowed."""
    allowed_from, target = TRANSITIONS[action]
    if current not in allowed_from:
        raise IllegalTransition(action, current)
    return target


def allowed_from(action: Action) -> frozenset[Status]:
    return TRANSITIONS[action][0]


class WindowClosed(Exception):
    """Rating or appealing after its window (counted in days from the company's answer) has closed."""

    def __init__(self, action: Action, days: int) -> None:
        super().__init__(f"'{action}' is possible only within {days} days after the company's answer.")
        self.action = action
        self.days = days


def check_window(action: Action, responded_at: datetime | None, now: datetime, days: int) -> None:
    if responded_at is not None and now > responded_at + timedelta(days=days):
        raise WindowClosed(action, days)


def complainant_actions(
    status: Status,
    responded_at: datetime | None,
    now: datetime,
    *,
    rating_days: int,
    appeal_days: int,
    rated: bool = False,
) -> list[str]:
    """What the complainant may do now, for clients to offer exactly those buttons."""
    actions = []
    if status is Status.INFO_REQUESTED:
        actions.append(Action.SUPPLEMENT.value)
    if status is Status.RESPONDED and responded_at is not None:
        if not rated and now <= responded_at + timedelta(days=rating_days):
            actions.append(Action.RATE.value)
        if now <= responded_at + timedelta(days=appeal_days):
            actions.append(Action.APPEAL.value)
    if status in OPEN:
        actions.append(Action.WITHDRAW.value)
    return actions
