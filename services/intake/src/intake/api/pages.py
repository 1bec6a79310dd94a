"""The information pages for the public: how it works, FAQ, rules and regulations, privacy notice.

Their content lives in the repository as Markdown files (``intake.adapters.pages``), in Simplified
Chinese (the default) and English; each page is answered with its Markdown source and its rendered,
sanitised HTML, so a web page can insert the HTML as it is and another client can render the source.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from greenchannel.problems import Problem
from intake.adapters.pages import DEFAULT_LANGUAGE, LANGUAGES, Pages
from intake.api.schemas import Page, PageList

router = APIRouter(prefix="/v1/public/pages", tags=["public"])
Language = Literal[LANGUAGES]  # type: ignore[valid-type]


def _pages(request: Request) -> Pages:
    return request.app.state.pages


PagesDep = Annotated[Pages, Depends(_pages)]


@router.get("", response_model=PageList, summary="The information pages: slug, order and title in each language")
async def list_pages(pages: PagesDep) -> dict[str, Any]:
    return {"languages": list(LANGUAGES), "default_language": DEFAULT_LANGUAGE, "items": pages.listing()}


@router.get(
    "/{slug}", response_model=Page, summary="One information page: its Markdown source and rendered, sanitised HTML"
)
async def read_page(
    slug: str,
    pages: PagesDep,
    response: Response,
    lang: Annotated[Language, Query(description="zh-CN (the default) or en.")] = DEFAULT_LANGUAGE,
) -> dict[str, Any]:
    page = pages.get(slug, lang)
    if page is None:
        raise Problem(404, "page_not_found", "No information page has this slug.")
    response.headers["Content-Language"] = lang
    return {
        "slug": page.slug,
        "lang": page.lang,
        "title": page.title,
        "order": page.order,
        "markdown": page.markdown,
        "html": page.html,
    }
