"""The admins' second factor: a time-based one-time code (TOTP, RFC 6238) from an authenticator app.

Six digits every 30 seconds, the apps' common defaults, so any authenticator reads the provisioning URI. A code
is accepted one step either side of now (a phone's clock drifts, a person types slowly), and each step at most
once per account: the step of the last code used is kept, and only a later one is taken, so a code seen over a
shoulder or in a log is worth nothing once used.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "绿色通道 Green Channel"  # what an authenticator app lists the account under
CLOCK_DRIFT_STEPS = 1
CODE_DIGITS = 6


def new_secret() -> str:
    """A fresh shared secret (160 bits, base32), shown to the admin once at enrolment."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, login: str) -> str:
    """The ``otpauth://`` URI an authenticator app imports (as a QR code or typed in)."""
    return pyotp.TOTP(secret, digits=CODE_DIGITS).provisioning_uri(name=login, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to when it is right at ``now`` (within the drift allowed), else None."""
    code = code.strip()
    if len(code) != CODE_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=CODE_DIGITS)
    step = totp.timecode(now)
    for offset in range(-CLOCK_DRIFT_STEPS, CLOCK_DRIFT_STEPS + 1):
        if hmac.compare_digest(code, totp.at(now, counter_offset=offset)):  # the comparison leaks no timing
            return step + offset
    return None
