"""The web client in a real browser: Debian's Chromium driven by Playwright (never a browser Playwright
downloads), the whole platform behind it, axe-core injected into every page, screenshots kept.

The modules of this folder share one platform and one browser (both start once for the folder): a test
that counts what is published names a company no other module files against.

``make test`` installs Chromium (apt) and axe-core (npm, ``tests/web/package.json``). Screenshots go
to ``artifacts/web/<page>-<viewport>.png``, axe's findings of every impact to ``axe-<page>-<viewport>.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devstack.platform import running_platform
from tests.conftest import FIGURES_AS_THEY_CHANGE, SERVICES

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "artifacts" / "web"
# Without the background-networking flags Chromium's own connections are refused by the closed network here.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 900},
    "tablet": {"width": 768, "height": 1024},
    "phone": {"width": 375, "height": 812},
}
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="package")
async def platform(mongo_url, s3_endpoint, broker_namespace, run_id):
    """The platform of tests/conftest.py, once for every module of this folder rather than once per module; three
    similar complaints of different people make a collective complaint (集体投诉), so a page can show one, and
    two make only a group of similar complaints, so a page can show that they are not one."""
    namespace = broker_namespace.isolated("web")
    for service in SERVICES:
        namespace.settings_for(service)
    async with running_platform(
        mongo_url=mongo_url,
        s3_endpoint=s3_endpoint,
        broker=namespace.broker_settings(),
        db_prefix=f"t{run_id}_web",
        bucket=f"t-{run_id}-web",
        routing_settings={"cluster_min_size": 3},
        # The pages know storage's origin: large files go from the browser straight to it (presigned uploads).
        intake_settings={**FIGURES_AS_THEY_CHANGE, "storage_public_origin": f"http://{s3_endpoint}"},
    ) as platform:
        yield platform


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():  # noqa: ASYNC240 - one stat() before anything runs
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs axe-core (npm ci in tests/web)")
    return AXE.read_text(encoding="utf-8")


@dataclass
class Tab:
    """A browser tab at one viewport that records what a test asserts on: every request's URL and
    method, script errors and Content-Security-Policy violations reported to the console."""

    page: Any
    viewport: str
    base_url: str
    requests: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def open(self, path: str) -> None:
        await self.page.goto(self.base_url + path)
        await self.page.wait_for_load_state("networkidle")

    async def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}-{self.viewport}.png"), full_page=True)


async def new_tab(browser, axe_source: str, base_url: str, viewport: str, contexts: list[Any]) -> Tab:
    """A tab at ``viewport`` on the site at ``base_url``, in a fresh context (its own cookies and sessionStorage)
    that is added to ``contexts``."""
    context = await browser.new_context(viewport=VIEWPORTS[viewport], locale="zh-CN", timezone_id="Asia/Shanghai")
    # An init script is not subject to the pages' CSP, so axe is there without weakening it.
    await context.add_init_script(script=axe_source)
    contexts.append(context)
    page = await context.new_page()
    page.set_default_timeout(30_000)
    tab = Tab(page, viewport, base_url.rstrip("/"))
    page.on("request", lambda request: tab.requests.append((request.method, request.url)))
    page.on("pageerror", lambda error: tab.errors.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            tab.errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return tab


@pytest.fixture(scope="package")
def open_tab(browser, platform, axe_source):
    """``await open_tab("phone" | "desktop")``: a tab on the platform's site in a fresh context."""
    contexts: list[Any] = []

    async def open(viewport: str = "desktop") -> Tab:
        return await new_tab(browser, axe_source, str(platform.intake.base_url), viewport, contexts)

    return open
    # Contexts close with the browser at the end of the folder.


@pytest.fixture(scope="session")
def check():
    """``await check(tab, name)``: see :func:`check_page`."""
    return check_page


async def check_page(tab: Tab, name: str) -> None:
    """Screenshot the page as ``artifacts/web/<name>-<viewport>.png`` and run axe on it: no serious or
    critical violations, no script error or CSP violation so far, and nothing wider than the viewport."""
    await tab.screenshot(name)
    results = await tab.page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    (ARTIFACTS / f"axe-{name}-{tab.viewport}.json").write_text(json.dumps(results["violations"], indent=1))
    serious = [
        f"{item['id']} ({item['impact']}): {item['help']} at {[node['target'] for node in item['nodes']]}"
        for item in results["violations"]
        if item["impact"] in SERIOUS
    ]
    assert not serious, f"{name} at {tab.viewport}: " + "; ".join(serious)
    assert not tab.errors, tab.errors
    width = await tab.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[tab.viewport]["width"], f"{name} is {width}px wide at {tab.viewport}"
