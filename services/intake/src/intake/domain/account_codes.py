"""One-time codes that prove a complainant holds a login (e-mail address or mobile number).

A code is six digits, lives ``ttl`` seconds, and is void after ``max_attempts`` tries, right or wrong,
or once used. One code per login and purpose is live at a time: asking again replaces it. What the
login is told never depends on whether it has an account in a way the asker can see: the answer is
always the same, only the message sent to the login differs (:func:`notice_for`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from greenchannel.contracts import CodePurpose

CODE_DIGITS = 6
Notice = Literal["code", "already_registered", "no_account"]
Channel = Literal["email", "sms"]


@dataclass(frozen=True)
class CodePolicy:
    ttl: timedelta
    max_attempts: int


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def is_code_shaped(value: str) -> bool:
    return len(value) == CODE_DIGITS and value.isascii() and value.isdigit()


def channel_of(login: str) -> Channel:
    """A normalised login is an e-mail address or an E.164 mobile number."""
    return "email" if "@" in login else "sms"


def notice_for(purpose: CodePurpose, has_account: bool) -> Notice:
    """What the login is sent: a code when the purpose can go on, otherwise a notice saying why not."""
    if purpose == "registration":
        return "already_registered" if has_account else "code"
    return "code" if has_account else "no_account"  # a password reset or a sign-in


def code_record_id(purpose: CodePurpose, login_key: str) -> str:
    return f"{purpose}:{login_key}"
