"""The operator console (运营后台) under ``/ops/``: page shells like the public client's (same CSP, style sheet and
session cookie), whose scripts do every action through the operator API.

Its strings are a catalog of its own (``messages/ops/<lang>.json``) laid over the public one, so the console
reuses the public wording (statuses, timeline steps, statistics) and adds its own; where the public wording says
"published" of figures that count every complaint here (the regulator view), the console's catalog says otherwise. A page holds no case or
personal data: it asks the API, which decides what the signed-in account may see (a regulator gets 404 on a
complaint there, whatever page asks).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from intake.adapters.dead_letters import SERVICES
from intake.api.feedback import STATUSES as FEEDBACK_STATUSES
from intake.api.operators import CLOSING_OUTCOMES, ManualRejection
from intake.core.work_queues import KINDS
from intake.domain.identity import IDENTITY_FIELDS
from intake.web.i18n import Translator, catalog
from intake.web.pages import Page, not_found

router = APIRouter(include_in_schema=False)

# The console's navigation: (path, catalog key, page id, the roles it is shown to).
NAVIGATION = (
    ("/ops/", "ops.nav.dashboard", "ops-dashboard", "operator"),
    ("/ops/dead-letters", "ops.nav.dead_letters", "ops-dead-letters", "operator"),
    ("/ops/webhooks", "ops.nav.webhooks", "ops-webhooks", "operator"),
    ("/ops/feedback", "ops.nav.feedback", "ops-feedback", "operator"),
    ("/ops/audit", "ops.nav.audit", "ops-audit", "admin"),
    ("/ops/staff", "ops.nav.staff", "ops-staff", "admin"),
    ("/ops/directory", "ops.nav.directory", "ops-directory", "admin"),
    ("/ops/regulator", "ops.nav.regulator", "ops-regulator", "regulator"),
)
REJECTION_REASONS = ManualRejection.model_json_schema()["properties"]["reason"]["enum"]


@cache
def console_catalog(language: str) -> dict[str, str]:
    text = resources.files("intake.web").joinpath("messages", "ops", f"{language}.json").read_text(encoding="utf-8")
    return json.loads(text)


class ConsoleTranslator(Translator):
    def __init__(self, language: str) -> None:
        super().__init__(language)
        self.messages = {**catalog(language), **console_catalog(language)}


class ConsolePage(Page):
    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.t = ConsoleTranslator(self.language)

    def show(self, template: str, page_id: str, **context: Any) -> HTMLResponse:
        return self.render(f"ops/{template}", page_id, console_navigation=NAVIGATION, **context)


ConsolePageDep = Annotated[ConsolePage, Depends(ConsolePage)]


@router.get("/ops")
async def console_root() -> RedirectResponse:
    return RedirectResponse("/ops/", status_code=308)


@router.get("/ops/", response_class=HTMLResponse)
async def dashboard(page: ConsolePageDep) -> HTMLResponse:
    return page.show("dashboard.html", "ops-dashboard", kinds=KINDS, services=SERVICES)


@router.get("/ops/login", response_class=HTMLResponse)
async def sign_in(page: ConsolePageDep) -> HTMLResponse:
    return page.show("login.html", "ops-login")


@router.get("/ops/queue/{kind}", response_class=HTMLResponse)
async def queue(kind: str, page: ConsolePageDep) -> HTMLResponse:
    if kind not in KINDS:
        return not_found(page, "ops-dashboard")
    return page.show("queue.html", "ops-dashboard", kind=kind)


@router.get("/ops/complaints/{number}", response_class=HTMLResponse)
async def complaint(number: Annotated[str, Path(max_length=40)], page: ConsolePageDep) -> HTMLResponse:
    return page.show(
        "complaint.html",
        "ops-dashboard",
        number=number,
        identity_fields=IDENTITY_FIELDS,
        outcomes=CLOSING_OUTCOMES,
        rejection_reasons=REJECTION_REASONS,
    )


@router.get("/ops/audit", response_class=HTMLResponse)
async def audit(page: ConsolePageDep) -> HTMLResponse:
    return page.show("audit.html", "ops-audit")


@router.get("/ops/dead-letters", response_class=HTMLResponse)
async def dead_letters(page: ConsolePageDep) -> HTMLResponse:
    return page.show("dead_letters.html", "ops-dead-letters", services=SERVICES)


@router.get("/ops/webhooks", response_class=HTMLResponse)
async def webhooks(page: ConsolePageDep) -> HTMLResponse:
    return page.show("webhooks.html", "ops-webhooks")


@router.get("/ops/feedback", response_class=HTMLResponse)
async def feedback(page: ConsolePageDep) -> HTMLResponse:
    return page.show("feedback.html", "ops-feedback", statuses=FEEDBACK_STATUSES)


@router.get("/ops/staff", response_class=HTMLResponse)
async def staff(page: ConsolePageDep) -> HTMLResponse:
    return page.show("staff.html", "ops-staff")


@router.get("/ops/directory", response_class=HTMLResponse)
async def directory(page: ConsolePageDep) -> HTMLResponse:
    return page.show("directory.html", "ops-directory")


@router.get("/ops/regulator", response_class=HTMLResponse)
async def regulator(page: ConsolePageDep) -> HTMLResponse:
    return page.show("regulator.html", "ops-regulator")
