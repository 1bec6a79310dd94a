"""A company's staff accounts: their roles, what each role may do, and the one-time invitation link.

A company acts on the platform through its API keys and through the people it names. Its first administrator is
invited by an operator admin; a company administrator invites colleagues with a role, changes roles, disables
them and may require a second factor (TOTP) for everyone of the company. Roles:

* ``administrator``: everything a handler does, and the company's staff, API keys and webhooks;
* ``handler``: reads the company's complaints, asks for information, answers;
* ``read_only``: reads the company's complaints, nothing else.

An API key stands for the company's systems: it acts as a handler and manages nothing.
An invitation is a link holding a random secret; only its keyed hash is kept, it works once and expires.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

INVITATION_SECRET_BYTES = 32
INVITATION_PATH = "/company/invitation"


class CompanyRole(StrEnum):
    ADMINISTRATOR = "administrator"
    HANDLER = "handler"
    READ_ONLY = "read_only"


# What an API key acts as: the company's systems answer complaints, and manage no people, keys or webhooks.
API_KEY_ROLE = CompanyRole.HANDLER


def may_act(role: CompanyRole) -> bool:
    """Answer, ask for information: an administrator or a handler, never a read-only colleague."""
    return role in (CompanyRole.ADMINISTRATOR, CompanyRole.HANDLER)


def may_manage(role: CompanyRole) -> bool:
    """The company's staff, API keys, webhook endpoint and the second-factor requirement."""
    return role is CompanyRole.ADMINISTRATOR


def new_invitation_secret() -> str:
    return secrets.token_urlsafe(INVITATION_SECRET_BYTES)


def invitation_token(invitation_id: str, secret: str) -> str:
    """What the link carries: the invitation's id (to find it) and its secret (to prove it), in one string."""
    return f"{invitation_id}.{secret}"


def split_invitation_token(token: str) -> tuple[str, str] | None:
    invitation_id, dot, secret = token.partition(".")
    if not dot or not invitation_id or not secret or len(token) > 200:
        return None
    return invitation_id, secret


def invitation_link(public_base_url: str, token: str) -> str:
    """The link of the e-mail. The token rides in the fragment, which browsers never send to a server: it stays
    out of access logs and of the Referer of anything the page loads."""
    return f"{public_base_url.rstrip('/')}{INVITATION_PATH}#{token}"
