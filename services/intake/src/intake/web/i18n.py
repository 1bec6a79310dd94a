"""The languages of the web client: Simplified Chinese first, English second, every string from a catalog file.

``messages/<lang>.json`` maps dotted keys to text with ``{name}`` placeholders. Both catalogs hold the
same keys (a test holds them to it), so a missing translation fails a test, not a page. The language
is chosen by ``?lang=`` (and remembered in a cookie), then the cookie, then Simplified Chinese.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from fastapi import Request

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600


@cache
def catalog(language: str) -> dict[str, str]:
    """The catalog of ``language`` (one of :data:`LANGUAGES`), read once from the package."""
    text = resources.files("intake.web").joinpath("messages", f"{language}.json").read_text(encoding="utf-8")
    return json.loads(text)


class Translator:
    """``t(key, **params)`` in one language; an unknown key raises, so a typo fails the page's test."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.messages = catalog(language)

    def __call__(self, key: str, **params: object) -> str:
        text = self.messages[key]
        return text.format(**params) if params else text


def requested_language(request: Request) -> tuple[str, bool]:
    """The page's language and whether it was chosen now (``?lang=``), so the cookie should remember it."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked, True
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    return (remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE), False
