"""The web client without a browser: both catalogs complete and covering every value the API answers,
templates and scripts free of inline code and outside addresses, and the pages as intake serves them
(security headers, language choice and cookie, escaping, static files, a directory that is away)."""

from __future__ import annotations

import json
import re
import typing
from importlib import resources

import httpx
import pytest
from pydantic import ValidationError

from devstack.servers import serve
from greenchannel.contracts import SlaDeadlineSet
from intake.api.company import Answer
from intake.api.operators import ManualRejection
from intake.config import Settings
from intake.domain.lifecycle import Action, Status
from intake.main import create_app
from intake.web.i18n import LANGUAGES, catalog
from intake.web.pages import (
    CONTENT_SECURITY_POLICY,
    DIRECT_UPLOAD_ABOVE_BYTES,
    UPLOAD_PARTS_AT_ONCE,
    field_constraints,
)

WEB = resources.files("intake.web")


def files_under(folder, prefix: str = "") -> dict[str, str]:
    """Every file of a folder of the package and its subfolders (the company portal's), by relative name; the
    console's (ops/ folders) are held by test_console_pages.py."""
    found: dict[str, str] = {}
    for item in folder.iterdir():
        if item.is_dir():
            if item.name != "ops":
                found |= files_under(item, f"{prefix}{item.name}/")
        else:
            found[prefix + item.name] = item.read_text(encoding="utf-8")
    return found


TEMPLATES = files_under(WEB.joinpath("templates"))
SCRIPTS = {name: text for name, text in files_under(WEB.joinpath("static")).items() if name.endswith(".js")}


def literal_args(annotation) -> set[str]:
    return set(typing.get_args(annotation))


@pytest.mark.unit
def test_both_catalogs_hold_the_same_keys_and_placeholders():
    chinese, english = catalog("zh-CN"), catalog("en")
    assert chinese.keys() == english.keys()
    for key in chinese:
        assert set(re.findall(r"\{(\w+)\}", chinese[key])) == set(re.findall(r"\{(\w+)\}", english[key])), key
        assert chinese[key].strip() and english[key].strip(), key


@pytest.mark.unit
def test_every_key_the_templates_and_scripts_name_is_in_the_catalog():
    known = catalog("zh-CN").keys()
    sections = {key.split(".", 1)[0] for key in known}
    used = set()
    for text in TEMPLATES.values():
        # t("key"), and keys handed to the form macros (labels, hints).
        quoted = re.findall(r"""["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""", text)
        used |= {
            key for key in quoted if key.split(".", 1)[0] in sections and not key.endswith((".js", ".css", ".svg"))
        }
    for text in SCRIPTS.values():
        used |= set(re.findall(r"""\bt\(\s*"([a-z0-9_.]+)"\s*[,)]""", text))
    assert used and not used - known, sorted(used - known)


@pytest.mark.unit
def test_every_value_the_api_shows_a_complainant_has_a_translation():
    """Statuses, timeline actions, answer types and rejection reasons are shown in the person's language."""
    for language in LANGUAGES:
        messages = catalog(language)
        expected = (
            {f"status.{status.value}" for status in Status}
            | {f"timeline.{action.value}" for action in Action}
            | {"timeline.submit", "timeline.add_evidence", "timeline.deadline_reminder", "timeline.overdue"}
            | {
                f"timeline.deadline_{reason}"
                for reason in literal_args(SlaDeadlineSet.model_fields["reason"].annotation)
            }
            | {f"response_type.{kind}" for kind in literal_args(Answer.model_fields["response_type"].annotation)}
            | {f"rejection.{reason}" for reason in literal_args(ManualRejection.model_fields["reason"].annotation)}
        )
        assert not expected - messages.keys(), (language, sorted(expected - messages.keys()))


@pytest.mark.unit
def test_pages_hold_no_inline_code_and_load_nothing_from_elsewhere():
    for name, text in TEMPLATES.items():
        for script in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in script or 'type="application/json"' in script, (name, script)
        assert not re.search(r"\son[a-z]+\s*=", text), name  # no inline event handlers
        assert " style=" not in text, name
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name
    for name, text in SCRIPTS.items():
        assert "innerHTML" not in text and "eval(" not in text and "document.write" not in text, name
        # The SVG namespace is a name, not an address anything is loaded from.
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg\")", text), name
        assert "localStorage" not in text, name  # tokens and access codes live for the tab only


@pytest.mark.unit
def test_form_limits_come_from_the_api_models():
    complaint = field_constraints("complaint")
    assert complaint["title"] == {"required": True, "minlength": 4, "maxlength": 100}
    assert complaint["complainant.email"]["required"] is False
    assert complaint["company.name"]["maxlength"] == 100
    assert field_constraints("registration")["password"]["minlength"] == 10


# --- served by intake -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def intake(mongo_url, broker_namespace, run_id):
    """intake alone: evidence and routing point at a closed port, so the directory is away."""
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_web",
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        **broker_namespace.settings_for("intake"),
    )
    async with serve(create_app(settings)) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        yield client


PAGES = (
    "/",
    "/file",
    "/file/receipt",
    "/follow",
    "/account",
    "/account/login",
    "/account/register",
    "/account/messages",
    "/public",
    "/public/companies",
    "/public/results",
    "/public/results/GC-20261101-000001",
    "/public/companies/c-xunlian",
    "/public/rankings",
    "/public/statistics",
    "/public/pages/faq",
    "/public/pages/how-it-works",
    "/public/pages/policy",
    "/public/feedback",
    # The company portal (企业端).
    "/company/",
    "/company/login",
    "/company/invitation",
    "/company/staff",
    "/company/complaints/GC-20261101-000001",
    "/company/integration",
    "/company/profile",
)


@pytest.mark.integration
async def test_pages_are_chinese_by_default_with_a_strict_policy(intake):
    for path in PAGES:
        page = await intake.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert page.headers["x-content-type-options"] == "nosniff"
        assert '<html lang="zh-CN">' in page.text
        assert "set-cookie" not in page.headers
    # The JSON API documents no page.
    assert not [
        path
        for path in (await intake.get("/openapi.json")).json()["paths"]
        if not path.startswith(("/v1", "/healthz", "/readyz"))
    ]


@pytest.mark.integration
async def test_knowing_storage_s_origin_the_pages_may_put_large_files_there_and_only_there(
    mongo_url, broker_namespace, run_id
):
    origin = "https://files.example.org"
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db=f"t{run_id}_intake_web_direct",
        evidence_url="http://127.0.0.1:9",
        routing_url="http://127.0.0.1:9",
        storage_public_origin=origin,
        **broker_namespace.settings_for("intake"),
    )
    async with serve(create_app(settings)) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        page = await client.get("/file")
    policy = page.headers["content-security-policy"]
    assert f"connect-src 'self' {origin};" in policy
    assert policy.replace(f" {origin}", "") == CONTENT_SECURITY_POLICY
    config = json.loads(
        re.search(r'<script type="application/json" id="gc-config">(.*?)</script>', page.text, re.DOTALL)[1]
    )
    assert config["direct_upload_above_bytes"] == DIRECT_UPLOAD_ABOVE_BYTES
    assert config["upload_parts_at_once"] == UPLOAD_PARTS_AT_ONCE


@pytest.mark.unit
@pytest.mark.parametrize("origin", ["files.example.org", "https://files.example.org/bucket", "https://a b"])
def test_storage_s_origin_is_a_scheme_and_a_host_only(origin):
    with pytest.raises(ValidationError):
        Settings(storage_public_origin=origin)


@pytest.mark.integration
async def test_english_is_chosen_with_lang_and_remembered_in_a_cookie(intake):
    switched = await intake.get("/follow", params={"number": "GC-1", "lang": "en"})
    assert '<html lang="en">' in switched.text and "Follow a complaint" in switched.text
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith("lang=en;") and "SameSite=lax" in cookie and "Max-Age=31536000" in cookie
    # The switch back keeps the page's own query.
    assert 'href="/follow?number=GC-1&amp;lang=zh-CN"' in switched.text
    intake.cookies.clear()
    remembered = await intake.get("/file", headers={"Cookie": "lang=en"})
    assert '<html lang="en">' in remembered.text
    unknown = await intake.get("/", params={"lang": "fr"}, headers={"Cookie": "lang=xx"})
    assert '<html lang="zh-CN">' in unknown.text and "set-cookie" not in unknown.headers


@pytest.mark.integration
async def test_what_a_page_echoes_is_escaped(intake):
    page = await intake.get("/follow", params={"number": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.text
    for path in ("/public/results/", "/public/companies/"):
        echoed = await intake.get(path + '"><img src=x onerror=alert(1)>')
        assert echoed.status_code == 200 and "<img src=x" not in echoed.text and "&#34;&gt;&lt;img" in echoed.text, path
    config = re.search(r'<script type="application/json" id="gc-config">(.*?)</script>', page.text, re.DOTALL).group(1)
    assert "</" not in config  # the embedded catalog cannot close its script element


@pytest.mark.integration
async def test_the_form_says_when_the_categories_are_away(intake):
    page = await intake.get("/file")
    assert catalog("zh-CN")["file.categories_unavailable"] in page.text
    limits = await intake.get("/v1/evidence/limits")
    assert limits.status_code == 503 and limits.json()["code"] == "evidence_unavailable"


@pytest.mark.integration
async def test_information_pages_carry_the_rendered_content_and_an_unknown_one_is_not_found(intake):
    faq = await intake.get("/public/pages/faq", params={"lang": "en"})
    served = (await intake.get("/v1/public/pages/faq", params={"lang": "en"})).json()
    assert faq.status_code == 200 and served["html"] in faq.text
    assert faq.text.count("<h1") == 1  # the content's own heading, not a second one
    missing = await intake.get("/public/pages/no-such-page", params={"lang": "zh-CN"})
    assert missing.status_code == 404 and catalog("zh-CN")["not_found.heading"] in missing.text
    assert missing.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.integration
async def test_guests_are_called_one_thing_and_the_privacy_notice_is_at_hand(intake):
    """访客 on the form, the FAQ and every page; the privacy notice and FAQ beside the ID number and in the footer."""
    for slug in ("faq", "how-it-works", "privacy", "policy"):
        served = (await intake.get(f"/v1/public/pages/{slug}", params={"lang": "zh-CN"})).json()
        assert "游客" not in served["html"], slug
    assert not [key for key, text in catalog("zh-CN").items() if "游客" in text]
    form = (await intake.get("/file")).text
    identity = form[form.index(catalog("zh-CN")["file.identity_note"]) : form.index('id="f-id-number"')]
    assert 'href="/public/pages/privacy"' in identity and 'href="/public/pages/faq"' in identity
    for path in ("/", "/follow", "/public"):
        footer = (await intake.get(path)).text.split('<footer class="site-footer">', 1)[1]
        assert 'href="/public/pages/privacy"' in footer and 'href="/public/pages/faq"' in footer, path


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.integration
async def test_a_mistyped_address_shows_browsers_the_not_found_page_and_api_clients_a_problem(intake):
    page = await intake.get("/flie", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert catalog("zh-CN")["not_found.heading"] in page.text and '<html lang="zh-CN"' in page.text
    for link in ('href="/"', 'href="/file"', 'href="/follow"'):
        assert link in page.text
    english = await intake.get("/flie", params={"lang": "en"}, headers={"Accept": BROWSER_ACCEPT})
    assert english.status_code == 404 and catalog("en")["not_found.heading"] in english.text
    # What the address held is escaped, not run.
    echoed = await intake.get('/x"><script>alert(1)</script>', headers={"Accept": BROWSER_ACCEPT})
    assert echoed.status_code == 404 and "<script>alert(1)" not in echoed.text
    for path, accept in (
        ("/flie", "application/json"),
        ("/flie", "*/*"),
        ("/v1/no-such-thing", BROWSER_ACCEPT),
        ("/v1/public/nothing", "application/json"),
        ("/static/no-such-file.js", BROWSER_ACCEPT),
    ):
        answer = await intake.get(path, headers={"Accept": accept})
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json", (path, accept)
        assert answer.json()["code"] == "not_found", (path, accept)
    # A form sent to a wrong address is not a page either.
    posted = await intake.post("/flie", headers={"Accept": BROWSER_ACCEPT}, content=b"")
    assert posted.status_code in (404, 405) and posted.headers["content-type"] == "application/problem+json"


@pytest.mark.integration
async def test_static_files_carry_their_hash_and_type(intake):
    page = (await intake.get("/")).text
    css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{12})"', page).group(1)
    served = await intake.get(css)
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/css")
    assert served.headers["x-content-type-options"] == "nosniff" and "max-age" in served.headers["cache-control"]
    assert (await intake.get("/static/../main.py")).status_code == 404


@pytest.mark.integration
async def test_every_required_field_has_its_own_words_when_left_empty(intake):
    """A field left empty is named in a sentence of its own ("Choose a category."), never through its label
    dropped into a pattern, which reads badly in English ("Enter Category.")."""
    english = catalog("en")
    required = set()
    for path in PAGES:
        page = (await intake.get(path)).text
        for label, body in re.findall(
            r'<div class="field[^"]*"[^>]*data-label="([a-z_.]+)"[^>]*>(.*?)</div>', page, flags=re.DOTALL
        ):
            if re.search(r"<(input|select|textarea)[^>]*\brequired\b", body):
                required.add(label)
    assert {"file.category", "file.description", "file.company", "follow.appeal_reason"} <= required, required
    missing = sorted(label for label in required if f"error.missing.{label}" not in english)
    assert not missing, missing
    assert not [key for key, text in english.items() if re.search(r"\bEnter [A-Z]", text)]
