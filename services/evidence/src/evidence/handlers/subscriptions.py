"""The events the evidence service consumes and the handler of each, registered here and nowhere else: filings
and supplements attach the files they list."""

from __future__ import annotations

from evidence.handlers.submissions import SubmissionHandlers
from greenchannel.contracts import ComplaintSubmitted, ComplaintSupplemented
from greenchannel.messaging import Subscriptions


def subscriptions(submissions: SubmissionHandlers) -> Subscriptions:
    return (
        Subscriptions()
        .on(ComplaintSubmitted, submissions.on_submitted)
        .on(ComplaintSupplemented, submissions.on_supplemented)
    )
