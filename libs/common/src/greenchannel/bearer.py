"""Service-to-service and operator bearer tokens: one check, compared in constant time.

A service's operator endpoints take ``Authorization: Bearer <OPERATOR_TOKEN>``; its internal API for
the other services takes ``Bearer <INTERNAL_TOKEN>``. Operators' own accounts and roles live in the
gateway (intake), which calls these endpoints on their behalf.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from greenchannel.problems import Problem


def bearer_matches(authorization: str | None, expected: str) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    return (
        scheme.lower() == "bearer" and bool(expected) and hmac.compare_digest(token.strip().encode(), expected.encode())
    )


# The scheme the OpenAPI document declares on every operation that takes one of these tokens (the Authorize button of
# /docs). It only describes the header: auto_error=False, so the check below still reads the header as sent and
# answers every refusal itself (a 401 problem document, also for another scheme than Bearer).
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="A service token: `OPERATOR_TOKEN`, `ADMIN_TOKEN` or `INTERNAL_TOKEN` (the README says which routes take which).",
    auto_error=False,
)


def require_bearer(expected: Callable[[Request], str | SecretStr], whose: str) -> Callable[..., None]:
    """A dependency refusing (401) a request without ``Bearer <expected(request)>``."""
    return require_any_bearer((expected,), whose)


def require_any_bearer(expected: Sequence[Callable[[Request], str | SecretStr]], whose: str) -> Callable[..., None]:
    """A dependency refusing (401) a request whose bearer token is none of ``expected``; every one is compared, so
    the time taken does not tell which came closer."""

    def check(
        request: Request, _declared: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None
    ) -> None:
        authorization = request.headers.get("authorization")
        matches = [bearer_matches(authorization, _plain(token(request))) for token in expected]
        if not any(matches):
            raise Problem(
                401,
                "unauthorized",
                f"This endpoint needs the {whose} bearer token.",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def _plain(token: Any) -> str:
    return token.get_secret_value() if isinstance(token, SecretStr) else token


def settings_token(name: str) -> Callable[[Request], str | SecretStr]:
    """The token a service's settings hold under ``name`` (settings kept on ``app.state.settings``)."""
    return lambda request: getattr(request.app.state.settings, name)
