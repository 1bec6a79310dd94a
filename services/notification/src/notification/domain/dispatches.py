"""E-mail and SMS to the complainant: one dispatch per message and channel, with what it says and how it ended.

A dispatch holds no address: events carry no personal data, so the address is asked from intake
when the dispatch is sent, and it is never stored or logged here.
"""

from __future__ import annotations

from enum import StrEnum

from notification.domain.messages import RenderedMessage


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class DispatchStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    NO_CONTACT = "no_contact"  # intake knows no contact for the complaint
    NO_ADDRESS = "no_address"  # the complainant gave no address for this channel
    DISABLED = "disabled"  # the channel is off (no SMTP server configured)
    EXPIRED = "expired"  # a one-time code whose time ran out before it could be sent


FINISHED = frozenset(DispatchStatus) - {DispatchStatus.PENDING}


def email_subject(message: RenderedMessage) -> str:
    return f"{message.title_zh} | {message.title_en}"


def email_text(message: RenderedMessage) -> str:
    return f"{message.title_zh}\n\n{message.body_zh}\n\n--\n\n{message.title_en}\n\n{message.body_en}\n"


def sms_text(message: RenderedMessage) -> str:
    # The provider adds the registered sender signature (【...】) itself, as Chinese SMS gateways require.
    return f"{message.body_zh}\n{message.body_en}"


def mask_phone(phone: str) -> str:
    """A phone number as logs may show it: ``138****5678``; short numbers keep their last two characters."""
    phone = phone.strip()
    if len(phone) >= 11:
        return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
    return "*" * max(len(phone) - 2, 0) + phone[-2:]
