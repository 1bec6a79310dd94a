"""The web client's session: the bearer token in an HttpOnly cookie, with CSRF protection.

A page that keeps a token in ``sessionStorage`` is signed in in that tab only, and its script can read the
token. The web client therefore trades the token it was just issued (sign-in, registration, password reset)
for two cookies (``POST /v1/session``): ``gc_session``, the token itself, HttpOnly, so no script reads it,
and ``gc_csrf``, readable by the page, which must echo it in ``X-CSRF-Token`` on every unsafe request. Both
are ``SameSite=Lax``, ``Path=/``, and ``Secure`` outside development; every tab of the browser shares them.

The CSRF token is a keyed hash of the session token (signed double submit): a site that makes the browser
send the cookie cannot read ``gc_csrf`` to echo it, and one that plants a ``gc_csrf`` cookie (a sibling
subdomain) cannot compute the value that matches. An unsafe request authenticated by the cookie must also
come from this origin when it says where it comes from (``Origin``). A request that fails either check is
refused (403), never served as anonymous.

Explicit credentials win over the ambient cookie: ``Authorization`` or ``X-Api-Key`` (API clients, bearer
tokens as before), and a guest's ``X-Access-Code`` (a signed-in person following a guest complaint). A cookie
whose token no longer holds (expired, signed out, password changed) counts as no cookie: public pages keep
working, and what needs an account answers 401 as without one. Signing out (``DELETE /v1/session``, signed in
by the cookie) moves the account's token version on, which ends the session in every tab and on every replica
within the account cache's bound, and clears both cookies.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request, Response

from greenchannel.problems import Problem
from intake.adapters.identities import Identities
from intake.config import Settings
from intake.domain.principals import Principal

SESSION_COOKIE = "gc_session"
CSRF_COOKIE = "gc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(settings: Settings, session_token: str) -> str:
    key = hashlib.sha256(b"csrf:" + settings.jwt_secret.get_secret_value().encode()).digest()
    return hmac.new(key, session_token.encode(), hashlib.sha256).hexdigest()


def set_session_cookies(response: Response, settings: Settings, session_token: str) -> str:
    """Set both cookies on ``response``; answers the CSRF token (the page reads it from its cookie too)."""
    csrf = csrf_token(settings, session_token)
    secure = not settings.is_development
    for name, value, http_only in ((SESSION_COOKIE, session_token, True), (CSRF_COOKIE, csrf, False)):
        response.set_cookie(
            name, value, max_age=settings.token_ttl_s, path="/", secure=secure, httponly=http_only, samesite="lax"
        )
    return csrf


def clear_session_cookies(response: Response, settings: Settings) -> None:
    secure = not settings.is_development
    for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=http_only, samesite="lax")


def _same_origin(request: Request, settings: Settings) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not every browser sends it on same-origin requests; the CSRF token is the guard then
    claimed = urlsplit(origin)
    public = urlsplit(settings.public_base_url)
    return claimed.netloc == request.headers.get("host") or (claimed.scheme, claimed.netloc) == (
        public.scheme,
        public.netloc,
    )


def forbidden_cross_site(detail: str) -> Problem:
    return Problem(403, "csrf_failed", detail)


async def principal_from_cookie(request: Request, identities: Identities, settings: Settings) -> Principal | None:
    """The account of the session cookie, None without one (or with one that no longer holds); 403 for an
    unsafe request without the matching CSRF token or from another origin."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or request.headers.get("x-access-code"):
        return None
    principal = await identities.principal_from_token(token)
    if principal is None:
        return None
    if request.method not in SAFE_METHODS:
        echoed = request.headers.get(CSRF_HEADER.lower(), "")
        if not hmac.compare_digest(echoed.encode(), csrf_token(settings, token).encode()):
            raise forbidden_cross_site("Signed in by cookie: send the session's CSRF token in X-CSRF-Token.")
        if not _same_origin(request, settings):
            raise forbidden_cross_site("Signed in by cookie: a request from another site is refused.")
    return principal
