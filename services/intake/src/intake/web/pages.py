"""The pages of the public web client, rendered on the server from Jinja2 templates.

Each page is a shell: the browser calls intake's JSON API (same origin) for every action and for
personal data, so a page itself holds no complaint, token or access code and is the same for everyone.
Pages carry a strict Content-Security-Policy (scripts and styles from this origin only, no inline
script), and every string comes from the language's catalog.
"""

from __future__ import annotations

import hashlib
import typing
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from greenchannel.problems import http_error_response
from intake.api.accounts import CodeRequest, RegistrationConfirmation, ResetConfirmation
from intake.api.complaints import Appeal, Rating, Supplement, Withdrawal
from intake.api.feedback import TOPICS, FeedbackForm
from intake.api.pages import PagesDep
from intake.api.public import OrderBy, PublicDep
from intake.domain.filing import ComplaintForm
from intake.domain.identity import CHECK_CHARACTERS, ID_WEIGHTS, PROVINCE_CODES
from intake.domain.lifecycle import EVIDENCE_ACCEPTED_IN
from intake.domain.publication import PUBLIC_STATUSES
from intake.domain.statistics import CHINA
from intake.web.i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE_S, LANGUAGES, Translator, requested_language

STATIC_PATH = "/static"

# Scripts and styles from this origin only, nothing inline; the API is the same origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
# Files above this size go from the web client straight to object storage (a presigned upload) when the pages know
# storage's origin (STORAGE_PUBLIC_ORIGIN); smaller ones through the gateway, where one request costs less.
DIRECT_UPLOAD_ABOVE_BYTES = 8 * 1024 * 1024
# Parts of a presigned multipart upload the web client sends at once (handed to the scripts in the page's config;
# bench.evidence_upload sends its parts the same way). One part at a time left storage idle between a part's answer
# and the next one's first byte; a few at once keep it busy, and more than a few only share the same link and cores.
UPLOAD_PARTS_AT_ONCE = 4


def content_security_policy(storage_origin: str) -> str:
    """The pages' policy; with storage's origin among the places scripts may connect to (a presigned PUT)."""
    if not storage_origin:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("connect-src 'self';", f"connect-src 'self' {storage_origin};")


# The main navigation: (path, catalog key, page id). 公示 leads to the public results, the directory and
# scorecards, statistics, policy and feedback.
NAVIGATION = (
    ("/", "nav.home", "home"),
    ("/file", "nav.file", "file"),
    ("/follow", "nav.follow", "follow"),
    ("/public", "nav.public", "public"),
)

# The request bodies whose length limits the forms show and check (the API's own models).
FORM_MODELS: dict[str, type[BaseModel]] = {
    "complaint": ComplaintForm,
    "code_request": CodeRequest,
    "registration": RegistrationConfirmation,
    "password_reset": ResetConfirmation,
    "supplement": Supplement,
    "rating": Rating,
    "appeal": Appeal,
    "withdrawal": Withdrawal,
    "feedback": FeedbackForm,
}

router = APIRouter(include_in_schema=False)
templates = Environment(
    loader=PackageLoader("intake.web", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@cache
def static_url(name: str) -> str:
    """The URL of a static file with its content hash, so browsers may keep it until it changes."""
    digest = hashlib.sha256(resources.files("intake.web").joinpath("static", name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PATH}/{name}?v={digest}"


@cache
def field_constraints(model: str) -> dict[str, dict[str, Any]]:
    """Length limits and required fields of an API model by dotted path, from its JSON schema."""
    schema = FORM_MODELS[model].model_json_schema()
    definitions = schema.get("$defs", {})
    found: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        required = set(node.get("required", ()))
        for name, prop in node.get("properties", {}).items():
            path = f"{prefix}{name}"
            if "$ref" in prop:
                walk(definitions[prop["$ref"].rsplit("/", 1)[-1]], f"{path}.")
                continue
            variant = next((option for option in prop.get("anyOf", [prop]) if option.get("type") != "null"), prop)
            found[path] = {
                "required": name in required,
                "minlength": variant.get("minLength"),
                "maxlength": variant.get("maxLength"),
            }

    walk(schema, "")
    return found


def field_attributes(model: str, path: str) -> Markup:
    """``required minlength=".." maxlength=".."`` of one form field, as the API model declares them."""
    rule = field_constraints(model)[path]
    parts = ['required aria-required="true"'] if rule["required"] else []
    parts += [f'{name}="{int(rule[name])}"' for name in ("minlength", "maxlength") if rule[name]]
    # Fixed attribute names and integers only: nothing in it needs escaping.
    return Markup(" ".join(parts))  # noqa: S704


class Page:
    """What every template gets: the translator, the language switch, navigation, static URLs."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.language, self.chosen_now = requested_language(request)
        self.t = Translator(self.language)

    def render(
        self, template: str, page_id: str, *, rules: dict[str, Any] | None = None, **context: Any
    ) -> HTMLResponse:
        other = next(language for language in LANGUAGES if language != self.language)
        query = [(key, value) for key, value in self.request.query_params.multi_items() if key != "lang"]
        intake = getattr(self.request.app.state, "intake", None)
        storage_origin = intake.settings.storage_public_origin if intake else ""
        config = {
            "lang": self.language,
            "messages": self.t.messages,
            "rules": rules or {},
            "direct_upload_above_bytes": DIRECT_UPLOAD_ABOVE_BYTES if storage_origin else None,
            "upload_parts_at_once": UPLOAD_PARTS_AT_ONCE,
        }
        body = templates.get_template(template).render(
            t=self.t,
            lang=self.language,
            page=page_id,
            navigation=NAVIGATION,
            static=static_url,
            attrs=field_attributes,
            config=config,
            other_language=other,
            switch_url=f"{self.request.url.path}?{urlencode([*query, ('lang', other)])}",
            **context,
        )
        response = HTMLResponse(
            body, headers={**PAGE_HEADERS, "Content-Security-Policy": content_security_policy(storage_origin)}
        )
        if self.chosen_now:
            response.set_cookie(
                LANGUAGE_COOKIE,
                self.language,
                max_age=LANGUAGE_COOKIE_MAX_AGE_S,
                samesite="lax",
                secure=self.request.url.scheme == "https",
            )
        return response


PageDep = Annotated[Page, Depends(Page)]

# What a ranking may be ordered by (``order_by`` of GET /v1/public/rankings), the API's default first.
RANKING_ORDERS = typing.get_args(OrderBy)


def identity_rules() -> dict[str, Any]:
    """The GB 11643 check the form repeats in the browser, from the same constants the API checks with."""
    return {
        "id_weights": list(ID_WEIGHTS),
        "id_check_characters": CHECK_CHARACTERS,
        "id_provinces": sorted(PROVINCE_CODES),
    }


# Pages whose content the browser fetches from the API: path -> (template, the navigation entry it is under).
SHELLS = {
    "/": ("home.html", "home"),
    "/file/receipt": ("receipt.html", "file"),
    "/account": ("account.html", "account"),
    "/account/login": ("login.html", "account"),
    "/account/register": ("register.html", "account"),
    "/account/reset": ("reset.html", "account"),
    "/account/messages": ("messages.html", "account"),
    "/public/companies": ("directory.html", "public"),
    "/public/statistics": ("statistics.html", "public"),
}


def _shell(template: str, page_id: str):
    async def show(page: PageDep) -> HTMLResponse:
        return page.render(template, page_id)

    return show


for _path, (_template, _page_id) in SHELLS.items():
    router.add_api_route(
        _path,
        _shell(_template, _page_id),
        methods=["GET"],
        response_class=HTMLResponse,
        name=_template.removesuffix(".html"),
    )


async def categories_in(page: Page, public: PublicDep) -> list[tuple[str, str]]:
    """The complaint categories as (code, label in the page's language), from the directory labels the public
    API keeps (asked of routing every few minutes, not for each page); none when the directory is away (the
    page says so and still works)."""
    label = "zh" if page.language == "zh-CN" else "en"
    return [(code, item[label]) for code, item in (await public.labels.categories()).items()]


def today_in_china() -> str:
    return datetime.now(CHINA).date().isoformat()


def period_choices(t: Translator) -> list[tuple[str, str]]:
    """The periods a scorecard or ranking may cover (``period`` of the API): the last 12 months (the API's
    default, empty), this year and last year, and each of the last six months."""
    today = datetime.now(CHINA).date()
    months = [(today.year * 12 + today.month - 1 - back) for back in range(6)]
    return (
        [("", t("period.last_12_months"))]
        + [(str(year), t("period.year", year=year)) for year in (today.year, today.year - 1)]
        + [
            (f"{month // 12:04d}-{month % 12 + 1:02d}", t("period.month", year=month // 12, month=month % 12 + 1))
            for month in months
        ]
    )


def page_titles(pages: PagesDep, language: str) -> list[tuple[str, str]]:
    """The information pages as (slug, title in the page's language), in their order."""
    return [(item["slug"], item["title"][language]) for item in pages.listing()]


@router.get("/account/data", response_class=HTMLResponse)
async def my_data(page: PageDep, request: Request) -> HTMLResponse:
    """Everything the platform holds about the signed-in complainant, and the erasure request (says the hold)."""
    return page.render("data.html", "account", hold_days=hold_days(request))


def hold_days(request: Request) -> str:
    """The days between an erasure request and its execution (``ERASURE_HOLD_DAYS``), as the pages say them."""
    return f"{request.app.state.intake.settings.erasure_hold_days:g}"


@router.get("/file", response_class=HTMLResponse)
async def file_complaint(page: PageDep, public: PublicDep) -> HTMLResponse:
    """The form, with the categories in the page's language (rendered here: no request before it can be used)."""
    return page.render(
        "file.html",
        "file",
        rules=identity_rules(),
        categories=await categories_in(page, public),
        today=today_in_china(),
    )


@router.get("/follow", response_class=HTMLResponse)
async def follow(page: PageDep, public: PublicDep, request: Request) -> HTMLResponse:
    """查询: the categories' labels to show a complaint's category by, and the states in which the API takes
    one more evidence file (the domain's own set), so the page offers the upload exactly then; the hold before an
    erasure request is carried out, which the erasure form says."""
    return page.render(
        "follow.html",
        "follow",
        categories=await categories_in(page, public),
        evidence_statuses=sorted(status.value for status in EVIDENCE_ACCEPTED_IN),
        hold_days=hold_days(request),
    )


@router.get("/public", response_class=HTMLResponse)
async def public_hub(page: PageDep, pages: PagesDep) -> HTMLResponse:
    """公示: the results, the directory and scorecards, rankings, statistics, the information pages, feedback."""
    return page.render("public.html", "public", info_pages=page_titles(pages, page.language))


@router.get("/public/results", response_class=HTMLResponse)
async def public_results(page: PageDep, public: PublicDep) -> HTMLResponse:
    """The published results with their filters; the filters are the page's query, so a search can be shared."""
    return page.render(
        "results.html",
        "public",
        categories=await categories_in(page, public),
        statuses=PUBLIC_STATUSES,
        today=today_in_china(),
    )


@router.get("/public/results/{number}", response_class=HTMLResponse)
async def public_result(number: str, page: PageDep) -> HTMLResponse:
    return page.render("result.html", "public", number=number)


@router.get("/public/companies/{company_id}", response_class=HTMLResponse)
async def company_scorecard(company_id: str, page: PageDep) -> HTMLResponse:
    return page.render("scorecard.html", "public", company_id=company_id, periods=period_choices(page.t))


@router.get("/public/rankings", response_class=HTMLResponse)
async def rankings(page: PageDep) -> HTMLResponse:
    return page.render("rankings.html", "public", periods=period_choices(page.t), orders=RANKING_ORDERS)


@router.get("/public/pages/{slug}", response_class=HTMLResponse)
async def information_page(slug: str, page: PageDep, pages: PagesDep) -> HTMLResponse:
    """Policy, FAQ, how it works, privacy: the HTML the pages API serves, rendered with raw HTML disabled and
    unsafe link schemes refused (``intake.adapters.pages``), so it goes into the page as it is, with no script."""
    found = pages.get(slug, page.language)
    if found is None:
        return not_found(page, "public")
    # The content opens with its own heading as a rule; the page adds one only where it does not.
    return page.render(
        "info.html",
        "public",
        title=found.title,
        html=Markup(found.html),  # noqa: S704 - rendered without raw HTML and unsafe links (see the docstring)
        own_heading=found.html.lstrip().startswith("<h1"),
        others=page_titles(pages, page.language),
        slug=slug,
    )


# Paths of the API and of files: a client there asked for data, so a miss stays a problem document.
NOT_PAGES = ("/v1/", STATIC_PATH + "/")


def wants_page(request: Request) -> bool:
    """A browser asking for a page (it accepts HTML) at a path that is not the API's."""
    path = request.url.path
    return not path.startswith(NOT_PAGES) and path != "/v1" and "text/html" in request.headers.get("accept", "")


async def on_http_error(request: Request, error: StarletteHTTPException) -> Response:
    """A mistyped address opens the not-found page in a browser; API clients keep the problem document."""
    if error.status_code == 404 and request.method in ("GET", "HEAD") and wants_page(request):
        return not_found(Page(request), "")
    return http_error_response(error)


def not_found(page: Page, page_id: str) -> HTMLResponse:
    response = page.render("not_found.html", page_id)
    response.status_code = 404
    return response


@router.get("/public/feedback", response_class=HTMLResponse)
async def feedback(page: PageDep) -> HTMLResponse:
    return page.render("feedback.html", "public", topics=TOPICS)


class StaticAssets(StaticFiles):
    """The client's CSS, scripts and icon; URLs carry a content hash (:func:`static_url`), so they keep a day
    (``intake.api.caching``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-content-type-options", b"nosniff")]
            await send(message)

        await super().__call__(scope, receive, with_headers)


def static_files() -> StaticAssets:
    return StaticAssets(packages=[("intake.web", "static")])
