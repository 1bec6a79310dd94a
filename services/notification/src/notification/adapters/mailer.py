"""Sending one e-mail over SMTP with aiosmtplib.

Errors are described without the recipient: an SMTP server's refusal often quotes the address,
and what is described here is stored on the dispatch and logged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib


class MailNotSent(Exception):
    def __init__(self, description: str, *, permanent: bool) -> None:
        super().__init__(description)
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None
    password: str | None
    starttls: bool
    timeout_s: float


class SmtpMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def compose(self, to: str, subject: str, text: str, dispatch_id: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        # The same Message-ID on every attempt of a dispatch lets mail systems drop a duplicate.
        domain = parseaddr(self.settings.sender)[1].rpartition("@")[2] or "localhost"
        message["Message-ID"] = f"<{dispatch_id}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
        message.set_content(text, charset="utf-8")
        return message

    async def send(self, message: EmailMessage) -> None:
        """Send ``message``; raises :class:`MailNotSent` (``permanent`` when the server refused it with 5xx)."""
        settings = self.settings
        try:
            await asyncio.wait_for(
                aiosmtplib.send(
                    message,
                    hostname=settings.host,
                    port=settings.port,
                    username=settings.username or None,
                    password=settings.password or None,
                    start_tls=settings.starttls,
                    use_tls=False,
                    timeout=settings.timeout_s,
                ),
                # aiosmtplib's timeout bounds each step; this bounds the whole conversation.
                timeout=settings.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = sorted({response.code for response in error.recipients})
            raise MailNotSent(
                f"recipient refused (SMTP {codes})", permanent=all(code >= 500 for code in codes)
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            raise MailNotSent(f"{type(error).__name__}: SMTP {error.code}", permanent=error.code >= 500) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as error:
            raise MailNotSent(type(error).__name__, permanent=False) from None
