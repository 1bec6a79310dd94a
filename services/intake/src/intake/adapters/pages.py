"""The public information pages, shipped inside the package as content files (``intake/content/pages``).

One Markdown file per page and language, ``{slug}.{lang}.md``, opening with YAML front matter
(``title``, ``slug``, ``order``). They are read and rendered once at start-up; a missing language,
a slug that does not match its file name or a malformed header stops the start, so a broken page
never reaches the public. Rendering uses markdown-it-py's CommonMark with raw HTML disabled: HTML
in a page is shown as text, and links to ``javascript:``, ``vbscript:``, ``file:`` and ``data:``
URLs are not made links, so what is served is safe to insert into a web page as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import yaml
from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
PAGES_FOLDER = files("intake").joinpath("content", "pages")

_FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n(.*)\Z", re.DOTALL)
_RENDERER = MarkdownIt("commonmark", {"html": False}).enable("table")


class ContentError(ValueError):
    """A content file the platform cannot serve (named in the message)."""


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100)
    slug: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)
    order: int = Field(ge=0)


@dataclass(frozen=True)
class Page:
    slug: str
    lang: str
    title: str
    order: int
    markdown: str
    html: str


def render(markdown: str) -> str:
    """Markdown to HTML with raw HTML shown as text and unsafe link schemes refused."""
    return _RENDERER.render(markdown)


def parse_page(file_name: str, text: str) -> Page:
    """One content file: ``{slug}.{lang}.md`` with front matter; raises :class:`ContentError`."""
    stem, _, lang = file_name.removesuffix(".md").rpartition(".")
    if lang not in LANGUAGES:
        raise ContentError(f"{file_name}: the language {lang!r} is not one of {', '.join(LANGUAGES)}")
    found = _FRONT_MATTER.match(text)
    if found is None:
        raise ContentError(f"{file_name}: no front matter between --- lines at the top")
    try:
        header = FrontMatter.model_validate(yaml.safe_load(found.group(1)))
    except (yaml.YAMLError, ValidationError) as error:
        raise ContentError(f"{file_name}: front matter: {error}") from None
    if header.slug != stem:
        raise ContentError(f"{file_name}: slug {header.slug!r} does not match the file name")
    markdown = found.group(2).strip() + "\n"
    return Page(header.slug, lang, header.title, header.order, markdown, render(markdown))


class Pages:
    """Every page in every language, checked to be complete: each slug in all of :data:`LANGUAGES`."""

    def __init__(self, pages: list[Page]) -> None:
        self._pages = {(page.slug, page.lang): page for page in pages}
        slugs = {page.slug for page in pages}
        for slug in slugs:
            missing = [lang for lang in LANGUAGES if (slug, lang) not in self._pages]
            if missing:
                raise ContentError(f"page {slug!r} has no version in {', '.join(missing)}")
            if len({self._pages[slug, lang].order for lang in LANGUAGES}) > 1:
                raise ContentError(f"page {slug!r} has a different order in its languages")
        self.slugs = sorted(slugs, key=lambda slug: (self._pages[slug, DEFAULT_LANGUAGE].order, slug))

    def get(self, slug: str, lang: str) -> Page | None:
        return self._pages.get((slug, lang))

    def listing(self) -> list[dict[str, Any]]:
        return [
            {
                "slug": slug,
                "order": self._pages[slug, DEFAULT_LANGUAGE].order,
                "title": {lang: self._pages[slug, lang].title for lang in LANGUAGES},
            }
            for slug in self.slugs
        ]


def load_pages(folder: Traversable = PAGES_FOLDER) -> Pages:
    """Read and render every page of ``folder``; raises :class:`ContentError` for anything incomplete."""
    entries = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".md")), key=lambda entry: entry.name)
    if not entries:
        raise ContentError(f"no pages in {folder}")
    return Pages([parse_page(entry.name, entry.read_text("utf-8")) for entry in entries])
