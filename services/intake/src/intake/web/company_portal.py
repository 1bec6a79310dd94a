"""The company portal (企业端) under ``/company/``: the pages a company's staff use, served like the public client.

Each page is a shell, as the public pages are: the browser calls the company API of the same origin for every
action, signed in by the session cookie its sign-in started (``POST /v1/session``), so the portal can do nothing the
API would not let the person do, within their role. The pages have their own navigation, the same style sheet,
catalogs and Content-Security-Policy as the public client.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from intake.api.public import PublicDep
from intake.domain.company_inbox import MAX_DUE_WITHIN
from intake.domain.company_staff import INVITATION_PATH, CompanyRole
from intake.domain.lifecycle import Status
from intake.web.pages import PageDep, categories_in

# The portal's navigation: (path, catalog key, page id, whether only administrators see it).
PORTAL_NAVIGATION = (
    ("/company/", "portal.nav.inbox", "company-inbox", False),
    ("/company/staff", "portal.nav.staff", "company-staff", True),
    ("/company/integration", "portal.nav.integration", "company-integration", True),
    ("/company/profile", "portal.nav.profile", "company-profile", False),
)

router = APIRouter(include_in_schema=False)


def _portal_page(template: str, page_id: str):
    async def show(page: PageDep) -> HTMLResponse:
        return page.render(
            f"company/{template}",
            page_id,
            portal_navigation=PORTAL_NAVIGATION,
            roles=[role.value for role in CompanyRole],
        )

    return show


# The states a forwarded complaint can be in: what the inbox's status filter offers.
FORWARDED_STATES = (
    Status.FORWARDED,
    Status.INFO_REQUESTED,
    Status.RESPONDED,
    Status.APPEALED,
    Status.CLOSED,
    Status.WITHDRAWN,
)


@router.get("/company/", response_class=HTMLResponse, name="company-inbox")
async def inbox(page: PageDep, public: PublicDep) -> HTMLResponse:
    """The inbox with its filters: the categories in the page's language, the states of a forwarded complaint."""
    return page.render(
        "company/inbox.html",
        "company-inbox",
        portal_navigation=PORTAL_NAVIGATION,
        roles=[role.value for role in CompanyRole],
        categories=await categories_in(page, public),
        statuses=[status.value for status in FORWARDED_STATES],
        max_due_within=MAX_DUE_WITHIN,
    )


# The answer types of the company API, in the order the answer form offers them.
ANSWER_TYPES = ("explained", "monetary_relief", "non_monetary_relief", "in_progress", "declined")


@router.get("/company/complaints/{number}", response_class=HTMLResponse, name="company-complaint")
async def complaint(number: str, page: PageDep, public: PublicDep) -> HTMLResponse:
    """One complaint as the company may see it, with its actions; the case itself comes from the company API. The
    categories' labels come with the page, to show the case's category by its name."""
    return page.render(
        "company/complaint.html",
        "company-inbox",
        categories=dict(await categories_in(page, public)),
        portal_navigation=PORTAL_NAVIGATION,
        roles=[role.value for role in CompanyRole],
        number=number,
        answer_types=ANSWER_TYPES,
    )


# path -> (template, page id)
PORTAL_PAGES = {
    "/company/login": ("login.html", "company-login"),
    INVITATION_PATH: ("invitation.html", "company-invitation"),
    "/company/staff": ("staff.html", "company-staff"),
    "/company/integration": ("integration.html", "company-integration"),
    "/company/profile": ("profile.html", "company-profile"),
}

for _path, (_template, _page_id) in PORTAL_PAGES.items():
    router.add_api_route(
        _path,
        _portal_page(_template, _page_id),
        methods=["GET"],
        response_class=HTMLResponse,
        name=f"company-{_template.removesuffix('.html')}",
    )
