"""The web client's cookie session over real HTTP: a bearer token traded for an HttpOnly cookie with a CSRF
token; unsafe requests by cookie need the token and this origin; explicit credentials win over the cookie;
signing out revokes the token everywhere and clears the cookies."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Response

from devstack.accounts import create_account
from devstack.servers import serve
from intake.config import Settings
from intake.core.sessions import set_session_cookies
from intake.main import create_app

pytestmark = pytest.mark.integration

PASSWORD = "a-long-password-1"
CLAIM = "/v1/me/complaints/claim"
NOT_A_CASE = {"number": "GC-20260101-999999", "access_code": "ABCDEFGHJK"}


@pytest.fixture(scope="module")
async def served(mongo_url, broker_namespace, run_id):
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_sessions",
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        notification_url="http://127.0.0.1:9",
        **broker_namespace.isolated("sessions").settings_for("intake"),
    )
    app = create_app(settings)
    async with serve(app) as base_url:
        yield app, base_url


@contextlib.asynccontextmanager
async def signed_in(served) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    """A browser-like client holding the session cookies, with the bearer token and the CSRF token."""
    app, base_url = served
    login = f"s{uuid.uuid4().hex[:10]}@example.cn"
    await create_account(app, login, PASSWORD)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        answer = await client.post("/v1/auth/token", json={"login": login, "password": PASSWORD})
        token = answer.json()["access_token"]
        started = await client.post("/v1/session", headers={"Authorization": f"Bearer {token}"})
        assert started.status_code == 200, started.text
        yield client, token, started.json()["csrf_token"]


async def test_the_cookie_is_httponly_lax_and_signs_in_without_a_token(served):
    async with signed_in(served) as (client, token, csrf):
        started = await client.post("/v1/session", headers={"Authorization": f"Bearer {token}"})
        set_cookie = started.headers.get_list("set-cookie")
        session = next(value for value in set_cookie if value.startswith("gc_session="))
        readable = next(value for value in set_cookie if value.startswith("gc_csrf="))
        assert "HttpOnly" in session and "HttpOnly" not in readable
        for value in (session, readable):
            assert "SameSite=lax" in value and "Path=/" in value
            assert "Secure" not in value  # development over plain HTTP; Secure outside development
        assert token not in started.text and csrf in readable
        # Reads need no header: the cookie is the credential.
        assert (await client.get("/v1/me/complaints")).status_code == 200


async def test_an_unsafe_request_by_cookie_needs_the_csrf_token_and_this_origin(served):
    async with signed_in(served) as (client, _, csrf):
        refused = await client.post(CLAIM, json=NOT_A_CASE)
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        assert refused.headers["content-type"].startswith("application/problem+json")
        forged = await client.post(CLAIM, json=NOT_A_CASE, headers={"X-CSRF-Token": "0" * 64})
        assert forged.status_code == 403
        cross_site = await client.post(
            CLAIM, json=NOT_A_CASE, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
        )
        assert cross_site.status_code == 403
        # With the token, from this origin, the request is the account's (no such complaint: 404).
        own = await client.post(
            CLAIM, json=NOT_A_CASE, headers={"X-CSRF-Token": csrf, "Origin": str(client.base_url).rstrip("/")}
        )
        assert own.status_code == 404, own.text


async def test_explicit_credentials_win_over_the_cookie(served):
    async with signed_in(served) as (client, _, _), signed_in(served) as (_, other_token, _):
        mine = (await client.get("/v1/me/complaints")).status_code
        # An API client's bearer token is used as before, CSRF-free, whatever cookie comes along.
        as_other = await client.post(CLAIM, json=NOT_A_CASE, headers={"Authorization": f"Bearer {other_token}"})
        assert mine == 200 and as_other.status_code == 404
        bad_bearer = await client.get("/v1/me/complaints", headers={"Authorization": "Bearer nonsense"})
        assert bad_bearer.status_code == 401  # the cookie does not rescue a wrong token


async def test_sign_out_revokes_the_token_and_clears_the_cookies_in_every_tab(served):
    async with (
        signed_in(served) as (first, token, csrf),
        httpx.AsyncClient(base_url=first.base_url, timeout=30) as second_tab,
    ):
        second_tab.cookies = httpx.Cookies(first.cookies)  # the browser's other tab: the same cookies
        reads = await asyncio.gather(first.get("/v1/me/complaints"), second_tab.get("/v1/me/complaints"))
        assert [answer.status_code for answer in reads] == [200, 200]
        assert (await first.delete("/v1/session")).status_code == 403  # signing out is unsafe too
        ended = await first.delete("/v1/session", headers={"X-CSRF-Token": csrf})
        assert ended.status_code == 204
        assert all(
            "Max-Age=0" in value or "expires=" in value.lower() for value in ended.headers.get_list("set-cookie")
        )
        assert "gc_session" not in first.cookies
        # The other tab still sends the old cookie: it no longer signs anyone in; nor does the token.
        assert (await second_tab.get("/v1/me/complaints")).status_code == 401
        assert (
            await second_tab.get("/v1/me/complaints", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 401
        # A public page still works with the stale cookie.
        assert (await second_tab.get("/v1/public/categories")).status_code != 401


async def test_a_session_starts_only_from_a_bearer_token(served):
    async with signed_in(served) as (client, _, csrf):
        again = await client.post("/v1/session", headers={"X-CSRF-Token": csrf})
        assert again.status_code == 400 and again.json()["code"] == "bearer_required"
    async with httpx.AsyncClient(base_url=served[1], timeout=30) as stranger:
        assert (await stranger.post("/v1/session")).status_code == 401


def test_outside_development_both_cookies_are_secure():
    def ring() -> str:
        return json.dumps({"k1": base64.b64encode(secrets.token_bytes(32)).decode()})

    production = Settings(
        greenchannel_env="production",
        pii_keys=ring(),
        pii_active_key_id="k1",
        code_transport_keys=ring(),
        code_transport_active_key_id="k1",
        operator_bootstrap_password=secrets.token_urlsafe(24),
        **{
            name: secrets.token_urlsafe(32)
            for name in (
                "jwt_secret",
                "internal_token",
                "operator_token",
                "blind_index_key",
                "access_code_key",
                "admin_token",
            )
        },
    )
    response = Response()
    set_session_cookies(response, production, "a.session.token")
    written = [value for name, value in response.raw_headers if name == b"set-cookie"]
    assert len(written) == 2 and all(b"Secure" in value and b"SameSite=lax" in value for value in written)
