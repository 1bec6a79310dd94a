"""Signed in across tabs, in Debian's Chromium against the whole platform: the sign-in lives in an HttpOnly
session cookie (no script reads it, every tab of the browser shares it), unsafe requests carry the CSRF
token the page reads from its own cookie, a cross-site POST with the cookie but without the token is refused
with a 403 problem, and signing out in one tab ends the session in the others."""

from __future__ import annotations

import re

import pytest

from devstack.accounts import register

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LOGIN = "sun.session@example.cn"
PASSWORD = "a-session-password-1"
CLAIM = "/v1/me/complaints/claim"
NOT_A_CASE = {"number": "GC-20260101-999999", "access_code": "ABCDEFGHJK"}


async def test_a_second_tab_is_signed_in_the_cookie_is_unreadable_and_cross_site_posts_are_refused(
    open_tab, check, platform
):
    await register(platform.intake, platform.mailbox, LOGIN, PASSWORD)
    tab = await open_tab("desktop")
    page = tab.page
    await tab.open("/account/login")
    await page.fill("#f-login", LOGIN)
    await page.fill("#f-password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/account$"))
    await page.wait_for_selector("[data-show=empty]:not([hidden])")
    await check(tab, "account-cookie-session")

    # The token is in an HttpOnly cookie: nothing a script can read holds it.
    cookies = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    session = cookies["gc_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax" and session["path"] == "/"
    assert not cookies["gc_csrf"]["httpOnly"]
    readable = await page.evaluate("() => document.cookie + '|' + JSON.stringify({...sessionStorage})")
    assert "gc_session" not in readable and session["value"] not in readable and "gc_csrf=" in readable

    # A second tab of the same browser is signed in.
    second = await page.context.new_page()
    await second.goto(tab.base_url + "/account")
    await second.wait_for_selector("[data-show=empty]:not([hidden])")
    assert re.search(r"/account$", second.url)
    assert await second.is_visible("[data-action=sign-out]")

    # Another site making the browser POST with the cookie (it cannot read the CSRF token): refused.
    request = page.context.request
    cross_site = await request.post(tab.base_url + CLAIM, data=NOT_A_CASE, headers={"Origin": "https://evil.example"})
    assert cross_site.status == 403
    assert cross_site.headers["content-type"].startswith("application/problem+json")
    assert (await cross_site.json())["code"] == "csrf_failed"
    # The page's own request carries the token and is the account's (no such complaint: 404).
    own = await page.evaluate(
        """async (body) => {
        const answer = await window.GC.api("POST", "/v1/me/complaints/claim", { json: body });
        return answer.status; }""",
        NOT_A_CASE,
    )
    assert own == 404

    # Signing out in the second tab ends the session for the first one too.
    await second.click("[data-action=sign-out]")
    await second.wait_for_url(tab.base_url + "/")
    assert not await second.is_visible("[data-action=sign-out]")
    await tab.open("/account")
    await page.wait_for_url(re.compile(r"/account/login\?"))
    assert "gc_session" not in {cookie["name"] for cookie in await page.context.cookies()}
