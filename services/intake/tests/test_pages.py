"""The information pages: every page in both languages, the FAQ answering the seed articles' questions,
refused content files, sanitised HTML, and the pages served over HTTP."""

from __future__ import annotations

import re

import httpx
import pytest
from markdown_it import MarkdownIt

from devstack.servers import serve
from intake.adapters.pages import LANGUAGES, PAGES_FOLDER, ContentError, Page, Pages, load_pages, parse_page
from intake.config import Settings
from intake.main import create_app

PAGES = ("how-it-works", "faq", "policy", "privacy")
ARTICLE_NUMBER = re.compile(r"第[一二三四五六七八九十百零〇0-9]+条|\bArticles? [0-9IVXL]+", re.IGNORECASE)
# The questions of the seed articles' FAQ, as words each language's FAQ headings must hold.
FAQ_QUESTIONS = {
    "zh-CN": {
        "which companies": "哪些企业",
        "how long": "多长时间",
        "what to write": "填写什么",
        "unsatisfied": "不满意",
        "privacy": "隐私",
    },
    "en": {
        "which companies": "which companies",
        "how long": "how long",
        "what to write": "what should i write",
        "unsatisfied": "not satisfied",
        "privacy": "privacy",
    },
}


def headings(markdown: str) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [tokens[i + 1].content for i, token in enumerate(tokens) if token.type == "heading_open"]


def page_file(slug: str, lang: str, body: str = "# Title\n", **header: object) -> tuple[str, str]:
    front = {"title": "Title", "slug": slug, "order": 1, **header}
    lines = "\n".join(f"{key}: {value}" for key, value in front.items())
    return f"{slug}.{lang}.md", f"---\n{lines}\n---\n{body}"


@pytest.mark.unit
def test_every_page_exists_in_both_languages_with_the_same_slugs():
    names = sorted(entry.name for entry in PAGES_FOLDER.iterdir() if entry.name.endswith(".md"))
    assert names == sorted(f"{slug}.{lang}.md" for slug in PAGES for lang in LANGUAGES)
    pages = load_pages()
    assert [item["slug"] for item in pages.listing()] == list(PAGES)
    for slug in PAGES:
        zh, en = pages.get(slug, "zh-CN"), pages.get(slug, "en")
        assert zh.order == en.order and zh.title != en.title
        assert headings(zh.markdown)[0] == zh.title and headings(en.markdown)[0] == en.title


@pytest.mark.unit
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_faq_answers_the_seed_articles_questions(lang):
    asked = [heading.lower() for heading in headings(load_pages().get("faq", lang).markdown)]
    for question, words in FAQ_QUESTIONS[lang].items():
        assert any(words in heading for heading in asked), f"no FAQ heading about {question} in {lang}: {asked}"


@pytest.mark.unit
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_pages_state_the_platforms_rules(lang):
    pages = load_pages()
    how, policy, privacy = (pages.get(slug, lang).markdown for slug in ("how-it-works", "policy", "privacy"))
    assert "10" in how and "10" in policy  # the response deadline in working days
    laws = ["《中华人民共和国个人信息保护法》", "《中华人民共和国网络安全法》"]
    assert all(law in policy for law in laws)
    assert ("个人信息保护法" if lang == "zh-CN" else "Personal Information Protection Law") in privacy
    # Laws are named, never quoted by article: no article numbers to get wrong.
    for text in (how, policy, privacy):
        assert not ARTICLE_NUMBER.search(text)


@pytest.mark.unit
def test_raw_html_and_script_links_in_a_page_are_shown_as_text():
    page = parse_page(
        *page_file(
            "x", "en", "# T\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1)) <img src=x onerror=alert(1)>\n"
        )
    )
    assert "<script>" not in page.html and "&lt;script&gt;" in page.html
    assert "<img" not in page.html and 'href="javascript' not in page.html
    assert page.markdown.startswith("# T")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("x.fr.md", "---\ntitle: T\nslug: x\norder: 1\n---\nbody", "language"),
        ("x.en.md", "# no front matter", "front matter"),
        ("x.en.md", "---\ntitle: T\nslug: y\norder: 1\n---\nbody", "does not match"),
        ("x.en.md", "---\ntitle: T\nslug: x\norder: first\n---\nbody", "order"),
        ("x.en.md", "---\ntitle: T\nslug: x\norder: 1\nauthor: me\n---\nbody", "author"),
        ("x.en.md", "---\ntitle: [unclosed\n---\nbody", "front matter"),
    ],
)
def test_malformed_content_files_are_refused(name, text, message):
    with pytest.raises(ContentError, match=message):
        parse_page(name, text)


@pytest.mark.unit
def test_a_page_missing_a_language_stops_the_start(tmp_path):
    for name, text in (page_file("a", "zh-CN"), page_file("a", "en"), page_file("b", "zh-CN")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ContentError, match="'b' has no version in en"):
        load_pages(tmp_path)
    with pytest.raises(ContentError, match="different order"):
        Pages([Page("a", "zh-CN", "A", 1, "", ""), Page("a", "en", "A", 2, "", "")])


# --- over HTTP ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def intake(mongo_url, broker_namespace, run_id):
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_pages",
        evidence_url="http://127.0.0.1:9",
        **broker_namespace.settings_for("intake"),
    )
    async with serve(create_app(settings)) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        yield client


@pytest.mark.integration
async def test_the_list_names_every_page_in_both_languages(intake):
    response = await intake.get("/v1/public/pages")
    assert response.status_code == 200 and "max-age" in response.headers["cache-control"]
    body = response.json()
    assert body["default_language"] == "zh-CN" and body["languages"] == ["zh-CN", "en"]
    assert [(item["slug"], item["order"]) for item in body["items"]] == [(slug, n) for n, slug in enumerate(PAGES, 1)]
    assert body["items"][1]["title"] == {"zh-CN": "常见问题", "en": "Frequently asked questions"}


@pytest.mark.integration
async def test_a_page_is_chinese_by_default_and_english_on_request(intake):
    chinese = await intake.get("/v1/public/pages/faq")
    assert chinese.status_code == 200 and chinese.headers["content-language"] == "zh-CN"
    page = chinese.json()
    assert page["lang"] == "zh-CN" and page["title"] == "常见问题" and page["slug"] == "faq"
    assert page["markdown"].startswith("# 常见问题") and "<h2>可以投诉哪些企业？</h2>" in page["html"]
    english = (await intake.get("/v1/public/pages/faq", params={"lang": "en"})).json()
    assert english["lang"] == "en" and "<h2>Which companies can I complain about?</h2>" in english["html"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/v1/public/pages/no-such-page", {}, 404, "page_not_found"),
        ("/v1/public/pages/FAQ", {}, 404, "page_not_found"),
        ("/v1/public/pages/faq", {"lang": "fr"}, 422, "validation_failed"),
        ("/v1/public/pages/faq", {"lang": "zh-cn"}, 422, "validation_failed"),
    ],
)
async def test_unknown_pages_and_languages_are_problems(intake, path, params, status, code):
    response = await intake.get(path, params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    if status == 422:
        assert [error["field"] for error in response.json()["errors"]] == ["query.lang"]
