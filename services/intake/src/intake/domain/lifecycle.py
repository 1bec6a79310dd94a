"""The complaint lifecycle: one table of legal transitions (DESIGN.md, "The complaint lifecycle").

submitted -> accepted | rejected -> forwarded -> (info_requested <-> forwarded) -> responded ->
closed | appealed (-> forwarded again, or closed); withdrawn from any open step. "Overdue" is a flag
raised by the SLA watchdog, not a state.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
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


class Action(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    FORWARD = "forward"
    REQUEST_INFO = "request_info"
    SUPPLEMENT = "supplement"
    RESPOND = "respond"
    RATE = "rate"
    APPEAL = "appeal"
    REFORWARD = "reforward"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    REDIRECT = "redirect"
    OVERRIDE_ACCEPT = "override_accept"


# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.ACCEPT: (frozenset({Status.SUBMITTED}), Status.ACCEPTED),
    Action.REJECT: (frozenset({Status.SUBMITTED}), Status.REJECTED),
    Action.FORWARD: (frozenset({Status.ACCEPTED}), Status.FORWARDED),
    Action.REQUEST_INFO: (frozenset({Status.FORWARDED}), Status.INFO_REQUESTED),
    Action.SUPPLEMENT: (frozenset({Status.INFO_REQUESTED}), Status.FORWARDED),
    Action.RESPOND: (frozenset({Status.FORWARDED}), Status.RESPONDED),
    Action.RATE: (frozenset({Status.RESPONDED}), Status.CLOSED),
    Action.APPEAL: (frozenset({Status.RESPONDED}), Status.APPEALED),
    Action.REFORWARD: (frozenset({Status.APPEALED}), Status.FORWARDED),
    Action.CLOSE: (frozenset({Status.RESPONDED, Status.APPEALED}), Status.CLOSED),
    Action.WITHDRAW: (OPEN, Status.WITHDRAWN),
    # An operator sends a complaint addressed to the wrong company to the right one: it is accepted
    # for the new company and forwarded to it afresh.
    Action.REDIRECT: (frozenset({Status.ACCEPTED, Status.FORWARDED, Status.INFO_REQUESTED}), Status.ACCEPTED),
    # An operator accepts by hand, also a complaint a rule rejected wrongly. Routing's own ACCEPT
    # cannot reopen a rejection: a late decision must never undo an operator's.
    Action.OVERRIDE_ACCEPT: (frozenset({Status.SUBMITTED, Status.REJECTED}), Status.ACCEPTED),
}


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
