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
    FORWARDING_WEBHOOK_TYPE,
    ComplaintAccepted,
    ComplaintAppealed,
    ComplaintForwarded,
    ComplaintRedirected,
    ComplaintSupplemented,
    ComplaintWithdrawn,
    EventData,
    SlaOverdue,
    SlaReminder,
)


@dataclass(frozen=True)
class WebhookRule:
    webhook_type: str
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


COMPANY_WEBHOOKS: dict[str, WebhookRule] = {
    ComplaintAccepted.EVENT_TYPE: WebhookRule(FORWARDING_WEBHOOK_TYPE, _company),
    ComplaintForwarded.EVENT_TYPE: WebhookRule("complaint.reforwarded", _reforwarded_company),
    ComplaintSupplemented.EVENT_TYPE: WebhookRule("complaint.supplemented", _company),
    ComplaintAppealed.EVENT_TYPE: WebhookRule("complaint.appealed", _company),
    ComplaintWithdrawn.EVENT_TYPE: WebhookRule("complaint.withdrawn", _company),
    ComplaintRedirected.EVENT_TYPE: WebhookRule("complaint.redirected", _previous_company),
    SlaReminder.EVENT_TYPE: WebhookRule("complaint.deadline_reminder", _response_clock_company),
    SlaOverdue.EVENT_TYPE: WebhookRule("complaint.overdue", _response_clock_company),
}


@dataclass(frozen=True)
class CompanyWebhook:
    webhook_type: str
    company_id: str


def company_webhook(data: EventData) -> CompanyWebhook | None:
    """The webhook ``data`` (a parsed integration event) makes, if any."""
    rule = COMPANY_WEBHOOKS.get(data.EVENT_TYPE)
    if rule is None:
        return None
    company_id = rule.recipient(data)
    return CompanyWebhook(rule.webhook_type, company_id) if company_id else None
