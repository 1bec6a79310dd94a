"""Standard Webhooks signing secrets: ``whsec_`` followed by the base64 of 24 to 64 random bytes.

A rotated secret stays valid for an overlap window, during which every webhook is signed with
both; the receiver accepts a webhook when any of the space-separated signatures matches, so a
company can switch its verifier at any moment of the window.
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks marker before a secret, not one
GENERATED_SECRET_BYTES = 24
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64


class InvalidSecret(ValueError):
    """A secret given by the caller that is not a usable Standard Webhooks secret."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(GENERATED_SECRET_BYTES)).decode("ascii")


def validate_secret(secret: str) -> str:
    """Return ``secret`` if it is ``whsec_`` + canonical base64 of 24-64 bytes; raise :class:`InvalidSecret` otherwise."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret(f"The secret must start with {SECRET_PREFIX!r}.")
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecret("The secret after the prefix must be base64.") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidSecret(f"The secret must encode {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {len(key)}.")
    return secret


def mask_secret(secret: str) -> str:
    """What an answer may show of a stored secret: the prefix and its last four characters."""
    return f"{SECRET_PREFIX}{'*' * 8}{secret[-4:]}"


def signing_secrets(
    current: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    """The secrets a webhook sent at ``now`` is signed with: the current one, and the previous one within its window."""
    if previous and previous_expires_at is not None and now < previous_expires_at:
        return [current, previous]
    return [current]
