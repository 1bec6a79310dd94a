"""The events intake consumes and the handler of each, registered here and nowhere else: routing's screening, its
clock events and collective complaints, and notification's webhook deliveries move the case on and reach the public
record."""

from __future__ import annotations

from greenchannel.contracts import (
    ClusterJoined,
    ComplaintScreened,
    SlaClockStopped,
    SlaDeadlineSet,
    SlaOverdue,
    SlaPublicationDue,
    SlaQuietPeriodElapsed,
    SlaReminder,
    WebhookDelivered,
)
from greenchannel.messaging import Subscriptions
from intake.handlers.publication import PublicationHandlers


def subscriptions(lifecycle: PublicationHandlers) -> Subscriptions:
    return (
        Subscriptions()
        .on(ComplaintScreened, lifecycle.on_screened)
        .on(WebhookDelivered, lifecycle.on_webhook_delivered)
        .on(SlaDeadlineSet, lifecycle.on_deadline_set)
        .on(SlaReminder, lifecycle.on_reminder)
        .on(SlaOverdue, lifecycle.on_overdue)
        .on(SlaQuietPeriodElapsed, lifecycle.on_quiet_period_elapsed)
        .on(SlaPublicationDue, lifecycle.on_publication_due)
        .on(SlaClockStopped, lifecycle.on_clock_stopped)
        .on(ClusterJoined, lifecycle.on_cluster_joined)
    )
