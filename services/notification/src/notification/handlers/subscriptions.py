"""The events notification consumes and the handler of each, registered here and nowhere else: the lifecycle events
that may make a company webhook or a complainant message (``handlers.lifecycle.CONSUMED_EVENTS``, derived from the
webhook and message tables), one-time codes to send, guessing to alert operators about, and erased complaints whose copies go."""

from __future__ import annotations

from greenchannel.contracts import AccessGuessingDetected, AccountCodeIssued, ComplaintErased
from greenchannel.messaging import Subscriptions
from notification.handlers.access import GuessingAlertHandler
from notification.handlers.accounts import AccountCodeHandler
from notification.handlers.erasure import ErasureHandler
from notification.handlers.lifecycle import CONSUMED_EVENTS, LifecycleEventHandler


def subscriptions(
    lifecycle: LifecycleEventHandler,
    account_codes: AccountCodeHandler,
    guessing_alerts: GuessingAlertHandler,
    erasure: ErasureHandler,
) -> Subscriptions:
    registered = Subscriptions()
    for model in CONSUMED_EVENTS:
        registered.on(model, lifecycle)
    return (
        registered.on(AccountCodeIssued, account_codes)
        .on(AccessGuessingDetected, guessing_alerts)
        .on(ComplaintErased, erasure.on_erased)
    )
