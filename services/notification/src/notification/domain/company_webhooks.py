"""Which integration events a company hears about, as which webhook type, and which company that is.

The one table of the company-facing webhooks. Each row names the webhook type and says which
company receives it, or that none does (``None``): a re-forwarding round 1 is the delivery of the
first webhook itself, a withdrawal before forwarding concerns no company, and the SLA watchdog's
events are for the company only about its own response deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from greenchannel.contracts import (
    ComplaintAccepted,
    ComplaintAppealed,
    ComplaintForwarded,
    ComplaintRedirected,
    ComplaintSupplemented,
    ComplaintWithdrawn,
    EventData,
    SlaOverdue,
    SlaReminder,
    WebhookType,
)


@dataclass(frozen=True)
class WebhookRule:
    webhook_type: WebhookType
    recipient: Callable[[EventData], str | None]
    """The company the webhook goes to, or ``None`` when this event makes no webhook."""


def _company(data: EventData) -> str | None:
    return getattr(data, "company_id", None)


def _reforwarded_company(data: EventData) -> str | None:
    assert isinstance(data, ComplaintForwarded)
    return data.company_id if data.round >= 2 else None


def _previous_company(data: EventData) -> str | None:
    # The complaint is no longer theirs; the new company hears of it through its own complaint.accepted.
    assert isinstance(data, ComplaintRedirected)
    return data.from_company_id


def _response_clock_company(data: EventData) -> str | None:
    assert isinstance(data, SlaReminder | SlaOverdue)
    return data.company_id if data.kind == "response" else None


# The contract of each event that may make a webhook -> its rule; notification subscribes to these models.
COMPANY_WEBHOOKS: dict[type[EventData], WebhookRule] = {
    ComplaintAccepted: WebhookRule(WebhookType.FORWARDED, _company),
    ComplaintForwarded: WebhookRule(WebhookType.REFORWARDED, _reforwarded_company),
    ComplaintSupplemented: WebhookRule(WebhookType.SUPPLEMENTED, _company),
    ComplaintAppealed: WebhookRule(WebhookType.APPEALED, _company),
    ComplaintWithdrawn: WebhookRule(WebhookType.WITHDRAWN, _company),
    ComplaintRedirected: WebhookRule(WebhookType.REDIRECTED, _previous_company),
    SlaReminder: WebhookRule(WebhookType.DEADLINE_REMINDER, _response_clock_company),
    SlaOverdue: WebhookRule(WebhookType.OVERDUE, _response_clock_company),
}


@dataclass(frozen=True)
class CompanyWebhook:
    webhook_type: WebhookType
    company_id: str


def company_webhook(data: EventData) -> CompanyWebhook | None:
    """The webhook ``data`` (a parsed integration event) makes, if any."""
    rule = COMPANY_WEBHOOKS.get(type(data))
    if rule is None:
        return None
    company_id = rule.recipient(data)
    return CompanyWebhook(rule.webhook_type, company_id) if company_id else None
