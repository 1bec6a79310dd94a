"""Complainant accounts in tests: registration with the one-time code read from the e-mail it came in.

The code travels the real way (intake's outbox, the broker, notification, SMTP); these helpers read
it from the mailbox of a real SMTP server (aiosmtpd). Tests of one service without notification
make their accounts through intake's own store adapter (:func:`create_account`).
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import httpx

from devstack.waiting import until

CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def mails_to(mailbox: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [mail for mail in list(mailbox) if address.lower() in str(mail["To"]).lower()]


async def next_mail(mailbox: list[EmailMessage], address: str, seen: int, timeout: float = 30.0) -> EmailMessage:
    """The first mail to ``address`` after the ``seen`` ones it had already received."""

    async def arrived() -> EmailMessage | None:
        mails = mails_to(mailbox, address)
        return mails[seen] if len(mails) > seen else None

    return await until(arrived, timeout=timeout, what=f"a mail to {address}")


def code_in(mail: EmailMessage) -> str | None:
    found = CODE.search(mail.get_content())
    return found.group(1) if found else None


async def request_code(
    intake: httpx.AsyncClient, mailbox: list[EmailMessage], path: str, login: str, headers: dict[str, str] | None = None
) -> str:
    """POST the login to ``path`` (a registration or a password reset) and answer the code mailed to it."""
    seen = len(mails_to(mailbox, login))
    response = await intake.post(path, json={"login": login}, headers=headers)
    if response.status_code != 202:
        raise AssertionError(response.text)
    code = code_in(await next_mail(mailbox, login, seen))
    if code is None:
        raise AssertionError(f"the mail to {login} holds no code")
    return code


async def register(
    intake: httpx.AsyncClient,
    mailbox: list[EmailMessage],
    login: str,
    password: str,
    name: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Register ``login`` (an e-mail address) with the code it receives; the answer holds a bearer token."""
    code = await request_code(intake, mailbox, "/v1/accounts/registrations", login, headers)
    response = await intake.post(
        "/v1/accounts/registrations/confirm",
        json={"login": login, "code": code, "password": password, "name": name},
        headers=headers,
    )
    if response.status_code != 201:
        raise AssertionError(response.text)
    return response.json()


async def create_account(intake_app: Any, login: str, password: str, name: str | None = None) -> str:
    """An account made through intake's store adapter, for tests of intake alone (no notification, no mail)."""
    from intake.api.accounts import normalize_login

    identities = intake_app.state.intake.identities
    return await identities.register(normalize_login(login), await identities.hash_password(password), name)
