"""The web client's cookie session: trade a freshly issued bearer token for it, and sign out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from greenchannel.problems import Problem
from intake.api.dependencies import AccountDep, CallerDep, IntakeDep
from intake.api.schemas import SessionStarted
from intake.core.sessions import clear_session_cookies, set_session_cookies
from intake.domain.principals import Kind

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post(
    "/session",
    response_model=SessionStarted,
    summary="Keep this bearer token in an HttpOnly session cookie (the web client's sign-in)",
)
async def start_session(
    request: Request,
    response: Response,
    intake: IntakeDep,
    account: AccountDep,
) -> dict[str, Any]:
    # The bearer token to keep (the security scheme `bearer` documents it): read as sent, whatever its scheme.
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        # A cookie session is not renewed by itself: it is started from a token just issued.
        raise Problem(400, "bearer_required", "Start a session with the bearer token of a sign-in.")
    csrf = set_session_cookies(response, intake.settings, token.strip())
    return {"account_id": account.id, "csrf_token": csrf, "expires_in": intake.settings.token_ttl_s}


@router.delete("/session", status_code=204, summary="Sign out: end the session on every replica and clear its cookies")
async def end_session(request: Request, intake: IntakeDep, account: CallerDep) -> Response:
    # The session signed in by the cookie ends; an API client's bearer token is ended by sign-out-everywhere.
    by_cookie = "authorization" not in request.headers and "x-api-key" not in request.headers
    if by_cookie and account is not None and (account.kind in (Kind.COMPLAINANT, Kind.OPERATOR) or account.account):
        # The token version moves on: this token, in any cookie or tab, is refused from now on.
        await intake.identities.sign_out_everywhere(account)
        intake.identities.forget(account.kind, account.account_id)
    # Cleared even when the session had ended already: the page cannot clear an HttpOnly cookie itself.
    response = Response(status_code=204)
    clear_session_cookies(response, intake.settings)
    return response
