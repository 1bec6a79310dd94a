"""The events the evidence service consumes and the handler of each, registered here and nowhere else: filings
and supplements attach the files they list; an erased complaint's files go."""

from __future__ import annotations

from evidence.handlers.erasure import ErasureHandler
from evidence.handlers.submissions import SubmissionHandlers
from greenchannel.contracts import ComplaintErased, ComplaintSubmitted, ComplaintSupplemented
from greenchannel.messaging import Subscriptions


def subscriptions(submissions: SubmissionHandlers, erasure: ErasureHandler) -> Subscriptions:
    return (
        Subscriptions()
        .on(ComplaintSubmitted, submissions.on_submitted)
        .on(ComplaintSupplemented, submissions.on_supplemented)
        .on(ComplaintErased, erasure.on_erased)
    )
